"""A change feed for providers that have none: compare the tree with a snapshot kept in the
cursor (R-BW-7).

The cursor (see :mod:`.cursors`) holds a compact snapshot of the watched tree: for each folder
its version tag, name and parent; for each file its parent and a CRC of name, version tag and
size. :meth:`SnapshotFeed.changes` lists the watched root, then descends, one listing per
folder, only into the folders that are new or whose version tag differs from the snapshot, and
reports what differs: new, renamed, moved or changed items (their latest state) and deletions.

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

State (``v`` 1): ``r`` root id, ``rp`` root path, ``fp`` fingerprint, ``d`` folders
``{id: [etag, name, parent id]}``, ``f`` files ``{id: [parent id, crc]}``, ``p`` changes found
and not handed out yet.
"""
from __future__ import annotations

import collections
import zlib

from .adapter import Change, ChangePage, CloudItem
from .cursors import decode_state, encode_state
from .errors import NotFound, ResetNeeded, Transient
from .path_cache import join_path

STATE_VERSION = 1
_STATE_KEYS = ("r", "rp", "d", "f", "p")
#: folders deeper than this below the root are not given a path by :func:`folder_paths`
MAX_DEPTH = 200


def file_signature(name, etag, size):
    """The CRC the snapshot keeps of a file: a change of any of the three shows."""
    return zlib.crc32("\x00".join(str(p) for p in (name, etag, size)).encode("utf-8")) \
        & 0xFFFFFFFF


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


def folder_paths(state):
    """``{folder id: path}`` of the folders of a snapshot whose chain of parents reaches the
    root (the root's path is the one recorded in the snapshot)."""
    folders = state["d"]
    paths = {state["r"]: state["rp"]}

    def path_of(fid, depth=0):
        if fid in paths:
            return paths[fid]
        info = folders.get(fid)
        if info is None or depth > MAX_DEPTH or info[2] not in folders:
            return None
        parent = path_of(info[2], depth + 1)
        if parent is None:
            return None
        paths[fid] = join_path(parent, info[1])
        return paths[fid]

    for fid in folders:
        path_of(fid)
    return paths


def file_parents(state):
    """``{file id: folder id}`` of a snapshot."""
    return {fileid: info[0] for fileid, info in state["f"].items()}


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
    def new_state(root):
        """The (empty) snapshot of the watched root ``root`` (a node)."""
        return {"v": STATE_VERSION, "r": root.id, "rp": root.path, "fp": None, "p": [],
                "d": {}, "f": {}}

    # -- the feed --------------------------------------------------------------------------
    def latest_cursor(self, root, after_walk=None):
        """A cursor meaning "now" for the tree below ``root`` (a node): one full walk.
        ``after_walk(state)`` is told the new snapshot before it is encoded."""
        state, _changes = self.walk(self.new_state(root), full=True)
        if after_walk is not None:
            after_walk(state)
        return self.encode(state)

    def changes(self, root_id, cursor, before_walk=None, after_walk=None):
        """The :class:`ChangePage` since ``cursor``: the changes waiting in it, else those a
        walk finds. ``before_walk(state)`` / ``after_walk(state)`` are told the snapshot read
        from the cursor and the new one (an adapter learns its paths from them)."""
        state = self.decode(cursor)
        if state["r"] != str(root_id):
            raise ResetNeeded("The cursor belongs to another folder", code="reset")
        if state["p"]:  # changes found earlier and not handed out yet
            return self.page(state, [load_change(c) for c in state["p"]])
        if before_walk is not None:
            before_walk(state)
        new_state, changes = self.walk(state, full=False)
        if after_walk is not None:
            after_walk(new_state)
        return self.page(new_state, changes)

    def page(self, state, changes):
        """The first ``page_size`` of ``changes``; the rest waits in the new cursor."""
        page, rest = changes[:self.page_size], changes[self.page_size:]
        state = dict(state, p=[dump_change(c) for c in rest])
        return ChangePage(page, self.encode(state), has_more=bool(rest))

    def walk(self, state, full):
        """Compare the tree under the watched root with the snapshot ``state``.

        Lists the root, then descends, one listing per folder, only into folders that are new
        or whose version tag changed (every folder without ``recursive_tags``); unchanged
        subtrees are carried over from the snapshot without a request. ``full``: a first
        snapshot, no changes reported. Returns ``(new state, changes)``.
        """
        old_d, old_f = state["d"], state["f"]
        root_id = state["r"]
        new_d, new_f, live = {}, {}, collections.OrderedDict()
        kids = collections.defaultdict(list)  # old snapshot: folder -> children
        for fid, info in old_d.items():
            kids[info[2]].append((fid, True))
        for fid, info in old_f.items():
            kids[info[0]].append((fid, False))

        entries = self.list_root(state)
        if entries is None:  # the watched root is gone
            changes = [Change(root_id, deleted=True)] + [
                Change(i, deleted=True) for i in list(old_d) + list(old_f) if i != root_id]
            return dict(state, d={}, f={}, p=[]), changes
        root = entries[0]
        fingerprint = getattr(root, "fingerprint", None)
        if not full and state.get("fp") is not None and fingerprint != state["fp"]:
            raise ResetNeeded("The server's data fingerprint changed (restored from backup?)",
                              code="fingerprint", path=root.path)
        old_root = old_d.get(root_id)
        root_parent = old_root[2] if old_root else None
        if old_root is None or root.path != state["rp"]:
            root_parent = self.parent_id(root)
        new_d[root_id] = [root.etag, root.name, root_parent]
        if not full and old_root and (old_root[1] != root.name or old_root[2] != root_parent):
            live[root_id] = Change(root_id, item=root.item(root_parent))
        new_state = {"v": STATE_VERSION, "r": root_id, "rp": root.path, "fp": fingerprint,
                     "p": [], "d": new_d, "f": new_f}
        if self.recursive_tags and not full and old_root and old_root[0] == root.etag:
            new_state.update(d=dict(old_d), f=dict(old_f))
            new_d = new_state["d"]
            new_d[root_id] = [root.etag, root.name, root_parent]
            return new_state, list(live.values())

        def carry(fid):
            """Copy the unchanged subtree of ``fid`` from the old snapshot."""
            stack = [fid]
            while stack:
                current = stack.pop()
                for child, is_folder in kids.get(current, ()):
                    if is_folder:
                        if child not in new_d:
                            new_d[child] = list(old_d[child])
                            stack.append(child)
                    elif child not in new_f:
                        new_f[child] = list(old_f[child])

        queue = collections.deque([(root_id, entries)])
        while queue:
            folder_id, listing = queue.popleft()
            for entry in listing[1:]:
                cid = entry.id
                if not cid or cid == root_id:
                    continue
                if entry.is_folder:
                    old = old_d.get(cid)
                    new_d[cid] = [entry.etag, entry.name, folder_id]
                    if old is None or old[1] != entry.name or old[2] != folder_id:
                        live[cid] = Change(cid, item=entry.item(folder_id))
                    if self.recursive_tags and old is not None and old[0] == entry.etag:
                        carry(cid)
                    else:
                        queue.append((cid, self._list_below(entry)))
                else:
                    sig = [folder_id, file_signature(entry.name, entry.etag, entry.size)]
                    new_f[cid] = sig
                    if old_f.get(cid) != sig:
                        live[cid] = Change(cid, item=entry.item(folder_id))
        if full:
            return new_state, []
        changes = list(live.values())
        for gone in list(old_d) + list(old_f):
            if gone not in new_d and gone not in new_f:
                changes.append(Change(gone, deleted=True))
        return new_state, changes

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
