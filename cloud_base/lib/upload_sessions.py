"""Where adapters keep the address of an unfinished upload session (plain Python, no ORM).

A big upload goes through a session of the provider (a Graph ``uploadUrl``, a Drive resumable
session URI). When the worker dies or the task fails half-way, the next attempt, maybe in
another process, asks the provider how far the session got and sends only the rest. The
adapter keeps the session's address in an :class:`UploadSessionStore` given at construction:

* ``get(key)``: the address kept under ``key``, None when there is none or it expired;
* ``put(key, url, expires_at=None, size=None)``: keep it (``expires_at``: POSIX time the
  provider gave, else the store's own lifetime applies; ``size``: of the file, for the
  administrator);
* ``drop(key)``: forget it (the upload finished, or the provider no longer knows it).

The address is a bearer secret (whoever has it may write into the upload): stores never log
it. The Odoo client gives adapters a store kept in the database that writes through its own
short transactions (``cloud.upload.session``); :class:`MemoryUploadSessions` serves adapters
built without one (scripts, the pytest suite).

Keys come from :func:`session_key`: a digest of what identifies one upload (folder, name,
size and :func:`content_fingerprint`), so a different file of the same name and size never
continues another file's session, and no file name is stored next to the secret.
"""
from __future__ import annotations

import hashlib
import threading
import time

from .streams import STREAM_CHUNK


class UploadSessionStore:
    """The interface adapters use (see the module's documentation)."""

    def get(self, key):
        raise NotImplementedError

    def put(self, key, url, expires_at=None, size=None):
        raise NotImplementedError

    def drop(self, key):
        raise NotImplementedError


class MemoryUploadSessions(UploadSessionStore):
    """Sessions of this process only: they are lost with it."""

    def __init__(self, lifetime=24 * 3600, clock=time.time):
        self.lifetime = lifetime
        self.clock = clock
        self._lock = threading.Lock()
        self._urls = {}  # key -> (url, expires_at)

    def get(self, key):
        with self._lock:
            url, expires_at = self._urls.get(key, (None, 0))
        return url if url and expires_at > self.clock() else None

    def put(self, key, url, expires_at=None, size=None):
        with self._lock:
            self._urls[key] = (url, expires_at or self.clock() + self.lifetime)

    def drop(self, key):
        with self._lock:
            self._urls.pop(key, None)

    def __len__(self):
        with self._lock:
            return len(self._urls)


def session_key(kind, *parts):
    """A stable key of an upload: ``kind`` (the adapter's name) and a SHA-256 of ``parts``."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8"))
    return "%s:%s" % (kind, digest.hexdigest())


def content_fingerprint(stream, size):
    """SHA-256 (hex) of the next ``size`` bytes of ``stream``, which is then put back where it
    was; None when the stream cannot seek (its session could not be resumed anyway). One local
    read of the content, in bounded memory."""
    try:
        start = stream.tell()
    except (AttributeError, OSError, ValueError):
        return None
    hasher = hashlib.sha256()
    left = size
    try:
        while left > 0:
            piece = stream.read(min(STREAM_CHUNK, left))
            if not piece:
                break
            hasher.update(piece)
            left -= len(piece)
    finally:
        stream.seek(start)
    return hasher.hexdigest() if left == 0 else None
