"""R-CON-1/2/3/5: the OAuth round trip through the real /google_drive_token controller and
google-auth-oauthlib's Flow, against the Drive emulator's OAuth endpoints."""
import base64
import json
import threading
import time
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from odoo.tests import HttpCase, tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.gdrive import DriveEmulator

from odoo.addons.cloud_base.models import cloud_client_oauth as oauth_model
from odoo.addons.cloud_gdrive.lib.gdrive_adapter import SCOPE
from odoo.addons.cloud_gdrive.models.cloud_client import TOKEN_SECRET

from .common import gdrive_client_values


@tagged("post_install", "-at_install")
class TestGoogleDriveOAuth(HttpCase):

    def setUp(self):
        super().setUp()
        self.emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=self.emu.stop, daemon=True).start())
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.admin = self.env.ref("base.user_admin")
        self.authenticate("admin", "admin")

    def new_client(self, **vals):
        return self.env["cloud.client"].create(gdrive_client_values(self.emu, **vals))

    def connect_click(self, client):
        """Press Connect, play the administrator on Google's consent page; return the
        consent URL's parameters and the URL Google sends the browser back to."""
        action = client.with_user(self.admin).action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        asked = {k: v[0] for k, v in parse_qs(urlsplit(action["url"]).query).items()}
        response = requests.get(action["url"], allow_redirects=False, timeout=10)
        self.assertEqual(response.status_code, 302, response.text)
        return asked, response.headers["Location"]

    def callback(self, location):
        return self.url_open(location, allow_redirects=False)

    def assertRefused(self, response, text):
        self.assertEqual(response.status_code, 400)
        self.assertIn("Google Drive connection failed", response.text)
        self.assertIn(text, response.text)

    def test_r_con_1_round_trip_offline_consent_pkce(self):
        client = self.new_client()
        asked, location = self.connect_click(client)
        self.assertEqual(asked["access_type"], "offline")
        self.assertEqual(asked["prompt"], "consent")
        self.assertEqual(asked["code_challenge_method"], "S256")
        self.assertTrue(asked["code_challenge"])
        self.assertEqual(asked["scope"], SCOPE)
        self.assertEqual(asked["redirect_uri"], self.base_url() + "/google_drive_token")
        self.assertTrue(location.startswith(self.base_url() + "/google_drive_token?"))
        response = self.callback(location)
        self.assertIn(response.status_code, (302, 303))
        self.assertEqual(client.state, "connected")
        self.assertTrue(client._get_secret(TOKEN_SECRET))
        self.assertIn("/Odoo", self.emu.tree())
        self.assertTrue(client.change_cursor)
        # R-CON-5: secrets are not readable back; saving the form keeps them
        self.assertFalse(client.gdrive_client_secret)
        self.assertTrue(client.gdrive_client_secret_set)
        client.write({"gdrive_client_secret": False, "gdrive_link_policy": "none"})
        self.assertEqual(client._get_secret("gdrive_client_secret"), self.emu.client_secret)

    def test_r_con_2_forged_state_refused(self):
        client = self.new_client()
        _asked, location = self.connect_click(client)
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        body, _dot, signature = params["state"].rpartition(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["c"] = client.id + 1000
        forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
        base = location.split("?")[0]
        for state in ("%s.%s" % (forged, signature), "%s.%s" % (body, "0" * 64), "garbage"):
            self.assertRefused(self.callback(base + "?" + urlencode(
                {"code": params["code"], "state": state})), "")
        self.assertRefused(self.callback(base + "?code=" + params["code"]), "no valid state")
        self.assertEqual(client.state, "draft")
        self.callback(location)  # the genuine answer still works
        self.assertEqual(client.state, "connected")

    def test_r_con_2_replayed_state_refused(self):
        client = self.new_client()
        _asked, location = self.connect_click(client)
        self.callback(location)
        token = client._get_secret(TOKEN_SECRET)
        self.assertRefused(self.callback(location), "already used")
        self.assertEqual(client._get_secret(TOKEN_SECRET), token)

    def test_r_con_2_expired_state_refused(self):
        client = self.new_client()
        _asked, location = self.connect_click(client)
        later = time.time() + oauth_model.STATE_LIFETIME + 60
        with patch.object(oauth_model, "time", type("Clock", (), {
                "time": staticmethod(lambda: later)})):
            self.assertRefused(self.callback(location), "expired")
        self.assertEqual(client.state, "draft")
        self.assertFalse(client._get_secret(TOKEN_SECRET))

    def test_r_con_1_no_refresh_token_explained(self):
        """An account that consented before may get no refresh token: say what to do."""
        client = self.new_client()
        self.emu.issue_refresh_tokens = False
        _asked, location = self.connect_click(client)
        response = self.callback(location)
        self.assertRefused(response, "no refresh token")
        self.assertIn("myaccount.google.com/permissions", response.text)
        self.assertEqual(client.state, "draft")
        self.assertFalse(client._get_secret(TOKEN_SECRET))

    def test_r_con_2_denied_consent_shows_page(self):
        client = self.new_client()
        self.emu.approve = False
        _asked, location = self.connect_click(client)
        self.assertRefused(self.callback(location), "not granted")
        self.assertEqual(client.state, "draft")
