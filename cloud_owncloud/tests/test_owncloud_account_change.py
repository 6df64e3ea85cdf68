"""Another login or server on a connected client: refused while files are synced (issue 11).

Seen: changing the login of a connected client kept it "connected", and the next backward run
read the other user's (empty) storage and deleted every synced attachment in Odoo.
"""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OwnCloudCase


@tagged("post_install", "-at_install")
class TestOwnCloudAccountChange(OwnCloudCase):

    def test_other_login_stops_the_client_and_keeps_the_files(self):
        client = self.make_client()
        self.rule_for(client)
        partner = self.Partner.create({"name": "Kept"})
        doc = self.attach(partner, "kept.txt", b"still here")
        client._prepare_direct()
        self.run_queue()
        doc.invalidate_recordset()
        self.assertTrue(doc.cloud_item_id)
        other = self.emulator.add_user(self.user + "-b", "other-password")
        other_password = self.emulator.add_app_password(other)
        client.write({"owncloud_login": other, "owncloud_password": other_password})
        self.assertEqual(client.state, "error")
        self.assertIn("another account", client.sudo().state_message)
        client._enqueue_backward()
        self.run_queue()
        doc.invalidate_recordset()
        self.assertTrue(doc.exists())
        self.assertTrue(doc.cloud_item_id)
        with self.assertRaises(UserError) as refused:
            client.action_connect()
        # found by the convergence suite (change_credentials on ownCloud): the refusal read
        # "No ownCloud or Nextcloud server answers at the server URL"
        self.assertIn("another account", refused.exception.args[0])
        self.assertNotIn("server answers", refused.exception.args[0])
        # back to the account that holds the files
        client.write({"owncloud_login": self.user, "owncloud_password": self.password})
        client.action_connect()
        self.assertEqual(client.state, "connected")
        client._enqueue_backward()
        self.run_queue()
        self.assertEqual(doc.raw, b"still here")
