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

    def test_a_cloud_file_too_large_for_odoo_stays_in_the_cloud_with_a_warning(self):
        from ..models import cloud_engine_backward
        self.patch(cloud_engine_backward, "ODOO_MAX_FILE_SIZE", 10)  # 2 GiB, scaled down
        self.store.put_file(self.ann_folder.cloud_id, "huge.iso", b"more than ten bytes")
        self.store.put_file(self.ann_folder.cloud_id, "small.txt", b"ten bytes")
        self.backward()  # before: an integer overflow failed the task again and again
        self.assertEqual(sorted(self.attachments_of(self.ann).mapped("name")),
                         ["doc.txt", "small.txt"])
        self.assertIn("huge.iso", [item.name for item in self.store.items.values()])
        warning = self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                                ("level", "=", "warning")], limit=1)
        self.assertIn("larger than the 2 GiB", warning.message)
        self.assertFalse(self.Task.search_count([("state", "=", "failed")]))

    def test_r_bw_4_deleted_in_cloud(self):
        self.store.remove(self.doc.cloud_item_id)
        self.backward()
        self.assertFalse(self.doc.exists())
        self.assertFalse(self.Task.search_count([("type", "=", "file_delete")]))

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
