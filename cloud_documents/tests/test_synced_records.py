"""The record folders of the sync rules in the file manager (R-DOC-2): a read-only section of
the tree, each folder and file shown to a user only when they read its record."""
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import DocumentsCase


@tagged("post_install", "-at_install")
class TestSyncedRecords(DocumentsCase):

    def setUp(self):
        super().setUp()
        self.other_company = self.env["res.company"].create({"name": "Synced Other Co"})
        self.rule = self.make_rule(
            domain="[('name', 'in', ['Acme Synced', 'Secret Synced'])]",
            default_folder_ids=[(0, 0, {"name": "Scans"})])
        self.acme = self.Partner.create({"name": "Acme Synced"})
        # readable by no one outside the other company
        self.secret = self.Partner.create({"name": "Secret Synced",
                                           "company_id": self.other_company.id})
        self.acme_doc = self.attach(self.acme, "acme.txt", b"acme")
        self.secret_doc = self.attach(self.secret, "secret.txt", b"secret")
        # the workspace's own rule: its folders are the tree's, not the section's
        self.folder("Workspace top", client_id=self.client.id)
        self.converge()
        self.acme_folder = self.folder_of(self.acme)
        self.scans = self.acme_folder.child_ids.filtered(lambda f: f.name == "Scans")
        self.assertEqual(self.scans.kind, "default")
        # a file added in the cloud to Acme's Scans comes back into Scans
        self.store.put_file(self.scans.cloud_id, "scan.pdf", b"%PDF scan")
        self.backward()
        self.scan = self.Attachment.search([("name", "=", "scan.pdf")])
        self.assertEqual(self.scan.cloud_folder_id, self.scans)
        self.waiting = self.attach(self.acme, "new.txt", b"new")  # not uploaded yet
        self.clerk = new_test_user(self.env, login="synced_clerk", groups="base.group_user")

    def tree(self, user, node=False):
        return {info["name"]: info for info in
                self.Folder.with_user(user).documents_synced_tree(node)}

    def files(self, user, node, **kw):
        return sorted(info["name"] for info in
                      self.Folder.with_user(user).documents_synced_files(node, **kw)["records"])

    def zip_names(self, user, node):
        entries = self.Folder.with_user(user)._documents_zip_entries([], [node.id])
        return [entry.path for entry in entries]

    def test_admin_sees_every_rule_folder_and_record(self):
        tops = self.tree(self.env.user)
        self.assertEqual(list(tops), ["Contacts"], "Odoo Docs is the workspace's own tree")
        contacts = tops["Contacts"]
        self.assertTrue(contacts["has_children"])
        self.assertFalse(contacts["parent_id"])
        records = self.tree(self.env.user, contacts["id"])
        self.assertEqual(set(records), {"Acme Synced", "Secret Synced"})
        acme = records["Acme Synced"]
        self.assertEqual(acme["id"], self.acme_folder.id)
        self.assertTrue(acme["has_children"])
        self.assertTrue(acme["in_cloud"])
        page = self.Folder.documents_synced_files(acme["id"])
        self.assertEqual(page["cloud_url"], self.acme_folder.url)
        self.assertTrue(page["cloud_url"])
        self.assertEqual(list(self.tree(self.env.user, acme["id"])), ["Scans"])
        # the record's files, but not those in its subfolders; those waiting too
        self.assertEqual(self.files(self.env.user, acme["id"]), ["acme.txt", "new.txt"])
        self.assertEqual(self.files(self.env.user, self.scans.id), ["scan.pdf"])
        self.assertEqual(self.files(self.env.user, contacts["id"]), [])

    def test_files_are_read_only_and_searchable(self):
        # no transfer queued (yet): a file of a synced record waits for its upload
        self.Task.search([("attachment_id", "=", self.waiting.id)]).unlink()
        page = self.Folder.with_user(self.clerk).documents_synced_files(self.acme_folder.id)
        self.assertEqual(page["length"], 2)
        by_name = {info["name"]: info for info in page["records"]}
        self.assertFalse(by_name["acme.txt"]["can_write"])
        self.assertEqual(by_name["acme.txt"]["cloud_state"], "synced")
        self.assertEqual(by_name["new.txt"]["cloud_state"], "waiting", "its upload is due")
        self.assertTrue(by_name["acme.txt"]["cloud_url"])
        self.assertEqual(self.files(self.clerk, self.acme_folder.id, search={"name": "new"}),
                         ["new.txt"])
        self.assertEqual(self.files(self.clerk, self.acme_folder.id, limit=1, offset=1),
                         ["new.txt"])

    def test_user_sees_only_the_records_they_read(self):
        self.assertFalse(self.secret.with_user(self.clerk).has_access("read"))
        tops = self.tree(self.clerk)
        self.assertEqual(list(tops), ["Contacts"])
        records = self.tree(self.clerk, tops["Contacts"]["id"])
        self.assertEqual(list(records), ["Acme Synced"], "the hidden record's name stays hidden")
        self.assertEqual(self.files(self.clerk, self.scans.id), ["scan.pdf"])
        secret_folder = self.folder_of(self.secret)
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.clerk).documents_synced_tree(secret_folder.id)
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.clerk).documents_synced_files(secret_folder.id)
        with self.assertRaises(AccessError):
            self.zip_names(self.clerk, secret_folder)

    def test_user_without_readable_records_sees_nothing(self):
        self.acme.company_id = self.other_company
        self.assertEqual(self.tree(self.clerk), {})
        with self.assertRaises(AccessError):
            self.Folder.with_user(self.clerk).documents_synced_tree(self.rule.folder_id.id)
        self.assertTrue(self.tree(self.env.user), "the administrator still sees them")

    def test_detached_folders_are_left_out(self):
        self.scans.state = "detached"
        self.assertEqual(self.tree(self.env.user, self.acme_folder.id), {})
        with self.assertRaises(AccessError):
            self.Folder.documents_synced_files(self.scans.id)

    def test_zip_of_a_record_folder(self):
        # (the content is read in transactions of their own: see test_zip_download)
        self.assertEqual(self.zip_names(self.clerk, self.acme_folder), [
            "Acme Synced/", "Acme Synced/acme.txt", "Acme Synced/new.txt",
            "Acme Synced/Scans/", "Acme Synced/Scans/scan.pdf"])
