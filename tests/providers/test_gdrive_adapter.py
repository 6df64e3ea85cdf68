"""Google Drive adapter specifics beyond the contract suite, against the emulator: metadata
calls batched (``/batch/drive/v3``), a large resumable upload through failures."""
import hashlib
import threading

import pytest

from cloud_emulators.gdrive import DriveEmulator

from odoo.addons.cloud_base.lib.adapter import NotFound, RateLimited
from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase
from odoo.addons.cloud_gdrive.lib.gdrive_adapter import BATCH_LIMIT, GoogleDriveAdapter

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
MiB = 1024 * 1024


@pytest.fixture
def emu():
    emulator = DriveEmulator().start()
    yield emulator
    threading.Thread(target=emulator.stop, daemon=True).start()


def make(emu, **kw):
    tokens = emu.issue_tokens()
    kw.setdefault("sleep", lambda seconds: None)
    return GoogleDriveAdapter(refresh_token=tokens["refresh_token"], client_id=emu.client_id,
                              client_secret=emu.client_secret, base_url=emu.base_url, **kw)


def test_tree_listing_batches_the_folders_of_a_level(emu):
    adapter = make(emu, page_size=100)
    root = adapter.ensure_root("Odoo")
    folders = [emu.add_folder("f%03d" % n, parent=root.id) for n in range(250)]
    for folder in folders[:3]:
        emu.add_file("a.txt", b"a", parent=folder)
    deep = emu.add_folder("deep", parent=folders[0])
    emu.add_file("b.txt", b"b", parent=deep)
    emu.counters.clear()
    emu.requests.clear()
    base = MemoryMergeBase()
    adapter.latest_cursor(root.id, base)
    # 3 pages of the root, 250 folder listings and "deep": in a handful of batches
    assert emu.counters["files.list"] == 3 + 250 + 1
    assert 3 <= emu.counters["batch"] <= 5
    # besides: the start page token, the root's metadata and a few lone listings
    assert [route for _m, route, _p, _s in emu.requests
            if route not in ("batch", "files.list")] == ["changes.getStartPageToken",
                                                          "files.get"]
    assert len(emu.requests) <= 9
    expected = {path for path in emu.tree() if path.startswith("/Odoo/")}
    assert len(base.descendants(root.id)) == len(expected) == 250 + 3 + 2


def test_batch_of_more_than_the_limit_is_split_and_rate_limited_parts_go_again(emu):
    adapter = make(emu, rate_limit_retries=2)
    root = adapter.ensure_root("Odoo")
    ids = [emu.add_file("f%d.txt" % n, b"x", parent=root.id) for n in range(BATCH_LIMIT + 5)]
    emu.rate_limit("files.get", status=403)  # the first part of the first batch
    emu.counters.clear()
    answers = adapter._execute_batch([
        (lambda s, i=i: s.files().get(fileId=i, fields="id", supportsAllDrives=True))
        for i in ids + ["missing"]])
    assert [a["id"] for a in answers[:-1]] == ids
    assert isinstance(answers[-1], NotFound)
    assert emu.counters["batch"] == 3  # 100 + 6 calls, then the refused one again
    assert emu.counters["files.get"] == len(ids) + 2


def test_batch_rate_limit_beyond_the_retries_is_reported(emu):
    adapter = make(emu, rate_limit_retries=0)
    root = adapter.ensure_root("Odoo")
    ids = [emu.add_file("f%d.txt" % n, b"x", parent=root.id) for n in range(3)]
    emu.rate_limit("files.get", status=429, count=1)
    answers = adapter._execute_batch([
        (lambda s, i=i: s.files().get(fileId=i, fields="id", supportsAllDrives=True))
        for i in ids])
    assert isinstance(answers[0], RateLimited) and answers[1]["id"] == ids[1]


class PatternStream:
    """``size`` bytes made on demand (nothing held but the piece asked for)."""

    def __init__(self, size):
        self.size, self.position = size, 0

    def read(self, n=-1):
        n = self.size - self.position if n is None or n < 0 else \
            min(n, self.size - self.position)
        start, self.position = self.position, self.position + n
        return pattern(start, n)


def pattern(start, n):
    block = hashlib.sha256(b"cloud").digest() * 2048  # 64 KiB, repeated
    offset = start % len(block)
    out = (block * (n // len(block) + 2))[offset:offset + n]
    return out


def test_50_mib_resumable_upload_through_a_failed_chunk_and_a_rate_limit():
    size = 50 * MiB
    emu = DriveEmulator().start()
    try:
        sleeps = []
        adapter = make(emu, chunk_retries=3, sleep=sleeps.append)
        root = adapter.ensure_root("Odoo")
        emu.fail_chunk(3, 503, "backendError")
        emu.fail_chunk(6, 403, "rateLimitExceeded", "Rate limit exceeded.")
        item = adapter.upload(root.id, "big.bin", PatternStream(size), size)
        expected = hashlib.md5(pattern(0, size)).hexdigest()
        assert (item.size, item.hash) == (size, expected)
        assert hashlib.md5(emu.content(item.id)).hexdigest() == expected
        assert emu.find("big.bin", parent=root.id) == [item.id]  # one file, not two
        assert emu.upload_chunk_sizes == [8 * MiB] * 6 + [2 * MiB]
        # 7 chunks, 2 refused and sent again after a status query each
        assert emu.counters["upload_chunk"] == 7 + 2 + 2
        assert len(sleeps) == 2 and sleeps[1] >= 0.5  # the rate limit backs off
        assert not adapter.sessions.get("%s/big.bin/%d" % (root.id, size))
    finally:
        threading.Thread(target=emu.stop, daemon=True).start()
