"""The file manager in the browser (R-DOC-2): browse the lazy tree, list and kanban with the
cloud state of each file, search across folders, upload by drag and drop, move a file and a
folder by drag and drop, download a selection and a folder as one zip, delete files (with
undo); browse the record folders of a sync rule (read only). Screenshots of the list and the
kanban go to ``docs/screenshots/`` (see ``CloudTourCase``)."""
from odoo.tests import new_test_user, tagged

from odoo.addons.cloud_base.tests.test_ui_tours import CloudTourCase, _pdf, _png


@tagged("post_install", "-at_install")
class TestFileManagerTour(CloudTourCase):

    def test_file_manager_tour(self):
        staff = self.env["res.groups"].create({"name": "Tour documents staff"})
        user = new_test_user(self.env, login="docs_tour_user", groups="base.group_user",
                             name="Dana Docs")
        user.groups_id |= staff
        client, _store = self.make_client("Tour Storage")
        Folder = self.env["cloud.documents.folder"]
        Attachment = self.env["ir.attachment"]
        projects = Folder.create({"name": "Projects", "client_id": client.id,
                                  "read_group_ids": [(6, 0, staff.ids)]})
        alpha = Folder.create({"name": "Alpha", "parent_id": projects.id})
        beta = Folder.create({"name": "Beta", "parent_id": projects.id})
        archive = Folder.create({"name": "Archive"})
        Folder.create({"name": "Hidden board", "own_access": True, "read_group_ids": [
            (6, 0, self.env.ref("base.group_system").ids)]})
        contract = self.env["cloud.documents.tag"].create({"name": "Contract"})
        # the record folders of a sync rule: a customer the user reads, one they do not
        self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id, "folder_name": "Contacts",
            "client_id": client.id, "domain": "[('name', 'like', 'Tour Customer')]"})
        other_company = self.env["res.company"].create({"name": "Tour Other Company"})
        customer, hidden_customer = self.env["res.partner"].create([
            {"name": "Tour Customer"},
            {"name": "Tour Customer Hidden", "company_id": other_company.id}])
        for partner in customer | hidden_customer:
            Attachment.create({"name": "customer-card.txt", "raw": b"card",
                               "mimetype": "text/plain", "res_model": "res.partner",
                               "res_id": partner.id})

        def put(folder, name, data, **vals):
            return Attachment.with_user(user).create(dict({
                "name": name, "raw": data, "documents_folder_id": folder.id}, **vals))

        put(projects, "report.pdf", _pdf(), documents_tag_ids=[(6, 0, contract.ids)])
        put(projects, "site-photo.png", _png(120, 80))
        put(projects, "notes.txt", b"Meeting notes", mimetype="text/plain")
        put(alpha, "alpha-plan.txt", b"Alpha plan", mimetype="text/plain")
        put(archive, "old.txt", b"Old", mimetype="text/plain")
        client._prepare_direct()
        self.run_queue()
        client._prepare_direct()
        self.run_queue()
        # after the sync: a local image (Odoo's thumbnail) and a file whose upload failed
        put(projects, "sketch.png", _png(90, 90))
        failing = put(projects, "too-big.csv", b"a,b\n1,2\n", mimetype="text/csv")
        self.env["cloud.task"].search([("attachment_id", "=", failing.id)]).unlink()
        self.env["cloud.task"].create({
            "type": "file_upload", "client_id": client.id, "attachment_id": failing.id,
            "folder_id": self.env["cloud.folder"].search([
                ("res_model", "=", Folder._name), ("res_id", "=", projects.id)]).id,
            "state": "failed", "attempts": 6,
            "last_error": "507 Insufficient Storage"})
        synced = Attachment.search([("documents_folder_id", "=", projects.id),
                                    ("cloud_kind", "=", "file")])
        self.assertEqual(set(synced.mapped("name")),
                         {"report.pdf", "site-photo.png", "notes.txt"})

        self.start_tour("/odoo/cloud-documents", "cloud_documents_file_manager_tour",
                        login="docs_tour_user", timeout=240)

        dropped = Attachment.search([("name", "=", "dropped.txt")])
        self.assertEqual(dropped.documents_folder_id, beta, "uploaded, then moved to Beta")
        self.assertEqual(dropped.raw, b"dropped by the tour")
        self.assertEqual(dropped.documents_owner_id, user)
        self.assertEqual(archive.parent_id, alpha, "the folder was moved by drag and drop")
        self.assertTrue(Attachment.search([("name", "=", "minutes.txt"),
                                           ("documents_folder_id", "=", projects.id)]))
        self.assertFalse(Folder.search([("name", "ilike", "Gamma")]), "made, renamed, deleted")
        self.assertFalse(failing.exists(), "deleted once its Undo notification closed")
        self.assertTrue(Attachment.search([("name", "=", "sketch.png"),
                                           ("documents_folder_id", "=", projects.id)]),
                        "its deletion was undone")
        names = {path.stem for path in self.screenshots}
        self.assertTrue({"documents_file_manager_list", "documents_file_manager_kanban",
                         "documents_file_manager_synced_records"} <= names, names)
