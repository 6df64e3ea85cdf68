"""Backward sync on OneDrive: a personal drive's feed follows the root folder alone
(``/items/{id}/delta``); OneDrive for Business and SharePoint answer delta only on the drive's
root, whose changes elsewhere cost pages (counted here)."""
from odoo.tests import tagged

from .common import OneDriveCase


@tagged("post_install", "-at_install")
class TestOneDriveFeed(OneDriveCase):

    def synced_client(self, personal):
        if personal:
            self.emu._drives[self.emu.me_drive_id].drive_type = "personal"
        client = self.make_client(options={"page_size": 5})
        self.rule_for(client)
        partner = self.env["res.partner"].create({"name": "Ann"})
        self.attach(partner, "a.txt", b"a")
        self.sync(client)
        self.backward(client)  # the feed starts here
        self.assertTrue(client.change_cursor)
        return client, partner

    def changes_elsewhere_and_one_inside(self, partner):
        for n in range(30):
            self.emu.add_file("/Elsewhere/f%02d.txt" % n, b"x")
        self.emu.add_file("/Odoo/Contacts/Ann/new.txt", b"new")

    def delta_requests(self, client):
        before = self.emu.counters["delta"]
        self.backward(client)
        return self.emu.counters["delta"] - before

    def assertPickedUp(self, partner):
        names = self.env["ir.attachment"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]).mapped("name")
        self.assertIn("new.txt", names)

    def test_r_bw_personal_drive_reads_only_the_root_folder(self):
        client, partner = self.synced_client(personal=True)
        self.assertIn("/items/%s/delta" % client.root_folder_id.cloud_id,
                      client.change_cursor)
        self.changes_elsewhere_and_one_inside(partner)
        self.assertEqual(self.delta_requests(client), 1)  # one page: nothing from elsewhere
        self.assertPickedUp(partner)
        self.assertEqual(self.delta_requests(client), 1)  # and nothing new

    def test_r_bw_business_drive_reads_the_drive_root(self):
        client, partner = self.synced_client(personal=False)
        self.assertIn("/root/delta", client.change_cursor)
        self.changes_elsewhere_and_one_inside(partner)
        # 31 files and a folder changed, 5 a page: the whole drive's changes are read
        self.assertEqual(self.delta_requests(client), 7)
        self.assertPickedUp(partner)

    def test_r_bw_personal_root_folder_deleted_in_the_cloud(self):
        """The folder delta of a deleted folder answers 404: the feed reports the folder
        gone and goes on from the drive's root."""
        client, partner = self.synced_client(personal=True)
        self.emu.delete(client.root_folder_id.cloud_id)
        self.backward(client)
        self.assertIn("/root/delta", client.change_cursor)
        failed = self.env["cloud.task"].search([("client_id", "=", client.id),
                                                ("type", "=", "backward"),
                                                ("state", "=", "failed")])
        self.assertFalse(failed)
