"""The client form of OneDrive and of a SharePoint library, connected, in the browser (the
pictures of the README)."""
from odoo.tests import tagged

from odoo.addons.cloud_base.tests.test_ui_tours import CloudTourCase

from .common import new_client
from .harness import HarnessEmulator


@tagged("post_install", "-at_install")
class TestOneDriveClientForm(CloudTourCase):

    def test_onedrive_and_sharepoint_client_forms(self):
        emu = HarnessEmulator().start()
        self.addCleanup(emu.stop)
        for kind, name in (("onedrive", "Company OneDrive"), ("sharepoint", "Team site")):
            client = new_client(self.env, emu, kind, name=name)
            self.assertEqual(client.state, "connected")
            self.shot_names = {"client_form": "admin_%s_client_form" % kind}
            self.start_tour("/odoo/action-cloud_base.action_cloud_client/%d" % client.id,
                            "cloud_base_client_form_tour", login="admin", timeout=120)
        self.assertEqual(len(self.screenshots), 2)
