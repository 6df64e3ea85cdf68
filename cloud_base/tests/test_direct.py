from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestDirectSync(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.make_rule(domain="[('id', 'in', %s)]" % [self.ann.id, self.bob.id])

    def test_r_dir_2_upload_then_release(self):
        doc = self.attach(self.ann, "report.pdf", b"%PDF-1.4 report", mimetype="application/pdf")
        fname = doc.store_fname
        self.assertTrue(fname)
        field_att = self.Attachment.create({
            "name": "image_1920", "res_model": "res.partner", "res_id": self.ann.id,
            "res_field": "image_1920", "raw": b"fieldvalue"})
        html = self.attach(self.ann, "page.html", b"<html><body>x</body></html>",
                           mimetype="text/html")
        self.sync()
        self.assertIn("/Odoo/Contacts/Ann/report.pdf", self.tree())
        self.assertSynced(doc, b"%PDF-1.4 report")
        self.assertEqual(doc.cloud_size, len(b"%PDF-1.4 report"))
        self.assertEqual(doc.file_size, len(b"%PDF-1.4 report"))
        self.assertTrue(doc.url.startswith("memory://"))
        self.assertEqual(doc.mimetype, "application/pdf")
        for kept in (field_att, html):
            kept.invalidate_recordset()
            self.assertEqual(kept.type, "binary", kept.name)
            self.assertFalse(kept.cloud_item_id)

    def test_r_dir_2_hash_mismatch_never_releases(self):
        doc = self.attach(self.ann, "x.bin", b"0123456789")
        original = type(self.adapter).upload

        def corrupting_upload(adapter, parent_id, name, stream, size):
            item = original(adapter, parent_id, name, stream, size)
            return item.with_(hash="0" * 64)

        self.patch(type(self.adapter), "upload", corrupting_upload)
        self.sync()
        doc.invalidate_recordset()
        self.assertEqual(doc.type, "binary")
        self.assertTrue(doc.store_fname)
        self.assertEqual(doc.raw, b"0123456789")
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertIn("does not match", task.last_error)

    def test_r_dir_6_folder_deleted_in_cloud_is_recreated(self):
        doc = self.attach(self.ann, "a.txt", b"a")
        self.sync()
        folder = self.folder_of(self.ann)
        old_id = folder.cloud_id
        self.store.remove(old_id)
        self.backward()
        self.assertFalse(doc.exists())  # its files are gone (R-BW-4)
        self.sync()
        self.assertIn("/Odoo/Contacts/Ann", self.tree())
        self.assertNotEqual(self.folder_of(self.ann).cloud_id, old_id)
        self.assertTrue(self.folder_of(self.ann).cloud_id)
        # the rule folder too
        self.store.remove(self.rule.folder_id.cloud_id)
        self.backward()
        self.sync()
        self.assertIn("/Odoo/Contacts/Ann", self.tree())
        self.assertIn("/Odoo/Contacts/Bob", self.tree())

    def test_r_dir_7_record_moving_rule_moves_folder_with_files(self):
        self.attach(self.ann, "a.txt", b"a")
        self.sync()
        cloud_id = self.folder_of(self.ann).cloud_id
        file_id = self.Attachment.search([("res_id", "=", self.ann.id),
                                          ("res_model", "=", "res.partner")]).cloud_item_id
        self.make_rule(folder="VIP", sequence=1, domain="[('id', '=', %d)]" % self.ann.id)
        calls_before = sum(self.store.calls.values())
        self.sync()
        self.assertIn("/Odoo/VIP/Ann/a.txt", self.tree())
        self.assertEqual(self.folder_of(self.ann).cloud_id, cloud_id)
        self.assertIn(file_id, self.store.items)
        self.assertEqual(self.store.calls["upload"], 1)  # moved, not re-uploaded
        self.assertLess(sum(self.store.calls.values()) - calls_before, 10)

    # -- a synced file renamed in Odoo (the file manager, the attachment's form) --------------
    def test_a_file_renamed_in_odoo_is_renamed_in_the_cloud(self):
        doc = self.attach(self.ann, "draft.txt", b"text")
        self.sync()
        doc.name = "final.txt"
        self.run_queue()
        self.assertIn("/Odoo/Contacts/Ann/final.txt", self.tree())
        self.assertNotIn("/Odoo/Contacts/Ann/draft.txt", self.tree())
        self.assertEqual(self.store.items[doc.cloud_item_id].name, "final.txt")
        self.assertSynced(doc, b"text")

    def test_a_rename_onto_a_name_taken_in_the_cloud_takes_the_next_free_one(self):
        doc = self.attach(self.ann, "draft.txt", b"text")
        self.sync()
        self.store.put_file(self.folder_of(self.ann).cloud_id, "final.txt", b"someone's")
        doc.name = "final.txt"
        self.run_queue()
        self.assertEqual(doc.name, "final (2).txt")
        self.assertEqual(self.store.items[doc.cloud_item_id].name, "final (2).txt")
        self.backward()
        self.assertEqual(sorted(self.Attachment.search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.ann.id)]).mapped("name")),
            ["final (2).txt", "final.txt"])

    def test_a_rename_and_a_new_version_both_reach_the_cloud(self):
        doc = self.attach(self.ann, "draft.txt", b"v1")
        self.sync()
        doc.raw = b"v2"
        doc.name = "final.txt"  # after the edit: the update must not bring the old name back
        self.run_queue()
        self.assertEqual(doc.name, "final.txt")
        self.assertIn("/Odoo/Contacts/Ann/final.txt", self.tree())
        self.assertNotIn("/Odoo/Contacts/Ann/draft.txt", self.tree())
        self.assertSynced(doc, b"v2")
