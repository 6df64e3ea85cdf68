"""Upload sessions of the OneDrive and Google Drive adapters kept in a store between attempts
(issues 12, 13), in plain Python against the emulators: a new adapter on the same store
continues a session its predecessor left, a provider that cannot tell where a session stands
just now keeps it for the next attempt, and no session address reaches the logs."""
import io
import logging
import os
import threading

import pytest

from cloud_emulators.gdrive import DriveEmulator
from cloud_emulators.graph import GraphEmulator

from odoo.addons.cloud_base.lib.adapter import CloudError
from odoo.addons.cloud_base.lib.upload_sessions import MemoryUploadSessions
from odoo.addons.cloud_base.tests.common import DyingStream, WorkerDied
from odoo.addons.cloud_gdrive.lib.gdrive_adapter import GoogleDriveAdapter
from odoo.addons.cloud_onedrive.lib.graph_adapter import ONEDRIVE_SCOPES, GraphAdapter
from odoo.addons.cloud_onedrive.tests.harness import consent_cache

KiB = 1024


class Graph:
    chunk = 320 * KiB

    def __init__(self):
        self.emu = GraphEmulator().start()
        self.cache = consent_cache(self.emu, ONEDRIVE_SCOPES)

    def adapter(self, store):
        return GraphAdapter(self.emu.client_id, self.emu.client_secret, token_cache=self.cache,
                            base_url=self.emu.base_url, chunk_threshold=self.chunk,
                            chunk_size=self.chunk, timeout=10, max_wait=0, chunk_retries=0,
                            session_store=store)

    def refuse_next_status(self):
        self.emu.fail("upload_chunk", 503, "serviceNotAvailable")

    def stop(self):
        self.emu.stop()


class Drive:
    chunk = 256 * KiB

    def __init__(self):
        self.emu = DriveEmulator().start()
        self.tokens = self.emu.issue_tokens()

    def adapter(self, store):
        return GoogleDriveAdapter(
            refresh_token=self.tokens["refresh_token"], access_token=self.tokens["access_token"],
            client_id=self.emu.client_id, client_secret=self.emu.client_secret,
            base_url=self.emu.base_url, chunk_threshold=self.chunk, chunk_size=self.chunk,
            timeout=10, rate_limit_retries=0, chunk_retries=0, session_store=store)

    def refuse_next_status(self):
        self.emu.server_error("upload_chunk", 503)

    def stop(self):
        threading.Thread(target=self.emu.stop, daemon=True).start()


@pytest.fixture(params=[Graph, Drive], ids=["onedrive", "gdrive"])
def provider(request):
    backend = request.param()
    yield backend
    backend.stop()


def sent(provider):
    return sum(provider.emu.upload_chunk_sizes)


def test_new_adapter_continues_the_session_and_logs_no_address(provider, caplog):
    store = MemoryUploadSessions()
    size = 6 * provider.chunk
    data = os.urandom(size)
    first = provider.adapter(store)
    root = first.ensure_root("Odoo")
    stream = DyingStream(data, 4, lambda: len(provider.emu.upload_chunk_sizes))
    with pytest.raises(WorkerDied):
        first.upload(root.id, "big.bin", stream, size)
    (url, _expires), = store._urls.values()
    # what the suite logs (urllib3 names request paths at DEBUG, below Odoo's default level)
    caplog.set_level(logging.INFO)
    item = provider.adapter(store).upload(root.id, "big.bin", io.BytesIO(data), size)
    assert item.size == size and provider.emu.content(item.id) == data
    assert sent(provider) == size
    assert len(store) == 0
    assert "Resuming the upload of big.bin at byte %d" % (4 * provider.chunk) in caplog.text
    assert url not in caplog.text
    assert url.split("?")[0].rsplit("/", 1)[-1] not in caplog.text


def test_session_kept_when_the_provider_cannot_tell_where_it_stands(provider):
    store = MemoryUploadSessions()
    size = 4 * provider.chunk
    data = os.urandom(size)
    first = provider.adapter(store)
    root = first.ensure_root("Odoo")
    with pytest.raises(WorkerDied):
        first.upload(root.id, "big.bin", DyingStream(
            data, 2, lambda: len(provider.emu.upload_chunk_sizes)), size)
    provider.refuse_next_status()
    second = provider.adapter(store)
    with pytest.raises(CloudError) as error:
        second.upload(root.id, "big.bin", io.BytesIO(data), size)
    assert error.value.retryable
    assert len(store) == 1  # the task retries later and continues it
    item = second.upload(root.id, "big.bin", io.BytesIO(data), size)
    assert provider.emu.content(item.id) == data
    assert sent(provider) == size
    assert len(store) == 0


def test_stream_that_cannot_seek_is_uploaded_without_a_kept_session(provider):
    store = MemoryUploadSessions()
    size = 3 * provider.chunk
    data = os.urandom(size)

    class OneWay(io.RawIOBase):
        def __init__(self):
            self.inner = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            piece = self.inner.read(len(buffer))
            buffer[:len(piece)] = piece
            return len(piece)

    adapter = provider.adapter(store)
    root = adapter.ensure_root("Odoo")
    item = adapter.upload(root.id, "big.bin", io.BufferedReader(OneWay()), size)
    assert provider.emu.content(item.id) == data
    assert len(store) == 0
