"""The folders of a record survive its cloud client: a file a user put in a subfolder of its
record (a manual folder, or a default folder of the rule) is in the same place with the next
client, after a reset and a reconnect to the same storage (the folders already there are
taken again, nothing is uploaded twice) or when the rule moves to another client (the folders
are made there)."""
import uuid

from odoo.tests import new_test_user, tagged

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

from .common import CloudCase

ANN = "/Odoo/Contacts/Ann"


@tagged("post_install", "-at_install")
class TestSubfoldersNextClient(CloudCase):

    def setUp(self):
        super().setUp()
        self.rule = self.make_rule()
        self.env["cloud.rule.folder"].create({"name": "Contracts", "rule_id": self.rule.id})
        self.ann = self.Partner.create({"name": "Ann"})
        self.writer = new_test_user(self.env, login="next_writer", name="Writer",
                                    groups="base.group_user,base.group_partner_manager")
        self.sync()
        official = self.env["cloud.folder"].browse(
            self.Attachment.with_user(self.writer).cloud_create_folder(
                "res.partner", self.ann.id, "Scans/Official"))
        contracts = self.folder_of(self.ann).child_ids.filtered(lambda f: f.kind == "default")
        self.scan = self.attach(self.ann, "scan.pdf", b"%PDF official scan")
        self.contract = self.attach(self.ann, "contract.txt", b"signed")
        self.top = self.attach(self.ann, "top.txt", b"top level")
        self.scan.with_user(self.writer).cloud_move_to_folder(official.id)
        self.contract.with_user(self.writer).cloud_move_to_folder(contracts.id)
        self.converge(backward=True)
        self.expected = {ANN + "/Scans/Official/scan.pdf", ANN + "/Contracts/contract.txt",
                         ANN + "/top.txt"}

    def files_in(self, tree):
        return {path for path, (kind, _size) in tree.items()
                if kind == "file" and path.startswith(ANN + "/")}

    def object_folder(self, client):
        return self.env["cloud.folder"].search([
            ("client_id", "=", client.id), ("kind", "=", "object"), ("state", "=", "synced"),
            ("res_model", "=", "res.partner"), ("res_id", "=", self.ann.id)])

    def drain(self):
        for _round in range(8):
            self.fast_forward()
            self.run_queue()

    def assertInPlace(self, client, store):
        """Each file synced with ``client``, in its folder of the record, once."""
        self.assertEqual(self.files_in(store.tree()), self.expected)
        for attachment, path in ((self.scan, "Scans/Official"), (self.contract, "Contracts"),
                                 (self.top, "")):
            attachment.invalidate_recordset()
            self.assertEqual(attachment.cloud_client_id, client)
            self.assertEqual(attachment.cloud_subfolder_id._path_in_record()
                             if attachment.cloud_subfolder_id else "", path)
            self.assertEqual(attachment.cloud_subfolder_id.client_id,
                             client if path else self.env["cloud.client"])
            self.assertFalse(attachment.cloud_subfolder_path)
            self.assertEqual(attachment.cloud_folder_id, attachment.cloud_subfolder_id
                             or self.object_folder(client))

    def test_reset_then_reconnect_takes_the_folders_again(self):
        self.assertEqual(self.files_in(self.tree()), self.expected)
        ids = {a.cloud_item_id for a in self.scan | self.contract | self.top}
        self.client.action_reset()
        self.drain()
        self.assertEqual(self.client.state, "draft")
        # back in Odoo, each file remembers where it was in its record
        self.assertEqual(self.scan.cloud_subfolder_path, "Scans/Official")
        self.assertEqual(self.contract.cloud_subfolder_path, "Contracts")
        self.assertFalse(self.top.cloud_subfolder_path)
        self.assertFalse(self.scan.cloud_subfolder_id)

        self.client.action_connect()
        self.converge(backward=True)

        self.assertInPlace(self.client, self.store)
        self.assertEqual({a.cloud_item_id for a in self.scan | self.contract | self.top}, ids,
                         "a file was uploaded again instead of linked")
        kinds = self.env["cloud.folder"].search([("res_id", "=", self.ann.id),
                                                 ("res_model", "=", "res.partner")])
        self.assertEqual(sorted(kinds.mapped(lambda f: (f.name, f.kind, f.state))), [
            ("Ann", "object", "synced"), ("Contracts", "default", "synced"),
            ("Official", "manual", "synced"), ("Scans", "manual", "synced")])
        # no folder link was made of the folders the files went back to
        self.assertFalse(self.Attachment.search_count([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.ann.id),
            ("cloud_kind", "=", "folder")]))

    def test_rule_moved_to_another_client_makes_the_folders_there(self):
        other_name = "other-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, other_name)
        other_store = get_store(other_name)
        other = self.make_client(other_name)
        self.rule.client_id = other
        for _round in range(10):
            self.fast_forward()
            for client in self.client | other:
                client._prepare_direct()
            self.run_queue()
        self.assertInPlace(other, other_store)
        scans = self.scan.cloud_subfolder_id.parent_id
        self.assertEqual((scans.name, scans.kind), ("Scans", "manual"))
        self.assertEqual(self.contract.cloud_subfolder_id.kind, "default")
        # nothing left to do
        other._prepare_direct()
        self.assertFalse(self.Task.search_count([("client_id", "=", other.id),
                                                 ("state", "=", "pending")]))

    def test_a_file_put_elsewhere_meanwhile_forgets_its_former_folder(self):
        self.client.action_reset()
        self.drain()
        self.assertEqual(self.scan.cloud_subfolder_path, "Scans/Official")
        bob = self.Partner.create({"name": "Bob"})
        self.scan.write({"res_id": bob.id})
        self.assertFalse(self.scan.cloud_subfolder_path)
        self.client.action_connect()
        self.converge(backward=True)
        self.assertIn("/Odoo/Contacts/Bob/scan.pdf", self.tree())
        self.assertSynced(self.scan, b"%PDF official scan")

    def test_a_folder_link_holding_the_name_sends_the_file_to_the_record_folder(self):
        """A folder made in the cloud since (a folder link of the record) holds a name of the
        remembered path: the file goes in the record's folder itself, no folder is made."""
        self.client.action_reset()
        self.drain()
        self.client.action_connect()
        self.converge(backward=True)
        ann_folder = self.object_folder(self.client)
        doc = self.attach(self.ann, "late.txt", b"late")
        doc.with_context(cloud_sync=True).sudo().write({"cloud_subfolder_path": "Links/Deep"})
        self.env["cloud.folder"].create({
            "name": "Links", "client_id": self.client.id, "kind": "subfolder",
            "parent_id": ann_folder.id, "res_model": "res.partner", "res_id": self.ann.id,
            "rule_id": self.rule.id})
        before = self.env["cloud.folder"].search_count([])
        self.assertEqual(doc._cloud_remembered_subfolder(ann_folder), ann_folder)
        self.assertEqual(self.env["cloud.folder"].search_count([]), before)
        self.assertFalse(doc.cloud_subfolder_path)
        self.assertFalse(doc.cloud_subfolder_id)
