"""The shared engine scenarios (``cloud_base/tests/engine_scenarios.py``) on OneDrive and on a
SharePoint library: msal + Graph against the emulator, through the contract harnesses."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.engine_scenarios import EngineScenarios

from .common import new_client
from .harness import GraphHarness, SharePointHarness


@tagged("post_install", "-at_install")
class TestOneDriveEngine(EngineScenarios, TransactionCase):
    harness_class = GraphHarness

    def make_engine_client(self):
        return new_client(self.env, self.harness.emu, "onedrive", name="OneDrive engine")


@tagged("post_install", "-at_install")
class TestSharePointEngine(EngineScenarios, TransactionCase):
    harness_class = SharePointHarness

    def make_engine_client(self):
        return new_client(self.env, self.harness.emu, "sharepoint", name="SharePoint engine")
