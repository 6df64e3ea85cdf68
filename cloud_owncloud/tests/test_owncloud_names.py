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
