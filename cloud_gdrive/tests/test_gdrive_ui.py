"""The client form of Google Drive (a shared drive), connected, in the browser (the picture
of the README)."""
import threading

from odoo.tests import tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
from odoo.addons.cloud_base.tests.test_ui_tours import CloudTourCase

from cloud_emulators.gdrive import DriveEmulator

from .common import connect_with_grant, gdrive_client_values


@tagged("post_install", "-at_install")
class TestGoogleDriveClientForm(CloudTourCase):

    def test_shared_drive_client_form(self):
        emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=emu.stop, daemon=True).start())
        team = emu.add_shared_drive("Team files")
        client = connect_with_grant(self.env["cloud.client"].create(gdrive_client_values(
            emu, name="Team files on Google Drive", drive_id=team)), emu)
        self.assertEqual(client.state, "connected")
        self.shot_names = {"client_form": "admin_gdrive_client_form"}
        self.start_tour("/odoo/action-cloud_base.action_cloud_client/%d" % client.id,
                        "cloud_base_client_form_tour", login="admin", timeout=120)
        self.assertEqual(len(self.screenshots), 1)
