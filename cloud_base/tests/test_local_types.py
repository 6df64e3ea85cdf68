"""Which attachment types stay in Odoo is the administrator's choice, and each skipped file is
said once (issue 11, loss paths: e-invoice XML never reached the cloud, silently)."""
from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestLocalTypes(CloudCase):

    def setUp(self):
        super().setUp()
        self.make_rule()
        self.partner = self.Partner.create({"name": "Types"})

    def kept_local_logs(self, attachment):
        return self.env["cloud.log"].search([("res_model", "=", "ir.attachment"),
                                             ("res_id", "=", attachment.id),
                                             ("task_type", "=", "kept_local")])

    def test_xml_goes_to_the_cloud_web_resources_stay_and_are_logged_once(self):
        invoice = self.attach(self.partner, "invoice.xml", b"<Invoice>UBL</Invoice>",
                              mimetype="application/xml")
        page = self.attach(self.partner, "page.html", b"<p>served by Odoo</p>",
                           mimetype="text/html")
        self.sync()
        self.assertSynced(invoice, b"<Invoice>UBL</Invoice>")
        page.invalidate_recordset()
        self.assertEqual(page.type, "binary")
        self.assertEqual(len(self.kept_local_logs(page)), 1)
        self.sync()
        self.assertEqual(len(self.kept_local_logs(page)), 1)  # once, not every run

    def test_administrator_chooses_the_types(self):
        self.env["res.config.settings"].create({
            "cloud_local_mimetypes": "application/xml, text/html"}).execute()
        invoice = self.attach(self.partner, "invoice.xml", b"<Invoice/>",
                              mimetype="application/xml")
        self.sync()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.type, "binary")
        self.assertTrue(self.kept_local_logs(invoice))
        self.env["res.config.settings"].create({"cloud_local_mimetypes": "text/html"}).execute()
        self.sync()
        self.assertSynced(invoice, b"<Invoice/>")
