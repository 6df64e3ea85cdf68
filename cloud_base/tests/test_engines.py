"""The named engines' extension points: the task table, the one merging rule, the placement
strategies of rules."""
from odoo.tests import tagged

from odoo.addons.cloud_base.models import cloud_placement
from odoo.addons.cloud_base.models.cloud_task import TaskBatch, TaskType, covers

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestTaskTable(CloudCase):

    def test_core_types_priorities_and_labels(self):
        table = self.Task._task_types()
        # reverse, then structure, then files, then backward (R-Q-1, R-REV-2)
        self.assertEqual({key: t.priority for key, t in table.items()}, {
            "reverse": 5, "folder_create": 10, "folder_rename": 10, "folder_move": 10,
            "file_rename": 15, "file_upload": 20, "file_update": 20, "file_move": 20,
            "file_delete": 25, "folder_delete": 26, "backward": 30})
        selection = self.Task.fields_get(["type"])["type"]["selection"]
        self.assertEqual([key for key, _label in selection], list(table))
        self.assertIn(("file_upload", "Upload file"), [tuple(s) for s in selection])
        self.assertTrue(all(callable(t.handler) for t in table.values()))

    def test_an_addon_registers_a_task_type(self):
        calls = []
        Task = type(self.Task)
        original = Task._task_types

        def _task_types(model):
            table = original(model)
            table["probe"] = TaskType(
                7, "Probe", lambda client, task, adapter: calls.append((client, task, adapter)))
            return table

        self.patch(Task, "_task_types", _task_types)
        task = self.Task._enqueue(self.client, "probe", payload={"n": 1})
        self.assertEqual(task.priority, 7)
        self.assertEqual(task._describe(), "Probe")
        self.assertEqual(self.Task._enqueue(self.client, "probe", payload={"n": 1}), task)
        self.run_queue(task_types=["probe"])
        self.assertEqual(task.state, "done")
        # the handler drives the client's adapter through the merge base's recorder
        [(client, ran, adapter)] = calls
        self.assertEqual((client, ran, adapter.unwrapped), (self.client, task, self.adapter))
        self.assertEqual(adapter.merge_base.client_id, self.client.id)

    def test_reverse_runs_through_the_clients_hook(self):
        """Provider add-ons extend ``cloud.client._task_reverse`` (Dropbox revokes links)."""
        partner = self.Partner.create({"name": "Hooked"})
        self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, "h.txt", b"hook")
        self.sync()
        seen = []
        Client = type(self.client)
        original = Client._task_reverse

        def _task_reverse(client, task, adapter):
            seen.append(task.attachment_id)
            return original(client, task, adapter)

        self.patch(Client, "_task_reverse", _task_reverse)
        self.client.action_reset()
        self.run_queue()
        self.assertEqual(seen, [doc])
        self.assertEqual(doc.type, "binary")


@tagged("post_install", "-at_install")
class TestMergeRule(CloudCase):

    def test_covers(self):
        self.assertIsNone(covers([], None))
        self.assertIsNone(covers([], {"a": 1}))
        self.assertEqual(covers([{}], None), 0)
        self.assertEqual(covers([{"a": 1}], None), 0)
        self.assertIsNone(covers([{"a": 1}], {"a": 2}))
        self.assertEqual(covers([{"a": 2}, {"a": 1}], {"a": 1}), 1)

    def test_enqueue_and_batch_merge_alike(self):
        root = self.client.root_folder_id
        payload = {"cloud_id": "x", "name": "X", "kind": "object"}
        first = self.Task._enqueue(self.client, "folder_delete", folder=root, payload=payload)
        self.assertEqual(self.Task._enqueue(self.client, "folder_delete", folder=root,
                                            payload=dict(payload)), first)
        batch = TaskBatch(self.Task, self.client)
        self.assertEqual(batch.add("folder_delete", folder=root, payload=dict(payload)), first)
        self.assertIsNone(batch.add("folder_delete", folder=root,
                                    payload=dict(payload, cloud_id="y")))
        self.assertIsNone(batch.add("folder_delete", folder=root,
                                    payload=dict(payload, cloud_id="y")))
        created = batch.flush()
        self.assertEqual(len(created), 1)
        self.assertEqual(created.priority, 26)
        self.assertEqual(self.Task._enqueue(self.client, "folder_delete", folder=root), first)


@tagged("post_install", "-at_install")
class TestPlacement(CloudCase):

    def test_placement_follows_the_model(self):
        records = self.make_rule()
        flat = self.make_rule("ir.attachment", "Loose")
        self.assertEqual(records.placement, "records")
        self.assertEqual(flat.placement, "flat")
        self.assertIn(("res_model", "=", False), flat._records_domain())
        self.assertNotIn(("res_model", "=", False), records._records_domain())
        new = self.env["cloud.sync.rule"].new({
            "model_id": self.env["ir.model"]._get("ir.attachment").id})
        new._onchange_model_id()
        self.assertEqual(new.folder_name, cloud_placement.STANDALONE_FOLDER)

    def test_folders_say_whose_files_they_hold(self):
        partner = self.Partner.create({"name": "Placed"})
        records = self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        flat = self.make_rule("ir.attachment", "Loose", domain="[('id', '=', 0)]")
        self.sync()
        object_folder = self.folder_of(partner)
        self.assertEqual(object_folder._file_owner(), ("res.partner", partner.id))
        self.assertTrue(object_folder._links_subfolders())
        self.assertEqual(flat.folder_id._file_owner(), (False, False))
        self.assertFalse(flat.folder_id._links_subfolders())
        self.assertIsNone(records.folder_id._file_owner())
        self.assertIsNone(self.client.root_folder_id._file_owner())

    def test_files_added_in_a_flat_rule_folder(self):
        """Stand-alone attachments both ways: a file added in the rule's folder becomes a
        stand-alone attachment, a folder there and a file in a record rule's folder stay in
        the cloud only."""
        partner = self.Partner.create({"name": "Flat"})
        records = self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        flat = self.make_rule("ir.attachment", "Loose", domain="[('id', '=', 0)]")
        self.sync()
        self.store.put_file(flat.folder_id.cloud_id, "loose.txt", b"loose")
        self.store.put_folder(flat.folder_id.cloud_id, "Box")
        self.store.put_file(records.folder_id.cloud_id, "stray.txt", b"stray")
        self.backward()
        loose = self.Attachment.search([("name", "=", "loose.txt")])
        self.assertEqual(len(loose), 1)
        self.assertFalse(loose.res_model)
        self.assertEqual(loose.cloud_folder_id, flat.folder_id)
        self.assertEqual(loose.raw, b"loose")
        self.assertFalse(self.Attachment.search([("name", "in", ("Box", "stray.txt"))]))

    def test_an_addon_adds_a_placement(self):  # pylint: disable=missing-return
        planned = []

        class Probe(cloud_placement.RecordFolders):
            key = "probe"
            label = "Probe"

            def applies_to(self, model_name):
                return model_name == "res.partner"

            def plan_files(self, planner, run, rule, ids):
                planned.append((rule, list(ids)))
                return super().plan_files(planner, run, rule, ids)

        Rule = type(self.env["cloud.sync.rule"])
        original = Rule._placement_strategies

        def _placement_strategies(model):
            return dict({"probe": Probe()}, **original(model))

        self.patch(Rule, "_placement_strategies", _placement_strategies)
        partner = self.Partner.create({"name": "Probed"})
        rule = self.make_rule(domain="[('id', '=', %d)]" % partner.id)
        self.attach(partner, "p.txt", b"probe")
        self.assertEqual(rule.placement, "probe")
        self.sync()
        self.assertEqual(planned, [(rule, [partner.id])])
        self.assertIn("/Odoo/Contacts/Probed/p.txt", self.tree())
