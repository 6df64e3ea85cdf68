"""In-memory reference implementation of :class:`StorageAdapter`, with fault injection.

It is the yardstick of the contract suite and the provider of the core's tests. A
:class:`MemoryStore` is one "account"; several adapters may share it (e.g. two Odoo workers).
Stores are kept in a process-wide registry by name, so an Odoo client of provider ``memory``
finds its store again on every request.

Fault injection::

    adapter.faults.inject("upload", Transient("boom"), count=2)   # next 2 uploads fail
    adapter.faults.inject("upload", Transient("lost"), apply=True)  # applied, answer lost

Counters: ``adapter.calls["upload"]``; ``store.calls`` sums all adapters of the store.
"""
from __future__ import annotations

import collections
import datetime
import itertools
import threading
import time
import uuid

from .adapter import (
    FILE, FOLDER, ChangePage, Change, CloudItem, Conflict, InvalidRequest, NotFound,
    QuotaExceeded, ResetNeeded, StorageAdapter, check_item_name, page_after,
)
from .hashes import sha256_hex
from .streams import iter_stream, read_exact

_STORES = {}
_STORES_LOCK = threading.Lock()


def get_store(name):
    """The process-wide store called ``name`` (created empty on first use)."""
    with _STORES_LOCK:
        if name not in _STORES:
            _STORES[name] = MemoryStore(name)
        return _STORES[name]


def drop_store(name):
    with _STORES_LOCK:
        _STORES.pop(name, None)


class MemoryStore:
    """The account: items by id, content by id, and an append-only change log."""

    ROOT_ID = "root"

    def __init__(self, name="default", quota=None):
        self.name = name
        self.quota = quota
        self.lock = threading.RLock()
        self.items = {self.ROOT_ID: CloudItem(self.ROOT_ID, "", FOLDER, None)}
        #: parent id -> {child id: None} (an ordered set): lookups by folder cost what the
        #: folder holds, not what the whole store holds
        self._kids = collections.defaultdict(dict)
        self.content = {}
        self.log = []  # (sequence, item_id)
        self.sequence = itertools.count(1)
        self.last_sequence = 0
        self.oldest_valid_cursor = 0
        self.calls = collections.Counter()
        self.link_count = 0

    # -- helpers used by the adapter and by tests (a "person" editing in the cloud) ------------
    def _touch(self, item_id):
        seq = next(self.sequence)
        self.last_sequence = seq
        self.log.append((seq, item_id))

    def _now(self):
        return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")

    def _put(self, item):
        former = self.items.get(item.id)
        if former is not None and former.parent_id != item.parent_id:
            self._kids[former.parent_id].pop(item.id, None)
        self.items[item.id] = item
        if item.parent_id is not None:
            self._kids[item.parent_id][item.id] = None

    def children(self, parent_id):
        return sorted((self.items[i] for i in self._kids.get(parent_id, ())),
                      key=lambda i: (i.name.lower(), i.id))

    def child_named(self, parent_id, name):
        lowered = name.lower()
        for child_id in self._kids.get(parent_id, ()):
            item = self.items[child_id]
            if item.name.lower() == lowered:
                return item
        return None

    def path_of(self, item_id):
        parts = []
        item = self.items.get(item_id)
        while item and item.parent_id is not None:
            parts.append(item.name)
            item = self.items.get(item.parent_id)
        return "/" + "/".join(reversed(parts))

    def is_below(self, item_id, ancestor_id):
        item = self.items.get(item_id)
        while item is not None:
            if item.parent_id == ancestor_id:
                return True
            item = self.items.get(item.parent_id)
        return False

    def used(self):
        return sum(len(c) for c in self.content.values())

    def put_folder(self, parent_id, name):
        with self.lock:
            item = CloudItem("fld-" + uuid.uuid4().hex[:12], name, FOLDER, parent_id,
                             modified=self._now(), etag=uuid.uuid4().hex[:8])
            self._put(item)
            self._touch(item.id)
            return item

    def put_file(self, parent_id, name, data, item_id=None):
        with self.lock:
            if self.quota is not None and self.used() + len(data) > self.quota:
                raise QuotaExceeded("Storage quota exceeded", code="insufficient_space",
                                    path=self.path_of(parent_id) + "/" + name)
            item = CloudItem(item_id or "fil-" + uuid.uuid4().hex[:12], name, FILE, parent_id,
                             size=len(data), hash=sha256_hex([data]), etag=uuid.uuid4().hex[:8],
                             modified=self._now())
            self._put(item)
            self.content[item.id] = bytes(data)
            self._touch(item.id)
            return item

    def update(self, item_id, **changes):
        with self.lock:
            item = self.items[item_id].with_(etag=uuid.uuid4().hex[:8], **changes)
            self._put(item)
            self._touch(item_id)
            return item

    def remove(self, item_id):
        with self.lock:
            doomed, index = [item_id], 0
            while index < len(doomed):  # the item, then what is below it, level by level
                doomed.extend(self._kids.get(doomed[index], ()))
                index += 1
            for victim in doomed:
                removed = self.items.pop(victim, None)
                if removed is not None and removed.parent_id is not None:
                    self._kids[removed.parent_id].pop(victim, None)
                self._kids.pop(victim, None)
                self.content.pop(victim, None)
                self._touch(victim)

    def expire_cursors(self):
        """Make every cursor handed out so far invalid (the next ``changes`` raises reset)."""
        with self.lock:
            # step the sequence (without a log entry) so that a cursor handed out at "now" is
            # invalid too, while the cursors handed out from here on are valid
            self.last_sequence = next(self.sequence)
            self.oldest_valid_cursor = self.last_sequence + 1

    def tree(self, item_id=ROOT_ID, prefix=""):
        """``{path: (kind, size)}`` of everything below ``item_id``."""
        out = {}
        for child in self.children(item_id):
            path = prefix + "/" + child.name
            out[path] = (child.kind, child.size)
            if child.is_folder:
                out.update(self.tree(child.id, path))
        return out


class FaultPlan:
    """Planned failures: the next ``count`` calls of an operation raise ``error``."""

    def __init__(self):
        self.lock = threading.Lock()
        self.plans = collections.defaultdict(collections.deque)

    def inject(self, operation, error, count=1, apply=False):
        """``apply=True``: perform the operation, then raise (an ambiguous failure)."""
        with self.lock:
            for _ in range(count):
                self.plans[operation].append((error, apply))

    def clear(self):
        with self.lock:
            self.plans.clear()

    def take(self, operation):
        with self.lock:
            queue = self.plans.get(operation)
            return queue.popleft() if queue else (None, False)

    def pending(self):
        with self.lock:
            return sum(len(q) for q in self.plans.values())


class MemoryAdapter(StorageAdapter):
    """Adapter over a :class:`MemoryStore`."""

    hash_kind = "sha256"
    max_name_length = 255
    #: one instance serves every transfer thread (the store has its lock)
    thread_safe = True

    def __init__(self, store=None, page_size=100, latency=0.0, chunk_threshold=None,
                 chunk_size=None, base_url="memory://"):
        self.store = store or MemoryStore()
        self.page_size = page_size
        self.latency = latency
        self.faults = FaultPlan()
        self.calls = collections.Counter()
        self.base_url = base_url
        if chunk_threshold:
            self.chunk_threshold = chunk_threshold
        if chunk_size:
            self.chunk_size = chunk_size

    # -- call accounting and faults --------------------------------------------------------
    def _call(self, operation, apply_fn):
        with self.store.lock:
            self.calls[operation] += 1
            self.store.calls[operation] += 1
        if self.latency:
            time.sleep(self.latency)
        error, apply = self.faults.take(operation)
        if error is not None and not apply:
            raise error
        with self.store.lock:
            result = apply_fn()
        if error is not None:
            raise error
        return result

    def _get(self, item_id):
        item = self.store.items.get(item_id)
        if item is None:
            raise NotFound("Item not found", code="not_found", path=item_id)
        return item

    def _check_name(self, name):
        check_item_name(name, self.max_name_length, code="malformed_path", path=name)

    def _child_to_be(self, parent_id, name):
        """Before ``name`` is put in ``parent_id``: the name and the parent checked; the item
        of that name already there, or None."""
        self._check_name(name)
        parent = self._get(parent_id)
        if not parent.is_folder:
            raise InvalidRequest("Parent is not a folder", path=parent_id)
        return self.store.child_named(parent_id, name)

    # -- account ---------------------------------------------------------------------------
    def check_connection(self):
        return self._call("check_connection", lambda: {
            "account": "memory:%s" % self.store.name, "quota_used": self.store.used(),
            "quota_total": self.store.quota})

    def ensure_root(self, name):
        def apply():
            self._check_name(name)
            existing = self.store.child_named(MemoryStore.ROOT_ID, name)
            if existing:
                if not existing.is_folder:
                    raise Conflict("A file is in the way", existing_id=existing.id, path=name)
                return existing
            return self.store.put_folder(MemoryStore.ROOT_ID, name)
        return self._call("ensure_root", apply)

    # -- items -----------------------------------------------------------------------------
    def get_item(self, item_id):
        return self._call("get_item", lambda: self._get(item_id))

    def find_child(self, parent_id, name):
        def apply():
            self._get(parent_id)
            return self.store.child_named(parent_id, name)
        return self._call("find_child", apply)

    def list_children(self, parent_id, page_token=None):
        def apply():
            parent = self._get(parent_id)
            if not parent.is_folder:
                raise InvalidRequest("Not a folder", code="not_folder", path=parent_id)
            children = self.store.children(parent_id)
            return page_after([((c.name.lower(), c.id), c) for c in children], page_token,
                              self.page_size, path=parent_id)
        return self._call("list_children", apply)

    def create_folder(self, parent_id, name):
        def apply():
            existing = self._child_to_be(parent_id, name)
            if existing:
                if existing.is_folder:
                    return existing
                raise Conflict("A file with that name exists", existing_id=existing.id,
                               code="conflict", path=self.store.path_of(existing.id))
            return self.store.put_folder(parent_id, name)
        return self._call("create_folder", apply)

    def rename(self, item_id, new_name):
        def apply():
            item = self._get(item_id)
            return self._relocate(item, item.parent_id, new_name)
        return self._call("rename", apply)

    def move(self, item_id, new_parent_id, new_name=None):
        def apply():
            item = self._get(item_id)
            return self._relocate(item, new_parent_id, new_name or item.name)
        return self._call("move", apply)

    def _relocate(self, item, parent_id, name):
        self._check_name(name)
        if not self._get(parent_id).is_folder:
            raise InvalidRequest("The new parent is not a folder", code="not_folder",
                                 path=self.store.path_of(parent_id))
        if parent_id == item.id or self.store.is_below(parent_id, item.id):
            raise InvalidRequest("Cannot move a folder into itself", code="invalid_move",
                                 path=self.store.path_of(item.id))
        clash = self.store.child_named(parent_id, name)
        if clash and clash.id != item.id:
            raise Conflict("An item with that name exists", existing_id=clash.id,
                           code="conflict", path=self.store.path_of(clash.id))
        return self.store.update(item.id, name=name, parent_id=parent_id)

    def delete(self, item_id):
        def apply():
            self._get(item_id)
            self.store.remove(item_id)
        return self._call("delete", apply)

    # -- content ---------------------------------------------------------------------------
    def upload(self, parent_id, name, stream, size):
        chunked = size > self.chunk_threshold
        data = bytearray()
        for chunk in read_exact(stream, size, self.chunk_size if chunked else max(size, 1),
                                code="incorrect_offset", path=name):
            data += chunk
            if chunked:
                self.calls["upload_chunk"] += 1
                self.store.calls["upload_chunk"] += 1

        def apply():
            existing = self._child_to_be(parent_id, name)
            if existing:
                raise Conflict("An item with that name exists", existing_id=existing.id,
                               code="conflict", path=self.store.path_of(existing.id))
            return self.store.put_file(parent_id, name, bytes(data))
        return self._call("upload", apply)

    def download(self, item_id):
        def apply():
            item = self._get(item_id)
            if item.is_folder:
                raise InvalidRequest("Cannot download a folder", path=item_id)
            return self.store.content[item_id]
        data = self._call("download", apply)
        return iter_stream(data, 256 * 1024)

    # -- change feed -----------------------------------------------------------------------
    def latest_cursor(self, root_id, base=None):
        # the store's journal names every change by id: the feed needs no merge base
        return self._call("latest_cursor", lambda: "%s:%d" % (root_id, self.store.last_sequence))

    def changes(self, root_id, cursor, base=None):
        def apply():
            try:
                cursor_root, position = cursor.rsplit(":", 1)
                position = int(position)
            except (AttributeError, ValueError) as exc:
                raise ResetNeeded("Malformed cursor", code="reset") from exc
            if cursor_root != root_id or position + 1 < self.store.oldest_valid_cursor:
                raise ResetNeeded("Cursor expired", code="reset")
            latest = collections.OrderedDict()
            last_seen = position
            for seq, item_id in self.store.log:
                if seq <= position:
                    continue
                if len(latest) >= self.page_size and item_id not in latest:
                    break
                latest.pop(item_id, None)
                latest[item_id] = seq
                last_seen = seq
            changes = []
            for item_id in latest:
                item = self.store.items.get(item_id)
                if item is None:
                    changes.append(Change(item_id, deleted=True))
                elif item_id == root_id or self.store.is_below(item_id, root_id):
                    # the watched root itself too: renamed or moved, it is not deleted
                    changes.append(Change(item_id, item=item))
                else:  # moved out of the watched subtree: gone for the watcher
                    changes.append(Change(item_id, deleted=True))
            return ChangePage(changes, "%s:%d" % (root_id, last_seen),
                              has_more=last_seen < self.store.last_sequence)
        return self._call("changes", apply)

    # -- links -----------------------------------------------------------------------------
    def web_url(self, item):
        return "%s%s%s" % (self.base_url, self.store.name, self.store.path_of(item.id))

    def share_link(self, item_id):
        def apply():
            self._get(item_id)
            self.store.link_count += 1
            return "%sshare/%s/%s" % (self.base_url, self.store.name, item_id)
        return self._call("share_link", apply)
