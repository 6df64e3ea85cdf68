"""R-CON-1/2/3/5: the OAuth round trip through the real /one_drive_token controller, msal's
auth code flow against the emulator's authorize and token endpoints."""
import time
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from odoo.addons.cloud_base.models import cloud_client_oauth as oauth_model

from .common import consent
from .harness import HarnessEmulator


@tagged("post_install", "-at_install")
class TestOneDriveOAuth(HttpCase):

    def setUp(self):
        super().setUp()
        self.emu = HarnessEmulator().start()
        self.addCleanup(self.emu.stop)
        self.admin = self.env.ref("base.user_admin")
        self.authenticate("admin", "admin")

    def new_client(self, **vals):
        return self.env["cloud.client"].create(dict({
            "name": "OneDrive", "provider": "onedrive", "api_base_url": self.emu.base_url,
            "onedrive_client_id": self.emu.client_id,
            "onedrive_client_secret": self.emu.client_secret,
            "onedrive_redirect_url": self.base_url() + "/one_drive_token"}, **vals))

    def connect_click(self, client):
        action = client.with_user(self.admin).action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn("/oauth2/v2.0/authorize", action["url"])
        return consent(action)

    def callback(self, location):
        return self.url_open(location, allow_redirects=False)

    def assertRefused(self, response, text):
        self.assertEqual(response.status_code, 400)
        self.assertIn("OneDrive / SharePoint connection failed", response.text)
        self.assertIn(text, response.text)

    def test_r_con_1_round_trip(self):
        client = self.new_client()
        location, params = self.connect_click(client)
        self.assertTrue(params["code"] and params["state"])
        response = self.callback(location)
        self.assertIn(response.status_code, (302, 303))
        self.assertEqual(client.state, "connected")
        self.assertEqual(client.onedrive_account, self.emu.user["userPrincipalName"])
        self.assertIn("/Odoo", self.emu.tree())
        self.assertTrue(client.change_cursor.startswith("graph1:https://graph.microsoft.com/"))
        # R-CON-5: the secret and the token cache are never read back
        self.assertFalse(client.onedrive_client_secret)
        self.assertTrue(client.onedrive_token_set and client.onedrive_secret_set)
        client.write({"onedrive_client_secret": False, "onedrive_link_policy": "none"})
        self.assertEqual(client._get_secret("onedrive_client_secret"), self.emu.client_secret)
        self.assertTrue(client._get_secret("onedrive_token_cache"))

    def test_r_con_2_forged_state_refused(self):
        client = self.new_client()
        location, params = self.connect_click(client)
        forged = location.replace(params["state"], params["state"][:-4] + "AAAA")
        self.assertRefused(self.callback(forged), "not issued by this database")
        no_state = location.split("?")[0] + "?code=" + params["code"]
        self.assertRefused(self.callback(no_state), "no valid state")
        self.assertEqual(client.state, "draft")
        self.assertFalse(client._get_secret("onedrive_token_cache"))
        self.callback(location)  # the genuine answer still works
        self.assertEqual(client.state, "connected")

    def test_r_con_2_replayed_state_refused(self):
        client = self.new_client()
        location, _params = self.connect_click(client)
        self.callback(location)
        self.assertEqual(client.state, "connected")
        cache = client._get_secret("onedrive_token_cache")
        self.assertRefused(self.callback(location), "already used")
        self.assertEqual(client._get_secret("onedrive_token_cache"), cache)

    def test_r_con_2_expired_state_refused(self):
        client = self.new_client()
        location, _params = self.connect_click(client)
        later = time.time() + oauth_model.STATE_LIFETIME + 60
        with patch.object(oauth_model, "time", type("Clock", (), {
                "time": staticmethod(lambda: later)})):
            self.assertRefused(self.callback(location), "expired")
        self.assertEqual(client.state, "draft")
        self.assertRefused(self.callback(location), "already used")

    def test_r_con_2_denied_consent_shows_page(self):
        client = self.new_client()
        self.emu.approve = False
        location, _params = self.connect_click(client)
        self.assertRefused(self.callback(location), "not granted")
        self.assertEqual(client.state, "draft")

    def test_r_con_1_sharepoint_library_chosen_after_connecting(self):
        """The libraries of the site fill the selection; with several, the administrator
        chooses one and connects; nothing is created in the cloud before."""
        client = self.new_client(onedrive_kind="sharepoint",
                                 onedrive_site_url="https://contoso.sharepoint.com",
                                 onedrive_site_path="Team")
        location, _params = self.connect_click(client)
        self.assertRefused(self.callback(location), "Choose the document library")
        self.assertEqual(client.state, "draft")
        self.assertEqual(sorted(client.onedrive_library_ids.mapped("name")),
                         ["Archive", "Documents"])
        archive = client.onedrive_library_ids.filtered(lambda lib: lib.name == "Archive")
        client.onedrive_library_id = archive
        client.action_connect()  # the token is kept: no second consent
        self.assertEqual(client.state, "connected")
        self.assertIn("/Odoo", self.emu.tree(archive.drive_id))
        self.assertNotIn("/Odoo", self.emu.tree(self.emu.site_drive_ids[0]))
