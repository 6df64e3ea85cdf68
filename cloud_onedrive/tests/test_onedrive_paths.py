"""OneDrive/SharePoint refuse a path longer than 400 characters (the drive's own server path
included): every level's names are cut to their share, deterministically, so that a deep
tree of long names never makes a failing upload."""
from urllib.parse import unquote, urlsplit

from odoo.tests import tagged

from .common import OneDriveCase

LONG = "Quarterly review of the regional distribution agreements and their annexes"


@tagged("post_install", "-at_install")
class TestOneDrivePaths(OneDriveCase):

    def full_paths(self, drive_id=None):
        """Decoded server-relative paths of everything in the drive, as Graph counts them."""
        drive = self.emu._drives[drive_id or self.emu.me_drive_id]
        base = unquote(urlsplit(drive.web_url).path).rstrip("/")
        return [base + path for path in self.emu.tree(drive_id)]

    def deep_rule(self, client, partner):
        rule = self.rule_for(client, folder=" ".join([LONG] * 3),
                             domain="[('id', '=', %d)]" % partner.id)
        parent = False
        for level in range(6):
            parent = self.env["cloud.rule.folder"].create({
                "name": "%d %s %s" % (level, LONG, LONG), "rule_id": rule.id,
                "parent_id": parent and parent.id})
        return rule

    def test_deep_tree_of_long_names_stays_within_400_characters(self):
        client = self.make_client(root_folder_name="Odoo " + LONG)
        partner = self.Partner.create({"name": " ".join([LONG] * 3)})
        self.deep_rule(client, partner)
        doc = self.attach(partner, " ".join([LONG] * 3) + ".pdf", b"%PDF deep")
        self.sync(client)
        self.assertSynced(doc, b"%PDF deep")
        self.assertTrue(doc.name.endswith(".pdf"))
        item = self.emu.item(doc.cloud_item_id)
        self.assertTrue(item["name"].endswith(".pdf"))
        paths = self.full_paths()
        self.assertEqual(len(paths), 1 + 1 + 1 + 6 + 1)  # root, rule, record, defaults, file
        self.assertLessEqual(max(len(p) for p in paths), 400)
        self.assertFalse(self.env["cloud.task"].search([("client_id", "=", client.id),
                                                        ("state", "=", "failed")]))
        # a new version is uploaded under its temporary name first: it fits too
        doc.raw = b"%PDF deep, second version"
        self.sync(client)
        self.assertSynced(doc, b"%PDF deep, second version")
        self.assertEqual(self.emu.item(doc.cloud_item_id)["name"], item["name"])

    def test_names_cut_the_same_way_every_time(self):
        """Two clients of two drives with the same drive path cut the same names alike."""
        folders = []
        for run in range(2):
            client = self.make_client(name="Client %d" % run)
            rule = self.rule_for(client, folder=" ".join([LONG] * 3),
                                 domain="[('id', '=', 0)]")
            client._prepare_direct()
            folders.append(rule.folder_id.name)
            self.emu.me_drive_id = self.emu.add_drive("OneDrive %d" % run, web_url=(
                "https://contoso-my.sharepoint.com/personal/test_user_contoso_onmicrosoft_com"
                "/Documents"))
        self.assertEqual(folders[0], folders[1])
        self.assertLess(len(folders[0]), len(LONG) * 3)

    def test_renamed_record_folder_keeps_the_files_below_within_the_limit(self):
        client = self.make_client()
        partner = self.Partner.create({"name": "Ann"})
        self.rule_for(client, folder=" ".join([LONG] * 3),
                      domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, " ".join([LONG] * 4) + ".txt", b"x")
        self.sync(client)
        self.assertSynced(doc, b"x")
        partner.name = " ".join([LONG] * 3)  # the record folder grows to its cap
        self.sync(client)
        folder = self.env["cloud.folder"].search([("res_model", "=", "res.partner"),
                                                  ("res_id", "=", partner.id)])
        self.assertEqual(folder.cloud_name, folder.name)
        self.assertGreater(len(folder.name), 50)
        self.assertLessEqual(max(len(p) for p in self.full_paths()), 400)

    def test_sharepoint_library_path_counts(self):
        site = self.emu.add_site("contoso.sharepoint.com", "/sites/" + "Project" * 8,
                                 "Project", libraries=("Contracts and agreements " * 3,))
        client = self.make_client("sharepoint", onedrive_site_path="sites/" + "Project" * 8)
        self.assertTrue(client.onedrive_site_id == site)
        self.assertIn("/sites/", client.onedrive_drive_path)
        partner = self.Partner.create({"name": " ".join([LONG] * 3)})
        self.rule_for(client, folder=" ".join([LONG] * 3),
                      domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, " ".join([LONG] * 4) + ".txt", b"x")
        self.sync(client)
        self.assertSynced(doc, b"x")
        drive_id = client.onedrive_library_id.drive_id
        self.assertLessEqual(max(len(p) for p in self.full_paths(drive_id)), 400)
