"""Every task ends: a task that kills its worker, or that waits for ever, fails and is logged
after a limit (issue 11, loss paths)."""
import datetime

from odoo import fields
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestTaskLimits(CloudCase):

    def setUp(self):
        super().setUp()
        self.make_rule()
        self.partner = self.Partner.create({"name": "Limits"})

    def error_logs(self, text):
        return self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                             ("level", "=", "error"),
                                             ("message", "like", text)])

    def test_abandoned_task_fails_after_max_attempts(self):
        self.sync()
        doc = self.attach(self.partner, "killer.bin", b"kills its worker")
        self.client._prepare_direct()
        task = self.Task.search([("attachment_id", "=", doc.id)])
        later = self.attach(self.partner, "fine.txt", b"fine")
        self.client._prepare_direct()
        # five workers died while running it: the lease of the fifth ran out
        past = fields.Datetime.now() - datetime.timedelta(hours=1)
        task.write({"state": "running", "attempts": 5, "lease_until": past})
        self.run_queue()
        self.assertEqual(task.state, "failed")
        self.assertEqual(task.attempts, 6)
        self.assertIn("stopped 6 times", task.last_error)
        self.assertTrue(self.error_logs("stopped 6 times"))
        self.assertSynced(later, b"fine")  # the rest of the queue went on
        self.assertEqual(doc.type, "binary")  # the file stays in Odoo

    def test_deferred_task_fails_after_max_deferrals(self):
        self.env["ir.config_parameter"].sudo().set_param("cloud_base.max_deferrals", 3)
        # the object folder can never be created: its task fails for good
        self.adapter.faults.inject("create_folder", cloud.InvalidRequest("refused"), count=100)
        doc = self.attach(self.partner, "waiting.txt", b"waits")
        self.client._prepare_direct()
        task = self.Task.search([("attachment_id", "=", doc.id)])
        for _round in range(6):
            self.fast_forward()
            self.run_queue()
        self.assertEqual(task.state, "failed")
        self.assertIn("Waited too long", task.last_error)
        self.assertTrue(self.error_logs("Waited too long"))
        doc.invalidate_recordset()
        self.assertEqual(doc.raw, b"waits")  # still in Odoo, nothing lost
        # retrying starts the count again
        task.action_retry()
        self.assertEqual((task.state, task.deferrals), ("pending", 0))

    def test_batch_claim_counts_only_the_task_its_worker_was_running(self):
        """Tasks are claimed in batches (issue 15): when a worker dies in the middle of one,
        the task it was running counts a stopped attempt, those it never started do not."""
        self.sync()
        docs = [self.attach(self.partner, "f%d.txt" % i, b"data %d" % i) for i in range(4)]
        self.client._prepare_direct()
        claimed = self.Task._claim(4)
        tasks = self.Task.browse([task_id for task_id, _folders in claimed])
        self.assertEqual(set(tasks.attachment_id.ids), {doc.id for doc in docs})
        self.assertEqual(tasks.ids, sorted(tasks.ids))  # the order they run in
        self.assertEqual(set(tasks.mapped("state")), {"running"})
        self.assertEqual(len(set(tasks.mapped("claim_token"))), 1)
        # the worker finished the first task, then died while running the second
        tasks[0]._execute()
        tasks.write({"lease_until": fields.Datetime.now() - datetime.timedelta(hours=1)})
        self.run_queue()
        self.assertEqual(tasks.mapped("state"), ["done"] * 4)
        self.assertEqual(tasks.mapped("attempts"), [0, 1, 0, 0])
        for i, doc in enumerate(docs):
            self.assertSynced(doc, b"data %d" % i)

    def test_stopped_run_gives_back_what_it_did_not_start(self):
        self.client.transfer_concurrency = 1  # one call after the other (see test_transfers)
        self.sync()
        for i in range(3):
            self.attach(self.partner, "g%d.txt" % i, b"g")
        self.client._prepare_direct()
        self.assertEqual(self.run_queue(max_tasks=1), 1)
        waiting = self.Task.search([("client_id", "=", self.client.id),
                                    ("type", "=", "file_upload"), ("state", "!=", "done")])
        self.assertEqual(len(waiting), 2)
        self.assertEqual(set(waiting.mapped("state")), {"pending"})
        self.assertEqual(waiting.mapped("attempts"), [0, 0])
        self.assertFalse(any(waiting.mapped("lease_until")))
        # a client that lost its authorization: what its batch still holds goes back too
        self.adapter.faults.inject("upload", cloud.AuthExpired("revoked"))
        calls = self.adapter.calls["upload"]
        self.run_queue()
        self.assertEqual(self.client.state, "reconnect")
        self.assertEqual(set(waiting.mapped("state")), {"pending"})
        self.assertEqual(waiting.mapped("attempts"), [0, 0])
        self.assertEqual(self.adapter.calls["upload"], calls + 1)  # the second waits

    def test_task_deleted_after_its_claim_is_skipped(self):
        """A claimed task can vanish before its turn (its attachment deleted meanwhile): the
        run goes on with the rest of its batch."""
        self.sync()
        docs = [self.attach(self.partner, "h%d.txt" % i, b"h %d" % i) for i in range(3)]
        self.client._prepare_direct()
        Task = type(self.Task)
        original = Task._execute

        victims = []

        def first_deletes_another(task, **kwargs):
            if not victims:
                # the last task of the batch loses its attachment (and goes with it: cascade)
                last = self.Task.search([("client_id", "=", self.client.id),
                                         ("state", "=", "running"), ("id", "!=", task.id)],
                                        order="id desc", limit=1)
                victims.append(last.attachment_id.id)
                last.attachment_id.unlink()
            return original(task, **kwargs)

        self.patch(Task, "_execute", first_deletes_another)
        self.assertEqual(self.run_queue(task_types=["file_upload"]), 2)
        self.assertFalse(self.Task.search([("client_id", "=", self.client.id),
                                           ("state", "in", ("pending", "running"))]))
        self.assertEqual(len(victims), 1)
        for i, doc in enumerate(docs):
            if doc.id not in victims:
                self.assertSynced(doc, b"h %d" % i)
