"""R-CON-1/2/3/5: the OAuth round trip through the real /dropbox_token controller."""
import base64
import json
import time
from urllib.parse import urlencode
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

from odoo.addons.cloud_base.models import cloud_client_oauth as oauth_model
from odoo.addons.cloud_dropbox.models import cloud_client as dropbox_model

from .common import consent


@tagged("post_install", "-at_install")
class TestDropboxOAuth(HttpCase):

    def setUp(self):
        super().setUp()
        self.emu = DropboxEmulator().start()
        self.addCleanup(self.emu.stop)
        self.admin = self.env.ref("base.user_admin")
        self.authenticate("admin", "admin")

    def new_client(self, name="Dropbox", secret=DEFAULT_APP_SECRET, **vals):
        values = {"name": name, "provider": "dropbox", "api_base_url": self.emu.base_url,
                  "dropbox_app_key": DEFAULT_APP_KEY,
                  "dropbox_redirect_url": self.base_url() + "/dropbox_token"}
        if secret:
            values["dropbox_app_secret"] = secret
        values.update(vals)
        return self.env["cloud.client"].create(values)

    def connect_click(self, client, user=None):
        action = client.with_user(user or self.admin).action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        return consent(action)

    def callback(self, location):
        return self.url_open(location, allow_redirects=False)

    def assertRefused(self, response, text):
        self.assertEqual(response.status_code, 400)
        self.assertIn("Dropbox connection failed", response.text)
        self.assertIn(text, response.text)

    # -- the happy path ----------------------------------------------------------------------
    def test_r_con_1_round_trip_with_app_secret(self):
        client = self.new_client()
        location, params = self.connect_click(client)
        asked = self.emu.authorize_requests[-1]
        self.assertEqual(asked["token_access_type"], "offline")
        self.assertEqual(asked["redirect_uri"], self.base_url() + "/dropbox_token")
        self.assertEqual(set(asked["scope"].split()), set(dropbox_model.DROPBOX_SCOPES))
        self.assertNotIn("code_challenge", asked)  # the app secret is used, no PKCE
        response = self.callback(location)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("cloud.client", response.headers["Location"])
        self.assertEqual(client.state, "connected")
        self.assertTrue(client._get_secret("dropbox_refresh_token"))
        self.assertEqual(self.emu.token_requests[-1]["client_secret"], DEFAULT_APP_SECRET)
        self.assertIn("/Odoo", self.emu.tree())
        self.assertTrue(client.change_cursor)
        # R-CON-5: nothing secret is readable back, saving the form keeps the token
        self.assertFalse(client.dropbox_app_secret)
        client.write({"dropbox_app_secret": False, "dropbox_link_policy": "none",
                      "root_folder_name": "Odoo"})
        self.assertTrue(client._get_secret("dropbox_refresh_token"))
        self.assertEqual(client._get_secret("dropbox_app_secret"), DEFAULT_APP_SECRET)

    def test_r_con_1_round_trip_with_pkce(self):
        client = self.new_client(secret=False)
        location, _params = self.connect_click(client)
        self.assertEqual(self.emu.authorize_requests[-1]["code_challenge_method"], "S256")
        self.callback(location)
        self.assertEqual(client.state, "connected")
        token_request = [r for r in self.emu.token_requests
                         if r["grant_type"] == "authorization_code"][-1]
        self.assertNotIn("client_secret", token_request)
        self.assertTrue(token_request["code_verifier"])
        # the PKCE refresh token works without a secret
        self.assertTrue(client._get_adapter().check_connection()["account"])

    def test_r_con_6_team_scopes_asked(self):
        client = self.new_client(dropbox_team=True, dropbox_team_member="dbmid:x")
        self.connect_click(client)
        scopes = set(self.emu.authorize_requests[-1]["scope"].split())
        self.assertTrue({"members.read", "team_data.member"} <= scopes)

    # -- refusals (R-CON-2) ------------------------------------------------------------------
    def test_r_con_2_missing_or_forged_state_refused(self):
        client = self.new_client()
        location, params = self.connect_click(client)
        no_state = location.split("?")[0] + "?code=" + params["code"]
        self.assertRefused(self.callback(no_state), "no valid state")
        csrf, _sep, signed = params["state"].partition("|")
        body, _dot, signature = signed.rpartition(".")
        forged_payload = json.loads(base64.urlsafe_b64decode(
            body + "=" * (-len(body) % 4)))
        forged_payload["c"] = client.id + 1000
        forged = base64.urlsafe_b64encode(
            json.dumps(forged_payload).encode()).decode().rstrip("=")
        for state in ("%s|%s.%s" % (csrf, forged, signature), "%s|%s.%s" % (csrf, body, "0" * 64),
                      "garbage"):
            self.assertRefused(self.callback(
                location.split("?")[0] + "?" + urlencode(
                    {"code": params["code"], "state": state})), "")
        self.assertEqual(client.state, "draft")
        self.assertFalse(client._get_secret("dropbox_refresh_token"))
        # the genuine answer still works afterwards
        self.callback(location)
        self.assertEqual(client.state, "connected")

    def test_r_con_2_replayed_state_refused(self):
        client = self.new_client()
        location, _params = self.connect_click(client)
        self.callback(location)
        self.assertEqual(client.state, "connected")
        token = client._get_secret("dropbox_refresh_token")
        self.assertRefused(self.callback(location), "already used")
        self.assertEqual(client._get_secret("dropbox_refresh_token"), token)

    def test_r_con_2_older_link_replaced_by_newer_click(self):
        client = self.new_client()
        old_location, _params = self.connect_click(client)
        new_location, _params = self.connect_click(client)
        self.assertRefused(self.callback(old_location), "already used or replaced")
        self.callback(new_location)
        self.assertEqual(client.state, "connected")

    def test_r_con_2_expired_state_refused(self):
        client = self.new_client()
        location, _params = self.connect_click(client)
        later = time.time() + oauth_model.STATE_LIFETIME + 60
        with patch.object(oauth_model, "time", type("Clock", (), {
                "time": staticmethod(lambda: later)})):
            self.assertRefused(self.callback(location), "expired")
        self.assertEqual(client.state, "draft")
        self.assertRefused(self.callback(location), "already used")  # consumed anyway

    def test_r_con_2_state_bound_to_user(self):
        client = self.new_client()
        other = new_test_user(self.env, "other-admin", groups="base.group_system",
                              password="other-admin-pass")
        location, _params = self.connect_click(client, user=other)
        self.assertRefused(self.callback(location), "another user")  # admin's session
        self.assertEqual(client.state, "draft")

    def test_r_con_2_two_clients_in_draft_each_gets_its_own_account(self):
        """Trap: 'the latest client in draft' must not receive another client's token."""
        first = self.new_client("First")
        second = self.new_client("Second", root_folder_name="Second root")
        first_location, _params = self.connect_click(first)
        second_location, _params = self.connect_click(second)
        self.callback(first_location)
        self.assertEqual(first.state, "connected")
        self.assertEqual(second.state, "draft")
        self.assertFalse(second._get_secret("dropbox_refresh_token"))
        self.callback(second_location)
        self.assertEqual(second.state, "connected")
        self.assertNotEqual(first._get_secret("dropbox_refresh_token"),
                            second._get_secret("dropbox_refresh_token"))

    def test_r_con_2_denied_consent_shows_page(self):
        client = self.new_client()
        self.emu.authorize_behavior = "deny"
        location, _params = self.connect_click(client)
        self.assertRefused(self.callback(location), "not granted")
        self.assertEqual(client.state, "draft")
