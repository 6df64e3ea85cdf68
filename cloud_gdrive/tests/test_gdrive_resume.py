"""A big upload whose worker dies half-way continues its Drive resumable session at the next
attempt, from another adapter (another process), instead of sending everything again
(issues 12, 13); a session Drive no longer has is started again, and another file of the same
name and size never continues it."""
import contextlib
import io
import os
import threading

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import BaseCase, get_db_name

from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter
from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
from odoo.addons.cloud_base.tests.common import CloudTestMixin, DyingStream, WorkerDied

from cloud_emulators.gdrive import DriveEmulator

from ..lib.gdrive_adapter import MiB
from .common import connect_with_grant, gdrive_client_values

SIZE = 24 * MiB  # three chunks of 8 MiB


@tagged("post_install", "-at_install")
class TestGoogleDriveResume(CloudTestMixin, TransactionCase):

    def setUp(self):
        super().setUp()
        self.emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=self.emu.stop, daemon=True).start())
        self.client = connect_with_grant(
            self.env["cloud.client"].create(gdrive_client_values(self.emu)), self.emu)
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
        return self.emu.counters["files.upload"]

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
        self.assertEqual(item.hash, adapter.compute_hash([data]))  # md5Checksum
        self.assertEqual(self.emu.content(item.id), data)

    def test_crashed_upload_continues_its_session(self):
        data = os.urandom(SIZE)
        self.die_during_upload(data, chunks=2)
        self.assertEqual(self.sent(), 16 * MiB)
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
        self.assertEqual(self.sent() - before, SIZE - 8 * MiB)
        self.assertEqual(self.started(), 2)
        self.assertFalse(self.sessions())


@tagged("post_install", "-at_install")
class TestGoogleDriveResumeAfterWorkerDeath(BaseCase):
    """The same with committed data and real transactions, as in production: the dying
    worker's transaction is rolled back, the session it kept survives in its own."""

    def setUp(self):
        super().setUp()
        self.emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=self.emu.stop, daemon=True).start())
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            client = connect_with_grant(
                env["cloud.client"].create(gdrive_client_values(self.emu)), self.emu)
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
        self.assertEqual(self.emu.counters["files.upload"], 1)
        self.assertEqual(self.kept_sessions(), 0)
