"""Streaming helpers of cloud_base/lib/streams.py."""
import io

import pytest
import requests

from odoo.addons.cloud_base.lib import adapter
from odoo.addons.cloud_base.lib.errors import CloudError, InvalidRequest, Transient
from odoo.addons.cloud_base.lib.streams import (
    STREAM_CHUNK, as_stream, iter_response, iter_stream, read_exact, with_last,
)


class Trickle(io.RawIOBase):
    """A stream that gives at most ``step`` bytes per read (a socket, a pipe)."""

    def __init__(self, data, step=3):
        self.data, self.step, self.pos = data, step, 0
        self.reads = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.reads += 1
        size = self.step if size is None or size < 0 else min(size, self.step)
        piece = self.data[self.pos:self.pos + size]
        self.pos += len(piece)
        return piece


def test_read_exact_gives_full_pieces_of_the_announced_size():
    data = bytes(range(256)) * 10
    assert [len(p) for p in read_exact(io.BytesIO(data), len(data), 1000)] == [1000, 1000, 560]
    assert b"".join(read_exact(data, len(data), 1000)) == data  # bytes are streams too
    # short reads of the stream are completed: chunked protocols need full pieces
    trickle = Trickle(data, step=7)
    pieces = list(read_exact(trickle, len(data), 1000))
    assert [len(p) for p in pieces] == [1000, 1000, 560] and b"".join(pieces) == data
    assert list(read_exact(io.BytesIO(b""), 0, 10)) == []
    assert all(isinstance(p, bytes) for p in read_exact(bytearray(b"abc"), 3, 2))


def test_read_exact_refuses_a_stream_shorter_or_longer_than_announced():
    with pytest.raises(InvalidRequest) as err:
        list(read_exact(io.BytesIO(b"abcde"), 8, 3, code="size_mismatch", path="/a"))
    assert err.value.code == "size_mismatch" and err.value.path == "/a"
    assert "3 bytes missing" in err.value.message
    # longer: refused before the last piece is given, so a chunked upload never finishes
    pieces = read_exact(io.BytesIO(b"abcdefgh"), 6, 3)
    assert next(pieces) == b"abc"
    with pytest.raises(InvalidRequest) as err:
        next(pieces)
    assert err.value.code == "incorrect_offset" and "longer" in err.value.message
    with pytest.raises(InvalidRequest):
        list(read_exact(io.BytesIO(b"x"), 0, 3))


def test_iter_stream_and_as_stream():
    assert list(iter_stream(b"abcdefg", 3)) == [b"abc", b"def", b"g"]
    assert list(iter_stream(io.BytesIO(b"abcdefg"), 4)) == [b"abcd", b"efg"]
    assert list(iter_stream(b"")) == []
    stream = io.BytesIO(b"x")
    assert as_stream(stream) is stream and as_stream(b"y").read() == b"y"
    assert adapter.iter_stream is iter_stream and adapter.STREAM_CHUNK == STREAM_CHUNK


def test_with_last():
    assert list(with_last([])) == []
    assert list(with_last(["a"])) == [("a", True)]
    assert list(with_last(iter("abc"))) == [("a", False), ("b", False), ("c", True)]


class FakeResponse:
    def __init__(self, pieces, fail=None, headers=None):
        self.pieces, self.fail, self.closed = pieces, fail, False
        self.asked = None
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})

    def iter_content(self, size):
        self.asked = size
        yield from self.pieces
        if self.fail is not None:
            raise self.fail

    def close(self):
        self.closed = True


def test_iter_response_skips_keep_alive_pieces_and_closes():
    response = FakeResponse([b"ab", b"", b"cd"])
    assert list(iter_response(response, 64)) == [b"ab", b"cd"]
    assert response.closed and response.asked == 64
    early = FakeResponse([b"ab", b"cd"])
    pieces = iter_response(early)
    next(pieces)
    pieces.close()  # the consumer stops: the connection is released
    assert early.closed


def test_iter_response_translates_errors():
    def translate(exc):
        return Transient("interrupted", code="connection_error", path="/f")

    broken = FakeResponse([b"ab"], fail=requests.ConnectionError("reset"))
    with pytest.raises(Transient) as err:
        list(iter_response(broken, translate=translate, catch=requests.RequestException))
    assert err.value.path == "/f" and isinstance(err.value.__cause__, requests.ConnectionError)
    assert broken.closed
    # outside ``catch``: as it is; a CloudError is never translated again
    with pytest.raises(KeyError):
        list(iter_response(FakeResponse([], fail=KeyError("x")), translate=translate,
                           catch=requests.RequestException))
    with pytest.raises(CloudError) as err:
        list(iter_response(FakeResponse([], fail=InvalidRequest("no")), translate=translate))
    assert isinstance(err.value, InvalidRequest)


def test_iter_response_refuses_a_body_shorter_than_its_content_length():
    # the server closed the connection mid-body: urllib3 1.x ends the body there, silently
    cut = FakeResponse([b"abcd", b"ef"], headers={"Content-Length": "10"})
    pieces = iter_response(cut, translate=lambda exc: Transient(str(exc), path="/f"),
                           catch=requests.RequestException)
    assert next(pieces) == b"abcd" and next(pieces) == b"ef"
    with pytest.raises(Transient) as err:
        next(pieces)
    assert "6 of its 10 bytes" in err.value.message and err.value.path == "/f"
    assert isinstance(err.value.__cause__, requests.exceptions.ChunkedEncodingError)
    assert cut.closed
    # the whole body, no length, or an encoded body (its pieces are decoded): as it is
    whole = FakeResponse([b"abcd", b"ef"], headers={"content-length": "6"})
    assert b"".join(iter_response(whole)) == b"abcdef"
    assert list(iter_response(FakeResponse([b"ab"]))) == [b"ab"]
    gzipped = FakeResponse([b"abcdefgh"], headers={"Content-Length": "5",
                                                    "Content-Encoding": "gzip"})
    assert list(iter_response(gzipped)) == [b"abcdefgh"]
