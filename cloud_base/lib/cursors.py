"""Opaque cursors that carry state: ``<prefix>`` + urlsafe base64 of zlib-compressed JSON.

An adapter whose change feed needs more than the provider's own cursor (Dropbox: a path -> id
map; ownCloud: a snapshot of the tree) keeps that state *inside* the cursor it hands to the
core: the state always belongs to exactly the cursor stored next to it, any worker can continue
it, and reading the same cursor twice gives the same changes. A cursor that cannot be read is
never an error of the sync: it is :class:`ResetNeeded` (the core re-lists and reconciles).
"""
from __future__ import annotations

import base64
import binascii
import json
import zlib

from .errors import ResetNeeded


def encode_state(prefix, state, level=9, ensure_ascii=False):
    """The cursor text of ``state`` (JSON-serialisable). ``level``: zlib's (6 is faster, 9
    smaller); ``ensure_ascii``: JSON escapes non-ASCII text (the cursor is the same state
    either way)."""
    raw = json.dumps(state, separators=(",", ":"), ensure_ascii=ensure_ascii).encode("utf-8")
    return prefix + base64.urlsafe_b64encode(zlib.compress(raw, level)).decode("ascii")


def decode_state(prefix, cursor, validate=None, message="Malformed cursor"):
    """The state of a cursor made by :func:`encode_state` with ``prefix``, a dict.

    ``validate(state)``, when given, checks the state further and raises ``ValueError`` or
    ``KeyError`` (or returns False) when it is not one the adapter can use. Any unreadable
    cursor raises :class:`ResetNeeded` (code ``reset``, ``message``)."""
    if not isinstance(cursor, str) or not cursor.startswith(prefix):
        raise ResetNeeded(message, code="reset")
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(cursor[len(prefix):].encode("ascii")))
        state = json.loads(raw.decode("utf-8"))
        if not isinstance(state, dict):
            raise ValueError("not an object")
        if validate is not None and validate(state) is False:
            raise ValueError("invalid state")
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, UnicodeError):
        raise ResetNeeded(message, code="reset") from None
    return state
