"""The workspace mirror through the real Dropbox adapter (the Dropbox SDK against the
repository's emulator). cloud_documents does not depend on cloud_dropbox: run with it installed
too (tools/run_tests.sh installs it with cloud_documents); without it the class is skipped,
saying so."""
import unittest

from odoo.tests import tagged

from odoo.addons.cloud_base.tests import emulators

try:
    if not emulators.AVAILABLE:
        raise ImportError("the cloud emulators are not available")
    from odoo.addons.cloud_dropbox.tests.common import DropboxCase
except ImportError:  # the add-on (or the repository's tests folder) is not there
    DropboxCase = None

DOCS = "/Odoo/Odoo Docs"


@unittest.skipIf(DropboxCase is None, "cloud_dropbox or the cloud emulators are not available")
@tagged("post_install", "-at_install")
class TestWorkspaceOnDropbox(DropboxCase or unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "dropbox" not in cls.env["cloud.client"]._provider_registry():
            raise unittest.SkipTest("cloud_dropbox is not installed")

    def setUp(self):
        super().setUp()
        self.client = self.make_client()
        Folder = self.env["cloud.documents.folder"]
        self.projects = Folder.create({"name": "Projects", "client_id": self.client.id})
        self.alpha = Folder.create({"name": "Alpha", "parent_id": self.projects.id})
        self.beta = Folder.create({"name": "Beta", "parent_id": self.projects.id})
        self.plan = self.put(self.alpha, "plan.txt", b"the plan")

    def put(self, folder, name, data):
        return self.Attachment.create({"name": name, "raw": data,
                                       "documents_folder_id": folder.id})

    def converge(self):
        """Direct syncs until nothing is left to do (a folder made in one run gets its files
        in the next)."""
        for _round in range(5):
            self.fast_forward()
            self.sync(self.client)
            if not self.Task.search_count([("client_id", "=", self.client.id),
                                           ("state", "in", ("pending", "running"))]):
                return
        self.fail("the direct sync did not converge")

    def docs(self):
        """``{path below Odoo Docs: "folder" | size}`` in Dropbox."""
        return {path[len(DOCS):]: kind for path, kind in self.emu.tree().items()
                if path.startswith(DOCS + "/")}

    def test_r_doc_1_mirror_both_ways_through_dropbox(self):
        self.converge()
        self.backward(self.client)  # the change feed is past our own changes
        self.assertEqual(self.docs(), {
            "/Projects": "folder", "/Projects/Alpha": "folder",
            "/Projects/Alpha/plan.txt": len(b"the plan"), "/Projects/Beta": "folder"})
        self.assertSynced(self.plan, b"the plan")

        # Odoo makes a folder, renames one, moves one into another, and a file is uploaded
        Folder = self.env["cloud.documents.folder"]
        gamma = Folder.create({"name": "Gamma", "parent_id": self.projects.id})
        self.alpha.name = "Alpha (2026)"
        self.beta.parent_id = gamma
        report = self.put(self.beta, "report.pdf", b"%PDF report")
        self.converge()
        self.assertEqual(self.docs(), {
            "/Projects": "folder", "/Projects/Alpha (2026)": "folder",
            "/Projects/Alpha (2026)/plan.txt": len(b"the plan"),
            "/Projects/Gamma": "folder", "/Projects/Gamma/Beta": "folder",
            "/Projects/Gamma/Beta/report.pdf": len(b"%PDF report")})
        self.assertSynced(report, b"%PDF report")
        self.assertSynced(self.plan, b"the plan")

        # a person adds a file and moves another (renaming it) in Dropbox: Odoo follows
        self.emu.put_file(DOCS + "/Projects/Gamma/notes.txt", b"notes")
        self.emu.move(DOCS + "/Projects/Alpha (2026)/plan.txt",
                      DOCS + "/Projects/Gamma/Beta/plan-v2.txt")
        self.backward(self.client)
        self.plan.invalidate_recordset()
        self.assertEqual((self.plan.name, self.plan.documents_folder_id),
                         ("plan-v2.txt", self.beta))
        self.assertSynced(self.plan, b"the plan")
        notes = self.Attachment.search([("documents_folder_id", "=", gamma.id),
                                        ("name", "=", "notes.txt")])
        self.assertEqual(notes.raw, b"notes")
        self.assertEqual(notes.cloud_folder_id.res_id, gamma.id)

        # a workspace folder renamed in Dropbox is put back: Odoo owns folder names
        self.emu.move(DOCS + "/Projects/Gamma", DOCS + "/Projects/Delta")
        self.backward(self.client)
        self.converge()
        docs = self.docs()
        self.assertIn("/Projects/Gamma/Beta/plan-v2.txt", docs)
        self.assertIn("/Projects/Gamma/notes.txt", docs)
        self.assertNotIn("/Projects/Delta", docs)
        self.assertEqual(gamma.name, "Gamma")
