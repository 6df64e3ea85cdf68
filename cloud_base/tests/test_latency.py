"""Issue 15 §4: a new file of a synced record, or a renamed record, reaches the cloud within a
minute: the change queues its work and wakes the crons; a run that leaves work behind tells
Odoo, which runs it again at once."""
from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestLatency(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann = self.Partner.create({"name": "Ann"})
        self.rule = self.make_rule(domain="[('id', '=', %d)]" % self.ann.id)
        self.sync()
        self.run_cron = self.env.ref("cloud_base.cron_run_queue")
        self.plan_cron = self.env.ref("cloud_base.cron_prepare_queue")

    def triggers(self, cron):
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])

    def test_new_file_of_a_synced_record_is_queued_and_the_runner_woken(self):
        before = self.triggers(self.run_cron)
        doc = self.attach(self.ann, "new.pdf", b"%PDF new")
        task = self.Task.search([("attachment_id", "=", doc.id), ("state", "=", "pending")])
        self.assertEqual(task.type, "file_upload")
        self.assertEqual(task.folder_id.res_id, self.ann.id)
        self.assertEqual(self.triggers(self.run_cron), before + 1)
        # the planner finds the same work and merges with it
        self.client._prepare_direct()
        self.assertEqual(self.Task.search_count([("attachment_id", "=", doc.id)]), 1)
        self.run_queue()
        self.assertEqual(doc.type, "url")

    def test_files_of_records_without_a_folder_wait_for_the_planner(self):
        bob = self.Partner.create({"name": "Bob"})  # not in the rule
        doc = self.attach(bob, "other.pdf", b"other")
        self.assertFalse(self.Task.search_count([("attachment_id", "=", doc.id)]))
        page = self.attach(self.ann, "page.html", b"<p>kept</p>", mimetype="text/html")
        self.assertFalse(self.Task.search_count([("attachment_id", "=", page.id)]))

    def test_renamed_record_wakes_the_planner_once(self):
        before = self.triggers(self.plan_cron)
        self.ann.name = "Ann Smith"
        self.ann.name = "Ann B. Smith"  # same transaction: one trigger
        self.assertEqual(self.triggers(self.plan_cron), before + 1)
        self.ann.comment = "not part of the folder name"
        self.assertEqual(self.triggers(self.plan_cron), before + 1)
        self.client._prepare_direct()
        self.run_queue()
        self.assertIn("/Odoo/Contacts/Ann B. Smith", self.store.tree())

    def test_field_of_the_name_expression_wakes_the_planner(self):
        """The fields a name expression reads are ``object.<field>``: writing one is a rename
        (it once looked for ``record.<field>``, so only display name fields woke it)."""
        self.rule.name_expression = "${object.ref or object.name}"
        self.sync()
        before = self.triggers(self.plan_cron)
        self.ann.ref = "C-042"
        self.assertEqual(self.triggers(self.plan_cron), before + 1)
        self.client._prepare_direct()
        self.run_queue()
        self.assertIn("/Odoo/Contacts/C-042", self.store.tree())

    def test_a_run_that_leaves_work_reports_it_to_odoo(self):
        for n in range(3):
            self.attach(self.ann, "f%d.txt" % n, b"x%d" % n)
        progress = self.env["ir.cron.progress"].sudo().create({
            "cron_id": self.run_cron.id, "done": 0, "remaining": 0})
        Task = self.Task.with_context(ir_cron_progress_id=progress.id)
        self.patch(type(self.Task), "_time_budget", lambda model: 0)  # stops at once
        Task._cron_run_queue()
        self.assertEqual((progress.done, progress.remaining), (0, 3))
        self.patch(type(self.Task), "_time_budget", lambda model: 600)
        Task._cron_run_queue()
        self.assertEqual((progress.done, progress.remaining), (3, 0))
