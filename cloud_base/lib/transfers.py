"""Concurrent transfers inside one queue run (issue 15 §1).

The runner executes tasks one after the other, each in its own transaction. What makes a task
slow is its network part: one to three provider round trips. The runner therefore hands the
network part of the transfers it claimed (uploads, and the downloads of reverse tasks) to a
bounded pool of threads ahead of time, and each task, when its turn comes in the main
thread, finds its answers waiting:

* :class:`UploadTransfer` is the network part of an upload task, decided in the main thread
  (parent folder id, file name, how to open the local content, size) and run in a thread: look
  the name up, upload when it is free; :class:`DownloadTransfer` the one of a reverse task
  (the file streamed into the filestore's disk, hashed on the way). No ORM and no cursor in
  the thread.
* :class:`Prefetched` wraps the adapter a task's handler gets: a call whose answer a transfer
  already has returns it (or raises its error, with its traceback) once; any other call goes
  to the provider. The handlers are the same ones that run without a pool, so the rules about
  losing nothing do not change: a task commits its result in the main thread, and an upload
  that happened but was never committed is found and adopted by the retry (R-SAFE-3).
* :class:`AdaptiveLimit` bounds a client's transfers in flight: a throttled answer (429, 503,
  Retry-After) halves it and pauses new transfers until the provider's delay is over, every
  run of successes as long as the limit grows it back by one (additive increase,
  multiplicative decrease); refused credentials stop the client's transfers not yet started
  (it waits for Reconnect).
* :class:`TransferPool` runs one run's transfers on the process's threads
  (:func:`shared_executor`, made once), with adapters lent by an :class:`AdapterPool` (one
  adapter per thread unless the adapter is thread-safe).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
import time
import concurrent.futures
from concurrent.futures import ThreadPoolExecutor

from .errors import AuthExpired, RateLimited, Transient
from .hashes import new_hasher

#: more threads than this only add load: a queue run is one Odoo worker
MAX_TRANSFER_CONCURRENCY = 32
#: a pause longer than this is not waited for in a thread: the transfer answers
#: :class:`Paused` and its task waits for the provider's delay, without losing an attempt
MAX_WAIT_IN_THREAD = 2.0


class Paused(RateLimited):
    """A transfer was not started: the client waits for the provider's delay (no attempt is
    counted against the task)."""


def is_throttled(error):
    """The provider asked us to slow down (429, 503 or a Retry-After)."""
    if isinstance(error, RateLimited):
        return True
    return isinstance(error, Transient) and (
        error.retry_after is not None or str(error.code) in ("429", "503"))


class AdaptiveLimit:
    """How many transfers of one client may be in flight (see the module's documentation)."""

    def __init__(self, maximum, clock=time.monotonic):
        self.maximum = max(1, int(maximum))
        self.current = self.maximum
        self.in_flight = 0
        self.paused_until = 0.0
        self._successes = 0
        self._refusal = None  # the credentials were refused: nothing more is sent
        self._clock = clock
        self._condition = threading.Condition()

    def set_maximum(self, maximum):
        with self._condition:
            self.maximum = max(1, int(maximum))
            self.current = min(self.current, self.maximum)
            self._condition.notify_all()

    def pause_left(self):
        return max(0.0, self.paused_until - self._clock())

    def acquire(self):
        """Wait for a free slot. Raises RateLimited when the client is paused for longer than
        a thread should wait."""
        with self._condition:
            while True:
                if self._refusal is not None:
                    raise AuthExpired(self._refusal, code="refused_before")
                pause = self.pause_left()
                if pause > MAX_WAIT_IN_THREAD:
                    raise Paused("The provider asked to slow down; waiting %d s" % pause,
                                      code="throttled", retry_after=int(pause) + 1)
                if pause > 0:
                    self._condition.wait(pause)
                    continue
                if self.in_flight < self.current:
                    self.in_flight += 1
                    return
                self._condition.wait(1.0)

    def release(self, error=None):
        """A transfer ended; ``error``: what it raised, if anything."""
        with self._condition:
            self.in_flight -= 1
            if isinstance(error, AuthExpired):
                self._refusal = error.message
            elif error is not None and is_throttled(error):
                self.throttled(error.retry_after)
            elif error is None:
                self.succeeded()
            self._condition.notify_all()

    def throttled(self, retry_after=None):
        with self._condition:
            self.current = max(1, self.current // 2)
            self._successes = 0
            if retry_after:
                self.paused_until = max(self.paused_until, self._clock() + float(retry_after))
            self._condition.notify_all()

    def succeeded(self):
        with self._condition:
            self._successes += 1
            if self._successes >= self.current and self.current < self.maximum:
                self.current += 1
                self._successes = 0
                self._condition.notify_all()


class AdapterPool:
    """Adapters of one client lent to threads: the one adapter when it is thread-safe, else
    one per thread, made on demand by ``factory()`` (in the main thread, before the run)."""

    def __init__(self, adapter, factory, size):
        self.shared = adapter if getattr(adapter, "thread_safe", False) else None
        self._free = queue.SimpleQueue()
        if self.shared is None:
            self._free.put(adapter)
            for _slot in range(1, size):
                self._free.put(factory())

    def borrow(self):
        return self.shared if self.shared is not None else self._free.get()

    def give_back(self, adapter):
        if self.shared is None:
            self._free.put(adapter)


class UploadTransfer:
    """The network part of one upload: ``upload``, preceded by ``find_child`` when
    ``look_first`` (the handler makes the same calls in the same order, see
    ``cloud.engine.direct._looks_before_upload``); a lookup that finds the name taken
    uploads nothing.

    ``open_local()`` returns a binary file object over the local content (a filestore path
    opened in the thread, or bytes)."""

    kind = "upload"

    def __init__(self, parent_id, name, open_local, size, look_first=True):
        self.parent_id = parent_id
        self.name = name
        self.open_local = open_local
        self.size = size
        self.look_first = look_first

    def _upload_key(self):
        return Prefetched.key("upload", self.parent_id, self.name, self.size)

    def first_key(self):
        if self.look_first:
            return Prefetched.key("find_child", self.parent_id, self.name)
        return self._upload_key()

    def run(self, adapter):
        """``{call key: result or error}`` of the calls made."""
        answers = {}
        if self.look_first:
            lookup = Prefetched.key("find_child", self.parent_id, self.name)
            try:
                answers[lookup] = adapter.find_child(self.parent_id, self.name)
            except Exception as exc:  # noqa: BLE001 - re-raised in the main thread
                answers[lookup] = exc
                return answers
            if answers[lookup] is not None:
                return answers
        try:
            with self.open_local() as stream:
                answers[self._upload_key()] = adapter.upload(self.parent_id, self.name,
                                                             stream, self.size)
        except Exception as exc:  # noqa: BLE001 - re-raised in the main thread
            answers[self._upload_key()] = exc
        return answers


def download_to_file(adapter, item_id, folder):
    """Stream a cloud file into a new file of ``folder`` (the filestore's own disk), hashing
    as it goes: ``(path, size, provider hash, SHA-1)``. Never more than one piece in memory;
    nothing left behind on failure."""
    hasher = new_hasher(adapter.hash_kind) if adapter.hash_kind else None
    sha1, size = hashlib.sha1(), 0
    os.makedirs(folder, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix="restore-", delete=False)
    try:
        with handle:
            for piece in adapter.download(item_id):
                handle.write(piece)
                sha1.update(piece)
                if hasher is not None:
                    hasher.update(piece)
                size += len(piece)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
    return handle.name, size, hasher.hexdigest() if hasher else None, sha1.hexdigest()


class DownloadTransfer:
    """The network part of one reverse task: the file downloaded into ``folder``."""

    kind = "download"

    def __init__(self, item_id, folder):
        self.item_id = item_id
        self.folder = folder
        self.parent_id = item_id  # the key a pause or a refusal answers (see TransferPool)
        self.name = None

    def first_key(self):
        return Prefetched.key("download_to_file", self.item_id)

    def run(self, adapter):
        try:
            return {self.first_key(): download_to_file(adapter, self.item_id, self.folder)}
        except Exception as exc:  # noqa: BLE001 - re-raised in the main thread
            return {self.first_key(): exc}


class Prefetched:
    """An adapter whose ``find_child`` and ``upload`` answer from ``answers`` (each once)
    before asking the provider."""

    _own = frozenset({"_adapter", "_answers"})

    def __init__(self, adapter, answers):
        object.__setattr__(self, "_adapter", adapter)
        object.__setattr__(self, "_answers", dict(answers or {}))

    @staticmethod
    def key(operation, *arguments):
        return (operation,) + tuple(str(a) if a is not None else None for a in arguments)

    def __getattr__(self, name):
        return getattr(self._adapter, name)

    def __setattr__(self, name, value):
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self._adapter, name, value)

    def _answer(self, key, call):
        if key in self._answers:
            answer = self._answers.pop(key)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return call()

    def take_download(self, item_id):
        """``(path, size, provider hash, SHA-1)`` of the file a thread downloaded for this
        task (the caller owns the file from then on), or None."""
        return self._answer(self.key("download_to_file", item_id), lambda: None)

    def discard(self):
        """The task ended: files downloaded for it and not taken are removed."""
        for key in [key for key in self._answers if key[0] == "download_to_file"]:
            answer = self._answers.pop(key)
            if isinstance(answer, tuple):
                with contextlib.suppress(OSError):
                    os.unlink(answer[0])

    def unused_uploads(self):
        """Items a thread uploaded that the task did not take (its handler decided otherwise,
        e.g. the file was synced by an earlier task of the batch)."""
        return [answer for key, answer in self._answers.items()
                if key[0] == "upload" and answer is not None
                and not isinstance(answer, BaseException)]

    def find_child(self, parent_id, name):
        return self._answer(self.key("find_child", parent_id, name),
                            lambda: self._adapter.find_child(parent_id, name))

    def upload(self, parent_id, name, stream, size):
        return self._answer(self.key("upload", parent_id, name, size),
                            lambda: self._adapter.upload(parent_id, name, stream, size))


#: the threads of the process's runs (see :func:`shared_executor`)
_SHARED = {"executor": None, "size": 0}
_SHARED_LOCK = threading.Lock()


def shared_executor(size):
    """One pool of threads per process, reused by every run: threads (and the memory their C
    library reserves for each of them, which counts against Odoo's ``limit_memory_hard``) are
    made once, not per run. It grows when a client asks for more parallel transfers."""
    with _SHARED_LOCK:
        if _SHARED["executor"] is None or _SHARED["size"] < size:
            former = _SHARED["executor"]
            _SHARED["executor"] = ThreadPoolExecutor(max_workers=size,
                                                     thread_name_prefix="cloud-transfer")
            _SHARED["size"] = size
            if former is not None:
                former.shutdown(wait=False)  # its threads end with the work they hold
        return _SHARED["executor"]


class TransferPool:
    """The transfers of one run, on the process's threads (:func:`shared_executor`).

    ``submit(task_id, client_key, transfer)`` starts one; ``answers(task_id)`` waits for it
    and returns its answers (empty when the task had none). Each client has its adapters
    and its :class:`AdaptiveLimit` (``add_client``); the threads are as many as the largest
    limit, so none waits for a slot it cannot get."""

    def __init__(self):
        self.size = 0
        self._executor = None
        self._futures = {}
        self._clients = {}

    def add_client(self, client_key, adapters, limit):
        self._clients[client_key] = (adapters, limit)
        if limit.maximum > self.size:
            self.size = min(limit.maximum, MAX_TRANSFER_CONCURRENCY)
            self._executor = shared_executor(self.size)

    def has_client(self, client_key):
        return client_key in self._clients

    def submit(self, task_id, client_key, transfer):
        adapters, limit = self._clients[client_key]
        self._futures[task_id] = self._executor.submit(self._run, adapters, limit, transfer)

    def submitted(self, task_id):
        return task_id in self._futures

    @staticmethod
    def _run(adapters, limit, transfer):
        try:
            limit.acquire()
        except (Paused, AuthExpired) as exc:
            exc.counted_by_limit = True  # the pause is already there: don't halve again
            return {transfer.first_key(): exc}
        adapter = adapters.borrow()
        error = None
        try:
            answers = transfer.run(adapter)
            error = next((a for a in answers.values() if isinstance(a, BaseException)), None)
            if error is not None and is_throttled(error):
                error.counted_by_limit = True  # halved here, at once, not again by the task
            return answers
        finally:
            adapters.give_back(adapter)
            limit.release(error)

    def answers(self, task_id):
        future = self._futures.pop(task_id, None)
        if future is None:
            return {}
        return future.result()

    def close(self):
        """Wait for what is in flight (an upload is never left running behind a run); the
        answers nobody took are dropped (downloaded files removed)."""
        futures, self._futures = list(self._futures.values()), {}
        if futures:
            concurrent.futures.wait(futures)
        for future in futures:
            if future.exception() is None:
                Prefetched(None, future.result()).discard()
