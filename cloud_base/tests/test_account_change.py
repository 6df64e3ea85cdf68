"""A connected client pointed at another account keeps its files (issue 11, loss paths).

The synced files live in the account the client connected to. Settings (or a new
authorization) that reach another account must not let a backward run treat every synced
file as deleted there: the change is refused while files are synced.
"""
import uuid

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestAccountChange(CloudCase):

    def other_store(self):
        name = "other-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, name)
        get_store(name)
        return name

    def test_settings_reaching_another_account_stop_the_client(self):
        self.make_rule()
        partner = self.Partner.create({"name": "Keeper"})
        doc = self.attach(partner, "contract.pdf", b"signed copy")
        self.sync()
        self.assertSynced(doc, b"signed copy")
        first = self.client.sudo().account_fingerprint
        self.assertTrue(first)
        # the administrator points the connected client at another (empty) account
        self.client.api_base_url = self.other_store()
        self.assertEqual(self.client.state, "error")
        self.assertIn("another account", self.client.sudo().state_message)
        # nothing runs against it: no backward, no deletion in Odoo
        self.client._cron_prepare_queue()
        self.client._enqueue_backward()
        self.run_queue()
        doc.invalidate_recordset()
        self.assertTrue(doc.exists())
        self.assertEqual(self.store.content[doc.cloud_item_id], b"signed copy")
        with self.assertRaises(UserError):
            self.client.action_connect()
        self.assertEqual(self.client.sudo().account_fingerprint, first)
        # the former settings work again
        self.client.api_base_url = self.store_name
        self.client.action_connect()
        self.assertEqual(self.client.state, "connected")
        self.backward()
        self.assertSynced(doc, b"signed copy")

    def test_another_account_accepted_while_nothing_is_synced(self):
        first = self.client.sudo().account_fingerprint
        other = self.other_store()
        self.client.api_base_url = other
        self.client.action_connect()
        self.assertEqual(self.client.state, "connected")
        self.assertNotEqual(self.client.sudo().account_fingerprint, first)
        self.assertIn("Odoo", [c.name for c in get_store(other).children(
            get_store(other).ROOT_ID)])

    def test_another_account_accepted_gets_the_whole_tree(self):
        """Found by the convergence suite (seed 11, shrunk to ``change_credentials``): a
        client whose folders exist but holds no synced file accepts another account; its
        folder records kept the former account's ids, so the rule and record folders were
        never made in the new account (and files had nowhere to go)."""
        self.make_rule()
        partner = self.Partner.create({"name": "Ann"})
        self.sync()
        former_tree = self.store.tree()
        self.assertIn("/Odoo/Contacts/Ann", former_tree)
        other = self.other_store()
        self.client.api_base_url = other
        self.client.action_connect()
        self.assertEqual(self.client.state, "connected")
        doc = self.attach(partner, "later.txt", b"after the switch")
        self.converge(backward=True)
        store = get_store(other)
        self.assertIn("/Odoo/Contacts/Ann/later.txt", store.tree())
        doc.invalidate_recordset()
        self.assertEqual(store.content[doc.cloud_item_id], b"after the switch")
        self.assertEqual(doc.raw, b"after the switch")
        self.assertEqual(self.store.tree(), former_tree, "the former account was changed")

    def test_archiving_a_disconnected_client_with_synced_files_is_refused(self):
        """Archiving needs the connection to bring the files back; without it they would be
        stranded in the cloud, linked to an archived client (issue 11, loss paths)."""
        self.make_rule()
        partner = self.Partner.create({"name": "Stranded?"})
        doc = self.attach(partner, "kept.txt", b"kept")
        self.sync()
        self.assertSynced(doc, b"kept")
        self.client.sudo().write({"state": "reconnect"})
        with self.assertRaises(UserError):
            self.client.action_archive_client()
        self.assertTrue(self.client.active)
        self.assertEqual(self.client.state, "reconnect")
        self.assertSynced(doc, b"kept")
