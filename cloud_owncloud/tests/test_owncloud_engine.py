"""The shared engine scenarios (``cloud_base/tests/engine_scenarios.py``) on ownCloud/Nextcloud:
the adapter against the WebDAV emulator, through the contract harness (``harness.py``)."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.engine_scenarios import EngineScenarios

from .harness import OwnCloudHarness


@tagged("post_install", "-at_install")
class TestOwnCloudEngine(EngineScenarios, TransactionCase):
    harness_class = OwnCloudHarness

    def make_engine_client(self):
        harness = self.harness
        client = self.env["cloud.client"].create({
            "name": "Nextcloud engine", "provider": "owncloud",
            "owncloud_url": harness.emulator.base_url, "owncloud_login": harness.user,
            "owncloud_password": harness.password,
            # the harness's timeout: its TIMEOUT fault holds an answer a little longer
            "options": {"timeout": harness.timeout}})
        client.action_connect()
        return client
