"""Names cut to the server's limit, counted in bytes (ownCloud/Nextcloud: 255 bytes)."""
from odoo.tests import tagged

from .common import OwnCloudCase


@tagged("post_install", "-at_install")
class TestOwnCloudNames(OwnCloudCase):

    def test_long_accented_names_fit_in_bytes(self):
        client = self.make_client()
        self.rule_for(client)
        partner = self.Partner.create({"name": "é" * 200})  # 400 bytes of UTF-8
        doc = self.attach(partner, "ü" * 150 + ".pdf", b"%PDF-1.4 long")
        client._prepare_direct()
        self.run_queue()
        folder = self.env["cloud.folder"].search([("res_id", "=", partner.id),
                                                  ("kind", "=", "object")])
        self.assertEqual(folder.state, "synced")
        self.assertLessEqual(len(folder.cloud_name.encode()), 255)
        doc.invalidate_recordset()
        self.assertTrue(doc.cloud_item_id)
        self.assertTrue(doc.name.endswith(".pdf"))
        self.assertLessEqual(len(doc.name.encode()), 255)
        self.assertEqual(doc.raw, b"%PDF-1.4 long")
        self.assertFalse(self.Task.search_count([("state", "=", "failed")]))

    def test_names_differing_in_case_are_other_items(self):
        """WebDAV is case-sensitive: ``Contacts`` and ``contacts``, ``report.pdf`` and
        ``Report.PDF`` are different items. The core adopts an existing folder or file of the
        same name only when the name is the same there; what differs in case is left alone and
        never adopted, overwritten or renamed."""
        client = self.make_client()
        self.make_rule(client)
        partner = self.Partner.create({"name": "Ann"})
        # made by a person before the first sync
        self.emulator.put(self.user, "/Odoo/contacts/ann/report.pdf", b"lowercase tree")
        theirs = self.emulator.put(self.user, "/Odoo/Contacts/Ann/Report.PDF", b"theirs")
        doc = self.attach(partner, "report.pdf", b"ours")
        client._prepare_direct()
        self.drain(client)
        folder = self.env["cloud.folder"].search([("res_id", "=", partner.id),
                                                  ("kind", "=", "object")])
        # the folder of the same name is adopted (same id), the one in another case is not
        self.assertEqual(folder.cloud_id,
                         str(self.emulator.info(self.user, "/Odoo/Contacts/Ann")["fileid"]))
        self.assertEqual(folder.cloud_name, "Ann")
        ours = self.emulator.info(self.user, "/Odoo/Contacts/Ann/report.pdf")
        doc.invalidate_recordset()
        self.assertEqual(doc.cloud_item_id, str(ours["fileid"]))
        self.assertEqual(doc.name, "report.pdf")
        self.assertNotEqual(doc.cloud_item_id, str(theirs["fileid"]))
        self.assertEqual(self.emulator.get(self.user, "/Odoo/Contacts/Ann/report.pdf"), b"ours")
        self.assertEqual(self.emulator.get(self.user, "/Odoo/Contacts/Ann/Report.PDF"), b"theirs")
        self.assertEqual(self.emulator.get(self.user, "/Odoo/contacts/ann/report.pdf"),
                         b"lowercase tree")
        self.assertFalse([p for p in self.tree() if "(2)" in p], self.tree())
        self.assertFalse(self.Task.search_count([("state", "=", "failed")]))
