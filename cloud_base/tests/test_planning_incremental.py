import datetime

from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestIncrementalPlanning(CloudCase):
    """Issue 15 §3: between two full plans, a plan looks only at what changed since the last
    one (records and attachments written, object folders written by others, deleted records),
    with the same result as a full plan."""

    def setUp(self):
        super().setUp()
        self.ann, self.bob, self.cid, self.dan = self.Partner.create([
            {"name": name} for name in ("Ann", "Bob", "Cid", "Dan")])
        people = self.ann | self.bob | self.cid | self.dan
        self.rule = self.make_rule(
            domain="[('id', 'in', %s), ('name', 'not like', 'Gone%%')]" % people.ids)
        for partner in people:
            self.attach(partner, "%s.txt" % partner.name, b"data")
        self.sync()
        self.tick()
        self.plan()  # what the run wrote is looked at once
        self.tick()

    def tick(self, **delta):
        """The clock moves on: what follows happens in a later transaction."""
        self.env.flush_all()
        self.env.cr._now = self.env.cr.now() + datetime.timedelta(**(delta or {"minutes": 5}))

    def plan(self):
        """``(queries, new tasks)`` of a plan of the client."""
        self.env.flush_all()
        self.env.invalidate_all()
        before_tasks = self.Task.search([]).ids
        before = self.env.cr.sql_log_count
        self.client._prepare_direct()
        self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        return queries, self.Task.search([("id", "not in", before_tasks)])

    def full_plan_at(self):
        return self.client.sudo().plan_full_at

    def test_nothing_changed_no_task_few_queries(self):
        full_at = self.full_plan_at()
        queries, tasks = self.plan()
        self.assertFalse(tasks)
        self.assertEqual(self.full_plan_at(), full_at, "not a full plan")
        # the records are not read one by one: a few queries per model and per rule
        self.assertLessEqual(queries, 25)

    def test_changes_are_planned(self):
        full_at = self.full_plan_at()
        ann_folder, cid_folder, dan_folder = (self.folder_of(p)
                                              for p in (self.ann, self.cid, self.dan))
        self.ann.name = "Ann Smith"
        # an attachment the create hook did not queue (added by the engine's own means)
        new = self.Attachment.sudo().with_context(cloud_sync=True).create({
            "name": "new.txt", "raw": b"new", "res_model": "res.partner", "res_id": self.bob.id})
        cid_folder_cloud_id = cid_folder.cloud_id
        self.cid.unlink()
        self.dan.name = "Gone Dan"  # leaves the rule's filter
        self.tick()
        _queries, tasks = self.plan()
        self.assertEqual(self.full_plan_at(), full_at, "not a full plan")
        self.assertEqual(
            sorted((t.type, t.folder_id.id, t.attachment_id.id) for t in tasks
                   if t.type != "file_delete"),
            sorted([("folder_rename", ann_folder.id, False),
                    ("file_upload", self.folder_of(self.bob).id, new.id),
                    ("folder_delete", self.rule.folder_id.id, False)]))
        deletion = tasks.filtered(lambda t: t.type == "folder_delete")
        self.assertEqual(deletion.payload["cloud_id"], cid_folder_cloud_id)
        self.assertFalse(cid_folder.exists())
        self.assertEqual(dan_folder.state, "detached")
        self.assertEqual(ann_folder.name, "Ann Smith")
        # a full plan finds nothing more to do
        self.tick()
        _queries, tasks = self.plan_full()
        self.assertFalse(tasks)
        self.run_queue()
        self.assertIn("/Odoo/Contacts/Ann Smith/Ann.txt", self.tree())
        self.assertIn("/Odoo/Contacts/Bob/new.txt", self.tree())
        self.assertNotIn("/Odoo/Contacts/Cid/Cid.txt", self.tree())

    def plan_full(self):
        self.client = self.client.with_context(cloud_full_plan=True)
        try:
            return self.plan()
        finally:
            self.client = self.client.with_context(cloud_full_plan=False)

    def test_back_in_the_filter(self):
        self.dan.name = "Gone Dan"
        self.tick()
        self.plan()
        folder = self.folder_of(self.dan)
        self.assertEqual(folder.state, "detached")
        self.tick()
        self.dan.name = "Dan"
        self.tick()
        self.plan()
        self.assertEqual(folder.state, "synced")

    def test_full_plan_when_due(self):
        # a change no write tells of (by SQL): only a full plan sees it
        self.env.cr.execute("UPDATE res_partner SET name = 'Annie' WHERE id = %s",
                            [self.ann.id])
        self.ann.invalidate_recordset()
        folder = self.folder_of(self.ann)
        full_at = self.full_plan_at()
        self.plan()
        self.assertEqual(folder.name, "Ann")
        self.assertEqual(self.full_plan_at(), full_at)
        self.env["ir.config_parameter"].sudo().set_param("cloud_base.full_plan_hours", "1")
        self.tick(hours=2)
        _queries, tasks = self.plan()
        self.assertEqual(self.full_plan_at(), self.env.cr.now())
        self.assertEqual(folder.name, "Annie")
        self.assertEqual(tasks.mapped("type"), ["folder_rename"])

    def test_full_plan_when_a_rule_or_setting_changes(self):
        full_at = self.full_plan_at()
        self.rule.domain = "[('id', 'in', %s)]" % self.ann.ids
        self.tick()
        self.plan()
        self.assertEqual(self.full_plan_at(), self.env.cr.now())
        self.assertGreater(self.full_plan_at(), full_at)
        self.assertEqual(self.folder_of(self.bob).state, "detached")
        self.tick()
        self.plan()
        self.assertLess(self.full_plan_at(), self.env.cr.now(), "then the changes only")
        self.env["ir.config_parameter"].sudo().set_param("cloud_base.local_mimetypes",
                                                         "text/html")
        self.tick()
        self.plan()
        self.assertEqual(self.full_plan_at(), self.env.cr.now())


@tagged("post_install", "-at_install")
class TestIncrementalPlanningRelations(CloudCase):
    """A rule may read its records through a relation (a filter on ``country_id.name``, a
    name expression with ``object.country_id.code``): a change of the related record leaves
    the record's own write date alone, and still reaches the next plan between two full
    ones."""

    def setUp(self):
        super().setUp()
        self.elsewhere, self.cloudland = self.env["res.country"].create([
            {"name": "Elsewhere", "code": "XA"}, {"name": "Cloudland", "code": "XB"}])
        self.ann, self.bob = self.Partner.create([
            {"name": "Ann", "country_id": self.elsewhere.id},
            {"name": "Bob", "country_id": self.cloudland.id}])
        self.make_rule(domain="[('id', 'in', %s), ('country_id.name', 'like', 'Cloud')]"
                       % (self.ann | self.bob).ids,
                       name_expression="${object.name} (${object.country_id.code})")
        self.sync()
        self.assertEqual(self.folder_of(self.bob).name, "Bob (XB)")
        self.assertFalse(self.folder_of(self.ann))
        TestIncrementalPlanning.tick(self)
        TestIncrementalPlanning.plan(self)
        TestIncrementalPlanning.tick(self)
        self.full_at = self.client.sudo().plan_full_at

    def plan(self):
        _queries, tasks = TestIncrementalPlanning.plan(self)
        self.assertEqual(self.client.sudo().plan_full_at, self.full_at, "not a full plan")
        return tasks

    def test_related_record_brings_a_record_into_the_filter(self):
        ann_written = self.ann.write_date
        self.elsewhere.name = "Cloudshire"
        self.env.flush_all()
        self.ann.invalidate_recordset()
        self.assertEqual(self.ann.write_date, ann_written, "the partner itself was not written")
        TestIncrementalPlanning.tick(self)
        tasks = self.plan()
        self.assertEqual(tasks.mapped(lambda t: (t.type, t.folder_id.name)),
                         [("folder_create", "Ann (XA)")])

    def test_related_record_renames_the_folder(self):
        self.cloudland.code = "XC"
        TestIncrementalPlanning.tick(self)
        tasks = self.plan()
        self.assertEqual(tasks.mapped(lambda t: (t.type, t.folder_id.name)),
                         [("folder_rename", "Bob (XC)")])
