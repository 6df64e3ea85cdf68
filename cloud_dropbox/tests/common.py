import base64
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import TransactionCase

from odoo.addons.cloud_base.tests.common import CloudTestMixin
from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator


def consent(action):
    """Play the administrator on Dropbox's consent page: follow the act_url to the emulator
    and return the query parameters Dropbox sends back to /dropbox_token."""
    response = requests.get(action["url"], allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class DropboxCase(CloudTestMixin, TransactionCase):
    """A client connected to a fresh Dropbox emulator for every test."""

    emulator_kwargs = {}

    def setUp(self):
        super().setUp()
        self.emu = DropboxEmulator(**self.emulator_kwargs).start()
        self.addCleanup(self.emu.stop)

    def make_client(self, connect=True, grant=None, **vals):
        client = self.env["cloud.client"].create(dict({
            "name": "Dropbox test", "provider": "dropbox", "api_base_url": self.emu.base_url,
            "dropbox_app_key": DEFAULT_APP_KEY, "dropbox_app_secret": DEFAULT_APP_SECRET,
            "mass_delete_min_files": 1000}, **vals))
        if connect:
            grant = grant or self.emu.issue_token(refresh=True)
            client._set_secret("dropbox_refresh_token", grant["refresh_token"])
            client.action_connect()
            self.assertEqual(client.state, "connected")
        return client

    def make_rule(self, client, model="res.partner", folder="Contacts", **vals):
        return self.rule_for(client, model, folder, **vals)

    def sync(self, client):
        client._prepare_direct()
        return self.run_queue()

    def backward(self, client):
        client._enqueue_backward()
        return self.run_queue()

    def assertSynced(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "url")
        self.assertTrue(attachment.cloud_item_id.startswith("id:"))
        self.assertFalse(attachment.store_fname)
        self.assertEqual(self.emu.content(attachment.cloud_item_id), data)
        self.assertEqual(attachment.raw, data)
        self.assertEqual(base64.b64decode(attachment.datas), data)

    def assertInOdoo(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "binary")
        self.assertFalse(attachment.cloud_item_id)
        self.assertEqual(attachment.raw, data)
