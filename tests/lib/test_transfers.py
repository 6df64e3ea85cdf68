"""The pieces of concurrent transfers (issue 15 §1): the adaptive limit, the adapter pool, the
prefetched answers and the pool of threads, without Odoo."""
import io
import threading

import pytest

from odoo.addons.cloud_base.lib.errors import Conflict, RateLimited, Transient
from odoo.addons.cloud_base.lib.memory_adapter import MemoryAdapter, MemoryStore
from odoo.addons.cloud_base.lib.transfers import (
    AdapterPool, AdaptiveLimit, Paused, Prefetched, TransferPool, UploadTransfer, is_throttled)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_throttling_halves_the_limit_and_successes_grow_it_back_one_by_one():
    limit = AdaptiveLimit(8, clock=Clock())
    limit.throttled()
    assert limit.current == 4
    limit.throttled()
    limit.throttled()
    limit.throttled()
    assert limit.current == 1  # never below one
    for expected in (2, 3, 4):
        for _ in range(limit.current):
            limit.succeeded()
        assert limit.current == expected
    for _ in range(100):
        limit.succeeded()
    assert limit.current == 8  # never above the setting


def test_retry_after_pauses_new_transfers_and_a_long_pause_is_not_waited_for():
    clock = Clock()
    limit = AdaptiveLimit(4, clock=clock)
    limit.throttled(retry_after=30)
    assert limit.pause_left() == 30
    with pytest.raises(Paused) as raised:
        limit.acquire()
    assert raised.value.retry_after == 31
    assert limit.in_flight == 0
    clock.now += 31
    limit.acquire()  # the delay is over
    assert limit.in_flight == 1


def test_acquire_waits_for_a_free_slot():
    limit = AdaptiveLimit(1)
    limit.acquire()
    started = threading.Event()
    got = threading.Event()

    def second():
        started.set()
        limit.acquire()
        got.set()

    thread = threading.Thread(target=second)
    thread.start()
    started.wait(1)
    assert not got.wait(0.1)
    limit.release()
    assert got.wait(2)
    thread.join()
    limit.release()
    assert limit.in_flight == 0


def test_release_with_a_throttled_error_counts_once():
    limit = AdaptiveLimit(8, clock=Clock())
    limit.acquire()
    limit.release(RateLimited("slow down", retry_after=5))
    assert (limit.current, limit.pause_left()) == (4, 5)
    assert is_throttled(Transient("busy", code=503))
    assert is_throttled(Transient("busy", retry_after=3))
    assert not is_throttled(Transient("reset by peer"))
    assert not is_throttled(Conflict("taken"))


def test_adapter_pool_lends_one_adapter_per_thread_unless_thread_safe():
    made = []

    class Plain:
        pass

    def factory():
        made.append(Plain())
        return made[-1]

    first = Plain()
    pool = AdapterPool(first, factory, 3)
    assert len(made) == 2
    lent = {id(pool.borrow()) for _ in range(3)}
    assert lent == {id(first)} | {id(a) for a in made}
    shared = MemoryAdapter(MemoryStore())
    pool = AdapterPool(shared, factory, 3)
    assert len(made) == 2  # nothing made: the memory adapter serves every thread
    assert pool.borrow() is shared and pool.borrow() is shared


def test_prefetched_answers_once_then_asks_the_adapter():
    adapter = MemoryAdapter(MemoryStore())
    root = adapter.ensure_root("Odoo")
    transfer = UploadTransfer(root.id, "a.txt", lambda: io.BytesIO(b"abc"), 3)
    answers = transfer.run(adapter)
    assert adapter.calls["upload"] == 1
    wrapped = Prefetched(adapter, answers)
    assert wrapped.find_child(root.id, "a.txt") is None  # what the thread saw
    item = wrapped.upload(root.id, "a.txt", io.BytesIO(b"ignored"), 3)
    assert item.size == 3 and adapter.calls["upload"] == 1
    # a second question goes to the provider, which now has the file
    assert wrapped.find_child(root.id, "a.txt").id == item.id
    with pytest.raises(Conflict):
        wrapped.upload(root.id, "a.txt", io.BytesIO(b"abc"), 3)
    assert wrapped.max_name_length == adapter.max_name_length  # the rest is the adapter's


def test_a_taken_name_is_not_uploaded_and_errors_are_raised_where_the_task_asks():
    adapter = MemoryAdapter(MemoryStore())
    root = adapter.ensure_root("Odoo")
    adapter.upload(root.id, "a.txt", io.BytesIO(b"other"), 5)
    answers = UploadTransfer(root.id, "a.txt", lambda: io.BytesIO(b"abc"), 3).run(adapter)
    assert adapter.calls["upload"] == 1  # only the first one
    assert Prefetched(adapter, answers).find_child(root.id, "a.txt").size == 5
    adapter.faults.inject("upload", Transient("lost", code="reset"), apply=True)
    answers = UploadTransfer(root.id, "b.txt", lambda: io.BytesIO(b"abc"), 3).run(adapter)
    wrapped = Prefetched(adapter, answers)
    wrapped.find_child(root.id, "b.txt")
    with pytest.raises(Transient):
        wrapped.upload(root.id, "b.txt", io.BytesIO(b"abc"), 3)
    assert adapter.find_child(root.id, "b.txt").size == 3  # applied, answer lost


def test_pool_runs_transfers_at_once_within_the_limit():
    store = MemoryStore()
    adapter = MemoryAdapter(store, latency=0.05)
    root = adapter.ensure_root("Odoo")
    in_flight, peak, lock = [0], [0], threading.Lock()
    original = adapter._call

    def counting(operation, apply_fn):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return original(operation, apply_fn)
        finally:
            with lock:
                in_flight[0] -= 1

    adapter._call = counting
    pool = TransferPool()
    pool.add_client(1, AdapterPool(adapter, None, 4), AdaptiveLimit(4))
    for n in range(12):
        data = b"file %d" % n
        pool.submit(n, 1, UploadTransfer(root.id, "f%d.txt" % n,
                                         lambda d=data: io.BytesIO(d), len(data)))
    results = [Prefetched(adapter, pool.answers(n)).upload(root.id, "f%d.txt" % n, None, len(
        b"file %d" % n)) for n in range(12)]
    pool.close()
    assert peak[0] == 4  # bounded by the client's limit
    assert [r.name for r in results] == ["f%d.txt" % n for n in range(12)]


def test_a_one_request_upload_is_sent_without_a_lookup_and_a_taken_name_conflicts():
    adapter = MemoryAdapter(MemoryStore())
    root = adapter.ensure_root("Odoo")
    answers = UploadTransfer(root.id, "a.txt", lambda: io.BytesIO(b"abc"), 3,
                             look_first=False).run(adapter)
    assert adapter.calls["find_child"] == 0 and adapter.calls["upload"] == 1
    assert Prefetched(adapter, answers).upload(root.id, "a.txt", io.BytesIO(b""), 3).size == 3
    # the name is taken now: the thread's upload is refused, nothing is overwritten
    transfer = UploadTransfer(root.id, "a.txt", lambda: io.BytesIO(b"other"), 5,
                              look_first=False)
    assert transfer.first_key() == Prefetched.key("upload", root.id, "a.txt", 5)
    with pytest.raises(Conflict):
        Prefetched(adapter, transfer.run(adapter)).upload(root.id, "a.txt", io.BytesIO(b""), 5)
    assert adapter.find_child(root.id, "a.txt").size == 3
