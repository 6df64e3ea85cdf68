"""The workspace mirror through a real adapter: ownCloud/Nextcloud over WebDAV against the
repository's emulator (run with ``cloud_owncloud`` installed too; without it the provider is
not there and the class is skipped, saying so)."""
import unittest

from odoo.tests import tagged

from odoo.addons.cloud_base.tests import emulators

if emulators.AVAILABLE:
    from odoo.addons.cloud_owncloud.tests.common import OwnCloudCase
else:  # the add-ons deployed without the repository's tests folder
    OwnCloudCase = None


@unittest.skipIf(OwnCloudCase is None, "the cloud emulators are not available")
@tagged("post_install", "-at_install")
class TestWorkspaceOnOwnCloud(OwnCloudCase or unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "owncloud" not in cls.env["cloud.client"]._provider_registry():
            raise unittest.SkipTest("cloud_owncloud is not installed")

    def setUp(self):
        super().setUp()
        self.client = self.make_client()
        Folder = self.env["cloud.documents.folder"]
        self.projects = Folder.create({"name": "Projects", "client_id": self.client.id})
        self.alpha = Folder.create({"name": "Alpha", "parent_id": self.projects.id})
        self.beta = Folder.create({"name": "Beta", "parent_id": self.projects.id})
        self.plan = self.env["ir.attachment"].create({
            "name": "plan.txt", "raw": b"the plan", "documents_folder_id": self.alpha.id})

    def sync(self):
        self.client._prepare_direct()
        self.drain(self.client)

    def backward(self):
        self.client._enqueue_backward()
        self.drain(self.client)

    def test_r_doc_1_mirror_both_ways_over_webdav(self):
        self.sync()
        self.backward()  # the snapshot feed is past our own changes
        tree = self.tree()
        self.assertEqual(tree["/Odoo/Odoo Docs/Projects/Alpha/plan.txt"][0], "file")
        self.assertIn("/Odoo/Odoo Docs/Projects/Beta", tree)
        self.assertSynced(self.plan, b"the plan")

        # Odoo renames a folder; a person adds, moves and renames files in the cloud
        self.alpha.name = "Alpha (2026)"
        self.sync()
        self.emulator.put(self.user, "/Odoo/Odoo Docs/Projects/Beta/notes.txt", b"notes")
        self.emulator.move(self.user, "/Odoo/Odoo Docs/Projects/Alpha (2026)/plan.txt",
                           "/Odoo/Odoo Docs/Projects/Beta/plan-v2.txt")
        self.backward()
        self.plan.invalidate_recordset()
        self.assertEqual((self.plan.name, self.plan.documents_folder_id),
                         ("plan-v2.txt", self.beta))
        notes = self.env["ir.attachment"].search([("documents_folder_id", "=", self.beta.id),
                                                  ("name", "=", "notes.txt")])
        self.assertEqual(notes.raw, b"notes")

        # a folder renamed in the cloud is renamed back
        self.emulator.move(self.user, "/Odoo/Odoo Docs/Projects/Beta",
                           "/Odoo/Odoo Docs/Projects/Gamma")
        self.backward()
        self.sync()
        tree = self.tree()
        self.assertIn("/Odoo/Odoo Docs/Projects/Beta/plan-v2.txt", tree)
        self.assertNotIn("/Odoo/Odoo Docs/Projects/Gamma", tree)
        self.assertEqual(self.beta.name, "Beta")
