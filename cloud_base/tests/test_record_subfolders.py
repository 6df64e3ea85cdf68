"""Folders of a record's attachment box (issue 14, "manual folders on records"): users make
subfolders in the cloud folder of a record they may write and put its files in them; the
rule's default folders (R-RULE-6) are there too. Odoo owns the folders (R-DIR-3), the cloud
owns where the files are (R-BW-5)."""
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged


from .common import CloudCase

ANN = "/Odoo/Contacts/Ann"


@tagged("post_install", "-at_install")
class TestRecordSubfolders(CloudCase):

    def setUp(self):
        super().setUp()
        self.rule = self.make_rule()
        self.env["cloud.rule.folder"].create({"name": "Contracts", "rule_id": self.rule.id})
        self.ann = self.Partner.create({"name": "Ann"})
        self.sync()
        self.ann_folder = self.folder_of(self.ann)
        self.writer = new_test_user(self.env, login="sub_writer", name="Writer",
                                    groups="base.group_user,base.group_partner_manager")
        self.reader = new_test_user(self.env, login="sub_reader", name="Reader",
                                    groups="base.group_user")

    def as_user(self, user):
        return self.Attachment.with_user(user)

    def make_folder(self, path, parent=False, user=None):
        folder_id = self.as_user(user or self.writer).cloud_create_folder(
            "res.partner", self.ann.id, path, parent)
        return self.env["cloud.folder"].browse(folder_id)

    def folder_named(self, name):
        return self.env["cloud.folder"].search([("res_model", "=", "res.partner"),
                                                ("res_id", "=", self.ann.id),
                                                ("name", "=", name)])

    def test_nested_folder_made_in_the_record_folder(self):
        official = self.make_folder("Scans/Official")
        scans = official.parent_id
        self.assertEqual((scans.name, scans.kind, scans.parent_id), ("Scans", "manual",
                                                                     self.ann_folder))
        self.assertEqual((official.kind, official.state), ("manual", "pending"))
        self.assertEqual(self.Task.search_count([("type", "=", "folder_create"),
                                                 ("folder_id", "in", (scans | official).ids),
                                                 ("state", "=", "pending")]), 2)
        self.run_queue()
        self.assertEqual(self.tree().get(ANN + "/Scans/Official"), ("folder", 0))
        self.assertEqual(official.state, "synced")
        # the folders of a path that exist are used; the last one must be new
        with self.assertRaisesRegex(UserError, "already a folder named"):
            self.make_folder("scans/official")
        self.assertEqual(self.make_folder("scans/Drafts").parent_id, scans)
        signed = self.make_folder("Contracts/Signed")
        self.assertEqual(signed.parent_id.kind, "default")
        self.run_queue()
        self.assertIn(ANN + "/Contracts/Signed", self.tree())
        listed = self.as_user(self.reader).cloud_record_folders("res.partner", self.ann.id)
        self.assertEqual(listed["root_id"], self.ann_folder.id)
        self.assertFalse(listed["editable"])
        self.assertEqual(sorted((f["name"], f["kind"]) for f in listed["folders"]), [
            ("Contracts", "default"), ("Drafts", "manual"), ("Official", "manual"),
            ("Scans", "manual"), ("Signed", "manual")])
        self.assertTrue(self.as_user(self.writer).cloud_record_folders(
            "res.partner", self.ann.id)["editable"])
        # planning again finds nothing to do
        self.client._prepare_direct()
        self.assertFalse(self.Task.search([("state", "=", "pending"),
                                           ("folder_id.res_id", "=", self.ann.id)]).mapped(
            lambda t: (t.type, t.folder_id.name)))

    def test_attachment_box_gets_the_folders_with_the_files(self):
        scans = self.make_folder("Scans")
        doc = self.attach(self.ann, "doc.txt", b"hello")
        doc.with_user(self.writer).cloud_move_to_folder(scans.id)
        # imported here: pytest imports this package without Odoo's addons path for mail
        from odoo.addons.mail.tools.discuss import Store  # noqa: PLC0415

        store = Store(self.ann.with_user(self.reader), as_thread=True,
                      request_list=["attachments"])
        data = store.get_result()
        thread = next(t for t in data["mail.thread"] if t["id"] == self.ann.id)
        self.assertEqual(thread["cloud_folders"]["root_id"], self.ann_folder.id)
        self.assertFalse(thread["cloud_folders"]["editable"])
        self.assertIn(scans.id, [f["id"] for f in thread["cloud_folders"]["folders"]])
        files = {a["id"]: a for a in data["ir.attachment"]}
        self.assertEqual(files[doc.id]["cloud_subfolder_id"], scans.id)

    def test_names_are_checked(self):
        self.make_folder("Scans")
        with self.assertRaises(UserError):
            self.make_folder("SCANS", parent=self.ann_folder.id)  # same name in the same place
        with self.assertRaises(UserError):
            self.make_folder("   ")
        odd = self.make_folder("a:b?")
        self.assertEqual(odd.name, "a-b-")
        other = self.Partner.create({"name": "Other"})
        self.sync()
        with self.assertRaises(UserError):  # a folder of another record as parent
            self.as_user(self.writer).cloud_create_folder("res.partner", other.id, "X",
                                                          odd.id)

    def test_file_put_in_a_new_folder_is_uploaded_there(self):
        scans = self.make_folder("Scans")
        doc = self.attach(self.ann, "scan.pdf", b"%PDF scan")
        self.assertEqual(doc.with_user(self.writer).cloud_move_to_folder(scans.id),
                         {doc.id: scans.id})
        self.run_queue()
        self.assertSynced(doc, b"%PDF scan")
        self.assertIn(ANN + "/Scans/scan.pdf", self.tree())
        self.assertEqual((doc.cloud_folder_id, doc.cloud_subfolder_id), (scans, scans))
        self.client._prepare_direct()
        self.assertFalse(self.Task.search_count([("type", "=", "file_move"),
                                                 ("state", "=", "pending")]))

    def test_planner_uploads_into_the_chosen_folder(self):
        """A file put in a folder while the record's folder waits for its creation."""
        bob = self.Partner.create({"name": "Bob"})
        doc = self.attach(bob, "plan.txt", b"plan")
        self.client._prepare_direct()
        folder_id = self.as_user(self.writer).cloud_create_folder("res.partner", bob.id, "Plans")
        doc.with_user(self.writer).cloud_move_to_folder(folder_id)
        self.client._prepare_direct()
        self.run_queue()
        self.assertSynced(doc, b"plan")
        self.assertIn("/Odoo/Contacts/Bob/Plans/plan.txt", self.tree())

    def test_synced_file_moved_between_folders_in_odoo(self):
        doc = self.attach(self.ann, "doc.txt", b"hello")
        self.sync()
        scans = self.make_folder("Scans")
        doc.with_user(self.writer).cloud_move_to_folder(scans.id)
        self.run_queue()
        self.assertIn(ANN + "/Scans/doc.txt", self.tree())
        self.assertEqual(doc.cloud_folder_id, scans)
        contracts = self.folder_named("Contracts")
        doc.with_user(self.writer).cloud_move_to_folder(contracts.id)
        self.run_queue()
        self.assertIn(ANN + "/Contracts/doc.txt", self.tree())
        # back into the record's folder itself (its id or none)
        doc.with_user(self.writer).cloud_move_to_folder(self.ann_folder.id)
        self.run_queue()
        self.assertIn(ANN + "/doc.txt", self.tree())
        self.assertFalse(doc.cloud_subfolder_id)
        self.assertEqual(doc.cloud_folder_id, self.ann_folder)
        self.assertEqual(self.store.content[doc.cloud_item_id], b"hello")

    def test_file_moved_in_the_cloud_is_followed(self):
        official = self.make_folder("Scans/Official")
        scans = official.parent_id
        doc = self.attach(self.ann, "doc.txt", b"hello")
        doc.with_user(self.writer).cloud_move_to_folder(scans.id)
        self.run_queue()
        self.backward()  # the feed of the creations above
        self.adapter.move(doc.cloud_item_id, official.cloud_id)
        added = self.store.put_file(official.cloud_id, "added.txt", b"from the cloud")
        self.backward()
        self.assertEqual((doc.cloud_folder_id, doc.cloud_subfolder_id), (official, official))
        new = self.Attachment.search([("cloud_item_id", "=", added.id)])
        self.assertEqual((new.res_model, new.res_id, new.cloud_subfolder_id),
                         ("res.partner", self.ann.id, official))
        # moved to the record's folder itself in the cloud
        self.adapter.move(doc.cloud_item_id, self.ann_folder.cloud_id)
        self.backward()
        self.assertFalse(doc.cloud_subfolder_id)
        self.assertEqual(doc.cloud_folder_id, self.ann_folder)
        # the cloud decided: planning moves nothing back
        self.client._prepare_direct()
        self.assertFalse(self.Task.search_count([("type", "=", "file_move"),
                                                 ("state", "=", "pending")]))
        self.assertIn(ANN + "/doc.txt", self.tree())
        self.assertIn(ANN + "/Scans/Official/added.txt", self.tree())

    def test_folder_renamed_or_moved_in_the_cloud_is_put_back(self):
        official = self.make_folder("Scans/Official")
        self.run_queue()
        self.backward()
        self.adapter.rename(official.parent_id.cloud_id, "Renamed")
        self.adapter.move(official.cloud_id, self.ann_folder.cloud_id)
        self.backward()
        self.assertIn(ANN + "/Scans/Official", self.tree())
        self.assertNotIn(ANN + "/Renamed", self.tree())
        self.assertNotIn(ANN + "/Official", self.tree())

    def test_user_renames_a_folder(self):
        scans = self.make_folder("Scans")
        self.run_queue()
        self.as_user(self.writer).cloud_rename_folder(scans.id, "Old scans")
        self.run_queue()
        self.assertIn(ANN + "/Old scans", self.tree())
        self.assertNotIn(ANN + "/Scans", self.tree())
        contracts = self.folder_named("Contracts")
        with self.assertRaises(UserError):  # the rule's folders are the rule's
            self.as_user(self.writer).cloud_rename_folder(contracts.id, "Deals")
        with self.assertRaises(UserError):
            self.as_user(self.writer).cloud_delete_folder(contracts.id)

    def test_only_an_empty_folder_is_deleted(self):
        official = self.make_folder("Scans/Official")
        scans = official.parent_id
        doc = self.attach(self.ann, "doc.txt", b"hello")
        doc.with_user(self.writer).cloud_move_to_folder(official.id)
        self.run_queue()
        Attachment = self.as_user(self.writer)
        with self.assertRaisesRegex(UserError, "not empty"):
            Attachment.cloud_delete_folder(scans.id)  # holds a folder
        with self.assertRaisesRegex(UserError, "not empty"):
            Attachment.cloud_delete_folder(official.id)  # holds a file
        doc.with_user(self.writer).unlink()
        Attachment.cloud_delete_folder(official.id)
        self.assertFalse(official.exists())
        self.run_queue()
        # the file deleted in Odoo went with its folder
        self.assertNotIn(ANN + "/Scans/Official", self.tree())
        self.assertEqual(self.tree().get(ANN + "/Scans"), ("folder", 0))

    def test_deleted_folder_keeps_what_odoo_does_not_know(self):
        scans = self.make_folder("Scans")
        self.run_queue()
        self.backward()
        # a file arrives in the cloud before backward sync sees it
        self.store.put_file(scans.cloud_id, "late.txt", b"late")
        self.as_user(self.writer).cloud_delete_folder(scans.id)
        self.run_queue()
        self.assertIn(ANN + "/Scans/late.txt", self.tree())
        kept = self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                             ("level", "=", "warning"),
                                             ("message", "like", "is kept in the cloud")])
        self.assertIn("late.txt", kept.message)

    def test_folder_deleted_in_the_cloud_comes_back(self):
        scans = self.make_folder("Scans")
        self.run_queue()
        self.backward()
        self.store.remove(scans.cloud_id)
        self.backward()
        self.assertIn(ANN + "/Scans", self.tree())

    # -- access ------------------------------------------------------------------------------
    def test_access_needs_write_on_the_record(self):
        scans = self.make_folder("Scans")
        doc = self.attach(self.ann, "doc.txt", b"hello")
        portal = new_test_user(self.env, login="sub_portal", name="Portal",
                               groups="base.group_portal")
        for user in (self.reader, portal):
            with self.assertRaises(AccessError):
                self.make_folder("Mine", user=user)
            with self.assertRaises(AccessError):
                doc.with_user(user).cloud_move_to_folder(scans.id)
            with self.assertRaises(AccessError):
                self.as_user(user).cloud_rename_folder(scans.id, "Mine")
            with self.assertRaises(AccessError):
                self.as_user(user).cloud_delete_folder(scans.id)
        with self.assertRaises(AccessError):
            self.as_user(portal).cloud_record_folders("res.partner", self.ann.id)
        self.assertEqual(self.folder_named("Scans"), scans)
        self.assertFalse(doc.cloud_subfolder_id)

    def test_other_company_cannot(self):
        other_company = self.env["res.company"].create({"name": "Elsewhere"})
        foreign = self.Partner.create({"name": "Foreign", "company_id": other_company.id})
        self.sync()
        doc = self.attach(foreign, "doc.txt", b"hello")
        folder_id = self.Attachment.cloud_create_folder("res.partner", foreign.id, "Scans")
        with self.assertRaises(AccessError):
            self.as_user(self.writer).cloud_create_folder("res.partner", foreign.id, "Mine")
        with self.assertRaises(AccessError):
            self.as_user(self.writer).cloud_record_folders("res.partner", foreign.id)
        with self.assertRaises(AccessError):
            doc.with_user(self.writer).cloud_move_to_folder(folder_id)

    def test_folder_of_another_record_is_refused(self):
        bob = self.Partner.create({"name": "Bob"})
        self.sync()
        bobs = self.env["cloud.folder"].browse(self.as_user(self.writer).cloud_create_folder(
            "res.partner", bob.id, "Bob's"))
        doc = self.attach(self.ann, "doc.txt", b"hello")
        with self.assertRaises(ValidationError):
            doc.with_user(self.writer).cloud_move_to_folder(bobs.id)
        with self.assertRaises(ValidationError):  # a plain write is checked the same way
            doc.with_user(self.writer).write({"cloud_subfolder_id": bobs.id})
        with self.assertRaises(ValidationError):  # nor the object folder of a record
            doc.with_user(self.writer).write({"cloud_subfolder_id": self.ann_folder.id})
        # the attachment given to another record leaves the folders of the first one
        scans = self.make_folder("Scans")
        doc.with_user(self.writer).cloud_move_to_folder(scans.id)
        doc.with_user(self.writer).write({"res_id": bob.id})
        self.assertFalse(doc.cloud_subfolder_id)
        self.converge()
        self.assertIn("/Odoo/Contacts/Bob/doc.txt", self.tree())

    def test_a_record_without_cloud_folder_has_no_folders(self):
        lone = self.env["res.partner.category"].create({"name": "Tag"})
        self.assertFalse(self.as_user(self.writer).cloud_record_folders(
            "res.partner.category", lone.id))
        with self.assertRaises(UserError):
            self.Attachment.cloud_create_folder("res.partner.category", lone.id, "X")
        with self.assertRaises(UserError):
            self.Attachment.cloud_create_folder("no.such.model", 1, "X")
