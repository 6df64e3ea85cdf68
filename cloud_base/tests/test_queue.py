import threading

from odoo import api
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.memory_adapter import drop_store

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestQueue(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann = self.Partner.create({"name": "Ann"})
        self.rule = self.make_rule(domain="[('id', '=', %d)]" % self.ann.id)

    def test_r_q_1_structure_before_files_oldest_first(self):
        self.attach(self.ann, "a.txt", b"a")
        self.client._prepare_direct()
        types = self.Task.search([("state", "=", "pending")]).mapped("type")
        # the root exists since Connect: rule folder, object folder, then the file
        self.assertEqual(types, ["folder_create", "folder_create", "file_upload"])
        done_order = []
        original = self.Task.__class__._execute

        def spy(task, **kwargs):
            done_order.append(task.type)
            return original(task, **kwargs)

        self.patch(self.Task.__class__, "_execute", spy)
        self.run_queue()
        self.assertEqual(done_order, sorted(done_order, key=lambda t: t != "folder_create"))

    def test_r_q_2_crons_and_buttons(self):
        for xmlid, name in (("cron_prepare_queue", "Prepare cloud sync queue"),
                            ("cron_run_queue", "Run cloud sync queue"),
                            ("cron_clean_queue", "Clean cloud sync queue and logs")):
            cron = self.env.ref("cloud_base.%s" % xmlid)
            self.assertEqual(cron.name, name)
            self.assertTrue(cron.active)
        self.attach(self.ann, "a.txt", b"a")
        self.env.ref("cloud_base.cron_prepare_queue").method_direct_trigger()
        self.assertTrue(self.Task.search_count([("type", "=", "file_upload")]))
        self.assertTrue(self.Task.search_count([("type", "=", "backward")]))
        self.env.ref("cloud_base.cron_run_queue").method_direct_trigger()
        self.assertIn("/Odoo/Contacts/Ann/a.txt", self.tree())
        self.assertEqual(self.client.task_done_today_count,
                         self.Task.search_count([("state", "=", "done")]))
        self.client.action_sync_now()
        self.client.action_backward_sync_now()
        self.client.invalidate_recordset()
        self.assertEqual(self.client.task_pending_count, 1)  # the backward run

    def test_r_q_3_stops_before_time_budget(self):
        self.client.transfer_concurrency = 1  # one call after the other: 50 ms each
        for i in range(5):
            self.attach(self.ann, "f%d.txt" % i, b"x")
        self.client._prepare_direct()
        self.adapter.latency = 0.05
        ran = self.Task._run_queue(time_budget=0.12)
        self.assertGreaterEqual(ran, 1)
        self.assertLess(ran, 8)
        self.assertTrue(self.Task.search_count([("state", "=", "pending")]))
        self.adapter.latency = 0
        self.run_queue()
        self.assertFalse(self.Task.search_count([("state", "=", "pending")]))
        self.assertGreaterEqual(self.Task._time_budget(), 10)

    def test_r_q_5_backoff_retry_after_then_failed_without_blocking(self):
        bob = self.Partner.create({"name": "Bob"})
        self.rule.domain = "[('id', 'in', %s)]" % [self.ann.id, bob.id]
        self.attach(self.ann, "a.txt", b"a")
        other = self.attach(bob, "b.txt", b"b")
        self.sync()  # folders
        # a fresh upload meets faults
        doc2 = self.attach(self.ann, "c.txt", b"c")
        self.adapter.faults.inject("upload", cloud.RateLimited("slow down", retry_after=42))
        self.client._prepare_direct()
        self.run_queue()
        task = self.Task.search([("attachment_id", "=", doc2.id)])
        self.assertEqual(task.state, "pending")
        self.assertEqual(task.attempts, 1)
        delay = (task.next_attempt - task.write_date).total_seconds()
        self.assertGreaterEqual(delay, 35)  # Retry-After honoured (not the 60 s back-off)
        self.assertLess(delay, 55)
        # always failing: retried with growing delays, then failed, others go on
        self.adapter.faults.inject("upload", cloud.Transient("server down", code=503), count=50)
        delays = []
        for _ in range(10):
            self.fast_forward()
            self.run_queue()
            task.invalidate_recordset()
            if task.state == "failed":
                break
            delays.append((task.next_attempt - task.write_date).total_seconds())
        self.assertEqual(task.state, "failed")
        self.assertEqual(delays, sorted(delays))
        error = self.env["cloud.log"].search([("level", "=", "error"),
                                              ("client_id", "=", self.client.id)], limit=1)
        self.assertIn("server down", error.message)
        self.assertIn("503", error.message)
        self.adapter.faults.clear()
        doc3 = self.attach(bob, "d.txt", b"d")
        self.sync()
        self.assertSynced(doc3, b"d")
        self.assertTrue(other)
        task.action_retry()
        self.run_queue()
        self.assertSynced(doc2, b"c")

    def test_r_q_6_redundant_tasks_merged(self):
        self.sync()
        folder = self.folder_of(self.ann)
        self.ann.name = "B"
        self.client._prepare_direct()
        self.ann.name = "C"
        self.client._prepare_direct()
        renames = self.Task.search([("type", "=", "folder_rename"), ("state", "=", "pending")])
        self.assertEqual(len(renames), 1)
        self.run_queue()
        self.assertEqual(self.adapter.calls["rename"], 1)
        self.assertEqual(self.store.items[folder.cloud_id].name, "C")
        # upload then delete = nothing
        doc = self.attach(self.ann, "tmp.txt", b"tmp")
        self.client._prepare_direct()
        doc.unlink()
        uploads = self.adapter.calls["upload"]
        self.run_queue()
        self.assertEqual(self.adapter.calls["upload"], uploads)
        self.assertEqual(self.adapter.calls["delete"], 0)

    def test_r_con_3_revoked_credentials_keep_queue(self):
        self.sync()
        doc = self.attach(self.ann, "a.txt", b"a")
        self.adapter.faults.inject("upload", cloud.AuthExpired("refresh token revoked"))
        self.client._prepare_direct()
        self.run_queue()
        self.assertEqual(self.client.state, "reconnect")
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertEqual((task.state, task.attempts), ("pending", 0))
        self.assertIn("needs to be reconnected", self.client.message_ids[0].body)
        self.assertFalse(self.run_queue())  # nothing runs for this client meanwhile
        self.client.action_reconnect()
        self.run_queue()
        self.assertSynced(doc, b"a")

    def test_r_con_5_secrets_for_administrators_only(self):
        self.client._set_secret("password", "s3cret")
        self.assertEqual(self.client._get_secret("password"), "s3cret")
        user = self.env["res.users"].create({
            "name": "Simple", "login": "simple-cloud",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id])]})
        from odoo.exceptions import AccessError
        with self.assertRaises(AccessError):
            self.env["cloud.client.secret"].with_user(user).search([]).read(["value"])
        with self.assertRaises(AccessError):
            self.client.with_user(user).read(["api_base_url"])
        logs = " ".join(self.env["cloud.log"].search([]).mapped("message"))
        self.assertNotIn("s3cret", logs)


@tagged("post_install", "-at_install")
class TestConcurrentRunners(BaseCase):
    """R-Q-4 with two real database connections and threads, committed data."""

    def test_r_q_4_two_runners_never_run_a_task_twice(self):
        import uuid
        from odoo.modules.registry import DummyRLock, Registry
        from odoo.tools import config
        dbname = config["db_name"]
        if isinstance(dbname, list):
            dbname = dbname[0]
        registry = Registry(dbname)
        # the test runner holds the registry lock while it loads modules; worker threads need
        # the registry too (as in HttpCase's test mode)
        self.patch(Registry, "_lock", DummyRLock())
        store_name = "concurrency-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, store_name)
        with db_connect(dbname).cursor() as cr:
            env = api.Environment(cr, 1, {})
            client = env["cloud.client"].create({"name": "Concurrency", "provider": "memory",
                                                 "api_base_url": store_name})
            client.action_connect()
            root = client.root_folder_id
            folders = env["cloud.folder"].create([
                {"name": "F%03d" % i, "client_id": client.id, "kind": "rule",
                 "parent_id": root.id} for i in range(40)])
            for folder in folders:
                env["cloud.task"]._enqueue(client, "folder_create", folder=folder)
            # the other connections must see it
            cr.commit()  # pylint: disable=invalid-commit
            client_id, folder_ids = client.id, folders.ids

        seen = []
        errors = []
        lock = threading.Lock()

        def runner():
            try:
                run()
            except Exception as exc:  # surfaced by the assertion below
                errors.append(repr(exc))

        def run():
            with db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, 1, {})
                env["cloud.task"]._run_queue(time_budget=60, client_ids=[client_id])

        Task = registry["cloud.task"]
        original = Task._execute

        def spy(task, **kwargs):
            with lock:
                seen.append(task.id)
            return original(task, **kwargs)

        self.patch(Task, "_execute", spy)

        try:
            self.assertFalse(registry.in_test_mode())
            threads = [threading.Thread(target=runner) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            self.assertFalse(errors)
            self.assertEqual(len(seen), 40)
            self.assertEqual(len(set(seen)), 40)
            with db_connect(dbname).cursor() as cr:
                cr.execute("SELECT count(*) FROM cloud_folder WHERE id IN %s AND cloud_id IS "
                           "NOT NULL", [tuple(folder_ids)])
                self.assertEqual(cr.fetchone()[0], 40)
            from ..lib.memory_adapter import get_store
            self.assertEqual(len(get_store(store_name).children(
                get_store(store_name).child_named("root", "Odoo").id)), 40)
        finally:
            with db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, 1, {})
                env["cloud.client"].browse(client_id).unlink()
                cr.commit()  # pylint: disable=invalid-commit
