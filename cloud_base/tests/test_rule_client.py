"""A rule moved to another client and back (R-REV-1, R-RULE-8): found by the convergence
suite's ``rule_client`` operation (issue 11 §3).

The files of the rule's records come back into Odoo from the old client, then go up to the
new one; the old client's folders stay in its cloud, no longer synced ("detached").
"""
import uuid

from odoo.tests import tagged

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestRuleClient(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann = self.Partner.create({"name": "Ann"})
        self.rule = self.make_rule(domain="[('id', '=', %d)]" % self.ann.id)
        self.other_name = "other-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, self.other_name)
        self.other_store = get_store(self.other_name)
        self.other = self.make_client(self.other_name)

    def converge_both(self, rounds=10):
        for _round in range(rounds):
            self.fast_forward()
            for client in self.client | self.other:
                client._prepare_direct()
                client._enqueue_backward()
            self.run_queue()
            self.fast_forward()
            for client in self.client | self.other:
                client._prepare_direct()
            busy = self.Task.search([("state", "in", ("pending", "running", "failed"))])
            if not busy:
                return
        self.fail("did not converge: %s" % busy.mapped(
            lambda t: (t.client_id.id, t.type, t.state, t.last_error)))

    def test_rule_back_to_its_first_client_takes_its_former_folder_again(self):
        """Seed 11, shrunk to ``rule_client, rule_client``: the rule's former folder is still
        in the first client's cloud (detached); creating the rule's folder there again found
        it, and the folder creation crashed on the folder record that still held it."""
        doc = self.attach(self.ann, "a.txt", b"alpha")
        self.converge_both()
        self.assertSynced(doc, b"alpha")
        self.rule.client_id = self.other
        self.converge_both()
        doc.invalidate_recordset()
        self.assertEqual(doc.cloud_client_id, self.other)
        self.assertEqual(self.other_store.content[doc.cloud_item_id], b"alpha")
        self.rule.client_id = self.client
        self.converge_both()
        doc.invalidate_recordset()
        self.assertEqual(doc.cloud_client_id, self.client)
        self.assertSynced(doc, b"alpha")
        # one folder for the rule, one for Ann, the file once (its earlier copy adopted)
        self.assertEqual(self.store.path_of(self.rule.folder_id.cloud_id), "/Odoo/Contacts")
        tree = self.store.tree()
        self.assertEqual(sorted(p for p in tree if p.startswith("/Odoo/Contacts/")),
                         ["/Odoo/Contacts/Ann", "/Odoo/Contacts/Ann/a.txt"])
        folders = self.env["cloud.folder"].search([("client_id", "=", self.client.id),
                                                   ("kind", "in", ("rule", "object"))])
        self.assertEqual(sorted(folders.mapped(lambda f: (f.kind, f.state, f.name))),
                         [("object", "synced", "Ann"), ("rule", "synced", "Contacts")])

    def test_detached_folder_lost_in_the_cloud_is_not_recreated(self):
        """Seed 11, shrunk to ``cloud_delete_managed_folder, rule_client, rule_client``: the
        rule's folder is deleted in the cloud and its re-creation queued; the rule then moves
        to another client. The queued creation still ran for the folder, no longer synced,
        and made a second folder record for the cloud folder of the rule back on its first
        client."""
        self.converge_both()
        old_folder = self.rule.folder_id
        self.store.remove(old_folder.cloud_id)
        self.client._enqueue_backward()
        self.run_queue(task_types=["backward"])  # its re-creation is queued
        self.assertTrue(self.Task.search_count([("folder_id", "=", old_folder.id),
                                                ("type", "=", "folder_create"),
                                                ("state", "=", "pending")]))
        self.rule.client_id = self.other
        self.rule.client_id = self.client
        self.converge_both()
        old_folder.invalidate_recordset()
        self.assertFalse(old_folder.exists() and old_folder.cloud_id,
                         "a folder no longer synced was created in the cloud")
        self.assertEqual(self.store.path_of(self.rule.folder_id.cloud_id), "/Odoo/Contacts")
        self.assertEqual(self.store.path_of(self.env["cloud.folder"]._for_records(self.ann).cloud_id),
                         "/Odoo/Contacts/Ann")
        self.assertFalse(self.Task.search_count([("state", "=", "failed")]))

    def test_file_added_to_the_former_folder_stays_in_the_former_cloud(self):
        """Seed 11, shrunk to ``cloud_add_file, rule_client``: a person adds a file to Ann's
        folder; before a backward run sees it, the rule moves to another client. The old
        client's next backward run imported the file into the folder it no longer syncs: an
        attachment of Ann synced with the old client, while her rule syncs with the new."""
        self.converge_both()
        old_folder = self.env["cloud.folder"]._for_records(self.ann)
        self.store.put_file(old_folder.cloud_id, "added.txt", b"only in the first cloud")
        self.rule.client_id = self.other
        self.converge_both()
        self.assertFalse(self.Attachment.search([("res_model", "=", "res.partner"),
                                                 ("res_id", "=", self.ann.id)]))
        self.assertIn(b"only in the first cloud", self.store.content.values())
        self.assertIn("/Odoo/Contacts/Ann", self.other_store.tree())
