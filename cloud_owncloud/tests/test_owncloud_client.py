"""Client settings: connection checks with clear messages, secrets (R-CON-1, R-CON-5)."""
import socket

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OwnCloudCase


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestOwnCloudClient(OwnCloudCase):

    def test_r_con_1_connect_creates_root_and_cursor(self):
        client = self.make_client()
        self.assertEqual(client.state, "connected")
        self.assertFalse(client.state_message)
        self.assertIn("/Odoo", self.tree())
        self.assertEqual(client.root_folder_id.cloud_id,
                         str(self.emulator.info(self.user, "/Odoo")["fileid"]))
        self.assertTrue(client.sudo().change_cursor.startswith("oc2:"))
        root = client.sudo()._merge_base().get(client.root_folder_id.cloud_id)
        self.assertEqual((root.name, root.path, root.kind), ("Odoo", "/Odoo", "folder"))

    def test_r_con_1_wrong_password_clear_message_not_connected(self):
        client = self.make_client(connect=False, owncloud_password="wrong")
        self.assertEqual(client.state, "draft")
        self.assertIn("refused the login", client.state_message)
        with self.assertRaises(UserError) as err:
            client.action_connect()
        self.assertIn("app password", str(err.exception))
        self.assertNotEqual(client.state, "connected")

    def test_r_con_1_wrong_url_clear_message(self):
        client = self.make_client(connect=False,
                                  owncloud_url=self.emulator.base_url + "/not-here")
        self.assertIn("No ownCloud or Nextcloud server answers", client.state_message)
        with self.assertRaises(UserError):
            client.action_connect()
        self.assertNotEqual(client.state, "connected")
        # fixing the URL clears the message and lets the client connect
        client.owncloud_url = self.emulator.base_url
        self.assertFalse(client.state_message)
        client.action_connect()
        self.assertEqual(client.state, "connected")

    def test_r_con_1_server_down_clear_message(self):
        client = self.make_client(connect=False,
                                  owncloud_url="http://127.0.0.1:%d" % _free_port())
        self.assertIn("cannot be reached", client.state_message)
        with self.assertRaises(UserError) as err:
            client.action_connect()
        self.assertIn("cannot be reached", str(err.exception))
        self.assertNotEqual(client.state, "connected")

    def test_r_con_1_password_changed_to_wrong_one_stops_client(self):
        client = self.make_client()
        client.owncloud_password = "no longer valid"
        self.assertEqual(client.state, "error")
        self.assertIn("refused the login", client.state_message)
        client.owncloud_password = self.password
        client.action_connect()
        self.assertEqual(client.state, "connected")

    def test_r_con_5_password_never_read_back(self):
        client = self.make_client()
        client.invalidate_recordset()
        self.assertFalse(client.owncloud_password)
        self.assertTrue(client.owncloud_password_set)
        data = client.read(["owncloud_password"])[0]
        self.assertFalse(data["owncloud_password"])
        self.assertEqual(client._get_secret("owncloud_password"), self.password)
        # saving other settings keeps the stored password
        client.write({"name": "Renamed", "owncloud_password": False})
        self.assertEqual(client._get_secret("owncloud_password"), self.password)
        # a non-admin cannot read the secrets model
        user = self.env["res.users"].create({"name": "U", "login": "u-oc-test",
                                             "groups_id": [(6, 0, [self.env.ref(
                                                 "base.group_user").id])]})
        from odoo.exceptions import AccessError
        with self.assertRaises(AccessError):
            self.env["cloud.client.secret"].with_user(user).search([]).read(["value"])

    def test_test_connection_button(self):
        client = self.make_client()
        action = client.action_test_connection()
        self.assertIn(self.user, action["params"]["message"])

    def test_open_folder_link_points_to_web_ui(self):
        client = self.make_client()
        url = client.root_folder_id.url
        self.assertEqual(url, "%s/index.php/f/%s" % (self.emulator.base_url,
                                                     client.root_folder_id.cloud_id))
