import base64
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import TransactionCase

from odoo.addons.cloud_base.tests.common import CloudTestMixin

from .harness import HarnessEmulator, consent_cache
from ..lib.graph_adapter import ONEDRIVE_SCOPES, SHAREPOINT_SCOPES


def consent(action):
    """Play the administrator on Microsoft's consent page: follow the act_url to the
    emulator and return where Microsoft sends the browser back (/one_drive_token) and the
    query parameters of that address."""
    response = requests.get(action["url"], allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def new_client(env, emu, kind="onedrive", connect=True, library=None, user_id=None,
               token_cache=None, **vals):
    """A client of the emulator's OneDrive (or SharePoint site), authorized without the
    browser (``token_cache``, else the one msal's auth code flow leaves, signed in as
    ``user_id`` or the default user) and connected."""
    values = {"name": "OneDrive test", "provider": "onedrive", "api_base_url": emu.base_url,
              "onedrive_client_id": emu.client_id, "onedrive_client_secret": emu.client_secret,
              "onedrive_kind": kind, "mass_delete_min_files": 1000}
    if kind == "sharepoint":
        values.update(onedrive_site_url="https://contoso.sharepoint.com/",
                      onedrive_site_path="sites/Team")
    values.update(vals)
    client = env["cloud.client"].create(values)
    client._set_secret("onedrive_token_cache", token_cache or consent_cache(
        emu, SHAREPOINT_SCOPES if kind == "sharepoint" else ONEDRIVE_SCOPES, user_id=user_id))
    if connect and kind == "sharepoint":
        # the libraries are read on the first Connect, then one is chosen
        client.action_onedrive_load_libraries()
        drive_id = library or emu.site_drive_ids[0]
        client.onedrive_library_id = client.onedrive_library_ids.filtered(
            lambda lib: lib.drive_id == drive_id)
    if connect:
        client.action_connect()
    return client


class OneDriveCase(CloudTestMixin, TransactionCase):
    """A fresh Graph emulator for every test."""

    def setUp(self):
        super().setUp()
        self.emu = HarnessEmulator().start()
        self.addCleanup(self.emu.stop)

    def make_client(self, kind="onedrive", connect=True, **vals):
        return new_client(self.env, self.emu, kind, connect, **vals)

    def sync(self, client):
        client._prepare_direct()
        return self.run_queue()

    def backward(self, client):
        client._enqueue_backward()
        return self.run_queue()

    def assertSynced(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "url")
        self.assertFalse(attachment.store_fname)
        self.assertEqual(self.emu.content(attachment.cloud_item_id), data)
        self.assertEqual(attachment.raw, data)
        self.assertEqual(base64.b64decode(attachment.datas), data)
