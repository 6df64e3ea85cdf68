"""Streaming helpers shared by the adapters: content goes through in pieces, never whole.

* :func:`iter_stream`: a binary file object (or bytes) as chunks;
* :func:`read_exact`: exactly ``size`` bytes of a stream in full pieces (what chunked upload
  protocols need), refusing a stream shorter or longer than announced;
* :func:`with_last`: the pieces of an iterable, each with "is it the last one?" (upload
  sessions finish with the last piece);
* :func:`iter_response`: the body of a streamed ``requests`` response, errors translated,
  the connection released in every case.
"""
from __future__ import annotations

import io
from typing import Iterable, Iterator

import requests

from .errors import CloudError, InvalidRequest

#: Size of the pieces streamed to and from the adapters.
STREAM_CHUNK = 1024 * 1024


def as_stream(stream):
    """A binary file object for ``stream`` (bytes-like content is wrapped)."""
    if isinstance(stream, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(stream))
    return stream


def iter_stream(stream, chunk_size=STREAM_CHUNK) -> Iterator[bytes]:
    """Yield a binary file object (or bytes) in chunks."""
    if isinstance(stream, (bytes, bytearray, memoryview)):
        data = bytes(stream)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]
        return
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def read_exact(stream, size, piece_size=STREAM_CHUNK, code="incorrect_offset",
               path=None) -> Iterator[bytes]:
    """Yield exactly ``size`` bytes of ``stream`` (a binary file object or bytes) in pieces of
    ``piece_size`` bytes, the last one shorter; a short read of the stream is completed before
    the piece is given. :class:`InvalidRequest` (``code``, ``path``) when the stream ends
    before ``size`` bytes or still has bytes after them (checked once the last piece is
    read, before it is given)."""
    stream = as_stream(stream)
    piece_size = max(1, int(piece_size))
    remaining = size
    while remaining > 0:
        want = min(piece_size, remaining)
        piece = stream.read(want)
        while piece and len(piece) < want:
            more = stream.read(want - len(piece))
            if not more:
                break
            piece += more
        if not piece or len(piece) < want:
            raise InvalidRequest("The content is shorter than announced (%d bytes missing)"
                                 % (remaining - len(piece or b"")), code=code, path=path)
        remaining -= len(piece)
        if remaining == 0 and stream.read(1):
            raise InvalidRequest("The content is longer than announced", code=code, path=path)
        yield bytes(piece)
    if size <= 0 and stream.read(1):
        raise InvalidRequest("The content is longer than announced", code=code, path=path)


def with_last(iterable: Iterable) -> Iterator[tuple]:
    """``(value, is_last)`` for each value of ``iterable``, reading one value ahead."""
    iterator = iter(iterable)
    try:
        pending = next(iterator)
    except StopIteration:
        return
    for value in iterator:
        yield pending, False
        pending = value
    yield pending, True


def _announced_length(response):
    """The body size the response's headers announce, or None (unknown, or encoded: the
    pieces are decoded, their sizes add up to something else)."""
    headers = getattr(response, "headers", None) or {}
    if headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    try:
        return int(headers["Content-Length"])
    except (KeyError, TypeError, ValueError):
        return None


def iter_response(response, piece_size=STREAM_CHUNK, translate=None, catch=(Exception,)):
    """The body of a streamed ``requests`` response in pieces (empty ones skipped); the
    response is closed at the end, on an error, or when the consumer stops early.

    An exception of the classes ``catch`` raised while reading becomes ``translate(exc)`` (a
    :class:`CloudError`); a CloudError passes as it is. A body that ends before its
    Content-Length is a broken connection, not the end of the file (urllib3 1.x accepts it
    silently): it raises as one."""
    expected, received = _announced_length(response), 0
    try:
        for piece in response.iter_content(piece_size):
            if piece:
                received += len(piece)
                yield piece
        if expected is not None and received < expected:
            raise requests.exceptions.ChunkedEncodingError(
                "Connection broken: the body ended after %d of its %d bytes"
                % (received, expected))
    except CloudError:
        raise
    except catch as exc:
        if translate is None:
            raise
        raise translate(exc) from exc
    finally:
        response.close()
