"""ownCloud/Nextcloud large uploads on servers that lack a chunking protocol they advertise
(issue 11 §2): v2 → v1 → one streamed PUT, what works remembered (per adapter, and for a while
per server), a 404 that means "the folder is gone" still NotFound, and the size/SHA-1 check
after every fall-back."""
import hashlib
import io
import random

import pytest

from cloud_emulators.common import Fault
from cloud_emulators.owncloud import OwnCloudEmulator
from odoo.addons.cloud_base.lib.adapter import NotFound, Transient
from odoo.addons.cloud_owncloud.lib import owncloud_adapter
from odoo.addons.cloud_owncloud.lib.owncloud_adapter import OwnCloudAdapter

USER, PASSWORD = "alice", "app-password"
SIZE = 250  # above the threshold of 100: 8 pieces of 32 bytes


def payload(size=SIZE, seed=0):
    return random.Random("%d-%d" % (size, seed)).randbytes(size)


@pytest.fixture(autouse=True)
def fresh_server_memory():
    owncloud_adapter.forget_refused_chunking()
    yield
    owncloud_adapter.forget_refused_chunking()


def start(**kw):
    return OwnCloudEmulator(users={USER: PASSWORD}, **kw).start()


@pytest.fixture
def emulators():
    started = []

    def make(**kw):
        emu = start(**kw)
        started.append(emu)
        return emu
    yield make
    for emu in started:
        emu.stop()


def make(emulator, **kw):
    kw.setdefault("timeout", 2)
    kw.setdefault("chunk_threshold", 100)
    kw.setdefault("chunk_size", 32)
    return OwnCloudAdapter(emulator.base_url, USER, PASSWORD, **kw)


def upload(adapter, parent_id, name, data):
    return adapter.upload(parent_id, name, io.BytesIO(data), len(data))


class OneWay(io.RawIOBase):
    """A stream that cannot seek (e.g. a pipe)."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, size=-1):
        return self._data.read(size)


def counts(emulator):
    """Requests per protocol so far."""
    v2 = sum(n for route, n in emulator.counters.items() if route.startswith("uploads/"))
    v1 = sum(1 for r in emulator.requests if r[0] == "PUT" and "-chunking-" in r[2])
    single = sum(1 for r in emulator.requests if r[0] == "PUT" and "-chunking-" not in r[2]
                 and r[1] == "PUT")
    return {"v2": v2, "v1": v1, "single": single}


def assert_uploaded(adapter, emulator, item, path, data):
    assert item.size == len(data)
    assert item.hash == hashlib.sha1(data).hexdigest()  # the server's checksum, checked
    assert emulator.get(USER, path) == data
    assert b"".join(adapter.download(item.id)) == data
    folder = path.rsplit("/", 1)[0]
    assert not [p for p in emulator.tree(USER) if p.startswith(folder) and "-chunking-" in p]
    assert not emulator._uploads and not emulator._chunks_v1  # nothing left behind


# -- a server without chunking v2 ----------------------------------------------------------------
@pytest.mark.parametrize("refusal", [None, 404, 405, 501],
                         ids=["sabre-no-collection", "404", "405", "501"])
def test_no_v2_falls_back_to_v1_and_remembers(emulators, refusal):
    emulator = emulators(chunking_v2=False, chunking_refusal=refusal)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    assert adapter.chunking_protocols() == ["v2", "v1", "none"]  # advertised

    data = payload()
    item = upload(adapter, root.id, "big.bin", data)
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    first = counts(emulator)
    assert first["v2"] == 1  # the MKCOL of the upload folder, refused: not retried
    assert first["v1"] == 8  # then legacy chunking, 8 pieces of 32 bytes
    assert adapter.chunking_protocols() == ["v1", "none"]
    assert adapter.check_connection()["chunking"] == "v1"

    other = payload(seed=1)
    item = upload(adapter, root.id, "big2.bin", other)
    assert_uploaded(adapter, emulator, item, "/Odoo/big2.bin", other)
    second = counts(emulator)
    assert second["v2"] == first["v2"]  # v2 not tried again
    assert second["v1"] - first["v1"] == 8
    assert second["single"] == first["single"]


# -- a server without chunking v2 nor v1 ---------------------------------------------------------
@pytest.mark.parametrize("refusal", [None, 404, 405, 501],
                         ids=["chunk-stored-as-file", "404", "405", "501"])
def test_no_v2_no_v1_falls_back_to_one_streamed_put(emulators, refusal):
    emulator = emulators(chunking_v2=False, chunking_v1=False, chunking_refusal=refusal)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    data = payload()
    item = upload(adapter, root.id, "big.bin", data)
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    first = counts(emulator)
    assert first["v2"] == 1 and first["v1"] == 1  # one refusal each, then one PUT
    assert first["single"] == 1
    assert adapter.chunking_protocols() == ["none"]
    assert sorted(emulator.tree(USER)) == ["/Odoo", "/Odoo/big.bin"]

    other = payload(seed=1)
    item = upload(adapter, root.id, "big2.bin", other)
    assert_uploaded(adapter, emulator, item, "/Odoo/big2.bin", other)
    second = counts(emulator)
    assert (second["v2"], second["v1"]) == (first["v2"], first["v1"])  # not tried again
    assert second["single"] - first["single"] == 1


def test_legacy_server_without_v1_falls_back_to_streamed_put(emulators):
    """No v2 advertised (legacy webdav endpoint), v1 advertised but ignored."""
    emulator = emulators(dav_chunking=None, chunking_v1=False)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    assert adapter.chunking_protocols() == ["v1", "none"]
    data = payload()
    item = upload(adapter, root.id, "big.bin", data)
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    assert counts(emulator) == {"v2": 0, "v1": 1, "single": 1}
    upload(adapter, root.id, "big2.bin", payload(seed=1))
    assert counts(emulator) == {"v2": 0, "v1": 1, "single": 2}


def test_v2_assembly_refused_falls_back(emulators):
    """The uploads collection takes the pieces but nothing assembles them (MOVE .file 405)."""
    emulator = emulators()
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    emulator.inject("uploads/MOVE", Fault("status", 1, 405))
    data = payload()
    item = upload(adapter, root.id, "big.bin", data)  # seekable: started again with v1
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    assert emulator.counters["uploads/MOVE"] == 1 and counts(emulator)["v1"] == 8
    assert adapter.chunking_protocols() == ["v1", "none"]


def test_non_seekable_stream_is_replayed_without_holding_it_whole(emulators):
    emulator = emulators(chunking_v2=False, chunking_v1=False)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    data = payload()
    item = adapter.upload(root.id, "big.bin", OneWay(data), len(data))
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    assert counts(emulator) == {"v2": 1, "v1": 1, "single": 1}


def test_non_seekable_stream_refused_late_is_transient_then_next_protocol(emulators):
    """All pieces were sent when v2 turned out missing: the stream cannot be read again; the
    error is temporary and the retry goes straight to v1."""
    emulator = emulators()
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    emulator.inject("uploads/MOVE", Fault("status", 1, 501))
    data = payload()
    with pytest.raises(Transient) as err:
        adapter.upload(root.id, "big.bin", OneWay(data), len(data))
    assert err.value.code == "chunking_refused" and err.value.retryable
    assert adapter.find_child(root.id, "big.bin") is None and not emulator._uploads
    before = counts(emulator)
    item = adapter.upload(root.id, "big.bin", OneWay(data), len(data))
    assert_uploaded(adapter, emulator, item, "/Odoo/big.bin", data)
    after = counts(emulator)
    assert after["v2"] == before["v2"] and after["v1"] - before["v1"] == 8


# -- remembered per server -----------------------------------------------------------------------
def test_other_adapters_of_the_server_skip_what_it_refused(emulators):
    emulator = emulators(chunking_v2=False, chunking_v1=False)
    seen = make(emulator)
    root = seen.ensure_root("Odoo")
    upload(seen, root.id, "a.bin", payload())
    first = counts(emulator)
    fresh = make(emulator)  # e.g. another worker, or the client rebuilt after a settings change
    assert fresh.chunking_protocols() == ["none"]
    upload(fresh, root.id, "b.bin", payload(seed=1))
    second = counts(emulator)
    assert (second["v2"], second["v1"]) == (first["v2"], first["v1"])
    # another server is not concerned
    elsewhere = emulators()
    assert make(elsewhere).chunking_protocols() == ["v2", "v1", "none"]
    owncloud_adapter.forget_refused_chunking(emulator.base_url)
    assert make(emulator).chunking_protocols() == ["v2", "v1", "none"]
    assert seen.chunking_protocols() == ["none"]  # an adapter keeps what it saw itself


def test_server_memory_expires(emulators, monkeypatch):
    emulator = emulators(chunking_v2=False)
    adapter = make(emulator)
    upload(adapter, adapter.ensure_root("Odoo").id, "a.bin", payload())
    assert make(emulator).chunking_protocols() == ["v1", "none"]
    monkeypatch.setattr(owncloud_adapter, "CHUNKING_MEMORY", 0)
    assert make(emulator).chunking_protocols() == ["v2", "v1", "none"]


# -- a 404 that means the folder is gone stays NotFound ----------------------------------------
@pytest.mark.parametrize("server", [
    dict(chunking_v2=False),  # v2: Sabre's 409 on MKCOL
    dict(chunking_v2=False, chunking_refusal=404),  # v2: 404
    dict(dav_chunking=None, chunking_v1=False, chunking_refusal=404),  # v1 (legacy): 404
], ids=["v2-409", "v2-404", "v1-404"])
def test_folder_gone_during_upload_is_not_found_not_a_fallback(emulators, monkeypatch, server):
    emulator = emulators(**server)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    folder = adapter.create_folder(root.id, "Record")
    protocols = adapter.chunking_protocols()
    handle = emulator.handle

    def folder_deleted_first(request):
        route = emulator.route_of(request)
        if (route.startswith("uploads/") or "-chunking-" in request.path) \
                and emulator.exists(USER, "/Odoo/Record"):
            emulator.delete(USER, "/Odoo/Record")  # a person deletes it meanwhile
        return handle(request)
    monkeypatch.setattr(emulator, "handle", folder_deleted_first)

    with pytest.raises(NotFound) as err:
        upload(adapter, folder.id, "big.bin", payload())
    assert err.value.path == "/Odoo/Record"
    assert adapter.chunking_protocols() == protocols  # nothing learnt from that 404
    assert protocols[0] == ("v1" if server.get("dav_chunking", "1.0") is None else "v2")
    assert counts(emulator)["single"] == 0  # no fall-back was tried
    assert not emulator.exists(USER, "/Odoo/Record/big.bin")


# -- the size and SHA-1 check still happens after a fall-back --------------------------------
@pytest.mark.parametrize("server", [dict(chunking_v2=False),
                                    dict(chunking_v2=False, chunking_v1=False)],
                         ids=["v1", "single-put"])
def test_verification_after_fallback(emulators, monkeypatch, server):
    emulator = emulators(**server)
    adapter = make(emulator)
    root = adapter.ensure_root("Odoo")
    write = emulator._write_file

    def corrupt(user, path, data, mtime=None):  # the storage flips a byte of big.bin
        if path.endswith("/big.bin"):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return write(user, path, data, mtime=mtime)
    monkeypatch.setattr(emulator, "_write_file", corrupt)
    with pytest.raises(Transient) as err:
        upload(adapter, root.id, "big.bin", payload())
    assert err.value.code == "verify_failed"

    monkeypatch.setattr(emulator, "_write_file", write)
    short = io.BytesIO(payload()[:-10])  # a stream shorter than announced: refused
    with pytest.raises(Exception) as err:
        adapter.upload(root.id, "short.bin", short, SIZE)
    assert getattr(err.value, "code", None) == "size_mismatch"
    assert adapter.find_child(root.id, "short.bin") is None
