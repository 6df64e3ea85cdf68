"""ownCloud/Nextcloud adapter specifics beyond the contract suite: change-feed cost (R-BW-7),
chunking protocols, endpoints, error mapping, connection checks, links, path hints."""
import io
import random
import socket

import pytest

from cloud_emulators.common import Fault
from cloud_emulators.owncloud import OwnCloudEmulator
from odoo.addons.cloud_base.lib.adapter import (
    AuthExpired, InvalidRequest, NotFound, QuotaExceeded, ResetNeeded, Transient,
)
from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter
from odoo.addons.cloud_owncloud.lib.owncloud_adapter import OwnCloudAdapter

USER, PASSWORD = "alice", "app-password"


def payload(size, seed=0):
    return random.Random("%d-%d" % (size, seed)).randbytes(size)


@pytest.fixture
def emulator():
    emu = OwnCloudEmulator(users={USER: PASSWORD}).start()
    yield emu
    emu.stop()


def make(emulator, base=None, **kw):
    """An adapter as the engines drive it, over the merge base ``base`` (a new one by default;
    a restarted worker shares the database's)."""
    kw.setdefault("timeout", 2)
    return RecordingAdapter(OwnCloudAdapter(emulator.base_url, USER, PASSWORD, **kw),
                            base if base is not None else MemoryMergeBase())


def restarted(emulator, adapter, root, **kw):
    """A new worker process: it knows the paths and the root from the merge base only."""
    fresh = make(emulator, base=adapter.merge_base, **kw)
    fresh.seed_hints(adapter.merge_base.entries(), root.id)
    return fresh


def drain(adapter, root_id, cursor):
    latest = {}
    while True:
        page = adapter.changes(root_id, cursor)
        latest.update({c.id: c for c in page.changes})
        cursor = page.cursor
        if not page.has_more:
            return latest, cursor


def upload(adapter, parent_id, name, data):
    return adapter.upload(parent_id, name, io.BytesIO(data), len(data))


# -- R-BW-7: the cost of the change feed follows the changes -------------------------------------
def test_r_bw_7_propfinds_bounded_by_changed_folders_not_folder_count(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    for rule in range(5):
        for record in range(40):  # 200 object folders, 3 levels below the root
            emulator.put(USER, "/Odoo/Rule %d/Record %03d/file.txt" % (rule, record), b"x")
    cursor = adapter.latest_cursor(root.id)
    walk = emulator.counters["PROPFIND"]

    before = emulator.counters["PROPFIND"]
    latest, cursor = drain(adapter, root.id, cursor)
    assert latest == {}
    assert emulator.counters["PROPFIND"] - before == 1  # nothing changed: the root only

    changed = [(0, 3), (2, 17), (4, 39)]
    for rule, record in changed:
        emulator.put(USER, "/Odoo/Rule %d/Record %03d/new.txt" % (rule, record), b"new")
    emulator.move(USER, "/Odoo/Rule 1/Record 005/file.txt", "/Odoo/Rule 1/Record 006/moved.txt")
    before = emulator.counters["PROPFIND"]
    latest, cursor = drain(adapter, root.id, cursor)
    cost = emulator.counters["PROPFIND"] - before
    depth, changed_folders = 3, len(changed) + 2
    assert cost <= depth * changed_folders, cost  # root + changed rule + changed records
    assert cost < walk / 10, (cost, walk)  # far from a walk of the 206 folders
    names = sorted(c.item.name for c in latest.values() if not c.deleted)
    assert names == ["moved.txt", "new.txt", "new.txt", "new.txt"]
    moved = [c for c in latest.values() if not c.deleted and c.item.name == "moved.txt"][0]
    assert moved.item.parent_id == str(emulator.info(USER, "/Odoo/Rule 1/Record 006")["fileid"])
    # never Depth: infinity
    assert not [r for r in emulator.requests if r[1] == "PROPFIND" and r[3] == 403]


def test_cursor_does_not_grow_with_the_tree(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    small = adapter.latest_cursor(root.id)
    for record in range(300):
        emulator.put(USER, "/Odoo/Rule/Record %03d/file %d.pdf" % (record, record), b"x")
    cursor = adapter.latest_cursor(root.id)
    assert len(cursor) == len(small) < 200  # the tree is in the merge base
    assert len(adapter.merge_base) == 1 + 1 + 300 + 300


def test_folder_delete_reports_descendants_deleted(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    folder = adapter.create_folder(root.id, "A")
    file = upload(adapter, folder.id, "a.txt", b"a")
    cursor = adapter.latest_cursor(root.id)
    emulator.delete(USER, "/Odoo/A")
    latest, _ = drain(adapter, root.id, cursor)
    assert latest[folder.id].deleted and latest[file.id].deleted


def test_root_moved_is_found_by_id_and_reported(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"a")
    cursor = adapter.latest_cursor(root.id)
    emulator.mkdir(USER, "/Archive")
    emulator.move(USER, "/Odoo", "/Archive/Odoo old")
    latest, cursor = drain(adapter, root.id, cursor)
    assert latest[root.id].item.name == "Odoo old"
    assert latest[root.id].item.parent_id == str(emulator.info(USER, "/Archive")["fileid"])
    assert not [c for c in latest.values() if c.deleted]
    assert adapter.get_item(file.id).path == "/Archive/Odoo old/a.txt"


def test_root_deleted_reports_deleted_then_cursor_mismatch_resets(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"a")
    cursor = adapter.latest_cursor(root.id)
    emulator.delete(USER, "/Odoo")
    latest, cursor = drain(adapter, root.id, cursor)
    assert latest[root.id].deleted and latest[file.id].deleted
    new_root = adapter.ensure_root("Odoo")
    with pytest.raises(ResetNeeded):
        adapter.changes(new_root.id, cursor)


# -- path hints ------------------------------------------------------------------------------
def test_hints_from_the_merge_base_avoid_a_tree_walk(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    deep = root
    for name in ("Rule", "Record", "Sub"):
        deep = adapter.create_folder(deep.id, name)
    for n in range(30):
        emulator.mkdir(USER, "/Odoo/Other %02d" % n)
    adapter.latest_cursor(root.id)
    fresh = make(emulator, base=adapter.merge_base)  # a new worker process
    assert fresh.seed_hints(adapter.merge_base.entries(), root.id) >= 4
    before = emulator.counters["PROPFIND"]
    assert fresh.get_item(deep.id).name == "Sub"
    assert emulator.counters["PROPFIND"] - before == 2  # the item and its parent, no walk


def test_stale_hint_is_detected_by_fileid(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    first = adapter.create_folder(root.id, "A")
    emulator.move(USER, "/Odoo/A", "/Odoo/B")
    emulator.mkdir(USER, "/Odoo/A")  # another folder now sits at the old path
    item = adapter.get_item(first.id)
    assert item.name == "B" and item.id == first.id



# -- R-SEC-8: a lookup by id stays in the managed tree, and is bounded ---------------------------
FAKE_ID = "987654321"


def test_r_sec_8_fake_id_lookup_bounded_to_root(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    upload(adapter, root.id, "a.txt", b"a")
    for n in range(30):  # unrelated folders of the account, beside the root
        emulator.mkdir(USER, "/Other %02d/Sub" % n)
    for lookup in (adapter.get_item, adapter.download, adapter.delete, adapter.list_children):
        before = emulator.counters["PROPFIND"]
        with pytest.raises(NotFound):
            lookup(FAKE_ID)
        assert emulator.counters["PROPFIND"] - before <= 3, lookup.__name__
    # a new worker that knows the root from the merge base: the same
    adapter.latest_cursor(root.id)
    fresh = restarted(emulator, adapter, root)
    before = emulator.counters["PROPFIND"]
    with pytest.raises(NotFound):
        fresh.get_item(FAKE_ID)
    assert emulator.counters["PROPFIND"] - before <= 3
    # never a listing outside the root, never Depth: infinity
    listed = [r for r in emulator.requests if r[1] == "PROPFIND"]
    assert not [r for r in listed if "Other" in r[2]]
    assert not [r for r in listed if r[3] == 403]


def test_r_sec_8_truncated_lookup_is_transient_not_not_found(emulator):
    """A walk cut by the request cap says "try again", never "gone" (a NotFound would let the
    engine drop or delete what it holds for that id)."""
    adapter = make(emulator, lookup_limit=10)
    adapter.ensure_root("Odoo")
    for n in range(30):
        emulator.mkdir(USER, "/Odoo/Record %02d" % n)
    deep = emulator.put(USER, "/Odoo/Record 29/deep.txt", b"deep")
    fresh = make(emulator, lookup_limit=10)
    fresh.ensure_root("Odoo")
    before = emulator.counters["PROPFIND"]
    for item_id in (FAKE_ID, str(deep["fileid"])):
        with pytest.raises(Transient) as err:
            fresh.delete(item_id)
        assert err.value.code == "lookup_limit" and err.value.retryable
    assert emulator.counters["PROPFIND"] - before <= 2 * 10
    assert emulator.get(USER, "/Odoo/Record 29/deep.txt") == b"deep"
    # with the default cap the same tree is walked and the file found
    other = make(emulator)
    other.ensure_root("Odoo")
    assert other.get_item(str(deep["fileid"])).path == "/Odoo/Record 29/deep.txt"


def test_r_sec_8_file_known_to_the_merge_base_found_in_its_folder_after_restart(emulator):
    """The cap does not hurt a big managed tree: a new worker seeded from the merge base goes
    straight to a file's folder, however deep and late in the walk it is."""
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    for n in range(30):
        emulator.mkdir(USER, "/Odoo/Rule/Record %02d" % n)
    deep = str(emulator.put(USER, "/Odoo/Rule/Record 29/deep.txt", b"deep")["fileid"])
    adapter.latest_cursor(root.id)
    # a restarted worker, far too small a cap to walk
    fresh = restarted(emulator, adapter, root, lookup_limit=5)
    before = emulator.counters["PROPFIND"]
    assert b"".join(fresh.download(deep)) == b"deep"
    assert emulator.counters["PROPFIND"] - before == 1  # the file's folder, nothing else

def test_r_sec_8_item_outside_root_not_reachable_by_id(emulator):
    secret = str(emulator.put(USER, "/Private/secret.txt", b"secret")["fileid"])
    private = str(emulator.info(USER, "/Private")["fileid"])
    top = str(emulator.info(USER, "/")["fileid"])
    adapter = make(emulator)
    # before it manages a root, an adapter sees the account (and keeps the paths as hints)
    assert adapter.get_item(secret).name == "secret.txt"
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"a")
    adapter.latest_cursor(root.id)
    # a worker that never saw them, the root known from the merge base
    fresh = restarted(emulator, adapter, root)
    for worker in (adapter, fresh):
        before = emulator.counters["PROPFIND"]
        attempts = [  # (method, arguments)
            ("get_item", secret), ("download", secret), ("delete", secret), ("delete", private),
            ("rename", secret, "taken.txt"), ("list_children", private),
            ("find_child", private, "secret.txt"),
            ("upload", private, "planted.txt", io.BytesIO(b"x"), 1),
            ("move", file.id, private), ("move", secret, root.id), ("share_link", secret),
            ("latest_cursor", private),
        ]
        for name, *args in attempts:
            with pytest.raises(NotFound):
                getattr(worker, name)(*args)
                pytest.fail("%s%r reached an item outside the root" % (name, tuple(args)))
        assert emulator.counters["PROPFIND"] - before <= 3 * len(attempts)
        # the top of the account is on the way to the root: readable, without what lies
        # outside the managed tree
        assert worker.get_item(top).path == "/"
        items, _token = worker.list_children(top)
        assert [i.name for i in items] == ["Odoo"]
        assert worker.find_child(top, "Private") is None
        assert worker.get_item(file.id).name == "a.txt"
    assert emulator.get(USER, "/Private/secret.txt") == b"secret"
    assert sorted(p for p in emulator.tree(USER) if p.startswith("/Private")) == \
        ["/Private", "/Private/secret.txt"]
    assert emulator.get(USER, "/Odoo/a.txt") == b"a"
    assert emulator.shares(USER) == []


# -- uploads ---------------------------------------------------------------------------------
def test_upload_v1_chunking_on_legacy_server(emulator):
    emulator.dav_chunking = None  # no new-DAV chunking advertised: legacy v1 on webdav
    adapter = make(emulator, chunk_threshold=100, chunk_size=32)
    root = adapter.ensure_root("Odoo")
    data = payload(250)
    item = upload(adapter, root.id, "big.bin", data)
    assert adapter.chunking == "v1" and adapter.dav_url.endswith("/remote.php/webdav")
    assert item.size == 250 and item.hash == adapter.compute_hash([data])
    assert emulator.get(USER, "/Odoo/big.bin") == data
    assert emulator.counters["uploads/PUT"] == 0
    assert b"".join(adapter.download(item.id)) == data


def test_upload_single_put_when_no_chunking(emulator):
    adapter = make(emulator, chunk_threshold=100, chunk_size=32, chunking="none")
    root = adapter.ensure_root("Odoo")
    data = payload(250)
    item = upload(adapter, root.id, "big.bin", data)
    assert item.size == 250 and emulator.counters["uploads/PUT"] == 0
    assert emulator.counters["PUT"] == 1


def test_upload_v2_on_new_dav_endpoint(emulator):
    adapter = make(emulator, chunk_threshold=100, chunk_size=32)
    root = adapter.ensure_root("Odoo")
    upload(adapter, root.id, "big.bin", payload(250))
    assert adapter.chunking == "v2" and "/remote.php/dav/files/" in adapter.dav_url
    assert emulator.counters["uploads/PUT"] == 8 and emulator.counters["uploads/MOVE"] == 1
    assert not [k for k in emulator._uploads]  # nothing left behind


def test_failed_chunk_upload_cleans_its_upload_folder(emulator):
    adapter = make(emulator, chunk_threshold=100, chunk_size=32)
    root = adapter.ensure_root("Odoo")
    emulator.inject("uploads/PUT", Fault("status", 1, 500))
    with pytest.raises(Transient):
        upload(adapter, root.id, "big.bin", payload(250))
    assert not emulator._uploads
    assert adapter.find_child(root.id, "big.bin") is None


def test_checksum_sent_and_verified(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    item = upload(adapter, root.id, "a.txt", b"abc")
    assert item.hash == "a9993e364706816aba3e25717850c26c9cd0d89d"  # SHA1("abc")


# -- errors ----------------------------------------------------------------------------------
def test_locked_423_is_retryable_with_delay(emulator):
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"a")
    emulator.lock_item("/Odoo")
    for attempt in (lambda: upload(adapter, root.id, "b.txt", b"b"),
                    lambda: adapter.rename(file.id, "c.txt"),
                    lambda: adapter.delete(file.id),
                    lambda: adapter.create_folder(root.id, "F")):
        with pytest.raises(Transient) as err:
            attempt()
        assert err.value.code == 423 and err.value.retryable and err.value.retry_after == 60
    emulator.unlock("/Odoo")
    assert adapter.rename(file.id, "c.txt").name == "c.txt"


def test_quota_507(emulator):
    adapter = make(emulator, chunk_threshold=100, chunk_size=32)
    root = adapter.ensure_root("Odoo")
    emulator.set_quota(USER, 50)
    with pytest.raises(QuotaExceeded):
        upload(adapter, root.id, "small.bin", payload(60))
    with pytest.raises(QuotaExceeded):
        upload(adapter, root.id, "big.bin", payload(250))
    assert adapter.find_child(root.id, "big.bin") is None
    assert not emulator._uploads


def test_check_connection_facts_and_errors(emulator):
    facts = make(emulator).check_connection()
    assert facts["account"].startswith(USER + "@") and facts["product"] == "Nextcloud"
    emulator.set_quota(USER, 1000)
    assert make(emulator).check_connection()["quota_total"] == 1000
    with pytest.raises(AuthExpired):
        OwnCloudAdapter(emulator.base_url, USER, "wrong", timeout=2).check_connection()
    with pytest.raises((InvalidRequest, NotFound)):
        OwnCloudAdapter(emulator.base_url + "/nothing", USER, PASSWORD,
                        timeout=2).check_connection()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Transient):
        OwnCloudAdapter("http://127.0.0.1:%d" % port, USER, PASSWORD,
                        timeout=2).check_connection()
    with pytest.raises(InvalidRequest):
        OwnCloudAdapter("cloud.example.com", USER, PASSWORD)


def test_rate_limit_429_with_retry_after(emulator):
    from odoo.addons.cloud_base.lib.adapter import RateLimited
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    emulator.inject("MKCOL", Fault("status", 1, 429, headers={"Retry-After": "12"}))
    with pytest.raises(RateLimited) as err:
        adapter.create_folder(root.id, "F")
    assert err.value.retry_after == 12


# -- links -----------------------------------------------------------------------------------
def test_share_link_is_public_and_reused(emulator):
    import requests
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"public")
    link = adapter.share_link(file.id)
    assert adapter.share_link(file.id) == link
    assert len(emulator.shares(USER)) == 1
    assert requests.get(link + "/download", timeout=5).content == b"public"


def test_share_link_option_off_gives_web_ui_link(emulator):
    adapter = make(emulator, public_links=False)
    root = adapter.ensure_root("Odoo")
    file = upload(adapter, root.id, "a.txt", b"x")
    assert adapter.share_link(file.id) == "%s/index.php/f/%s" % (emulator.base_url, file.id)
    assert emulator.shares(USER) == []
