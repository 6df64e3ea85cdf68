"""Paths of items known by id, for providers that address items by path.

The core addresses items by stable id; Dropbox and WebDAV address them by path. An adapter of
such a provider keeps what it last saw in a :class:`PathCache` (item id -> path) and treats it
as a *hint*: it checks the hint with the request that uses it (or gets the id back from the
provider) and falls back to a lookup when the hint is wrong. The cache follows the tree:
:meth:`PathCache.forget_below` after a deletion, :meth:`PathCache.rebase` after a move.

Paths are ``/``-separated. Two conventions are served: absolute paths whose top is ``/``
(WebDAV: ``/Odoo/Partners``) and paths relative to a watched folder whose top is ``""``
(``Partners/Acme``); :func:`is_below` treats both tops as "everything".
"""
from __future__ import annotations

import threading


def is_below(path, root):
    """Is ``path`` at or below ``root``? (``root`` ``/`` or ``""``: always.)"""
    if root in ("", "/"):
        return True
    return path == root or path.startswith(root.rstrip("/") + "/")


def relative_path(path, root):
    """``path`` relative to ``root`` (``""`` for the root itself), None when not below it."""
    if path == root:
        return ""
    prefix = root.rstrip("/") + "/"
    if path.startswith(prefix):
        return path[len(prefix):]
    return None


def rebased(path, old, new):
    """``path`` after the folder ``old`` moved to ``new`` (unchanged when not below ``old``)."""
    if is_below(path, old):
        return new + path[len(old):]
    return path


def parent_path(path, top="/"):
    """The folder holding ``path`` (``top`` for an item at the top), None for the top itself."""
    if path in ("", "/"):
        return None
    return path.rsplit("/", 1)[0] or top


def join_path(folder, name):
    """``name`` inside ``folder``."""
    return folder.rstrip("/") + "/" + name


class PathCache:
    """Thread-safe ``id -> path`` hints, with the reverse lookup and the tree operations.

    One path per id; several ids may hint at the same path (a stale hint and the item now
    there), unless :meth:`claim` says the path belongs to one id. Iteration order is the order
    in which ids were first remembered.
    """

    def __init__(self, hints=None):
        self._lock = threading.RLock()
        self._by_id = {}
        self._by_path = {}  # path -> {id: None} (ordered: the last one is the newest)
        for item_id, path in (hints or {}).items():
            self.remember(item_id, path)

    @classmethod
    def from_path_map(cls, paths):
        """A cache from a ``{path: id}`` map (the form adapters store in their cursors)."""
        cache = cls()
        for path, item_id in paths.items():
            cache.claim(path, item_id)
        return cache

    def as_path_map(self):
        """``{path: id}``: for each path, the id that holds it last."""
        with self._lock:
            return {path: item_id for item_id, path in self._by_id.items()
                    if self.id_at(path) == item_id}

    # -- reading -------------------------------------------------------------------------
    def get(self, item_id, default=None):
        with self._lock:
            return self._by_id.get(item_id, default)

    def id_at(self, path):
        """The id last remembered at ``path``, or None."""
        with self._lock:
            ids = self._by_path.get(path)
            return next(reversed(ids)) if ids else None

    def ids_below(self, path):
        with self._lock:
            return [i for i, known in self._by_id.items() if is_below(known, path)]

    def items(self):
        with self._lock:
            return list(self._by_id.items())

    def __contains__(self, item_id):
        return item_id in self._by_id

    def __len__(self):
        return len(self._by_id)

    # -- writing -------------------------------------------------------------------------
    def _unlink(self, item_id):
        path = self._by_id.pop(item_id, None)
        if path is not None:
            self._drop_from_path(item_id, path)
        return path

    def _drop_from_path(self, item_id, path):
        ids = self._by_path.get(path)
        if ids is not None:
            ids.pop(item_id, None)
            if not ids:
                del self._by_path[path]

    def _link(self, item_id, path):
        """``item_id`` is at ``path`` (an id already known keeps its place in the order)."""
        known = self._by_id.get(item_id)
        if known is not None:
            self._drop_from_path(item_id, known)
        self._by_id[item_id] = path
        ids = self._by_path.setdefault(path, {})
        ids.pop(item_id, None)
        ids[item_id] = None

    def remember(self, item_id, path):
        """``item_id`` was seen at ``path`` (its former path, if any, is forgotten)."""
        with self._lock:
            self._link(item_id, path)

    def setdefault(self, item_id, path):
        """Remember ``path`` for ``item_id`` unless a path is known for it; the path known."""
        with self._lock:
            known = self._by_id.get(item_id)
            if known is None:
                self._link(item_id, path)
                return path
            return known

    def claim(self, path, item_id):
        """``path`` holds ``item_id`` and nothing else: other ids hinting at it are dropped."""
        with self._lock:
            for other in list(self._by_path.get(path, ())):
                if other != item_id:
                    self._unlink(other)
            if self._by_id.get(item_id) != path:
                self._link(item_id, path)

    def forget(self, item_id):
        with self._lock:
            return self._unlink(item_id)

    def forget_below(self, path):
        """Drop every hint at or below ``path``; the ids dropped, in the cache's order."""
        with self._lock:
            gone = self.ids_below(path)
            for item_id in gone:
                self._unlink(item_id)
            return gone

    def rebase(self, old, new):
        """The folder at ``old`` moved to ``new``: hints below it follow. The ids moved."""
        with self._lock:
            moved = self.ids_below(old)
            for item_id in moved:
                self._link(item_id, rebased(self._by_id[item_id], old, new))
            return moved
