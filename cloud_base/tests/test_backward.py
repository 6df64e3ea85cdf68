from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestBackwardSync(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.make_rule(domain="[('id', 'in', %s)]" % [self.ann.id, self.bob.id])
        self.doc = self.attach(self.ann, "doc.txt", b"original")
        self.sync()
        self.ann_folder = self.folder_of(self.ann)
        self.bob_folder = self.folder_of(self.bob)

    def attachments_of(self, record):
        return self.Attachment.search([("res_model", "=", record._name),
                                       ("res_id", "=", record.id)])

    def test_r_bw_1_file_added_in_cloud(self):
        item = self.store.put_file(self.ann_folder.cloud_id, "from-cloud.pdf", b"%PDF cloud")
        self.backward()
        new = self.attachments_of(self.ann).filtered(lambda a: a.name == "from-cloud.pdf")
        self.assertEqual(new.cloud_item_id, item.id)
        self.assertEqual(new.type, "url")
        self.assertEqual(new.mimetype, "application/pdf")
        self.assertEqual(new.file_size, len(b"%PDF cloud"))
        self.assertEqual(new.raw, b"%PDF cloud")

    def test_r_bw_2_subfolder_becomes_folder_link(self):
        sub = self.store.put_folder(self.ann_folder.cloud_id, "Scans")
        self.store.put_file(sub.id, "inside.txt", b"deep")
        self.backward()
        links = self.attachments_of(self.ann).filtered(lambda a: a.cloud_kind == "folder")
        self.assertEqual(links.mapped("name"), ["Scans"])
        self.assertEqual(links.cloud_item_id, sub.id)
        self.assertFalse(self.attachments_of(self.ann).filtered(
            lambda a: a.name == "inside.txt"))  # first level only
        self.store.remove(sub.id)
        self.backward()
        self.assertFalse(links.exists())

    def test_r_bw_3_renamed_in_cloud(self):
        self.store.update(self.doc.cloud_item_id, name="renamed.txt")
        self.backward()
        self.assertEqual(self.doc.name, "renamed.txt")
        self.assertIn("/Odoo/Contacts/Ann/renamed.txt", self.tree())  # cloud owns file names

    def test_r_bw_4_deleted_in_cloud(self):
        self.store.remove(self.doc.cloud_item_id)
        self.backward()
        self.assertFalse(self.doc.exists())
        self.assertFalse(self.Task.search_count([("type", "=", "file_delete")]))

    def test_r_bw_5_moved_between_object_folders(self):
        self.store.update(self.doc.cloud_item_id, parent_id=self.bob_folder.cloud_id)
        self.backward()
        self.assertEqual((self.doc.res_model, self.doc.res_id), ("res.partner", self.bob.id))
        self.assertEqual(self.doc.cloud_folder_id, self.bob_folder)
        # moved outside any object folder: treated as deleted
        self.store.update(self.doc.cloud_item_id, parent_id=self.client.root_folder_id.cloud_id)
        self.backward()
        self.assertFalse(self.doc.exists())

    def test_r_bw_6_changed_in_cloud(self):
        item = self.store.items[self.doc.cloud_item_id]
        self.store.content[item.id] = b"new content!"
        from ..lib.adapter import sha256_hex
        self.store.update(item.id, size=12, hash=sha256_hex([b"new content!"]))
        self.backward()
        self.assertEqual(self.doc.file_size, 12)
        self.assertEqual(self.doc.cloud_hash, sha256_hex([b"new content!"]))
        self.assertEqual(self.doc.raw, b"new content!")

    def test_r_bw_7_cost_follows_changes_not_folders(self):
        partners = self.Partner.create([{"name": "P%04d" % i} for i in range(1000)])
        self.rule.domain = "[('id', 'in', %s)]" % (partners.ids + [self.ann.id, self.bob.id])
        self.sync()
        self.assertEqual(self.env["cloud.folder"].search_count(
            [("kind", "=", "object"), ("client_id", "=", self.client.id)]), 1002)
        self.backward()  # drain the feed of the creations above
        folders = self.env["cloud.folder"].search([("res_id", "in", partners[:3].ids),
                                                   ("kind", "=", "object")])
        for n, folder in enumerate(folders):
            self.store.put_file(folder.cloud_id, "change-%d.txt" % n, b"x")
        before = sum(self.adapter.calls.values())
        self.backward()
        calls = sum(self.adapter.calls.values()) - before
        self.assertLessEqual(calls, 3, self.adapter.calls)
        self.assertEqual(self.Attachment.search_count([("name", "like", "change-")]), 3)

    def test_r_safe_2_mass_deletion_guard(self):
        self.client.mass_delete_min_files = 4
        docs = self.Attachment
        for i in range(5):
            docs |= self.attach(self.bob, "f%d.txt" % i, b"x%d" % i)
        self.sync()
        for doc in docs[:4]:
            self.store.remove(doc.cloud_item_id)
        self.backward()
        self.assertEqual(len(docs.exists()), 5)  # 4 of 6 = 67% > 50%: stopped
        self.assertTrue(self.client.deletion_confirmation_needed)
        log = self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                            ("level", "=", "warning")], limit=1)
        self.assertIn("Confirm deletions", log.message)
        self.client.action_confirm_deletions()
        self.run_queue()
        self.assertEqual(len(docs.exists()), 1)
        self.assertFalse(self.client.deletion_confirmation_needed)

    def test_reset_needed_falls_back_to_full_listing(self):
        self.store.put_file(self.bob_folder.cloud_id, "late.txt", b"late")
        self.store.remove(self.doc.cloud_item_id)
        self.store.expire_cursors()
        self.backward()
        self.assertFalse(self.doc.exists())
        self.assertEqual(self.attachments_of(self.bob).mapped("name"), ["late.txt"])
        self.assertGreater(self.adapter.calls["list_children"], 0)
