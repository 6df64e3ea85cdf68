"""The crash-safe store of unfinished upload sessions (issues 12, 13): kept through a rollback
of the task that wrote them, purged once past their lifetime, on reset and with the client,
readable by system administrators only."""
import datetime
import threading
import time
import uuid

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.cloud_base.models.cloud_upload_session import DatabaseUploadSessions

from .common import CloudCase

SECRET_URL = "https://upload.example.com/session/0123456789abcdef"


@tagged("post_install", "-at_install")
class TestUploadSessionStore(CloudCase):

    def setUp(self):
        super().setUp()
        self.store = self.client._upload_session_store(3600)
        self.Session = self.env["cloud.upload.session"]

    def rows(self, client=None):
        return self.Session.search([("client_id", "=", (client or self.client).id)])

    def test_kept_read_and_dropped(self):
        self.store.put("graph:a", SECRET_URL, size=25 * 1024 ** 3)
        self.assertEqual(self.store.get("graph:a"), SECRET_URL)
        self.assertIsNone(self.store.get("graph:b"))
        self.assertEqual(self.rows().size, 25 * 1024 ** 3)  # beyond what an int4 holds
        self.store.put("graph:a", SECRET_URL + "-2")  # the same upload, a new session
        self.assertEqual(len(self.rows()), 1)
        self.assertEqual(self.store.get("graph:a"), SECRET_URL + "-2")
        self.store.drop("graph:a")
        self.assertIsNone(self.store.get("graph:a"))
        self.assertFalse(self.rows())

    def test_expiry_given_by_the_provider_or_the_lifetime(self):
        self.store.put("gdrive:old", SECRET_URL, expires_at=time.time() - 60)
        self.assertIsNone(self.store.get("gdrive:old"))
        self.store.put("gdrive:new", SECRET_URL)
        expected = fields.Datetime.now() + datetime.timedelta(seconds=3600)
        row = self.rows().filtered(lambda r: r.key == "gdrive:new")
        self.assertLess(abs((row.expires_at - expected).total_seconds()), 60)

    def test_clean_cron_purges_expired_sessions_only(self):
        self.store.put("k:expired", SECRET_URL, expires_at=time.time() - 60)
        self.store.put("k:alive", SECRET_URL, expires_at=time.time() + 3600)
        self.env["cloud.task"]._cron_clean()
        self.assertEqual(self.rows().mapped("key"), ["k:alive"])

    def test_sessions_go_with_a_reset_and_with_the_client(self):
        self.store.put("k:1", SECRET_URL)
        self.client.action_reset()
        for _round in range(4):
            self.fast_forward()
            self.run_queue()
        self.assertEqual(self.client.state, "draft")
        self.assertFalse(self.rows())
        other = self.env["cloud.client"].create({
            "name": "Other", "provider": "memory", "api_base_url": "sessions-%s" % uuid.uuid4()})
        other._upload_session_store(3600).put("k:2", SECRET_URL)
        other.unlink()
        self.assertFalse(self.Session.search([("key", "=", "k:2")]))

    def test_only_system_administrators_see_sessions(self):
        self.store.put("k:secret", SECRET_URL)
        user = new_test_user(self.env, login="session_user", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Session.with_user(user).search([])
        with self.assertRaises(AccessError):
            self.rows().with_user(user).read(["url"])
        self.assertEqual(self.rows().read(["url"])[0]["url"], SECRET_URL)

    def test_transfer_threads_never_use_the_test_cursor(self):
        """Uploads run in the runner's transfer threads: during a test they may not use its
        cursor (the main thread uses it meanwhile), their sessions stay in the process."""
        seen = []

        def transfer():
            self.store.put("k:thread", SECRET_URL)
            seen.append(self.store.get("k:thread"))
            self.store.drop("k:other")

        thread = threading.Thread(target=transfer)
        thread.start()
        thread.join(10)
        self.assertEqual(seen, [SECRET_URL])
        self.assertFalse(self.rows())
        self.assertIsNone(self.store.get("k:thread"))  # the main thread reads the database

    def test_store_of_the_client_belongs_to_its_database_rows(self):
        store = self.client._upload_session_store(3600)
        self.assertIsInstance(store, DatabaseUploadSessions)
        self.assertEqual((store.dbname, store.client_id), (self.env.cr.dbname, self.client.id))


@tagged("post_install", "-at_install")
class TestUploadSessionOwnTransaction(CloudCase):
    """Outside tests the store writes through cursors of its own: a session survives the
    rollback of the task that started it (and so the death of its process)."""

    def setUp(self):
        super().setUp()
        registry = self.env.registry
        with registry.cursor() as cr:  # committed: what a running task's client is
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            self.committed_id = env["cloud.client"].create({
                "name": "Committed", "provider": "memory",
                "api_base_url": "sessions-%s" % uuid.uuid4()}).id
        self.addCleanup(self._delete_committed_client)

    def _delete_committed_client(self):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["cloud.client"].browse(self.committed_id).unlink()

    def _count(self, key):
        with self.env.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM cloud_upload_session WHERE client_id = %s "
                       "AND key = %s", [self.committed_id, key])
            return cr.fetchone()[0]

    def test_session_survives_the_rollback_of_the_task(self):
        store = DatabaseUploadSessions(self.env.cr.dbname, self.committed_id, 3600)
        with self.env.registry.cursor() as task_cr:
            task_env = api.Environment(task_cr, SUPERUSER_ID, {})
            task_env["cloud.client"].browse(self.committed_id).name = "Renamed by the task"
            store.put("graph:big", SECRET_URL)
            task_env.flush_all()
            task_cr.rollback()  # the task failed, or its worker died
        self.assertEqual(self._count("graph:big"), 1)
        self.assertEqual(DatabaseUploadSessions(self.env.cr.dbname, self.committed_id, 3600)
                         .get("graph:big"), SECRET_URL)  # another process's store
        store.drop("graph:big")
        self.assertEqual(self._count("graph:big"), 0)
