"""The workspace mirrored under ``Root / Odoo Docs`` (R-DOC-1) on the in-memory storage: Odoo
owns folder names and places, the cloud owns files; a folder whose client changes comes back
into Odoo and goes up to the new client."""
import datetime
import uuid

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

from .common import DocumentsCase


@tagged("post_install", "-at_install")
class TestWorkspaceMirror(DocumentsCase):

    def setUp(self):
        super().setUp()
        self.finance = self.folder("Finance", client_id=self.client.id)
        self.invoices = self.folder("Invoices", self.finance)
        self.year = self.folder("2026", self.invoices)
        self.doc = self.put(self.invoices, "inv-1.pdf", b"invoice one")
        self.converge()
        self.backward()  # the feed is past our own changes

    def test_r_doc_1_tree_and_files_mirrored_under_odoo_docs(self):
        rule = self.env["cloud.sync.rule"].search([("model", "=", self.Folder._name),
                                                   ("client_id", "=", self.client.id)])
        self.assertEqual(rule.folder_name, "Odoo Docs")
        self.assertEqual(rule.placement, "documents")
        self.assertEqual(self.docs_tree(), {
            "/Finance": "folder", "/Finance/Invoices": "folder",
            "/Finance/Invoices/2026": "folder", "/Finance/Invoices/inv-1.pdf": "file"})
        self.assertSynced(self.doc, b"invoice one")
        self.assertEqual(self.doc.documents_folder_id, self.invoices)
        self.assertEqual(self.doc.cloud_folder_id, self.mirror(self.invoices))
        self.assertEqual(self.doc.documents_owner_id, self.env.user)

    def test_incremental_plan_keeps_a_renamed_subfolder_in_its_parent(self):
        """Between two full plans the planner looks only at what changed: a renamed folder
        deep in the tree is still placed in its parent's mirror, not at the top."""
        self.env.flush_all()
        self.env.cr._now = self.env.cr.now() + datetime.timedelta(minutes=5)
        self.client._prepare_direct()  # looks at what the first cycle wrote
        self.env.flush_all()
        self.env.cr._now = self.env.cr.now() + datetime.timedelta(minutes=5)
        full_at = self.client.sudo().plan_full_at
        self.year.name = "2027"
        self.client._prepare_direct()
        self.assertEqual(self.client.sudo().plan_full_at, full_at, "an incremental plan")
        self.run_queue()
        tree = self.docs_tree()
        self.assertIn("/Finance/Invoices/2027", tree)
        self.assertNotIn("/2027", tree)
        self.assertNotIn("/Finance/Invoices/2026", tree)

    def test_folder_without_client_stays_in_odoo(self):
        local = self.folder("Drafts")
        draft = self.put(local, "draft.txt", b"draft")
        self.converge()
        self.assertFalse(self.mirror(local))
        self.assertNotIn("/Drafts", self.docs_tree())
        self.assertEqual(draft.type, "binary")

    def test_new_file_uploaded(self):
        scan = self.put(self.year, "scan.png", b"\x89PNG scan")
        self.converge()
        self.assertIn("/Finance/Invoices/2026/scan.png", self.docs_tree())
        self.assertSynced(scan, b"\x89PNG scan")

    # -- Odoo owns folder names and structure ------------------------------------------------
    def test_r_dir_3_folder_renamed_in_odoo(self):
        self.invoices.name = "Bills"
        self.converge()
        self.assertIn("/Finance/Bills/2026", self.docs_tree())
        self.assertIn("/Finance/Bills/inv-1.pdf", self.docs_tree())
        self.assertNotIn("/Finance/Invoices", self.docs_tree())

    def test_r_dir_7_folder_moved_in_odoo_takes_its_files(self):
        archive = self.folder("Archive", self.finance)
        self.invoices.parent_id = archive
        self.converge()
        tree = self.docs_tree()
        self.assertIn("/Finance/Archive/Invoices/2026", tree)
        self.assertIn("/Finance/Archive/Invoices/inv-1.pdf", tree)
        self.assertNotIn("/Finance/Invoices", tree)
        self.assertSynced(self.doc, b"invoice one")

    def test_folder_moved_to_the_top(self):
        self.year.parent_id = False  # keeps no client of its own: no longer mirrored
        self.year.invalidate_recordset()
        self.assertFalse(self.year.cloud_client_id)
        self.year.client_id = self.client
        self.converge()
        tree = self.docs_tree()
        self.assertIn("/2026", tree)
        self.assertNotIn("/Finance/Invoices/2026", tree)

    def test_file_moved_between_folders_in_odoo(self):
        self.doc.documents_folder_id = self.year
        self.converge()
        tree = self.docs_tree()
        self.assertIn("/Finance/Invoices/2026/inv-1.pdf", tree)
        self.assertNotIn("/Finance/Invoices/inv-1.pdf", tree)
        self.assertEqual(self.doc.cloud_folder_id, self.mirror(self.year))

    def test_r_q_8_new_file_queued_at_once(self):
        scan = self.put(self.year, "scan.txt", b"scan")
        upload = self.Task.search([("type", "=", "file_upload"), ("attachment_id", "=", scan.id),
                                   ("state", "=", "pending")])
        self.assertEqual(upload.folder_id, self.mirror(self.year))
        self.run_queue()
        self.assertSynced(scan, b"scan")

    def test_synced_file_of_a_record_moved_into_the_workspace_moves_in_the_cloud(self):
        ann = self.Partner.create({"name": "Ann"})
        self.make_rule(domain="[('id', '=', %d)]" % ann.id)
        contract = self.attach(ann, "contract.pdf", b"contract")
        self.converge()
        item = contract.cloud_item_id
        self.assertTrue(self.cloud_item("/Odoo/Contacts/Ann/contract.pdf"))
        contract.documents_folder_id = self.invoices
        self.converge()
        contract.invalidate_recordset()
        self.assertEqual(contract.cloud_item_id, item)  # moved, not uploaded again
        self.assertIn("/Finance/Invoices/contract.pdf", self.docs_tree())
        self.assertFalse(self.cloud_item("/Odoo/Contacts/Ann/contract.pdf"))
        self.assertEqual(contract.documents_origin_name, "Ann")

    def test_names_unique_among_siblings_in_the_cloud(self):
        # "a:b" and "a-b" are two names in Odoo and one in the cloud
        first = self.folder("Q1: plan", self.finance)
        second = self.folder("Q1- plan", self.finance)
        self.converge()
        names = {self.mirror(first).cloud_name, self.mirror(second).cloud_name}
        self.assertEqual(names, {"Q1- plan", "Q1- plan (2)"})
        self.converge()  # stable: nothing to do the second time
        self.assertEqual({self.mirror(first).cloud_name, self.mirror(second).cloud_name}, names)

    def test_sibling_names_unique_in_odoo(self):
        with self.assertRaises(ValidationError):
            self.folder("invoices", self.finance)

    def test_r_dir_4_deleted_folder_tree_deleted_in_the_cloud(self):
        self.put(self.year, "old.txt", b"old")
        self.converge()
        self.invoices.unlink()
        self.assertFalse(self.doc.exists())
        self.converge()
        self.assertEqual(self.docs_tree(), {"/Finance": "folder"})
        self.assertFalse(self.env["cloud.folder"].search([
            ("res_model", "=", self.Folder._name), ("res_id", "in",
                                                   [self.invoices.id, self.year.id])]))
        self.assertFalse(self.Task.search([("state", "=", "failed")]))

    # -- cloud-side folder changes are put back -----------------------------------------------
    def test_r_dir_3_folder_renamed_in_cloud_is_renamed_back(self):
        self.store.update(self.mirror(self.invoices).cloud_id, name="Renamed by a person")
        self.converge(backward=True)
        self.assertIn("/Finance/Invoices/2026", self.docs_tree())
        self.assertNotIn("/Finance/Renamed by a person", self.docs_tree())
        self.assertEqual(self.invoices.name, "Invoices")

    def test_folder_moved_in_cloud_is_moved_back(self):
        self.store.update(self.mirror(self.year).cloud_id,
                          parent_id=self.mirror(self.finance).cloud_id)
        self.converge(backward=True)
        self.assertIn("/Finance/Invoices/2026", self.docs_tree())
        self.assertNotIn("/Finance/2026", self.docs_tree())
        self.assertEqual(self.year.parent_id, self.invoices)

    def test_r_dir_6_folder_deleted_in_cloud_is_made_again(self):
        self.store.remove(self.mirror(self.invoices).cloud_id)
        self.converge(backward=True)
        self.assertFalse(self.doc.exists())  # its file went with it (R-BW-4)
        self.assertEqual(self.docs_tree(), {"/Finance": "folder", "/Finance/Invoices": "folder",
                                            "/Finance/Invoices/2026": "folder"})

    def test_r_bw_2_folder_made_in_cloud_becomes_a_folder_link(self):
        self.store.put_folder(self.mirror(self.year).cloud_id, "Scans")
        self.backward()
        link = self.year.attachment_ids
        self.assertEqual((link.name, link.cloud_kind), ("Scans", "folder"))
        self.assertFalse(self.Folder.search([("name", "=", "Scans")]))

    # -- the cloud owns files -----------------------------------------------------------------
    def test_r_bw_1_file_added_in_cloud(self):
        self.store.put_file(self.mirror(self.year).cloud_id, "from-cloud.txt", b"cloud")
        self.backward()
        added = self.Attachment.search([("documents_folder_id", "=", self.year.id)])
        self.assertEqual(added.mapped("name"), ["from-cloud.txt"])
        self.assertEqual(added.file_size, 5)
        self.assertEqual(added.raw, b"cloud")
        self.assertIn(added, self.year.attachment_ids)
        self.assertFalse(added.documents_owner_id)  # not the engine's: unknown

    def test_r_bw_3_file_renamed_in_cloud(self):
        self.store.update(self.doc.cloud_item_id, name="invoice-one.pdf")
        self.backward()
        self.assertEqual(self.doc.name, "invoice-one.pdf")
        self.assertEqual(self.doc.documents_folder_id, self.invoices)

    def test_r_bw_5_file_moved_between_folders_in_cloud(self):
        self.store.update(self.doc.cloud_item_id, parent_id=self.mirror(self.year).cloud_id)
        self.backward()
        self.assertEqual(self.doc.documents_folder_id, self.year)
        self.assertEqual(self.doc.cloud_folder_id, self.mirror(self.year))
        self.assertEqual(self.invoices.attachment_ids, self.Attachment)
        self.converge()  # nothing to move back: the cloud owns the places of files
        self.assertIn("/Finance/Invoices/2026/inv-1.pdf", self.docs_tree())

    def test_r_bw_5_file_moved_out_of_the_workspace_is_deleted(self):
        self.store.update(self.doc.cloud_item_id, parent_id=self.store.ROOT_ID)
        self.backward()
        self.assertFalse(self.doc.exists())

    def test_r_bw_6_file_changed_in_cloud(self):
        data = b"invoice one, corrected"
        self.store.content[self.doc.cloud_item_id] = data
        self.store.update(self.doc.cloud_item_id, size=len(data), hash=cloud.sha256_hex([data]))
        self.backward()
        self.assertEqual(self.doc.file_size, len(data))
        self.assertSynced(self.doc, data)

    def test_r_bw_4_file_deleted_in_cloud(self):
        self.store.remove(self.doc.cloud_item_id)
        self.backward()
        self.assertFalse(self.doc.exists())
        self.assertFalse(self.invoices.attachment_ids)

    # -- another client ------------------------------------------------------------------------
    def other_client(self):
        name = "other-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, name)
        return self.make_client(name), get_store(name)

    def converge_both(self, clients, rounds=10):
        for _round in range(rounds):
            self.fast_forward()
            for client in clients:
                client._prepare_direct()
            self.run_queue()
            self.fast_forward()
            for client in clients:
                client._prepare_direct()
            if not self.Task.search_count([("state", "in", ("pending", "running"))]):
                break
        self.assertFalse(self.Task.search([("state", "in", ("pending", "running", "failed"))])
                         .mapped(lambda t: (t.type, t.last_error)))

    def test_r_rev_1_client_change_brings_back_then_pushes_to_the_new_client(self):
        other, other_store = self.other_client()
        old_mirror = self.mirror(self.invoices)
        self.finance.client_id = other
        self.assertEqual(self.year.cloud_client_id, other)
        reverse = self.Task.search([("type", "=", "reverse"), ("state", "=", "pending")])
        self.assertEqual(reverse.attachment_id, self.doc)
        self.assertEqual(old_mirror.state, "detached")
        self.converge_both(self.client | other)
        self.doc.invalidate_recordset()
        self.assertEqual(self.doc.cloud_client_id, other)
        self.assertEqual(other_store.content[self.doc.cloud_item_id], b"invoice one")
        self.assertEqual(self.docs_tree(other_store), {
            "/Finance": "folder", "/Finance/Invoices": "folder",
            "/Finance/Invoices/2026": "folder", "/Finance/Invoices/inv-1.pdf": "file"})
        # the former client's cloud keeps its copy (a client change never deletes)
        self.assertIn("/Finance/Invoices/inv-1.pdf", self.docs_tree())
        self.assertTrue(self.env["cloud.sync.rule"].search([
            ("model", "=", self.Folder._name), ("client_id", "=", other.id)]))

    def test_subfolder_with_its_own_client_is_a_top_folder_there(self):
        other, other_store = self.other_client()
        self.year.client_id = other
        self.converge_both(self.client | other)
        self.assertEqual(self.docs_tree(other_store), {"/2026": "folder"})
        # at the former client the folder stays where it was, no longer synced
        self.assertFalse(self.mirror(self.year))
        self.assertEqual(self.env["cloud.folder"].search([
            ("res_model", "=", self.Folder._name), ("res_id", "=", self.year.id),
            ("client_id", "=", self.client.id)]).state, "detached")

    def test_file_moved_to_a_folder_of_another_client(self):
        other, other_store = self.other_client()
        elsewhere = self.folder("Elsewhere", client_id=other.id)
        self.doc.documents_folder_id = elsewhere
        self.converge_both(self.client | other)
        self.doc.invalidate_recordset()
        self.assertEqual(self.doc.cloud_client_id, other)
        self.assertEqual(self.docs_tree(other_store),
                         {"/Elsewhere": "folder", "/Elsewhere/inv-1.pdf": "file"})

    def test_user_moving_a_mirrored_folder_out_of_the_mirror(self):
        """An internal user (no access to clients, cloud folders or tasks) moves a mirrored
        folder into a folder that is not mirrored: its files come back into Odoo."""
        user = self.env["res.users"].create({
            "name": "Docs user", "login": "docs_mover",
            "groups_id": [(6, 0, self.env.ref("base.group_user").ids)]})
        local = self.folder("Local")
        self.invoices.with_user(user).parent_id = local
        self.assertEqual(self.mirror(self.invoices), self.env["cloud.folder"])
        self.converge()
        self.doc.invalidate_recordset()
        self.assertEqual((self.doc.type, self.doc.raw), ("binary", b"invoice one"))
        self.assertFalse(self.doc.cloud_item_id)

    def test_file_moved_to_a_local_folder_comes_back(self):
        local = self.folder("Local")
        self.doc.documents_folder_id = local
        self.run_queue()
        self.doc.invalidate_recordset()
        self.assertEqual(self.doc.type, "binary")
        self.assertFalse(self.doc.cloud_item_id)
        self.assertEqual(self.doc.raw, b"invoice one")

    def test_uninstall_leaves_the_cloud_as_it_is_and_hides_the_files(self):
        from .. import uninstall_hook

        uninstall_hook(self.env)
        self.doc.invalidate_recordset()
        self.assertEqual((self.doc.res_model, self.doc.res_id), (False, 0))
        self.assertFalse(self.env["cloud.sync.rule"].search([("model", "=", self.Folder._name)]))
        self.assertEqual(self.env["cloud.folder"].search([
            ("res_model", "=", self.Folder._name)]).mapped("state"), ["detached"] * 3)
        self.assertIn("/Finance/Invoices/inv-1.pdf", self.docs_tree())

    def test_new_folder_waits_for_a_folder_a_person_moved_onto_its_name(self):
        """Found by the documents convergence suite (seed 4242): a person renames the cloud
        folder of Invoices to "Archive", and a user makes a folder Archive next to it in Odoo.
        Creating Archive's folder met Invoices' one under that name and crashed on the unique
        cloud id, at each retry, until Invoices was put back."""
        self.store.update(self.mirror(self.invoices).cloud_id, name="Archive")
        archive = self.folder("Archive", self.finance)
        self.converge(backward=True)
        self.assertFalse(self.Task.search([("type", "=", "folder_create"),
                                           ("attempts", ">", 0)]).mapped("last_error"))
        tree = self.docs_tree()
        self.assertIn("/Finance/Invoices/inv-1.pdf", tree)
        self.assertEqual(self.store.path_of(self.mirror(archive).cloud_id),
                         "/Odoo/Odoo Docs/Finance/Archive")

    def test_counted_name_goes_back_once_free(self):
        """Found by the documents convergence suite (seed 4242: docs_rename_folder,
        docs_create_folder, docs_move_folder): Invoices is renamed Sub, a new Invoices is made
        next to it and Sub moved into it, all before a sync. The new folder met the old cloud
        folder under its name and became "Invoices (2)" in the cloud, for good."""
        self.invoices.name = "Sub"
        new = self.folder("Invoices", self.finance)
        self.invoices.parent_id = new
        self.converge()
        self.converge()  # the name freed by the first cycle is taken back
        tree = self.docs_tree()
        self.assertIn("/Finance/Invoices/Sub/inv-1.pdf", tree)
        self.assertNotIn("/Finance/Invoices (2)", tree)
