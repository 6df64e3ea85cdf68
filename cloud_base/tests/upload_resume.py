"""Upload sessions that survive a worker's death, written once for the providers that resume
them (issues 12, 13): a big upload whose worker dies half-way continues its session at the next
attempt, from another adapter (another process), instead of sending everything again; a session
the provider no longer has is started again; another file of the same name and size never
continues it.

A provider runs them with a small driver class per mixin, next to its emulator::

    @tagged("post_install", "-at_install")
    class TestDriveResume(UploadResumeScenarios, DriveCase):
        chunk_size = 8 * MiB              # the size of the session's full chunks
        started_counter = "files.upload"  # the emulator's counter of sessions started

        def resume_client(self):
            return self.make_client()     # connected; ``self.emu`` is its emulator

The emulator gives ``upload_chunk_sizes`` (the chunks received), ``content(item_id)``,
``expire_upload_sessions()`` and ``counters``.
"""
import contextlib
import io
import os

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests.common import get_db_name

from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter

from .common import DyingStream, WorkerDied

MiB = 1024 * 1024
SIZE = 24 * MiB  # more than two chunks of the providers' sessions


class UploadResumeScenarios:
    """In the test's transaction (a ``TransactionCase`` driver)."""

    allow_inherited_tests_method = True  # Odoo's loader runs the tests defined here
    chunk_size = None
    started_counter = None

    def resume_client(self):
        """A connected client of the provider; ``self.emu`` is its emulator."""
        raise NotImplementedError

    def setUp(self):
        super().setUp()
        self.client = self.resume_client()
        self.root = self.fresh_adapter().ensure_root("Odoo")

    def fresh_adapter(self):
        """The adapter a new worker process builds for the client."""
        self.client._drop_adapter()
        return RecordingAdapter(self.client._get_adapter(), MemoryMergeBase())

    def sessions(self):
        return self.env["cloud.upload.session"].search([("client_id", "=", self.client.id)])

    def sent(self):
        return sum(self.emu.upload_chunk_sizes)

    def started(self):
        return self.emu.counters[self.started_counter]

    def die_during_upload(self, data, chunks, name="big.bin"):
        stream = DyingStream(data, chunks, lambda: len(self.emu.upload_chunk_sizes))
        adapter = self.fresh_adapter()
        # not assertRaises: in Odoo tests it rolls back what its block wrote
        with contextlib.suppress(WorkerDied):
            adapter.upload(self.root.id, name, stream, len(data))
            self.fail("the worker did not die")
        self.assertEqual(len(self.sessions()), 1, "the session is kept for the next attempt")

    def assertUploaded(self, adapter, item, data):
        self.assertEqual(item.size, len(data))
        self.assertEqual(item.hash, adapter.compute_hash([data]))  # the provider's own hash
        self.assertEqual(self.emu.content(item.id), data)

    def test_crashed_upload_continues_its_session(self):
        data = os.urandom(SIZE)
        self.die_during_upload(data, chunks=2)
        self.assertEqual(self.sent(), 2 * self.chunk_size)
        adapter = self.fresh_adapter()
        item = adapter.upload(self.root.id, "big.bin", io.BytesIO(data), SIZE)
        self.assertEqual(self.sent(), SIZE)  # the last chunk only
        self.assertUploaded(adapter, item, data)
        self.assertLess(self.sent(), 1.3 * SIZE)
        self.assertEqual(self.started(), 1)
        self.assertFalse(self.sessions(), "the finished session is forgotten")

    def test_expired_session_starts_again(self):
        data = os.urandom(SIZE)
        self.die_during_upload(data, chunks=1)
        self.emu.expire_upload_sessions()
        before = self.sent()
        adapter = self.fresh_adapter()
        item = adapter.upload(self.root.id, "big.bin", io.BytesIO(data), SIZE)
        self.assertUploaded(adapter, item, data)
        self.assertEqual(self.sent() - before, SIZE)  # everything once more
        self.assertEqual(self.started(), 2)
        self.assertFalse(self.sessions())

    def test_other_file_of_same_name_and_size_never_continues_a_session(self):
        first, second = os.urandom(SIZE), os.urandom(SIZE)
        self.die_during_upload(first, chunks=1)
        before = self.sent()
        adapter = self.fresh_adapter()
        item = adapter.upload(self.root.id, "big.bin", io.BytesIO(second), SIZE)
        self.assertUploaded(adapter, item, second)
        self.assertEqual(self.sent() - before, SIZE)
        self.assertEqual(len(self.sessions()), 1, "the first file's session is still kept")
        # the first file's session was left alone: it still continues where it stood
        adapter.delete(item.id)
        before = self.sent()
        item = adapter.upload(self.root.id, "big.bin", io.BytesIO(first), SIZE)
        self.assertUploaded(adapter, item, first)
        self.assertEqual(self.sent() - before, SIZE - self.chunk_size)
        self.assertEqual(self.started(), 2)
        self.assertFalse(self.sessions())


class UploadResumeAfterWorkerDeath:
    """The same with committed data and real transactions, as in production (a ``BaseCase``
    driver): the dying worker's transaction is rolled back, the session it kept survives in
    its own."""

    allow_inherited_tests_method = True
    started_counter = None

    def start_emulator(self):
        """A started emulator of the provider, stopped when the test ends."""
        raise NotImplementedError

    def connected_client(self, env):
        """A client of the provider connected to ``self.emu``, created in ``env``."""
        raise NotImplementedError

    def setUp(self):
        super().setUp()
        self.emu = self.start_emulator()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            client = self.connected_client(env)
            self.client_id, self.root_id = client.id, client.root_folder_id.cloud_id
        self.addCleanup(self._delete_client)

    def _delete_client(self):
        with self.registry.cursor() as cr:
            client = api.Environment(cr, SUPERUSER_ID, {})["cloud.client"].browse(self.client_id)
            client._drop_adapter()
            client.unlink()

    @contextlib.contextmanager
    def worker(self):
        """A new worker process: its own transaction and a freshly built adapter."""
        with self.registry.cursor() as cr:
            client = api.Environment(cr, SUPERUSER_ID, {})["cloud.client"].browse(self.client_id)
            client._drop_adapter()
            yield client._get_adapter()

    def kept_sessions(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM cloud_upload_session WHERE client_id = %s",
                       [self.client_id])
            return cr.fetchone()[0]

    def test_session_survives_the_death_of_the_worker(self):
        data = os.urandom(SIZE)
        stream = DyingStream(data, 2, lambda: len(self.emu.upload_chunk_sizes))
        with contextlib.suppress(WorkerDied), self.worker() as adapter:
            adapter.upload(self.root_id, "big.bin", stream, SIZE)
            self.fail("the worker did not die")
        # the worker's transaction was rolled back with it: the session was not in it
        self.assertEqual(self.kept_sessions(), 1)
        with self.worker() as adapter:
            item = adapter.upload(self.root_id, "big.bin", io.BytesIO(data), SIZE)
        self.assertEqual(self.emu.content(item.id), data)
        self.assertEqual(sum(self.emu.upload_chunk_sizes), SIZE)
        self.assertEqual(self.emu.counters[self.started_counter], 1)
        self.assertEqual(self.kept_sessions(), 0)
