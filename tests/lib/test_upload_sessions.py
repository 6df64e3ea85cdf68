"""Keys, content fingerprints and the in-process store of cloud_base/lib/upload_sessions.py."""
import io

from odoo.addons.cloud_base.lib.upload_sessions import (
    MemoryUploadSessions, content_fingerprint, session_key,
)

URL = "https://upload.example.com/session/0123456789abcdef"


class _NoSeek(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, buffer):
        return 0


def test_fingerprint_reads_from_the_position_and_puts_the_stream_back():
    stream = io.BytesIO(b"head" + b"x" * 100)
    stream.seek(4)
    assert content_fingerprint(stream, 100) == content_fingerprint(io.BytesIO(b"x" * 100), 100)
    assert stream.tell() == 4
    assert content_fingerprint(stream, 101) is None  # shorter than announced
    assert stream.tell() == 4
    assert content_fingerprint(io.BytesIO(b"y" * 100), 100) != \
        content_fingerprint(io.BytesIO(b"x" * 100), 100)


def test_fingerprint_of_a_stream_that_cannot_seek_is_none():
    stream = _NoSeek()
    assert not stream.seekable()
    assert content_fingerprint(stream, 0) is None


def test_keys_tell_contents_apart_and_hide_names():
    one = session_key("graph", "parent", "a.bin", 10, "f1")
    assert one == session_key("graph", "parent", "a.bin", 10, "f1")
    assert one != session_key("graph", "parent", "a.bin", 10, "f2")
    assert one != session_key("gdrive", "parent", "a.bin", 10, "f1")
    assert one.startswith("graph:") and "a.bin" not in one


def test_memory_store_expires_and_drops():
    now = [1000.0]
    store = MemoryUploadSessions(lifetime=60, clock=lambda: now[0])
    store.put("k", URL)
    store.put("old", URL, expires_at=999.0)
    assert (store.get("k"), store.get("old")) == (URL, None)
    now[0] += 61
    assert store.get("k") is None
    store.drop("k")
    store.drop("missing")
    assert len(store) == 1
