"""The shared engine scenarios (``cloud_base/tests/engine_scenarios.py``) on Dropbox: the real
SDK against the emulator, through the contract harness (``harness.py``)."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.engine_scenarios import EngineScenarios

from .harness import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxHarness


@tagged("post_install", "-at_install")
class TestDropboxEngine(EngineScenarios, TransactionCase):
    harness_class = DropboxHarness

    def make_engine_client(self):
        client = self.env["cloud.client"].create({
            "name": "Dropbox engine", "provider": "dropbox",
            "api_base_url": self.harness.emu.base_url, "dropbox_app_key": DEFAULT_APP_KEY,
            "dropbox_app_secret": DEFAULT_APP_SECRET})
        client._set_secret("dropbox_refresh_token",
                           self.harness.emu.issue_token(refresh=True)["refresh_token"])
        client.action_connect()
        return client
