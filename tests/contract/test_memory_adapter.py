"""What only the in-memory reference adapter does: the store registry, quota, call counters,
latency, the fault plan itself, and details of its cursors and page tokens.

The behaviour every adapter shares is in ``test_adapter_contract.py``.
"""
from __future__ import annotations

import io
import math
import threading
import time
import uuid

import pytest

from odoo.addons.cloud_base.lib.adapter import (
    FOLDER, InvalidRequest, NotFound, QuotaExceeded, ResetNeeded, StorageAdapter,
    Transient, sha256_hex,
)
from odoo.addons.cloud_base.lib.memory_adapter import (
    FaultPlan, MemoryAdapter, MemoryStore, drop_store, get_store,
)


@pytest.fixture
def store_name():
    name = "test-memory-%s" % uuid.uuid4().hex[:8]
    yield name
    drop_store(name)


@pytest.fixture
def store():
    return MemoryStore("unit")


@pytest.fixture
def adapter(store):
    return MemoryAdapter(store, page_size=3, chunk_threshold=100, chunk_size=32)


@pytest.fixture
def root(adapter):
    return adapter.ensure_root("Root")


def upload(adapter, parent_id, name, data):
    return adapter.upload(parent_id, name, io.BytesIO(data), len(data))


# -- registry --------------------------------------------------------------------------------
def test_get_store_returns_same_store_by_name(store_name):
    first = get_store(store_name)
    assert isinstance(first, MemoryStore) and first.name == store_name
    assert get_store(store_name) is first
    assert get_store(store_name + "-other") is not first
    drop_store(store_name + "-other")


def test_store_shared_by_adapters_of_same_name(store_name):
    one = MemoryAdapter(get_store(store_name))
    two = MemoryAdapter(get_store(store_name))
    folder = one.ensure_root("Root")
    assert two.ensure_root("Root").id == folder.id
    assert two.get_item(folder.id).name == "Root"


def test_drop_store_forgets_content(store_name):
    first = get_store(store_name)
    first.put_folder(MemoryStore.ROOT_ID, "x")
    drop_store(store_name)
    fresh = get_store(store_name)
    assert fresh is not first
    assert fresh.tree() == {}
    drop_store(store_name)
    drop_store(store_name)  # dropping an unknown store is harmless


def test_adapter_without_store_gets_private_one():
    one, two = MemoryAdapter(), MemoryAdapter()
    assert one.store is not two.store
    one.ensure_root("Root")
    assert two.store.tree() == {}


# -- defaults and options --------------------------------------------------------------------
def test_defaults():
    adapter = MemoryAdapter()
    assert adapter.hash_kind == "sha256"
    assert adapter.page_size == 100 and adapter.latency == 0.0
    assert adapter.chunk_threshold == StorageAdapter.chunk_threshold
    assert adapter.chunk_size == StorageAdapter.chunk_size
    small = MemoryAdapter(chunk_threshold=10, chunk_size=4)
    assert (small.chunk_threshold, small.chunk_size) == (10, 4)
    assert MemoryAdapter.chunk_threshold == StorageAdapter.chunk_threshold  # class untouched


def test_latency_option_slows_every_call():
    slow = MemoryAdapter(latency=0.02)
    started = time.monotonic()
    root = slow.ensure_root("Root")
    slow.get_item(root.id)
    slow.list_children(root.id)
    assert time.monotonic() - started >= 0.06
    fast = MemoryAdapter()
    started = time.monotonic()
    for _ in range(20):
        fast.ensure_root("Root")
    assert time.monotonic() - started < 0.5


def test_hash_is_sha256(adapter, root):
    item = upload(adapter, root.id, "a.txt", b"abc")
    assert item.hash == sha256_hex([b"abc"]) == adapter.compute_hash([b"a", b"bc"])


# -- quota -----------------------------------------------------------------------------------
def test_quota_exceeded_on_upload():
    store = MemoryStore("quota", quota=100)
    adapter = MemoryAdapter(store, chunk_threshold=40, chunk_size=16)
    root = adapter.ensure_root("Root")
    first = upload(adapter, root.id, "first.bin", b"x" * 60)
    with pytest.raises(QuotaExceeded) as err:
        upload(adapter, root.id, "second.bin", b"y" * 50)  # chunked: 50 > 40
    assert err.value.code == "insufficient_space"
    assert "second.bin" in err.value.path
    assert not err.value.retryable
    assert adapter.find_child(root.id, "second.bin") is None
    facts = adapter.check_connection()
    assert facts["quota_used"] == 60 and facts["quota_total"] == 100
    assert facts["account"] == "memory:quota"
    upload(adapter, root.id, "fits.bin", b"z" * 40)  # exactly full
    with pytest.raises(QuotaExceeded):
        upload(adapter, root.id, "one more.bin", b"!")
    adapter.delete(first.id)
    upload(adapter, root.id, "after delete.bin", b"y" * 50)


def test_quota_applies_to_a_person_in_the_cloud_too():
    store = MemoryStore("quota", quota=10)
    with pytest.raises(QuotaExceeded):
        store.put_file(MemoryStore.ROOT_ID, "big.bin", b"x" * 11)
    assert store.tree() == {}


def test_no_quota_by_default(adapter):
    assert adapter.check_connection()["quota_total"] is None


# -- counters --------------------------------------------------------------------------------
def test_call_counters_per_adapter_and_per_store(store):
    one, two = MemoryAdapter(store), MemoryAdapter(store)
    root = one.ensure_root("Root")
    one.get_item(root.id)
    two.get_item(root.id)
    two.get_item(root.id)
    assert one.calls["get_item"] == 1 and two.calls["get_item"] == 2
    assert store.calls["get_item"] == 3
    assert one.calls["ensure_root"] == 1 and two.calls["ensure_root"] == 0


def test_failed_calls_are_counted(adapter, root):
    adapter.faults.inject("get_item", Transient("boom"))
    with pytest.raises(Transient):
        adapter.get_item(root.id)
    with pytest.raises(NotFound):
        adapter.get_item("missing")
    assert adapter.calls["get_item"] == 2


@pytest.mark.parametrize("size", [0, 99, 100, 101, 128, 129, 1000])
def test_upload_chunk_counter(adapter, root, size):
    upload(adapter, root.id, "f.bin", b"x" * size)
    expected = math.ceil(size / adapter.chunk_size) if size > adapter.chunk_threshold else 0
    assert adapter.calls["upload_chunk"] == expected
    assert adapter.store.calls["upload_chunk"] == expected
    assert adapter.calls["upload"] == 1


def test_web_url_makes_no_call(adapter, root):
    before = sum(adapter.calls.values())
    adapter.web_url(root)
    assert sum(adapter.calls.values()) == before


# -- fault plan ------------------------------------------------------------------------------
def test_fault_count_and_pending(adapter, root):
    adapter.faults.inject("create_folder", Transient("boom"), count=2)
    assert adapter.faults.pending() == 2
    for _ in range(2):
        with pytest.raises(Transient):
            adapter.create_folder(root.id, "x")
    assert adapter.faults.pending() == 0
    assert adapter.create_folder(root.id, "x").name == "x"


def test_fault_clear(adapter, root):
    adapter.faults.inject("get_item", Transient("boom"), count=5)
    adapter.faults.clear()
    assert adapter.faults.pending() == 0
    assert adapter.get_item(root.id).id == root.id


def test_fault_apply_performs_then_raises(adapter, root):
    adapter.faults.inject("rename", Transient("lost"), apply=True)
    folder = adapter.create_folder(root.id, "before")
    with pytest.raises(Transient):
        adapter.rename(folder.id, "after")
    assert adapter.get_item(folder.id).name == "after"


def test_fault_plans_are_per_adapter(store):
    one, two = MemoryAdapter(store), MemoryAdapter(store)
    root = one.ensure_root("Root")
    one.faults.inject("get_item", Transient("boom"))
    assert two.get_item(root.id).id == root.id
    with pytest.raises(Transient):
        one.get_item(root.id)


def test_fault_plan_take_order():
    plan = FaultPlan()
    first, second = Transient("1"), Transient("2")
    plan.inject("op", first)
    plan.inject("op", second, apply=True)
    assert plan.take("op") == (first, False)
    assert plan.take("op") == (second, True)
    assert plan.take("op") == (None, False)
    assert plan.take("other") == (None, False)


# -- store helpers ---------------------------------------------------------------------------
def test_tree_and_path_of(store, adapter, root):
    folder = adapter.create_folder(root.id, "Folder")
    file = upload(adapter, folder.id, "a.txt", b"abc")
    assert store.tree() == {"/Root": (FOLDER, 0), "/Root/Folder": (FOLDER, 0),
                            "/Root/Folder/a.txt": ("file", 3)}
    assert store.tree(folder.id, "/Folder") == {"/Folder/a.txt": ("file", 3)}
    assert store.path_of(file.id) == "/Root/Folder/a.txt"
    assert store.is_below(file.id, root.id) and not store.is_below(root.id, file.id)


def test_person_update_changes_etag(store, adapter, root):
    file = upload(adapter, root.id, "a.txt", b"abc")
    updated = store.update(file.id, name="b.txt")
    assert updated.etag != file.etag and updated.id == file.id


def test_links_format(store, adapter, root):
    file = upload(adapter, root.id, "a b.txt", b"x")
    assert adapter.web_url(file) == "memory://unit/Root/a b.txt"
    assert adapter.share_link(file.id) == "memory://share/unit/%s" % file.id
    assert store.link_count == 1
    custom = MemoryAdapter(store, base_url="https://cloud.example/")
    assert custom.web_url(file).startswith("https://cloud.example/unit/")


def test_stream_shorter_than_announced(adapter, root):
    with pytest.raises(InvalidRequest) as err:
        adapter.upload(root.id, "a.bin", io.BytesIO(b"abc"), 4)
    assert err.value.code == "incorrect_offset"


def test_download_streams_fixed_pieces(adapter, root):
    data = b"x" * (2 * 256 * 1024 + 1)
    file = upload(adapter, root.id, "big.bin", data)
    assert [len(piece) for piece in adapter.download(file.id)] == [256 * 1024, 256 * 1024, 1]


# -- concurrency -----------------------------------------------------------------------------
def test_concurrent_create_folder_makes_one(store, root):
    adapters = [MemoryAdapter(store) for _ in range(8)]
    results, barrier = [], threading.Barrier(len(adapters))

    def work(adapter):
        barrier.wait()
        results.append(adapter.create_folder(root.id, "Same").id)

    threads = [threading.Thread(target=work, args=(a,)) for a in adapters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 8


# -- page tokens and cursors -----------------------------------------------------------------
def test_page_token_survives_deletion_of_its_item(store, adapter, root):
    ids = [upload(adapter, root.id, "f%d.txt" % n, b"x").id for n in range(7)]
    page, token = adapter.list_children(root.id)
    store.remove(page[-1].id)
    rest = []
    while token:
        items, token = adapter.list_children(root.id, token)
        rest.extend(i.id for i in items)
    assert [i.id for i in page] + rest == ids


@pytest.mark.parametrize("token", ["3", "garbage", "[1, 2]", '["a"]', "null"])
def test_malformed_page_token_refused(adapter, root, token):
    upload(adapter, root.id, "a.txt", b"x")
    with pytest.raises(InvalidRequest):
        adapter.list_children(root.id, token)


def test_expire_cursors_invalidates_cursor_taken_now(store, adapter, root):
    cursor = adapter.latest_cursor(root.id)
    store.expire_cursors()
    with pytest.raises(ResetNeeded):
        adapter.changes(root.id, cursor)
    fresh = adapter.latest_cursor(root.id)
    page = adapter.changes(root.id, fresh)
    assert page.changes == [] and not page.has_more
    file = store.put_file(root.id, "a.txt", b"x")
    assert [c.id for c in adapter.changes(root.id, fresh).changes] == [file.id]


def test_cursor_of_another_root_reset(adapter, root):
    other = adapter.ensure_root("Other")
    cursor = adapter.latest_cursor(other.id)
    with pytest.raises(ResetNeeded):
        adapter.changes(root.id, cursor)


def test_root_rename_reported_as_live_item(store, adapter, root):
    cursor = adapter.latest_cursor(root.id)
    store.update(root.id, name="Renamed")
    page = adapter.changes(root.id, cursor)
    assert len(page.changes) == 1
    change = page.changes[0]
    assert change.id == root.id and not change.deleted and change.item.name == "Renamed"


def test_root_delete_reported_as_deletion(store, adapter, root):
    cursor = adapter.latest_cursor(root.id)
    store.remove(root.id)
    page = adapter.changes(root.id, cursor)
    assert [(c.id, c.deleted) for c in page.changes] == [(root.id, True)]


def test_changes_page_size_counts_distinct_items(store, adapter, root):
    cursor = adapter.latest_cursor(root.id)
    file = store.put_file(root.id, "a.txt", b"x")
    for n in range(5):  # many touches of one item fill one slot
        store.update(file.id, name="a%d.txt" % n)
    page = adapter.changes(root.id, cursor)
    assert [c.id for c in page.changes] == [file.id] and not page.has_more
    assert page.changes[0].item.name == "a4.txt"
