"""Issue 15 §6: before the first sync, a rule tells how much it will move and how long it
should take at the rate measured on its client."""
import datetime

from odoo import fields
from odoo.tests import tagged

from ..lib.quantities import format_bytes, format_duration
from .common import CloudCase


@tagged("post_install", "-at_install")
class TestMigrationPreview(CloudCase):

    def test_counts_what_is_not_in_the_cloud_yet_then_estimates_the_time(self):
        ann, bob, eve = self.Partner.create([{"name": n} for n in ("Ann", "Bob", "Eve")])
        rule = self.make_rule(domain="[('id', 'in', %s)]" % [ann.id, bob.id])
        self.attach(ann, "a.pdf", b"a" * 1500)
        self.attach(bob, "b.pdf", b"b" * 500)
        self.attach(bob, "page.html", b"<p>kept in Odoo</p>", mimetype="text/html")
        self.attach(eve, "not-in-the-rule.pdf", b"e" * 999)
        self.assertIn("2 files, 2.0 KB, will go to the cloud.", rule.migration_preview)
        self.assertIn("estimated once this client has uploaded", rule.migration_preview)
        self.sync()
        rule.invalidate_recordset(["migration_preview"])
        self.assertIn("Nothing to move", rule.migration_preview)
        # a rate measured on twenty uploads of 1 KB over ten seconds: 2 files/s, 2 KB/s
        docs = self.Attachment
        for n in range(20):
            docs |= self.attach(ann, "f%02d.txt" % n, b"x" * 1000)
        self.sync()
        start = fields.Datetime.now() - datetime.timedelta(seconds=10)
        uploads = self.Task.search([("type", "=", "file_upload"), ("state", "=", "done"),
                                    ("attachment_id", "in", docs.ids)])
        self.assertEqual(len(uploads), 20)
        uploads.write({"started_at": start, "done_at": start + datetime.timedelta(seconds=10)})
        files_per_second, bytes_per_second = self.client._measured_upload_rate()
        self.assertAlmostEqual(files_per_second, 2.0 + 2 / 10.0, delta=0.3)  # + the 2 before
        for n in range(100):
            self.attach(bob, "later%03d.bin" % n, b"y" * 2000)
        rule.invalidate_recordset(["migration_preview"])
        self.assertIn("100 files, 200.0 KB", rule.migration_preview)
        self.assertIn("files/s", rule.migration_preview)
        self.assertRegex(rule.migration_preview, r"about (\d+ min|< 1 min)")

    def test_words(self):
        self.assertEqual(format_bytes(0), "0 B")
        self.assertEqual(format_bytes(999), "999 B")
        self.assertEqual(format_bytes(1234567), "1.2 MB")
        self.assertEqual(format_duration(20), "< 1 min")
        self.assertEqual(format_duration(4000), "1 h 07 min")
        self.assertEqual(format_duration(3 * 86400 + 7200), "3 d 02 h")
