"""A reset ends in a clear state (issue 11, loss paths): planning pauses while it runs, files
deleted in Odoo are still deleted in the cloud, and a file that cannot come back stops the
reset with its name instead of leaving it pending for ever."""
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestReset(CloudCase):

    def setUp(self):
        super().setUp()
        self.make_rule()
        self.partner = self.Partner.create({"name": "Reset"})
        self.kept = self.attach(self.partner, "kept.txt", b"kept")
        self.gone = self.attach(self.partner, "gone.txt", b"gone")
        self.sync()
        self.assertSynced(self.kept, b"kept")
        self.assertSynced(self.gone, b"gone")

    def drain(self, rounds=8):
        for _round in range(rounds):
            self.fast_forward()
            self.run_queue()

    def test_planning_pauses_and_deletions_still_happen(self):
        gone_id = self.gone.cloud_item_id
        self.gone.unlink()  # its cloud deletion is queued
        self.client.action_reset()
        self.assertTrue(self.client.reset_pending)
        late = self.attach(self.partner, "late.txt", b"added during the reset")
        self.client._prepare_direct()
        self.client._enqueue_backward()
        self.assertFalse(self.Task.search_count([
            ("client_id", "=", self.client.id), ("state", "=", "pending"),
            ("type", "not in", ("reverse", "file_delete"))]))
        self.drain()
        self.assertFalse(self.client.reset_pending)
        self.assertEqual(self.client.state, "draft")
        self.assertNotIn(gone_id, self.store.items)  # deleted in Odoo: deleted in the cloud
        self.kept.invalidate_recordset()
        self.assertEqual((self.kept.type, self.kept.raw), ("binary", b"kept"))
        self.assertEqual(late.raw, b"added during the reset")

    def test_file_that_cannot_come_back_stops_the_reset_with_its_name(self):
        self.env["ir.config_parameter"].sudo().set_param("cloud_base.max_attempts", 2)
        self.adapter.faults.inject("download", cloud.Transient("server down"), count=100)
        self.client.action_reset()
        self.drain()
        self.assertFalse(self.client.reset_pending)
        self.assertEqual(self.client.state, "error")
        self.assertIn("could not be brought back", self.client.sudo().state_message)
        self.assertIn("kept.txt", self.client.sudo().state_message)
        self.assertTrue(self.env["cloud.log"].search([
            ("client_id", "=", self.client.id), ("level", "=", "error"),
            ("message", "like", "Reset stopped")]))
        # nothing lost: the files are still synced, a new reset can bring them back
        self.assertTrue(self.kept.cloud_item_id)
        self.adapter.faults.clear()
        self.client.action_connect()
        self.client.action_reset()
        self.drain()
        self.assertEqual(self.client.state, "draft")
        self.kept.invalidate_recordset()
        self.assertEqual(self.kept.raw, b"kept")


@tagged("post_install", "-at_install")
class TestResetThenReconnect(CloudCase):
    """Issue 11 §2, "reset then reconnect": after a reset (files back in Odoo, client
    disconnected) a reconnect to the same storage picks up what is already there: the object
    folders and their default subfolders are adopted, files of the same name and content are
    linked instead of uploaded again, other cloud content becomes attachments and folder links
    as backward sync would have made them; nothing is lost, nothing is duplicated."""

    def setUp(self):
        super().setUp()
        self.rule = self.make_rule()
        self.env["cloud.rule.folder"].create({"name": "Contracts", "rule_id": self.rule.id})
        self.ann = self.Partner.create({"name": "Ann"})
        self.doc = self.attach(self.ann, "doc.txt", b"top level")
        self.converge(backward=True)
        self.assertSynced(self.doc, b"top level")

    def ann_path(self, *parts):
        return "/".join(("/Odoo/Contacts/Ann",) + parts)

    def reset_and_reconnect(self):
        self.client.action_reset()
        for _round in range(8):
            self.fast_forward()
            self.run_queue()
        self.assertEqual(self.client.state, "draft")
        self.assertFalse(self.Attachment.search_count([("cloud_kind", "=", "file"),
                                                       ("cloud_client_id", "=", self.client.id)]))
        self.client.action_connect()
        self.converge(backward=True)

    def attachments_of(self, record):
        return self.Attachment.search([("res_model", "=", record._name),
                                       ("res_id", "=", record.id)], order="id")

    def test_files_in_default_subfolders_are_linked_not_uploaded_again(self):
        contracts = self.cloud_item(self.ann_path("Contracts"))
        self.store.put_file(contracts.id, "x.txt", b"signed contract")
        self.backward()
        contract = self.Attachment.search([("name", "=", "x.txt")])
        self.assertSynced(contract, b"signed contract")
        before = self.tree()
        ids = {self.doc.cloud_item_id, contract.cloud_item_id}

        self.reset_and_reconnect()

        self.assertEqual(self.tree(), before, "the reconnect changed the cloud tree")
        self.assertNotIn(self.ann_path("x.txt"), self.tree())
        self.assertSynced(contract, b"signed contract")
        self.assertSynced(self.doc, b"top level")
        self.assertEqual({self.doc.cloud_item_id, contract.cloud_item_id}, ids)
        self.assertEqual(contract.cloud_folder_id.cloud_id, contracts.id)
        self.assertEqual(contract.cloud_folder_id.kind, "default")
        self.assertEqual(self.folder_of(self.ann).cloud_id,
                         self.cloud_item(self.ann_path()).id)

    def test_existing_subfolder_is_linked_again_without_duplicate_link(self):
        folder_id = self.folder_of(self.ann).cloud_id
        sub = self.store.put_folder(folder_id, "Sub")
        self.backward()
        link = self.attachments_of(self.ann).filtered(lambda a: a.cloud_kind == "folder")
        self.assertEqual(link.cloud_item_id, sub.id)

        self.reset_and_reconnect()

        self.assertEqual(self.folder_of(self.ann).cloud_id, folder_id)
        subs = self.attachments_of(self.ann).filtered(lambda a: a.name == "Sub")
        self.assertEqual(subs, link, "the folder link was made twice")
        self.assertEqual((link.cloud_kind, link.cloud_item_id), ("folder", sub.id))

    def test_folder_moved_into_an_object_folder_before_the_reset_goes_back(self):
        """The convergence suite's case (seed 11, shrunk to cloud_move_managed_folder, reset):
        a person moved Bob's folder into Ann's; the reset came before any backward run. The
        reconnect links Bob's folder to Bob again and puts it back (R-DIR-3), rather than
        making it a folder link of Ann and a second folder for Bob."""
        bob = self.Partner.create({"name": "Bob"})
        bob_doc = self.attach(bob, "bob.txt", b"bob's file")
        self.converge(backward=True)
        bob_folder = self.folder_of(bob).cloud_id
        bob_file = bob_doc.cloud_item_id
        self.store.update(bob_folder, parent_id=self.folder_of(self.ann).cloud_id)

        self.reset_and_reconnect()

        self.assertFalse(self.attachments_of(self.ann).filtered(
            lambda a: a.cloud_kind == "folder" or a.name == "Bob"))
        self.assertEqual(self.folder_of(bob).cloud_id, bob_folder)
        self.assertEqual(self.store.path_of(bob_folder), "/Odoo/Contacts/Bob")
        self.assertSynced(bob_doc, b"bob's file")
        self.assertEqual(bob_doc.cloud_item_id, bob_file)

    def test_folders_renamed_in_odoo_while_disconnected_keep_their_content(self):
        """Found by the convergence suite (seed 11, shrunk to cloud_add_file, reset,
        rule_folder_name): the rule folder (and a record) renamed in Odoo before the
        reconnect: the folders of before the reset are linked again and renamed (R-DIR-3), so
        that the file only the cloud had is still picked up."""
        folder_id = self.folder_of(self.ann).cloud_id
        rule_folder_id = self.rule.folder_id.cloud_id
        self.store.put_file(folder_id, "new.txt", b"added in the cloud")
        self.client.action_reset()
        for _round in range(8):
            self.fast_forward()
            self.run_queue()
        self.rule.folder_name = "Gold"
        self.ann.name = "Anna"
        self.client.action_connect()
        self.converge(backward=True)

        self.assertEqual(self.rule.folder_id.cloud_id, rule_folder_id)
        self.assertEqual(self.folder_of(self.ann).cloud_id, folder_id)
        self.assertEqual(self.store.path_of(folder_id), "/Odoo/Gold/Anna")
        self.assertNotIn("/Odoo/Contacts", self.tree())
        new = self.attachments_of(self.ann).filtered(lambda a: a.name == "new.txt")
        self.assertSynced(new, b"added in the cloud")
        self.assertSynced(self.doc, b"top level")
        self.assertEqual(sorted(p for p in self.tree() if p.startswith("/Odoo/Gold/Anna/")),
                         ["/Odoo/Gold/Anna/Contracts", "/Odoo/Gold/Anna/doc.txt",
                          "/Odoo/Gold/Anna/new.txt"])

    def test_cloud_changes_the_reset_did_not_see_are_picked_up(self):
        """A file added and another renamed in the cloud just before the reset: the new one
        becomes an attachment, the renamed one keeps its cloud name, no copy is uploaded."""
        folder_id = self.folder_of(self.ann).cloud_id
        self.store.put_file(folder_id, "new.txt", b"added in the cloud")
        self.store.update(self.doc.cloud_item_id, name="renamed.txt")
        doc_id = self.doc.cloud_item_id

        self.reset_and_reconnect()

        self.assertEqual(sorted(p for p in self.tree() if p.startswith(self.ann_path() + "/")),
                         [self.ann_path("Contracts"), self.ann_path("new.txt"),
                          self.ann_path("renamed.txt")])
        self.assertSynced(self.doc, b"top level")
        self.assertEqual((self.doc.name, self.doc.cloud_item_id), ("renamed.txt", doc_id))
        new = self.attachments_of(self.ann).filtered(lambda a: a.name == "new.txt")
        self.assertSynced(new, b"added in the cloud")

    def test_same_name_other_content_keeps_both_versions(self):
        """Edited in Odoo while disconnected: the cloud copy keeps the name (R-SAFE-4), the
        Odoo version is uploaded as a conflict copy; no version is lost."""
        self.client.action_reset()
        for _round in range(8):
            self.fast_forward()
            self.run_queue()
        self.doc.write({"raw": b"edited while disconnected"})
        self.client.action_connect()
        self.converge(backward=True)

        files = self.attachments_of(self.ann).filtered(lambda a: a.cloud_kind == "file")
        self.assertEqual(len(files), 2)
        cloud_copy = files.filtered(lambda a: a.name == "doc.txt")
        self.assertSynced(cloud_copy, b"top level")
        self.assertIn("conflict", self.doc.name)
        self.assertSynced(self.doc, b"edited while disconnected")
        top = [p for p, (kind, _size) in self.tree().items()
               if p.startswith(self.ann_path() + "/") and kind == "file"]
        self.assertEqual(len(top), 2)
