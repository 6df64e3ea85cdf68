"""The merge base: what the suite knows of the cloud tree, one entry per item.

Sync compares three trees: Odoo now, the cloud now, and the last synced state. This module is
the last one, on the cloud side: for every folder and file the suite created, changed, moved,
renamed or saw in a change feed, its provider id, parent id, name, kind, size, hash, version tag
(ETag / rev) and path. Change feeds that cannot describe every change by id resolve through it:
Dropbox reports deletions by path only, and WebDAV has no feed at all (the snapshot diff of
:mod:`.snapshot_feed` compares listings with it). The cursor then holds only the provider's own
token, whatever the size of the tree.

Who writes it:

* :class:`RecordingAdapter` wraps the adapter the engines use and records the item every
  ``ensure_root``, ``create_folder``, ``upload``, ``rename`` and ``move`` returns, forgets what
  ``delete`` removed, and applies the changes a feed page reports; the engines need no code of
  their own for it;
* a feed records what it observed besides changes (folder version tags, a full listing).

A folder's version tag is the feed's business: it means "the children below are known as of
this tag". An item recorded from a mutation keeps the tag the base knew (a new folder: none, so
the next walk lists it once).

The core keeps the base in a table written in the task's transaction (``cloud.item``); a crash
rolls the base back with the cursor and the Odoo records. :class:`MemoryMergeBase` keeps it in
a dict (adapter tests, tools).
"""
from __future__ import annotations

import collections
import copy
import threading
from dataclasses import dataclass, replace
from typing import Optional

from .adapter import FOLDER
from .errors import NotFound


def name_key(name):
    """The case-folded form of a name, for lookups on case-insensitive providers."""
    return (name or "").lower()


@dataclass(frozen=True)
class BaseEntry:
    """The last known state of one cloud item."""

    id: str
    parent_id: Optional[str]
    name: str
    kind: str
    size: int = 0
    hash: Optional[str] = None
    etag: Optional[str] = None
    path: Optional[str] = None

    @property
    def is_folder(self):
        return self.kind == FOLDER

    @classmethod
    def of(cls, item, parent_id=None, etag=None):
        """The entry of a :class:`~.adapter.CloudItem` (``parent_id``/``etag`` override it)."""
        return cls(id=str(item.id), parent_id=parent_id if parent_id is not None else
                   item.parent_id, name=item.name, kind=item.kind, size=item.size or 0,
                   hash=item.hash, etag=etag if etag is not None else item.etag, path=item.path)

    def with_(self, **changes):
        return replace(self, **changes)


class MergeBase:
    """The interface feeds and engines use; see the module's documentation.

    Subclasses implement :meth:`get_many`, :meth:`children`, :meth:`_put` and :meth:`_forget`;
    the other methods have working defaults they may make cheaper."""

    # -- reading -------------------------------------------------------------------------
    def get_many(self, ids):
        """``{id: BaseEntry}`` of the known ones among ``ids``."""
        raise NotImplementedError

    def get(self, item_id):
        return self.get_many([item_id]).get(item_id) if item_id else None

    def children(self, parent_id):
        """The known items whose parent is ``parent_id``."""
        raise NotImplementedError

    def child_named(self, parent_id, name, fold_case=False):
        """The known child of ``parent_id`` named ``name`` (case-folded with ``fold_case``)."""
        wanted = name_key(name) if fold_case else name
        for entry in self.children(parent_id):
            if (name_key(entry.name) if fold_case else entry.name) == wanted:
                return entry
        return None

    def descendants(self, item_id):
        """Every known item below ``item_id`` (not the item itself)."""
        out, seen, queue = [], {item_id}, collections.deque([item_id])
        while queue:
            for entry in self.children(queue.popleft()):
                if entry.id not in seen:
                    seen.add(entry.id)
                    out.append(entry)
                    if entry.is_folder:
                        queue.append(entry.id)
        return out

    # -- writing -------------------------------------------------------------------------
    def put(self, entries, keep_folder_tags=False):
        """Record ``entries`` (:class:`BaseEntry`); with ``keep_folder_tags`` a folder keeps
        the version tag already known (none for a new one): what a mutation returns."""
        entries = list(entries)
        if entries:
            self._put(entries, keep_folder_tags)

    def forget(self, ids):
        """Forget the items ``ids`` and everything below them."""
        ids = [str(i) for i in ids if i]
        if ids:
            self._forget(ids)

    def _put(self, entries, keep_folder_tags):
        raise NotImplementedError

    def _forget(self, ids):
        raise NotImplementedError

    def record(self, *items):
        """Record what a mutation returned (:class:`~.adapter.CloudItem`)."""
        self.put((BaseEntry.of(item) for item in items if item is not None and item.id),
                 keep_folder_tags=True)

    def apply_changes(self, changes):
        """Record a page of a change feed: live items as reported, deletions forgotten."""
        live, gone = [], []
        for change in changes:
            if change.deleted or change.item is None:
                gone.append(change.id)
            else:
                live.append(BaseEntry.of(change.item))
        self.forget(gone)
        self.put(live)

    def replace_below(self, root, entries):
        """A full listing of ``root`` (a :class:`BaseEntry`): what was known below it is
        replaced by ``entries``."""
        self.forget([child.id for child in self.children(root.id)])
        self.put([root] + list(entries))

    def flush(self):
        """Write what is buffered (bases that buffer their writes)."""

    def is_empty(self):
        raise NotImplementedError


class MemoryMergeBase(MergeBase):
    """A merge base in a dict (thread-safe). ``snapshot()``/``restore()`` model a
    transaction that rolls back."""

    def __init__(self):
        self._lock = threading.RLock()
        self._entries = {}
        self._children = collections.defaultdict(dict)

    def __len__(self):
        return len(self._entries)

    def is_empty(self):
        return not self._entries

    def entries(self):
        with self._lock:
            return list(self._entries.values())

    def get_many(self, ids):
        with self._lock:
            return {i: self._entries[i] for i in ids if i in self._entries}

    def children(self, parent_id):
        with self._lock:
            return list(self._children.get(parent_id, {}).values())

    def _put(self, entries, keep_folder_tags):
        with self._lock:
            for entry in entries:
                known = self._entries.get(entry.id)
                if keep_folder_tags and entry.is_folder:
                    entry = entry.with_(etag=known.etag if known and known.is_folder else None)
                if known is not None:
                    self._children[known.parent_id].pop(entry.id, None)
                self._entries[entry.id] = entry
                self._children[entry.parent_id][entry.id] = entry

    def _forget(self, ids):
        with self._lock:
            doomed = set()
            for item_id in ids:
                doomed.add(item_id)
                doomed.update(e.id for e in self.descendants(item_id))
            for item_id in doomed:
                known = self._entries.pop(item_id, None)
                if known is not None:
                    self._children[known.parent_id].pop(item_id, None)

    def snapshot(self):
        with self._lock:
            return copy.deepcopy((self._entries, self._children))

    def restore(self, state):
        with self._lock:
            self._entries, self._children = copy.deepcopy(state)


class RecordingAdapter:
    """The adapter the engines drive: every call goes to ``adapter``; mutations and feed
    pages are recorded in ``base`` (see the module's documentation), and the feed methods get
    the base they resolve through."""

    _own = frozenset({"_adapter", "merge_base"})

    def __init__(self, adapter, base):
        object.__setattr__(self, "_adapter", adapter)
        object.__setattr__(self, "merge_base", base)

    def __getattr__(self, name):
        return getattr(self._adapter, name)

    def __setattr__(self, name, value):  # options set on the adapter reach the adapter
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self._adapter, name, value)

    @property
    def unwrapped(self):
        return self._adapter

    def _recorded(self, item):
        self.merge_base.record(item)
        return item

    def adopt(self, item):
        """The engines take ``item``, found in the cloud, as theirs (a retried upload whose
        answer was lost, a folder a person already moved where Odoo wanted it): recorded like
        a mutation's result."""
        return self._recorded(item)

    def ensure_root(self, name):
        return self._recorded(self._adapter.ensure_root(name))

    def create_folder(self, parent_id, name):
        return self._recorded(self._adapter.create_folder(parent_id, name))

    def upload(self, parent_id, name, stream, size):
        return self._recorded(self._adapter.upload(parent_id, name, stream, size))

    def rename(self, item_id, new_name):
        return self._recorded(self._adapter.rename(item_id, new_name))

    def move(self, item_id, new_parent_id, new_name=None):
        return self._recorded(self._adapter.move(item_id, new_parent_id, new_name))

    def delete(self, item_id):
        try:
            self._adapter.delete(item_id)
        except NotFound:
            self.merge_base.forget([item_id])  # gone either way
            raise
        self.merge_base.forget([item_id])

    def latest_cursor(self, root_id):
        return self._adapter.latest_cursor(root_id, base=self.merge_base)

    def changes(self, root_id, cursor):
        page = self._adapter.changes(root_id, cursor, base=self.merge_base)
        self.merge_base.apply_changes(page.changes)
        return page
