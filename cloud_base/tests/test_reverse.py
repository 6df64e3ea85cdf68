from odoo.tests import tagged

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestReverseSync(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann = self.Partner.create({"name": "Ann"})
        self.rule = self.make_rule(domain="[('id', '=', %d)]" % self.ann.id)
        self.docs = self.attach(self.ann, "a.txt", b"alpha") | self.attach(self.ann, "b.txt",
                                                                          b"beta")
        self.sync()

    def test_r_rev_1_rule_moved_to_another_client(self):
        other_store = self.store_name + "-other"
        from ..lib.memory_adapter import drop_store, get_store
        self.addCleanup(drop_store, other_store)
        other = self.make_client(other_store, root_folder_name="Odoo2")
        self.rule.client_id = other
        self.run_queue()  # reverse first
        for doc in self.docs:
            doc.invalidate_recordset()
            self.assertEqual(doc.type, "binary")
        self.sync(other)
        tree = get_store(other_store).tree()
        self.assertIn("/Odoo2/Contacts/Ann/a.txt", tree)
        self.assertIn("/Odoo2/Contacts/Ann/b.txt", tree)
        for doc in self.docs:
            doc.invalidate_recordset()
            self.assertEqual(doc.cloud_client_id, other)

    def test_r_rev_1_archive(self):
        from odoo.exceptions import UserError
        with self.assertRaises(UserError):
            self.client.unlink()  # files live in the cloud: reset or archive first
        self.client.action_archive()
        self.run_queue()
        self.assertFalse(self.client.active)
        self.assertEqual(self.client.state, "archived")
        self.assertEqual(self.docs[0].raw, b"alpha")

    def test_r_rev_2_reverse_runs_before_direct_and_backward(self):
        self.attach(self.ann, "c.txt", b"gamma")
        self.client._prepare_direct()
        self.client._enqueue_backward()
        self.client._start_reverse()
        order = self.Task.search([("state", "=", "pending")]).mapped("type")
        self.assertEqual(set(order), {"reverse"})  # direct/backward work cancelled
        upload = self.Task._enqueue(self.client, "backward")
        first = self.Task.search([("state", "=", "pending")], order="priority, id", limit=1)
        self.assertEqual(first.type, "reverse")
        self.assertTrue(upload)

    def test_r_rev_3_missing_item_logged_not_dropped(self):
        gone = self.docs[0]
        self.store.remove(gone.cloud_item_id)
        self.client.action_reset()
        self.run_queue()
        self.assertTrue(gone.exists())
        self.assertEqual(gone.type, "url")
        self.assertTrue(gone.url)
        warning = self.env["cloud.log"].search([("res_id", "=", gone.id),
                                                ("level", "=", "warning")])
        self.assertTrue(warning)
        self.assertIn("no longer exists", warning.message)
        self.assertEqual(self.docs[1].raw, b"beta")

    def test_r_rev_1_uninstall_brings_files_back_first(self):
        waiting = self.make_client(self.store_name + "-2", root_folder_name="Other")
        rule = self.make_rule(folder="Other contacts", client=waiting, sequence=0,
                              domain="[('id', '=', %d)]" % self.ann.id)
        self.sync()  # the record moved: its files come back from the first client...
        self.sync(waiting)  # ...then go up to `waiting`
        moved = self.docs.filtered(lambda d: d.cloud_client_id == waiting)
        self.assertEqual(len(moved), 2)
        waiting.write({"state": "reconnect"})
        from odoo.exceptions import UserError
        with self.assertRaises(UserError):  # files of a client waiting for Reconnect
            self.env["cloud.client"]._release_before_uninstall()
        waiting.write({"state": "connected"})
        self.env["cloud.client"]._release_before_uninstall()
        for doc, data in zip(self.docs, (b"alpha", b"beta"), strict=True):
            doc.invalidate_recordset()
            self.assertEqual((doc.type, doc.raw), ("binary", data))
        self.assertTrue(rule)

    def test_large_file_streamed_into_the_filestore(self):
        """Issue 15 §5: a file above the streaming size comes back without being read into
        memory: moved into the filestore as downloaded and verified, with Odoo's checksum."""
        import hashlib
        import os

        from ..models.cloud_engine_reverse import STREAMED_RESTORE_SIZE
        data = os.urandom(1024) * (STREAMED_RESTORE_SIZE // 1024 + 3)
        big = self.attach(self.ann, "big.bin", data)
        self.sync()
        big.invalidate_recordset()
        self.assertFalse(big.store_fname)
        restored = []
        Attachment = type(self.Attachment)
        original = Attachment._cloud_restore_binary

        def no_bytes_path(attachment, content):
            restored.append(len(content))
            return original(attachment, content)
        self.patch(Attachment, "_cloud_restore_binary", no_bytes_path)
        self.client.action_reset()
        self.run_queue()
        big.invalidate_recordset()
        checksum = hashlib.sha1(data).hexdigest()
        self.assertEqual((big.type, big.store_fname, big.checksum, big.file_size),
                         ("binary", checksum[:2] + "/" + checksum, checksum, len(data)))
        self.assertEqual(big.raw, data)
        self.assertFalse(big.cloud_item_id)
        self.assertNotIn(len(data), restored)  # the small files only went through bytes
        self.assertEqual(sorted(restored), [4, 5])
        incoming = self.Attachment._full_path("cloud-incoming")
        self.assertFalse(os.listdir(incoming))  # no download left behind
