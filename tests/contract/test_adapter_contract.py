"""The storage adapter contract: what every :class:`StorageAdapter` must do.

Written against the interface only (``cloud_base/lib/adapter.py``); everything specific to one
adapter kind goes through a harness (``harness.py``): building the adapter on a fresh account,
acting as a person editing in the cloud, injecting faults, counting calls, and the capability
flags that describe legitimate provider differences (a flag selects which variant of a check
runs; it never skips a check).

Every test runs once per harness listed in ``harness.HARNESSES``, which collects the harnesses
the add-ons hold in ``<addon>/tests/harness.py``. To put a new provider adapter under contract,
write its harness there (subclass ``odoo.addons.cloud_base.tests.harness.AdapterHarness``,
usually on top of its emulator in ``tests/cloud_emulators``) and list it in the module::

    HARNESSES = [OwnCloudHarness]

then run ``.venv/bin/python -m pytest tests/contract -q``; the test ids carry the harness name
(``test_rename_keeps_id[owncloud]``).
"""
from __future__ import annotations

import io
import random
import unicodedata
from urllib.parse import quote

import pytest

from odoo.addons.cloud_base.lib.adapter import (
    FILE, FOLDER, ChangePage, CloudError, CloudItem, Conflict, InvalidRequest, NotFound,
    RateLimited, ResetNeeded, Transient,
)

from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter

from .harness import (
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, FAULTS, HARNESSES, NOT_FOUND, QUOTA_EXCEEDED,
    RATE_LIMITED, TIMEOUT, TRANSIENT_5XX,
)

ROOT_NAME = "Odoo Contract"


# ------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------
@pytest.fixture(params=HARNESSES, ids=lambda cls: cls.name)
def harness(request):
    instance = request.param()
    instance.setup()
    try:
        yield instance
    finally:
        instance.teardown()


@pytest.fixture
def adapter(harness):
    """The adapter as the engines drive it: its mutations and feed pages recorded in a merge
    base (``cloud_base/lib/merge_base.py``) the feed resolves through."""
    return RecordingAdapter(harness.new_adapter(), MemoryMergeBase())


@pytest.fixture
def root(adapter):
    return adapter.ensure_root(ROOT_NAME)


def payload(size, seed=0):
    """Deterministic, incompressible-looking content of ``size`` bytes."""
    return random.Random("%d-%d" % (size, seed)).randbytes(size)


def upload(adapter, parent_id, name, data):
    return adapter.upload(parent_id, name, io.BytesIO(data), len(data))


def read(adapter, item_id):
    return b"".join(adapter.download(item_id))


def list_pages(adapter, parent_id, limit=1000):
    """Every page of ``parent_id``: a list of lists of items."""
    pages, token = [], None
    for _ in range(limit):
        items, token = adapter.list_children(parent_id, token)
        pages.append(list(items))
        if not token:
            return pages
    raise AssertionError("list_children never ended")


def children(adapter, parent_id):
    return [item for page in list_pages(adapter, parent_id) for item in page]


def named(adapter, parent_id, name, case_insensitive=True):
    fold = (lambda n: n.lower()) if case_insensitive else (lambda n: n)
    return [item for item in children(adapter, parent_id) if fold(item.name) == fold(name)]


def snapshot(adapter, folder_id):
    """``{id: (name, parent_id, kind, size)}`` of everything below ``folder_id``."""
    out = {}
    for item in children(adapter, folder_id):
        out[item.id] = (item.name, item.parent_id, item.kind, item.size)
        if item.is_folder:
            out.update(snapshot(adapter, item.id))
    return out


def drain(adapter, root_id, cursor, limit=1000):
    """Follow the change feed until ``has_more`` is False.

    Returns ``(latest change by id, final cursor, pages)``."""
    latest, pages = {}, []
    for _ in range(limit):
        page = adapter.changes(root_id, cursor)
        assert isinstance(page, ChangePage)
        assert page.cursor and isinstance(page.cursor, str)
        pages.append(page)
        for change in page.changes:
            latest[change.id] = change
        cursor = page.cursor
        if not page.has_more:
            return latest, cursor, pages
    raise AssertionError("the change feed never ended")


def assert_live(change, **expected):
    assert change is not None, "the change was not reported"
    assert not change.deleted, "reported deleted: %r" % (change,)
    assert isinstance(change.item, CloudItem)
    assert change.item.id == change.id
    for key, value in expected.items():
        assert getattr(change.item, key) == value, (key, change.item)


def assert_not_live(changes, item_id):
    """Not reported, or reported deleted: never as an existing item."""
    change = changes.get(item_id)
    assert change is None or change.deleted, "reported as existing: %r" % (change,)


def assert_located(err):
    """A CloudError says what it is about (for the sync logs)."""
    assert isinstance(err, CloudError)
    assert err.code or err.path, "%r carries neither code nor path" % err
    if err.path:
        assert str(err.path) in str(err)


def retry_create_folder(adapter, parent_id, name):
    """The documented retry pattern after an ambiguous failure: look up, then create."""
    existing = adapter.find_child(parent_id, name)
    if existing is not None:
        assert existing.is_folder
        return existing
    return adapter.create_folder(parent_id, name)


def retry_upload(adapter, harness, parent_id, name, data):
    """The documented retry pattern for uploads: look up, verify, upload only if absent."""
    existing = adapter.find_child(parent_id, name)
    if existing is not None:
        assert existing.kind == FILE and existing.size == len(data)
        if harness.hash_kind:
            assert existing.hash == adapter.compute_hash([data])
        return existing
    return upload(adapter, parent_id, name, data)


# ------------------------------------------------------------------------------------------
# Account and root
# ------------------------------------------------------------------------------------------
def test_harness_builds_configured_adapter(harness, adapter):
    assert adapter.chunk_threshold == harness.chunk_threshold
    assert adapter.chunk_size == harness.chunk_size
    assert adapter.hash_kind == harness.hash_kind


def test_check_connection_describes_account(adapter):
    facts = adapter.check_connection()
    assert isinstance(facts, dict)
    assert facts.get("account")


def test_ensure_root_idempotent(harness, adapter):
    first = adapter.ensure_root(ROOT_NAME)
    second = adapter.ensure_root(ROOT_NAME)
    assert first.id == second.id
    assert first.is_folder and first.name == ROOT_NAME
    assert len(named(adapter, harness.top_id, ROOT_NAME)) == 1


def test_ensure_root_from_second_worker_finds_same_folder(harness, adapter):
    first = adapter.ensure_root(ROOT_NAME)
    other = harness.another_adapter()
    assert other.ensure_root(ROOT_NAME).id == first.id
    assert len(named(adapter, harness.top_id, ROOT_NAME)) == 1


def test_ensure_root_with_file_in_the_way_conflict(harness, adapter):
    harness.cloud_create_file(harness.top_id, ROOT_NAME, b"not a folder")
    with pytest.raises(Conflict):
        adapter.ensure_root(ROOT_NAME)


def test_second_adapter_on_same_account_sees_items(harness, adapter, root):
    item = upload(adapter, root.id, "shared.txt", b"shared")
    other = harness.another_adapter()
    assert other.get_item(item.id).name == "shared.txt"
    assert read(other, item.id) == b"shared"


# ------------------------------------------------------------------------------------------
# Folders
# ------------------------------------------------------------------------------------------
def test_create_folder_returns_the_folder(adapter, root):
    folder = adapter.create_folder(root.id, "Invoices")
    assert folder.kind == FOLDER and folder.is_folder
    assert folder.name == "Invoices" and folder.parent_id == root.id
    fetched = adapter.get_item(folder.id)
    assert (fetched.id, fetched.name, fetched.parent_id, fetched.kind) == \
        (folder.id, "Invoices", root.id, FOLDER)


def test_create_folder_repeat_returns_existing(adapter, root):
    first = adapter.create_folder(root.id, "Invoices")
    second = adapter.create_folder(root.id, "Invoices")
    assert second.id == first.id
    assert len(named(adapter, root.id, "Invoices")) == 1


def test_create_folder_other_case(harness, adapter, root):
    first = adapter.create_folder(root.id, "Invoices")
    second = adapter.create_folder(root.id, "INVOICES")
    if harness.case_insensitive:
        assert second.id == first.id
        assert len(named(adapter, root.id, "invoices")) == 1
    else:
        assert second.id != first.id
        assert {i.name for i in children(adapter, root.id)} == {"Invoices", "INVOICES"}


def test_create_folder_where_file_exists_conflict(adapter, root):
    file = upload(adapter, root.id, "Invoices", b"a file")
    with pytest.raises(Conflict) as err:
        adapter.create_folder(root.id, "Invoices")
    assert_located(err.value)
    assert [i.id for i in children(adapter, root.id)] == [file.id]


def test_create_folder_conflict_names_existing_item(harness, adapter, root):
    file = upload(adapter, root.id, "Invoices", b"a file")
    with pytest.raises(Conflict) as err:
        adapter.create_folder(root.id, "Invoices")
    if harness.conflict_gives_existing_id:
        assert err.value.existing_id == file.id
    else:
        assert err.value.existing_id in (None, file.id)


def test_create_folder_in_missing_parent_not_found(adapter, root):
    gone = adapter.create_folder(root.id, "gone")
    adapter.delete(gone.id)
    with pytest.raises(NotFound):
        adapter.create_folder(gone.id, "child")


def test_rename_keeps_id(adapter, root):
    folder = adapter.create_folder(root.id, "Before")
    file = upload(adapter, folder.id, "a.txt", b"a")
    renamed = adapter.rename(folder.id, "After")
    assert renamed.id == folder.id and renamed.name == "After"
    assert adapter.get_item(folder.id).name == "After"
    assert adapter.find_child(root.id, "Before") is None
    assert adapter.find_child(root.id, "After").id == folder.id
    renamed_file = adapter.rename(file.id, "b.txt")
    assert renamed_file.id == file.id and renamed_file.name == "b.txt"
    assert renamed_file.parent_id == folder.id
    assert read(adapter, file.id) == b"a"


def test_rename_changing_only_case(adapter, root):
    folder = adapter.create_folder(root.id, "invoices")
    renamed = adapter.rename(folder.id, "Invoices")
    assert renamed.id == folder.id
    assert adapter.get_item(folder.id).name == "Invoices"
    assert [i.name for i in children(adapter, root.id)] == ["Invoices"]


def test_rename_onto_existing_sibling_conflict(adapter, root):
    keep = upload(adapter, root.id, "keep.txt", b"keep")
    other = upload(adapter, root.id, "other.txt", b"other")
    with pytest.raises(Conflict) as err:
        adapter.rename(other.id, "keep.txt")
    assert_located(err.value)
    assert adapter.get_item(other.id).name == "other.txt"
    assert read(adapter, keep.id) == b"keep"


def test_move_keeps_id(adapter, root):
    source = adapter.create_folder(root.id, "source")
    target = adapter.create_folder(root.id, "target")
    file = upload(adapter, source.id, "a.txt", b"content")
    moved = adapter.move(file.id, target.id)
    assert moved.id == file.id and moved.parent_id == target.id and moved.name == "a.txt"
    assert adapter.get_item(file.id).parent_id == target.id
    assert adapter.find_child(source.id, "a.txt") is None
    assert adapter.find_child(target.id, "a.txt").id == file.id
    assert read(adapter, file.id) == b"content"


def test_move_with_new_name(adapter, root):
    target = adapter.create_folder(root.id, "target")
    file = upload(adapter, root.id, "a.txt", b"content")
    moved = adapter.move(file.id, target.id, "b.txt")
    assert (moved.id, moved.parent_id, moved.name) == (file.id, target.id, "b.txt")
    assert adapter.get_item(file.id).name == "b.txt"


def test_move_folder_keeps_descendant_ids(adapter, root):
    folder = adapter.create_folder(root.id, "folder")
    sub = adapter.create_folder(folder.id, "sub")
    file = upload(adapter, sub.id, "deep.txt", b"deep")
    target = adapter.create_folder(root.id, "target")
    moved = adapter.move(folder.id, target.id)
    assert moved.id == folder.id and moved.parent_id == target.id
    assert adapter.get_item(sub.id).parent_id == folder.id
    assert adapter.get_item(file.id).parent_id == sub.id
    assert read(adapter, file.id) == b"deep"


def test_move_into_own_descendant_refused(adapter, root):
    folder = adapter.create_folder(root.id, "folder")
    sub = adapter.create_folder(folder.id, "sub")
    subsub = adapter.create_folder(sub.id, "subsub")
    before = snapshot(adapter, root.id)
    for target in (sub, subsub):
        with pytest.raises(InvalidRequest):
            adapter.move(folder.id, target.id)
    with pytest.raises(InvalidRequest):
        adapter.move(folder.id, folder.id)
    assert snapshot(adapter, root.id) == before


def test_move_into_a_file_refused(adapter, root):
    file = upload(adapter, root.id, "file.txt", b"x")
    other = upload(adapter, root.id, "other.txt", b"y")
    before = snapshot(adapter, root.id)
    with pytest.raises((InvalidRequest, Conflict)):
        adapter.move(other.id, file.id)
    assert snapshot(adapter, root.id) == before


def test_move_onto_existing_name_conflict(adapter, root):
    target = adapter.create_folder(root.id, "target")
    upload(adapter, target.id, "a.txt", b"there")
    file = upload(adapter, root.id, "a.txt", b"here")
    with pytest.raises(Conflict):
        adapter.move(file.id, target.id)
    assert adapter.get_item(file.id).parent_id == root.id


def test_delete_then_get_item_not_found(adapter, root):
    file = upload(adapter, root.id, "a.txt", b"a")
    assert adapter.delete(file.id) is None
    with pytest.raises(NotFound) as err:
        adapter.get_item(file.id)
    assert_located(err.value)
    assert adapter.find_child(root.id, "a.txt") is None


def test_delete_missing_item_not_found(adapter, root):
    file = upload(adapter, root.id, "a.txt", b"a")
    adapter.delete(file.id)
    with pytest.raises(NotFound) as err:
        adapter.delete(file.id)
    assert_located(err.value)


def test_delete_folder_removes_descendants(adapter, root):
    folder = adapter.create_folder(root.id, "folder")
    sub = adapter.create_folder(folder.id, "sub")
    file = upload(adapter, sub.id, "a.txt", b"a")
    adapter.delete(folder.id)
    for item_id in (folder.id, sub.id, file.id):
        with pytest.raises(NotFound):
            adapter.get_item(item_id)
    assert children(adapter, root.id) == []


@pytest.mark.parametrize("operation", ["create_folder", "upload", "rename"])
@pytest.mark.parametrize("bad", ["", "a/b", ".", "..", "too long"])
def test_invalid_names_refused(adapter, root, operation, bad):
    if bad == "too long":
        bad = "x" * (adapter.max_name_length + 1)
    victim = upload(adapter, root.id, "victim.txt", b"v")
    before = snapshot(adapter, root.id)
    with pytest.raises(InvalidRequest) as err:
        if operation == "create_folder":
            adapter.create_folder(root.id, bad)
        elif operation == "upload":
            upload(adapter, root.id, bad, b"data")
        else:
            adapter.rename(victim.id, bad)
    assert_located(err.value)
    assert snapshot(adapter, root.id) == before


def test_longest_name_accepted(adapter, root):
    name = "n" * (adapter.max_name_length - 4) + ".txt"
    item = upload(adapter, root.id, name, b"long")
    assert adapter.get_item(item.id).name == name


def test_unicode_names_round_trip(adapter, root):
    folder_name = unicodedata.normalize("NFC", "Société Générale – 北京")
    file_name = unicodedata.normalize("NFC", "Reçu n° 42 (copie) ü.pdf")
    folder = adapter.create_folder(root.id, folder_name)
    file = upload(adapter, folder.id, file_name, b"%PDF")
    assert adapter.get_item(folder.id).name == folder_name
    assert adapter.find_child(folder.id, file_name).id == file.id
    assert [i.name for i in children(adapter, folder.id)] == [file_name]


def test_find_child(adapter, root):
    folder = adapter.create_folder(root.id, "Folder")
    file = upload(adapter, root.id, "file.txt", b"f")
    assert adapter.find_child(root.id, "Folder").id == folder.id
    assert adapter.find_child(root.id, "file.txt").id == file.id
    assert adapter.find_child(root.id, "missing") is None
    assert adapter.find_child(folder.id, "file.txt") is None


def test_find_child_case(harness, adapter, root):
    file = upload(adapter, root.id, "Report.TXT", b"f")
    found = adapter.find_child(root.id, "report.txt")
    if harness.case_insensitive:
        assert found is not None and found.id == file.id and found.name == "Report.TXT"
    else:
        assert found is None


def test_find_child_in_missing_parent_not_found(adapter, root):
    gone = adapter.create_folder(root.id, "gone")
    adapter.delete(gone.id)
    with pytest.raises(NotFound):
        adapter.find_child(gone.id, "x")


# ------------------------------------------------------------------------------------------
# Listing
# ------------------------------------------------------------------------------------------
def _populate(harness, adapter, parent_id, count):
    ids = set()
    for index in range(count):
        name = "%s %02d" % ("Item" if index % 2 else "item", index)
        if index % 3 == 0:
            ids.add(adapter.create_folder(parent_id, name).id)
        elif index % 3 == 1:
            ids.add(upload(adapter, parent_id, name + ".txt", b"%d" % index).id)
        else:
            ids.add(harness.cloud_create_file(parent_id, name + ".bin", b"x").id)
    return ids


def test_listing_more_than_a_page_yields_each_child_once(harness, adapter, root):
    expected = _populate(harness, adapter, root.id, 3 * harness.page_size + 2)
    pages = list_pages(adapter, root.id)
    assert len(pages) > 1, "the listing was not paged"
    listed = [item.id for page in pages for item in page]
    assert sorted(listed) == sorted(expected)  # each exactly once
    for page in pages:
        for item in page:
            assert isinstance(item, CloudItem) and item.parent_id == root.id
    assert sorted(i.id for i in adapter.iter_children(root.id)) == sorted(expected)


def test_listing_exactly_one_page(harness, adapter, root):
    expected = _populate(harness, adapter, root.id, harness.page_size)
    assert sorted(i.id for i in children(adapter, root.id)) == sorted(expected)


def test_listing_empty_folder(adapter, root):
    items, token = adapter.list_children(root.id)
    assert list(items) == [] and not token


@pytest.mark.parametrize("change", ["delete listed", "add before", "delete unlisted"])
def test_listing_survives_changes_between_pages(harness, adapter, root, change):
    """A child added or removed between two pages makes no other child skipped or listed
    twice (a skipped child would be read as deleted by a full reconciliation)."""
    expected = _populate(harness, adapter, root.id, 3 * harness.page_size + 2)
    items, token = adapter.list_children(root.id)
    assert token, "the listing was not paged"
    seen = [i.id for i in items]
    unlisted = [i.id for i in children(adapter, root.id) if i.id not in seen]
    if change == "delete listed":
        changed = seen[0]
        harness.cloud_delete(changed)
    elif change == "add before":  # sorts before everything listed so far
        changed = harness.cloud_create_file(root.id, "000 first.txt", b"new").id
    else:
        changed = unlisted[0]
        harness.cloud_delete(changed)
    while token:
        items, token = adapter.list_children(root.id, token)
        seen.extend(i.id for i in items)
    for item_id in expected - {changed}:
        assert seen.count(item_id) == 1, "%s listed %d times" % (item_id, seen.count(item_id))
    assert seen.count(changed) <= 1


def test_listing_a_file_refused(adapter, root):
    file = upload(adapter, root.id, "a.txt", b"a")
    with pytest.raises(InvalidRequest):
        adapter.list_children(file.id)


def test_listing_missing_folder_not_found(adapter, root):
    folder = adapter.create_folder(root.id, "gone")
    adapter.delete(folder.id)
    with pytest.raises(NotFound):
        adapter.list_children(folder.id)


# ------------------------------------------------------------------------------------------
# Upload and download
# ------------------------------------------------------------------------------------------
def _check_file(harness, adapter, item, parent_id, name, data):
    assert item.kind == FILE and not item.is_folder
    assert (item.name, item.parent_id, item.size) == (name, parent_id, len(data))
    fetched = adapter.get_item(item.id)
    assert (fetched.id, fetched.name, fetched.parent_id, fetched.size) == \
        (item.id, name, parent_id, len(data))
    assert read(adapter, item.id) == data
    assert harness.cloud_content(item.id) == data
    if harness.hash_kind:
        expected = adapter.compute_hash([data])
        assert item.hash == expected
        assert fetched.hash == expected
    else:
        assert adapter.compute_hash([data]) is None


def test_upload_small_file(harness, adapter, root):
    data = b"Hello, cloud!\n"
    item = upload(adapter, root.id, "hello.txt", data)
    _check_file(harness, adapter, item, root.id, "hello.txt", data)
    assert harness.call_count("upload_chunk") == 0


def test_upload_empty_file(harness, adapter, root):
    item = upload(adapter, root.id, "empty.txt", b"")
    _check_file(harness, adapter, item, root.id, "empty.txt", b"")


SIZES = {
    "threshold-1": lambda t, c, k: t - 1,
    "threshold": lambda t, c, k: t,
    "threshold+1": lambda t, c, k: t + 1,
    "chunk-1": lambda t, c, k: c - 1,
    "chunk": lambda t, c, k: c,
    "chunk+1": lambda t, c, k: c + 1,
    "k*chunk-1": lambda t, c, k: k * c - 1,
    "k*chunk": lambda t, c, k: k * c,
    "k*chunk+1": lambda t, c, k: k * c + 1,
    "(k+2)*chunk-1": lambda t, c, k: (k + 2) * c - 1,
    "(k+2)*chunk": lambda t, c, k: (k + 2) * c,
    "(k+2)*chunk+1": lambda t, c, k: (k + 2) * c + 1,
}


@pytest.mark.parametrize("size_name", list(SIZES))
def test_upload_sizes_round_trip(harness, adapter, root, size_name):
    """Sizes at, below and above the chunk threshold and around multiples of the chunk size
    (``k`` is the first multiple of the chunk size above the threshold)."""
    threshold, chunk = adapter.chunk_threshold, adapter.chunk_size
    k = threshold // chunk + 1
    size = SIZES[size_name](threshold, chunk, k)
    data = payload(size)
    before = harness.call_count("upload_chunk")
    item = upload(adapter, root.id, "file-%d.bin" % size, data)
    chunks = harness.call_count("upload_chunk") - before
    if size > threshold:
        assert chunks >= 1, "above the threshold the chunked protocol must be used"
    else:
        assert chunks == 0, "at or below the threshold the simple upload must be used"
    _check_file(harness, adapter, item, root.id, "file-%d.bin" % size, data)


def test_download_streams_big_file(harness, adapter, root):
    data = payload(2 * harness.download_piece_size + 1)
    item = upload(adapter, root.id, "big.bin", data)
    stream = adapter.download(item.id)
    assert not isinstance(stream, (bytes, bytearray)), "download must stream"
    pieces = list(stream)
    assert all(isinstance(piece, bytes) for piece in pieces)
    assert len(pieces) > 1
    assert b"".join(pieces) == data
    if harness.hash_kind:
        assert adapter.compute_hash(iter(pieces)) == item.hash


def test_upload_where_file_exists_conflict(harness, adapter, root):
    existing = upload(adapter, root.id, "a.txt", b"original")
    with pytest.raises(Conflict) as err:
        upload(adapter, root.id, "a.txt", b"replacement")
    assert_located(err.value)
    if harness.conflict_gives_existing_id:
        assert err.value.existing_id == existing.id
    assert [i.id for i in children(adapter, root.id)] == [existing.id]
    assert read(adapter, existing.id) == b"original"


def test_upload_where_folder_exists_conflict(adapter, root):
    folder = adapter.create_folder(root.id, "a.txt")
    with pytest.raises(Conflict):
        upload(adapter, root.id, "a.txt", b"data")
    assert [i.id for i in children(adapter, root.id)] == [folder.id]


def test_upload_name_in_other_case(harness, adapter, root):
    existing = upload(adapter, root.id, "Report.txt", b"original")
    if harness.case_insensitive:
        with pytest.raises(Conflict):
            upload(adapter, root.id, "REPORT.TXT", b"other")
        assert [i.id for i in children(adapter, root.id)] == [existing.id]
    else:
        other = upload(adapter, root.id, "REPORT.TXT", b"other")
        assert other.id != existing.id


def test_upload_chunked_where_file_exists_conflict(adapter, root):
    existing = upload(adapter, root.id, "big.bin", payload(adapter.chunk_threshold + 1))
    with pytest.raises(Conflict):
        upload(adapter, root.id, "big.bin", payload(adapter.chunk_threshold + 1, seed=1))
    assert [i.id for i in children(adapter, root.id)] == [existing.id]


@pytest.mark.parametrize("announced", ["shorter", "longer"])
def test_upload_stream_not_matching_size_refused(adapter, root, announced):
    size = adapter.chunk_threshold + adapter.chunk_size
    data = payload(size)
    wrong = size + 5 if announced == "longer" else size - 5
    with pytest.raises(CloudError):
        adapter.upload(root.id, "bad.bin", io.BytesIO(data), wrong)
    assert adapter.find_child(root.id, "bad.bin") is None


def test_upload_into_missing_parent_not_found(adapter, root):
    folder = adapter.create_folder(root.id, "gone")
    adapter.delete(folder.id)
    with pytest.raises(NotFound):
        upload(adapter, folder.id, "a.txt", b"a")


def test_download_missing_file_not_found(adapter, root):
    file = upload(adapter, root.id, "a.txt", b"a")
    adapter.delete(file.id)
    with pytest.raises(NotFound):
        read(adapter, file.id)


def test_download_folder_refused(adapter, root):
    folder = adapter.create_folder(root.id, "folder")
    with pytest.raises(InvalidRequest):
        read(adapter, folder.id)


def test_file_made_in_cloud_downloads(harness, adapter, root):
    data = payload(harness.chunk_threshold * 2)
    made = harness.cloud_create_file(root.id, "scan.pdf", data)
    item = adapter.find_child(root.id, "scan.pdf")
    assert item.id == made.id and item.size == len(data)
    assert read(adapter, item.id) == data
    if harness.hash_kind:
        assert item.hash == adapter.compute_hash([data])


# ------------------------------------------------------------------------------------------
# Change feed
# ------------------------------------------------------------------------------------------
class Feed:
    """A watched root with two folders and a cursor taken after they exist."""

    def __init__(self, harness, adapter, root):
        self.harness, self.adapter, self.root = harness, adapter, root
        self.a = adapter.create_folder(root.id, "A")
        self.b = adapter.create_folder(root.id, "B")
        self.cursor = adapter.latest_cursor(root.id)
        assert isinstance(self.cursor, str) and self.cursor

    def changes(self):
        latest, self.cursor, _ = drain(self.adapter, self.root.id, self.cursor)
        return latest


@pytest.fixture
def feed(harness, adapter, root):
    return Feed(harness, adapter, root)


def test_changes_none_since_latest_cursor(feed):
    changes = feed.changes()
    assert set(changes) <= {feed.root.id}
    if feed.root.id in changes:
        assert_live(changes[feed.root.id], name=ROOT_NAME)


def test_changes_report_added_file(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "new.txt", b"12345")
    changes = feed.changes()
    assert_live(changes.get(file.id), name="new.txt", parent_id=feed.a.id, kind=FILE, size=5)
    assert feed.changes() == {}


def test_changes_report_added_folder_and_content(harness, feed):
    folder = harness.cloud_create_folder(feed.a.id, "Sub")
    file = harness.cloud_create_file(folder.id, "in-sub.txt", b"x")
    changes = feed.changes()
    assert_live(changes.get(folder.id), name="Sub", parent_id=feed.a.id, kind=FOLDER)
    assert_live(changes.get(file.id), name="in-sub.txt", parent_id=folder.id, kind=FILE)


def test_changes_know_items_made_through_adapter(feed):
    """What the engines made is in the merge base; the feed may report it again (alive, as
    made) or not at all, never as deleted or elsewhere."""
    file = upload(feed.adapter, feed.a.id, "mine.txt", b"mine")
    folder = feed.adapter.create_folder(feed.b.id, "Mine")
    base = feed.adapter.merge_base
    assert (base.get(file.id).name, base.get(file.id).parent_id) == ("mine.txt", feed.a.id)
    assert (base.get(folder.id).name, base.get(folder.id).parent_id) == ("Mine", feed.b.id)
    changes = feed.changes()
    for item, name, parent in ((file, "mine.txt", feed.a), (folder, "Mine", feed.b)):
        if item.id in changes:
            assert_live(changes[item.id], name=name, parent_id=parent.id)
    again = feed.changes()
    assert all(not c.deleted for c in again.values())


def test_changes_report_deletion_of_items_made_through_adapter(harness, feed):
    """A folder and a file the engines made, deleted by a person before the next read of the
    feed, are reported deleted (the feed knows them from the merge base, not from its own
    earlier listings)."""
    folder = feed.adapter.create_folder(feed.b.id, "Made by Odoo")
    inside = upload(feed.adapter, folder.id, "inside.txt", b"inside")
    file = upload(feed.adapter, feed.a.id, "made.txt", b"made")
    harness.cloud_delete(folder.id)
    harness.cloud_delete(file.id)
    changes = feed.changes()
    for item in (folder, file):
        assert changes.get(item.id) is not None and changes[item.id].deleted, item
    assert_not_live(changes, inside.id)
    assert feed.adapter.merge_base.get(folder.id) is None
    assert feed.adapter.merge_base.get(inside.id) is None


def test_changes_report_file_rename(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "old.txt", b"x")
    feed.changes()
    harness.cloud_rename(file.id, "new.txt")
    changes = feed.changes()
    assert_live(changes.get(file.id), name="new.txt", parent_id=feed.a.id)


def test_changes_report_file_move_between_folders(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "doc.txt", b"x")
    feed.changes()
    harness.cloud_move(file.id, feed.b.id)
    changes = feed.changes()
    assert_live(changes.get(file.id), name="doc.txt", parent_id=feed.b.id)


def test_changes_report_file_delete(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "doomed.txt", b"x")
    feed.changes()
    harness.cloud_delete(file.id)
    changes = feed.changes()
    assert file.id in changes and changes[file.id].deleted


def test_changes_never_report_added_then_deleted_as_live(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "brief.txt", b"x")
    harness.cloud_delete(file.id)
    assert_not_live(feed.changes(), file.id)


def test_changes_report_folder_rename(harness, feed):
    file = harness.cloud_create_file(feed.a.id, "inside.txt", b"x")
    feed.changes()
    harness.cloud_rename(feed.a.id, "A renamed")
    changes = feed.changes()
    assert_live(changes.get(feed.a.id), name="A renamed", parent_id=feed.root.id)
    child = changes.get(file.id)
    assert child is None or not child.deleted, "a file of a renamed folder reported deleted"
    assert feed.adapter.get_item(file.id).parent_id == feed.a.id


def test_changes_report_folder_move_by_id(harness, feed):
    sub = harness.cloud_create_folder(feed.a.id, "Sub")
    deep = harness.cloud_create_folder(sub.id, "Deep")
    file = harness.cloud_create_file(deep.id, "deep.txt", b"x")
    feed.changes()
    harness.cloud_move(sub.id, feed.b.id)
    changes = feed.changes()
    assert_live(changes.get(sub.id), name="Sub", parent_id=feed.b.id, kind=FOLDER)
    for descendant, parent in ((deep, sub), (file, deep)):
        change = changes.get(descendant.id)
        assert change is None or not change.deleted, "descendant reported deleted"
        if change is not None:
            assert change.item.parent_id == parent.id
        assert feed.adapter.get_item(descendant.id).parent_id == parent.id


def test_changes_report_folder_delete(harness, feed):
    sub = harness.cloud_create_folder(feed.a.id, "Sub")
    file = harness.cloud_create_file(sub.id, "in.txt", b"x")
    feed.changes()
    harness.cloud_delete(sub.id)
    changes = feed.changes()
    assert sub.id in changes and changes[sub.id].deleted
    assert_not_live(changes, file.id)


def test_changes_report_item_moved_out_of_root_as_deleted(harness, feed):
    outside = harness.cloud_create_folder(harness.top_id, "Elsewhere")
    file = harness.cloud_create_file(feed.a.id, "leaving.txt", b"x")
    folder = harness.cloud_create_folder(feed.a.id, "Leaving folder")
    feed.changes()
    harness.cloud_move(file.id, outside.id)
    harness.cloud_move(folder.id, outside.id)
    changes = feed.changes()
    for item in (file, folder):
        assert item.id in changes and changes[item.id].deleted, item.name


def test_changes_report_item_moved_into_root(harness, feed):
    outside = harness.cloud_create_folder(harness.top_id, "Elsewhere")
    file = harness.cloud_create_file(outside.id, "arriving.txt", b"x")
    feed.changes()
    harness.cloud_move(file.id, feed.b.id)
    assert_live(feed.changes().get(file.id), name="arriving.txt", parent_id=feed.b.id)


def test_changes_root_rename_not_reported_as_deletion(harness, feed):
    """Renamed in the cloud, the watched root still exists (the core renames it back): the
    feed reports it by id, or asks for a reset; never as deleted."""
    file = harness.cloud_create_file(feed.a.id, "stays.txt", b"x")
    feed.changes()
    harness.cloud_rename(feed.root.id, "Renamed root")
    try:
        changes = feed.changes()
    except ResetNeeded:
        return
    assert_live(changes.get(feed.root.id), name="Renamed root")
    assert [c for c in changes.values() if c.deleted] == []
    assert feed.adapter.get_item(file.id).parent_id == feed.a.id


def test_changes_outside_root_not_reported_as_items(harness, feed):
    outside = harness.cloud_create_folder(harness.top_id, "Elsewhere")
    file = harness.cloud_create_file(outside.id, "other.txt", b"x")
    harness.cloud_rename(file.id, "other2.txt")
    changes = feed.changes()
    for item_id in (outside.id, file.id):
        assert_not_live(changes, item_id)


def test_changes_cursor_chaining_with_has_more(harness, feed):
    count = 3 * harness.page_size + 2
    files = {harness.cloud_create_file(feed.a.id, "f%02d.txt" % n, b"x").id
             for n in range(count)}
    latest, cursor, pages = drain(feed.adapter, feed.root.id, feed.cursor)
    assert len(pages) > 1 and pages[0].has_more, "the feed was not paged"
    assert not pages[-1].has_more
    assert files <= set(latest)
    for item_id in files:
        assert_live(latest[item_id], parent_id=feed.a.id)
    again = feed.adapter.changes(feed.root.id, cursor)
    assert again.changes == [] and not again.has_more


def test_changes_same_cursor_can_be_read_again(harness, feed):
    """The core stores a cursor only after applying its changes: a crash in between reads
    the same cursor again and must get the same changes."""
    file = harness.cloud_create_file(feed.a.id, "again.txt", b"x")
    before = feed.adapter.merge_base.snapshot()
    first, _, _ = drain(feed.adapter, feed.root.id, feed.cursor)
    feed.adapter.merge_base.restore(before)  # the crash rolled the merge base back too
    second, _, _ = drain(feed.adapter, feed.root.id, feed.cursor)
    assert file.id in first and file.id in second
    assert first[file.id].item.name == second[file.id].item.name == "again.txt"


def test_changes_expired_cursor_reset_needed(harness, feed):
    harness.cloud_create_file(feed.a.id, "before.txt", b"x")
    cursor = feed.adapter.latest_cursor(feed.root.id)
    harness.expire_cursors()
    with pytest.raises(ResetNeeded):
        drain(feed.adapter, feed.root.id, cursor)
    with pytest.raises(ResetNeeded):
        drain(feed.adapter, feed.root.id, feed.cursor)
    # a fresh cursor works again
    fresh = feed.adapter.latest_cursor(feed.root.id)
    file = harness.cloud_create_file(feed.b.id, "after.txt", b"x")
    latest, _, _ = drain(feed.adapter, feed.root.id, fresh)
    assert_live(latest.get(file.id), name="after.txt")


def test_changes_malformed_cursor_refused(feed):
    with pytest.raises((ResetNeeded, InvalidRequest)):
        feed.adapter.changes(feed.root.id, "not-a-cursor")


# ------------------------------------------------------------------------------------------
# Ambiguous failures and retries (R-SAFE-3)
# ------------------------------------------------------------------------------------------
def test_create_folder_retry_after_lost_response_makes_one_folder(harness, adapter, root):
    harness.inject(APPLY_THEN_LOSE, "create_folder")
    with pytest.raises(Transient):
        adapter.create_folder(root.id, "Invoices")
    folder = retry_create_folder(adapter, root.id, "Invoices")
    assert adapter.create_folder(root.id, "Invoices").id == folder.id  # plain retry too
    assert [i.id for i in named(adapter, root.id, "Invoices")] == [folder.id]


@pytest.mark.parametrize("protocol", ["simple", "chunked"])
def test_upload_retry_after_lost_response_makes_one_file(harness, adapter, root, protocol):
    size = 10 if protocol == "simple" else adapter.chunk_threshold + 2 * adapter.chunk_size
    data = payload(size)
    harness.inject(APPLY_THEN_LOSE, "upload")
    with pytest.raises(Transient):
        upload(adapter, root.id, "report.pdf", data)
    item = retry_upload(adapter, harness, root.id, "report.pdf", data)
    with pytest.raises(Conflict):  # a blind retry is refused, never duplicated
        upload(adapter, root.id, "report.pdf", data)
    assert [i.id for i in named(adapter, root.id, "report.pdf")] == [item.id]
    assert read(adapter, item.id) == data


def test_upload_retry_after_failure_not_applied_uploads_once(harness, adapter, root):
    data = payload(50)
    harness.inject(TRANSIENT_5XX, "upload")
    with pytest.raises(Transient):
        upload(adapter, root.id, "report.pdf", data)
    assert adapter.find_child(root.id, "report.pdf") is None
    item = retry_upload(adapter, harness, root.id, "report.pdf", data)
    assert [i.id for i in named(adapter, root.id, "report.pdf")] == [item.id]
    assert read(adapter, item.id) == data


def test_retries_from_two_workers_make_one_folder(harness, adapter, root):
    other = harness.another_adapter()
    harness.inject(APPLY_THEN_LOSE, "create_folder")
    with pytest.raises(Transient):
        adapter.create_folder(root.id, "Shared")
    one = retry_create_folder(other, root.id, "Shared")
    two = retry_create_folder(adapter, root.id, "Shared")
    assert one.id == two.id
    assert len(named(adapter, root.id, "Shared")) == 1


# ------------------------------------------------------------------------------------------
# Faults map to the right exceptions
# ------------------------------------------------------------------------------------------
class Context:
    def __init__(self, harness, adapter, root):
        self.harness, self.adapter, self.root = harness, adapter, root
        self.folder = adapter.create_folder(root.id, "folder")
        self.file = upload(adapter, root.id, "file.txt", b"file content")
        self.cursor = adapter.latest_cursor(root.id)
        harness.cloud_create_file(self.folder.id, "news.txt", b"news")

    def call(self, operation):
        a = self.adapter
        if operation == "check_connection":
            return a.check_connection()
        if operation == "ensure_root":
            return a.ensure_root(ROOT_NAME)
        if operation == "get_item":
            return a.get_item(self.file.id)
        if operation == "find_child":
            return a.find_child(self.root.id, "file.txt")
        if operation == "list_children":
            return a.list_children(self.root.id)
        if operation == "create_folder":
            return a.create_folder(self.root.id, "new folder")
        if operation == "upload":
            return upload(a, self.root.id, "new.txt", b"new content")
        if operation == "upload_chunked":
            return upload(a, self.root.id, "new.bin", payload(a.chunk_threshold + a.chunk_size))
        if operation == "download":
            return read(a, self.file.id)
        if operation == "rename":
            return a.rename(self.file.id, "renamed.txt")
        if operation == "move":
            return a.move(self.file.id, self.folder.id)
        if operation == "delete":
            return a.delete(self.file.id)
        if operation == "latest_cursor":
            return a.latest_cursor(self.root.id)
        if operation == "changes":
            return a.changes(self.root.id, self.cursor)
        if operation == "share_link":
            return a.share_link(self.file.id)
        raise ValueError(operation)


FAULT_CASES = [
    (RATE_LIMITED, "get_item"), (RATE_LIMITED, "list_children"), (RATE_LIMITED, "upload"),
    (RATE_LIMITED, "create_folder"), (RATE_LIMITED, "changes"), (RATE_LIMITED, "download"),
    (TRANSIENT_5XX, "check_connection"), (TRANSIENT_5XX, "ensure_root"),
    (TRANSIENT_5XX, "get_item"), (TRANSIENT_5XX, "find_child"),
    (TRANSIENT_5XX, "list_children"), (TRANSIENT_5XX, "create_folder"),
    (TRANSIENT_5XX, "upload"), (TRANSIENT_5XX, "upload_chunked"),
    (TRANSIENT_5XX, "download"), (TRANSIENT_5XX, "rename"), (TRANSIENT_5XX, "move"),
    (TRANSIENT_5XX, "delete"), (TRANSIENT_5XX, "latest_cursor"), (TRANSIENT_5XX, "changes"),
    (TRANSIENT_5XX, "share_link"),
    (TIMEOUT, "get_item"), (TIMEOUT, "list_children"), (TIMEOUT, "download"),
    (TIMEOUT, "changes"),
    (AUTH_EXPIRED, "check_connection"), (AUTH_EXPIRED, "get_item"), (AUTH_EXPIRED, "upload"),
    (AUTH_EXPIRED, "changes"),
    (QUOTA_EXCEEDED, "upload"), (QUOTA_EXCEEDED, "upload_chunked"),
    (NOT_FOUND, "get_item"), (NOT_FOUND, "download"), (NOT_FOUND, "rename"),
    (NOT_FOUND, "move"), (NOT_FOUND, "delete"), (NOT_FOUND, "list_children"),
    (CURSOR_RESET, "changes"),
    (APPLY_THEN_LOSE, "create_folder"), (APPLY_THEN_LOSE, "upload"),
    (APPLY_THEN_LOSE, "upload_chunked"), (APPLY_THEN_LOSE, "rename"),
    (APPLY_THEN_LOSE, "move"), (APPLY_THEN_LOSE, "delete"),
]

#: faults after which the backend must be unchanged
NOT_APPLIED = {RATE_LIMITED, TRANSIENT_5XX, AUTH_EXPIRED, QUOTA_EXCEEDED, NOT_FOUND,
               CURSOR_RESET}


@pytest.mark.parametrize("category, operation", FAULT_CASES,
                         ids=["%s-%s" % case for case in FAULT_CASES])
def test_fault_maps_to_exception(harness, adapter, root, category, operation):
    ctx = Context(harness, adapter, root)
    before = snapshot(adapter, root.id)
    harness.inject(category, "upload" if operation == "upload_chunked" else operation)
    expected = FAULTS[category]
    with pytest.raises(CloudError) as err:
        ctx.call(operation)
    error = err.value
    assert type(error) is expected, "%s raised %r" % (category, error)
    assert error.retryable == (expected in (RateLimited, Transient))
    if category == RATE_LIMITED:
        assert error.retry_after is not None
        assert float(error.retry_after) == pytest.approx(harness.retry_after)
    harness.clear_faults()
    after = snapshot(adapter, root.id)
    if category in NOT_APPLIED:
        assert after == before, "a refused request changed the storage"
        ctx.call(operation)  # the same call works once the fault is gone
    elif category == APPLY_THEN_LOSE:
        assert after != before, "the request was not applied"
    assert adapter.get_item(root.id).id == root.id


def test_rate_limited_repeatedly_then_succeeds(harness, adapter, root):
    harness.inject(RATE_LIMITED, "create_folder", count=2)
    for _ in range(2):
        with pytest.raises(RateLimited) as err:
            adapter.create_folder(root.id, "patience")
        assert err.value.retry_after
    folder = adapter.create_folder(root.id, "patience")
    assert [i.id for i in named(adapter, root.id, "patience")] == [folder.id]


def test_fault_hits_only_its_operation(harness, adapter, root):
    harness.inject(TRANSIENT_5XX, "upload")
    folder = adapter.create_folder(root.id, "fine")
    assert adapter.get_item(folder.id).id == folder.id
    with pytest.raises(Transient):
        upload(adapter, root.id, "a.txt", b"a")
    upload(adapter, root.id, "a.txt", b"a")


# ------------------------------------------------------------------------------------------
# Links
# ------------------------------------------------------------------------------------------
def _mentions(url, item):
    return item.id in url or item.name in url or quote(item.name) in url


def test_web_url_mentions_item(adapter, root):
    folder = adapter.create_folder(root.id, "Folder 1")
    file = upload(adapter, folder.id, "file 1.txt", b"x")
    for item in (root, folder, file):
        url = adapter.web_url(item)
        assert isinstance(url, str) and "://" in url
        assert _mentions(url, item), url
    assert adapter.web_url(file) != adapter.web_url(folder)


def test_share_link_is_url(adapter, root):
    file = upload(adapter, root.id, "shared.txt", b"x")
    folder = adapter.create_folder(root.id, "Shared")
    for item in (file, folder):
        link = adapter.share_link(item.id)
        assert isinstance(link, str) and "://" in link


def test_share_link_of_missing_item_not_found(adapter, root):
    file = upload(adapter, root.id, "gone.txt", b"x")
    adapter.delete(file.id)
    with pytest.raises(NotFound):
        adapter.share_link(file.id)


# ------------------------------------------------------------------------------------------
# Only CloudError escapes
# ------------------------------------------------------------------------------------------
def test_errors_are_cloud_errors_with_location(adapter, root):
    file = upload(adapter, root.id, "a.txt", b"a")
    folder = adapter.create_folder(root.id, "f")
    adapter.delete(folder.id)
    attempts = [
        lambda: adapter.get_item(folder.id),
        lambda: adapter.rename(folder.id, "x"),
        lambda: adapter.move(file.id, folder.id),
        lambda: adapter.delete(folder.id),
        lambda: adapter.create_folder(root.id, "a.txt"),
        lambda: upload(adapter, root.id, "a.txt", b"b"),
        lambda: adapter.create_folder(root.id, "a/b"),
    ]
    for attempt in attempts:
        with pytest.raises(CloudError) as err:
            attempt()
        assert_located(err.value)


# ------------------------------------------------------------------------------------------
# Duplicate names (providers whose harness announces ``duplicate_names``, e.g. Google Drive)
# ------------------------------------------------------------------------------------------
#: harnesses of storages where people can put two items of the same name in one folder
DUPLICATE_NAME_HARNESSES = [h for h in HARNESSES if getattr(h, "duplicate_names", False)]


@pytest.fixture(params=DUPLICATE_NAME_HARNESSES, ids=lambda cls: cls.name)
def dup_harness(request):
    instance = request.param()
    instance.setup()
    try:
        yield instance
    finally:
        instance.teardown()


@pytest.fixture
def dup_adapter(dup_harness):
    return RecordingAdapter(dup_harness.new_adapter(), MemoryMergeBase())


def test_duplicates_made_in_cloud_are_all_listed(dup_harness, dup_adapter):
    root = dup_adapter.ensure_root(ROOT_NAME)
    one = dup_harness.cloud_create_file(root.id, "scan.pdf", b"first")
    two = dup_harness.cloud_create_file(root.id, "scan.pdf", b"second!")
    listed = [i for i in children(dup_adapter, root.id) if i.name == "scan.pdf"]
    assert sorted(i.id for i in listed) == sorted([one.id, two.id])
    assert read(dup_adapter, one.id) == b"first" and read(dup_adapter, two.id) == b"second!"
    found = dup_adapter.find_child(root.id, "scan.pdf")
    assert found.id in (one.id, two.id)
    assert dup_adapter.find_child(root.id, "scan.pdf").id == found.id  # the same one each time


def test_duplicates_block_new_items_of_that_name(dup_harness, dup_adapter):
    root = dup_adapter.ensure_root(ROOT_NAME)
    ids = {dup_harness.cloud_create_file(root.id, "scan.pdf", b"x").id for _ in range(2)}
    with pytest.raises(Conflict) as err:
        upload(dup_adapter, root.id, "scan.pdf", b"third")
    assert err.value.existing_id in ids
    with pytest.raises(Conflict):
        dup_adapter.create_folder(root.id, "scan.pdf")
    with pytest.raises(Conflict):
        dup_adapter.rename(upload(dup_adapter, root.id, "other.pdf", b"o").id, "scan.pdf")
    assert len([i for i in children(dup_adapter, root.id) if i.name == "scan.pdf"]) == 2


def test_duplicate_folders_made_in_cloud_create_folder_returns_one(dup_harness, dup_adapter):
    root = dup_adapter.ensure_root(ROOT_NAME)
    ids = {dup_harness.cloud_create_folder(root.id, "Invoices").id for _ in range(2)}
    folder = dup_adapter.create_folder(root.id, "Invoices")
    assert folder.id in ids
    assert dup_adapter.create_folder(root.id, "Invoices").id == folder.id
    assert len(named(dup_adapter, root.id, "Invoices", case_insensitive=False)) == 2


def test_duplicates_made_in_cloud_are_both_reported_by_the_feed(dup_harness, dup_adapter):
    root = dup_adapter.ensure_root(ROOT_NAME)
    folder = dup_adapter.create_folder(root.id, "A")
    cursor = dup_adapter.latest_cursor(root.id)
    one = dup_harness.cloud_create_file(folder.id, "same.txt", b"1")
    two = dup_harness.cloud_create_file(folder.id, "same.txt", b"22")
    latest, cursor, _ = drain(dup_adapter, root.id, cursor)
    for item, size in ((one, 1), (two, 2)):
        assert_live(latest.get(item.id), name="same.txt", parent_id=folder.id, size=size)
    dup_harness.cloud_delete(one.id)
    latest, _, _ = drain(dup_adapter, root.id, cursor)
    assert latest[one.id].deleted and two.id not in latest
