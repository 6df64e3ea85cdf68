"""The shared engine scenarios (``cloud_base/tests/engine_scenarios.py``) on Google Drive, My
Drive and a shared drive: the real SDK against the emulator, through the contract harnesses
(``harness.py``)."""
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.engine_scenarios import EngineScenarios

from .common import connect_with_grant, gdrive_client_values
from .harness import GoogleDriveHarness, SharedDriveHarness


class GoogleDriveEngineDriver:
    def make_engine_client(self):
        harness = self.harness
        client = self.env["cloud.client"].create(gdrive_client_values(
            harness.emu, name="Google Drive engine", drive_id=harness.drive_id,
            options={"rate_limit_retries": 0, "chunk_retries": 0,
                     "page_size": harness.page_size,
                     "chunk_threshold": harness.chunk_threshold,
                     "chunk_size": harness.chunk_size}))
        return connect_with_grant(client, harness.emu)


@tagged("post_install", "-at_install")
class TestGoogleDriveEngine(GoogleDriveEngineDriver, EngineScenarios, TransactionCase):
    harness_class = GoogleDriveHarness


@tagged("post_install", "-at_install")
class TestSharedDriveEngine(GoogleDriveEngineDriver, EngineScenarios, TransactionCase):
    harness_class = SharedDriveHarness
