"""A change feed for providers that have none: compare the tree with the merge base
(R-BW-7).

The merge base (:mod:`.merge_base`) knows, for each folder, the version tag it had when it was
last listed, and for each file its name, parent, tag and size. :meth:`SnapshotFeed.changes`
lists the watched root, then descends, one listing per folder, only into the folders that are
new or whose version tag differs from the base's, and reports what differs: new, renamed, moved
or changed items (their latest state) and deletions. Items the engines created are in the base
too, so a folder or a file the direct sync made and a person deleted before the next run is
reported like any other deletion.

That costs one listing per *changed* folder when the provider's folder version tag changes
whenever anything below the folder changes (WebDAV's folder ETag on ownCloud/Nextcloud). A
provider whose folder tags do not behave so passes ``recursive_tags=False``: every folder is
listed on every call (a full walk, still reporting only what changed).

The provider gives three callables; the feed makes no other request:

``list_root(state)``
    the listing of the watched root (the root's node first, then its children), found again
    by id if it moved (``state["r"]`` is its id, ``state["rp"]`` its last known path), or None
    when it is gone;
``list_folder(node)``
    the listing of a folder below the root (its node first, then its children); NotFound when
    it vanished meanwhile;
``parent_id(node)``
    the id of the folder holding the watched root (asked only when the root is new or moved).

A *node* has ``id``, ``name``, ``path``, ``is_folder``, ``etag`` (the version tag), ``size``,
``item(parent_id)`` (its :class:`CloudItem`) and, optionally, ``fingerprint``: a value of the
whole storage that changes when it is restored from a backup (a change raises ResetNeeded).

A tree that changes while it is walked (a folder gone or replaced between two listings) makes
the call fail with :class:`Transient` (``walk_race``): the cursor is kept, the call is retried.
Changes beyond ``page_size`` wait in the cursor (``has_more``), without a new walk.

The feed records in the base the tags of the folders it listed (and, for :meth:`latest_cursor`,
the whole listing); the caller records the changes it hands out
(:class:`~.merge_base.RecordingAdapter`).

Cursor state (``v`` 2, constant size): ``r`` root id, ``rp`` root path, ``fp`` fingerprint,
``p`` changes found and not handed out yet. Cursors of version 1 (which carried the whole
snapshot) are refused with ResetNeeded: the core then lists the tree once and rebuilds the base.
"""
from __future__ import annotations

import collections

from .adapter import Change, ChangePage, CloudItem
from .cursors import decode_state, encode_state
from .errors import InvalidRequest, NotFound, ResetNeeded, Transient
from .merge_base import BaseEntry

STATE_VERSION = 2
_STATE_KEYS = ("r", "rp", "p")


def dump_change(change):
    """A :class:`Change` as the compact list kept in the cursor."""
    if change.deleted:
        return [change.id, 1]
    i = change.item
    return [change.id, 0, i.name, i.kind, i.parent_id, i.size, i.hash, i.etag, i.modified,
            i.mimetype, i.path]


def load_change(data):
    """The :class:`Change` of a list made by :func:`dump_change`."""
    if data[1]:
        return Change(data[0], deleted=True)
    keys = ("name", "kind", "parent_id", "size", "hash", "etag", "modified", "mimetype",
            "path")
    return Change(data[0], item=CloudItem(data[0], **dict(zip(keys, data[2:], strict=False))))


def _validate(state):
    if state.get("v") != STATE_VERSION:
        raise ValueError("version")
    for key in _STATE_KEYS:
        state[key]  # noqa: B018 - presence check (KeyError)
    return True


class SnapshotFeed:
    """The snapshot-diff change feed of one adapter (see the module's documentation).

    :param prefix: the adapter's cursor prefix (``"oc1:"``): cursors of another adapter, or of
        another format, are refused with ResetNeeded
    """

    def __init__(self, prefix, list_root, list_folder, parent_id, page_size=500,
                 recursive_tags=True):
        self.prefix = prefix
        self.list_root = list_root
        self.list_folder = list_folder
        self.parent_id = parent_id
        self.page_size = max(1, int(page_size or 500))
        self.recursive_tags = recursive_tags


    # -- cursors ---------------------------------------------------------------------------
    def encode(self, state):
        return encode_state(self.prefix, state, level=9)

    def decode(self, cursor):
        """The state of ``cursor``; ResetNeeded when it is not one of this feed's."""
        return decode_state(self.prefix, cursor, validate=_validate)

    @staticmethod
    def _state(root, fingerprint=None, pending=()):
        return {"v": STATE_VERSION, "r": root.id, "rp": root.path, "fp": fingerprint,
                "p": list(pending)}

    @staticmethod
    def _need_base(base):
        if base is None:
            raise InvalidRequest("This change feed compares with the merge base: pass one",
                                 code="merge_base_missing")

    # -- the feed --------------------------------------------------------------------------
    def latest_cursor(self, root, base, root_parent=None):
        """A cursor meaning "now" for the tree below ``root`` (a node): one full walk, whose
        listing replaces what ``base`` knew below the root."""
        self._need_base(base)
        entries, queue = [], collections.deque([(root, self._list_below(root))])
        while queue:
            folder, listing = queue.popleft()
            for entry in listing[1:]:
                if not entry.id or entry.id == root.id:
                    continue
                entries.append(BaseEntry.of(entry.item(folder.id)))
                if entry.is_folder:
                    queue.append((entry, self._list_below(entry)))
        if root_parent is None:
            known = base.get(root.id)
            root_parent = known.parent_id if known else self.parent_id(root)
        base.replace_below(BaseEntry.of(root.item(root_parent)), entries)
        return self.encode(self._state(root, getattr(root, "fingerprint", None)))

    def changes(self, root_id, cursor, base):
        """The :class:`ChangePage` since ``cursor``: the changes waiting in it, else those a
        walk comparing the tree with ``base`` finds."""
        self._need_base(base)
        state = self.decode(cursor)
        root_id = str(root_id)
        if state["r"] != root_id:
            raise ResetNeeded("The cursor belongs to another folder", code="reset")
        if state["p"]:  # changes found earlier and not handed out yet
            return self.page(state, [load_change(c) for c in state["p"]])
        entries = self.list_root(state)
        if entries is None:  # the watched root is gone, and everything below it
            gone = [root_id] + [e.id for e in base.descendants(root_id)]
            return self.page(state, [Change(i, deleted=True) for i in gone])
        root = entries[0]
        fingerprint = getattr(root, "fingerprint", None)
        if state.get("fp") is not None and fingerprint != state["fp"]:
            raise ResetNeeded("The server's data fingerprint changed (restored from backup?)",
                              code="fingerprint", path=root.path)
        new_state = self._state(root, fingerprint)
        known_root = base.get(root_id)
        root_parent = known_root.parent_id if known_root else None
        if known_root is None or root.path != state["rp"]:
            root_parent = self.parent_id(root)
        live = collections.OrderedDict()
        if known_root is not None and (known_root.name != root.name
                                       or known_root.parent_id != root_parent):
            live[root_id] = Change(root_id, item=root.item(root_parent))
        if self.recursive_tags and known_root is not None and known_root.etag == root.etag:
            return self.page(new_state, list(live.values()))
        changes = self._walk(base, root, root_parent, entries, live)
        return self.page(new_state, changes)

    def _walk(self, base, root, root_parent, entries, live):
        """Descend from the root's listing ``entries`` into the folders whose tag changed,
        comparing each listing with the base; record the tags listed. The changes found."""
        listed, missing, tags = set(), {}, []
        queue = collections.deque([(root, root_parent, entries)])
        while queue:
            folder, parent_id, listing = queue.popleft()
            tags.append(BaseEntry.of(folder.item(parent_id)))
            known_here = {e.id: e for e in base.children(folder.id)}
            kids = [e for e in listing[1:] if e.id and e.id != root.id]
            elsewhere = base.get_many([e.id for e in kids if e.id not in known_here])
            for entry in kids:
                old = known_here.pop(entry.id, None) or elsewhere.get(entry.id)
                listed.add(entry.id)
                if entry.is_folder:
                    if old is None or not old.is_folder or old.name != entry.name \
                            or old.parent_id != folder.id:
                        live[entry.id] = Change(entry.id, item=entry.item(folder.id))
                    if not (self.recursive_tags and old is not None and old.is_folder
                            and old.etag == entry.etag):
                        queue.append((entry, folder.id, self._list_below(entry)))
                elif old is None or old.is_folder or old.parent_id != folder.id or \
                        (old.name, old.etag, old.size or 0) != \
                        (entry.name, entry.etag, entry.size or 0):
                    live[entry.id] = Change(entry.id, item=entry.item(folder.id))
            missing.update(known_here)
        base.put(tags)
        changes = list(live.values())
        for item_id, entry in missing.items():
            if item_id in listed:
                continue  # moved to another folder that was listed
            changes.append(Change(item_id, deleted=True))
            if entry.is_folder:
                changes.extend(Change(e.id, deleted=True) for e in base.descendants(item_id)
                               if e.id not in listed and e.id not in missing)
        return changes

    def page(self, state, changes):
        """The first ``page_size`` of ``changes``; the rest waits in the new cursor."""
        page, rest = changes[:self.page_size], changes[self.page_size:]
        state = dict(state, p=[dump_change(c) for c in rest])
        return ChangePage(page, self.encode(state), has_more=bool(rest))

    def _list_below(self, node):
        """The listing of the folder ``node``; Transient when it is not there any more."""
        try:
            listing = self.list_folder(node)
        except NotFound:
            raise Transient("The tree changed during the walk; try again",
                            code="walk_race", path=node.path) from None
        if not listing or listing[0].id != node.id:
            raise Transient("The tree changed during the walk; try again",
                            code="walk_race", path=node.path)
        return listing
