"""Readable regressions for the loss paths the convergence suite found or was gated on
(issue 11 §2); the matching operations of the suite (``convergence.KNOWN_BUGS``) are on since
these pass."""
import contextlib
import datetime
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.memory_adapter import MemoryAdapter, drop_store

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestLossPaths(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.make_rule(domain="[('id', 'in', %s)]" % [self.ann.id, self.bob.id])

    def synced(self, record, name="doc.txt", data=b"v1"):
        doc = self.attach(record, name, data)
        self.converge()
        self.assertSynced(doc, data)
        return doc

    def test_moved_attachment_survives_old_record_deletion(self):
        """Convergence op ``move_attachment``: an attachment moved to another record (e.g. a
        partner merge) keeps its cloud file in the old record's folder; deleting the old
        record deletes the folder and the file with it: a dead link."""
        doc = self.synced(self.ann)
        doc.write({"res_id": self.bob.id})
        self.converge(backward=True)
        self.ann.unlink()
        self.converge(backward=True)
        doc.invalidate_recordset()
        self.assertTrue(doc.exists())
        self.assertEqual(doc.raw, b"v1")
        self.assertEqual(self.store.items[doc.cloud_item_id].parent_id,
                         self.folder_of(self.bob).cloud_id)

    def test_cloud_folder_deletion_keeps_newer_odoo_version(self):
        """Convergence op ``cloud_delete_managed_folder``: a file edited in Odoo (its new
        version not uploaded yet) whose object folder is deleted in the cloud: backward deletes
        the attachment, newer version included."""
        doc = self.synced(self.ann)
        doc.write({"raw": b"v2 only in Odoo"})
        self.store.remove(self.folder_of(self.ann).cloud_id)
        self.client._enqueue_backward()
        self.run_queue(task_types=["backward"])
        self.converge(backward=True)
        doc.invalidate_recordset()
        self.assertTrue(doc.exists(), "the newer Odoo version was deleted")
        self.assertSynced(doc, b"v2 only in Odoo")

    def test_other_account_does_not_delete_synced_attachments(self):
        """Convergence op ``change_credentials``: pointing a connected client to another
        account (server/login, another Dropbox account) must not read "everything was
        deleted" (R-SAFE-5): the client stops, the attachments keep their cloud files."""
        doc = self.synced(self.ann)
        other = self.store_name + "-other"
        self.addCleanup(drop_store, other)
        self.client.write({"api_base_url": other})
        # refusing the change is the expected answer
        with contextlib.suppress(Exception):
            self.client.action_reconnect()
        for _round in range(3):
            self.fast_forward()
            self.client._prepare_direct()
            self.client._enqueue_backward()
            self.run_queue()
        doc.invalidate_recordset()
        self.assertTrue(doc.exists())
        self.assertEqual(self.store.content[doc.cloud_item_id], b"v1")
        self.client.write({"api_base_url": self.store_name})
        self.client.action_connect()
        self.assertEqual(doc.raw, b"v1")

    def test_record_deletion_keeps_file_added_in_cloud(self):
        """Found by the convergence suite (seed 11, shrunk to: delete_record, prepare,
        cloud_add_file): a record is deleted in Odoo; before its folder deletion runs, a
        person adds a file to that folder in the cloud. The folder deletion takes the file,
        which existed only in the cloud, along (R-SAFE-1)."""
        self.converge()
        folder_id = self.folder_of(self.ann).cloud_id
        self.ann.unlink()
        self.client._prepare_direct()  # the folder deletion is queued
        self.store.put_file(folder_id, "added in the cloud.txt", b"only in the cloud")
        self.converge(backward=True)
        contents = list(self.store.content.values())
        kept = self.Attachment.search([("name", "=", "added in the cloud.txt")])
        self.assertTrue(b"only in the cloud" in contents or kept,
                        "a file only the cloud had was deleted")

    def test_folder_move_into_a_rule_folder_deleted_in_the_cloud(self):
        """Found by the convergence suite once reset was on (seed 11, shrunk to
        rule_sequence, cloud_delete_managed_folder, cloud_add_file): Bob moves to another
        rule whose folder a person deleted in the cloud, and a file is added to Bob's folder
        meanwhile. The move fails with "not found" (its target is gone) and was read as "Bob's
        folder is gone": a new one was made, the old one and its file were left behind."""
        vip = self.make_rule(folder="VIP", sequence=20,
                             domain="[('id', '=', %s)]" % self.bob.id)
        self.converge(backward=True)
        bob_folder = self.folder_of(self.bob).cloud_id
        vip.sequence = 1  # Bob now belongs to VIP
        self.store.remove(vip.folder_id.cloud_id)
        self.store.put_file(bob_folder, "added.txt", b"only in the cloud")
        self.converge(backward=True)
        self.assertEqual(self.folder_of(self.bob).cloud_id, bob_folder)
        self.assertEqual(self.store.path_of(bob_folder), "/Odoo/VIP/Bob")
        added = self.Attachment.search([("name", "=", "added.txt")])
        self.assertEqual((added.res_model, added.res_id), ("res.partner", self.bob.id))
        self.assertSynced(added, b"only in the cloud")

    def test_deleted_record_folder_keeps_a_synced_folder_moved_into_it(self):
        """Found by the convergence suite on Dropbox (seed 12: delete_record,
        cloud_move_managed_folder): a person moves Ann's folder into the folder of Bob, just
        deleted in Odoo, before that folder's deletion runs. The deletion took Ann's folder
        along, and Dropbox's feed never reported it: Ann's folder was gone for good."""
        self.converge()
        ann_folder = self.folder_of(self.ann)
        bob_folder_id = self.folder_of(self.bob).cloud_id
        self.bob.unlink()
        self.client._prepare_direct()  # Bob's folder deletion is queued
        self.store.update(ann_folder.cloud_id, parent_id=bob_folder_id)
        self.run_queue()
        self.assertIn(ann_folder.cloud_id, self.store.items, "a synced folder was deleted")
        self.converge(backward=True)
        self.assertEqual(self.store.path_of(ann_folder.cloud_id), "/Odoo/Contacts/Ann")

    def edit_in_cloud(self, item_id, data):
        self.store.content[item_id] = data
        self.store.update(item_id, size=len(data), hash=cloud.sha256_hex([data]))

    def test_deletion_in_odoo_keeps_a_version_edited_in_the_cloud_since(self):
        """Found by the documents convergence suite (seed 14: docs_delete_file,
        docs_cloud_edit_file): an attachment is deleted in Odoo; before its deletion runs, a
        person saves a new version in the cloud. The deletion took that version, which nobody
        in Odoo saw, along (R-SAFE-1): it stays, and comes back as an attachment."""
        doc = self.synced(self.ann, data=b"v1")
        item_id = doc.cloud_item_id
        doc.unlink()
        self.edit_in_cloud(item_id, b"v2, saved in the cloud")
        self.converge(backward=True)
        self.assertIn(item_id, self.store.items, "a version only the cloud had was deleted")
        back = self.Attachment.search([("cloud_item_id", "=", item_id)])
        self.assertEqual((back.res_model, back.res_id), ("res.partner", self.ann.id))
        self.assertSynced(back, b"v2, saved in the cloud")

    def test_record_deletion_keeps_a_file_edited_in_the_cloud_since(self):
        """The same through a record's folder deletion: it takes the files deleted with the
        record along, not a newer version of one of them."""
        doc = self.synced(self.ann, data=b"v1")
        item_id, folder_id = doc.cloud_item_id, self.folder_of(self.ann).cloud_id
        self.ann.unlink()
        self.edit_in_cloud(item_id, b"v2, saved in the cloud")
        self.converge(backward=True)
        self.assertEqual(self.store.content.get(item_id), b"v2, saved in the cloud")
        self.assertEqual(self.store.items[item_id].parent_id, folder_id)

    def die_after_cloud_calls(self, task_type):
        """A worker runs the next ``task_type`` task, does its cloud calls and dies before its
        commit; the task is taken again once its lease ends (``expire``)."""
        self.env.flush_all()
        task = self.Task._acquire_next(task_types=[task_type])
        savepoint = self.env.cr.savepoint()
        task._execute()  # the cloud calls happen ...
        savepoint.close(rollback=True)  # ... the commit does not
        self.env.invalidate_all()
        return task

    def test_backward_run_before_the_retry_of_a_dead_upload_imports_no_copy(self):
        """Found by the documents convergence suite (seed 14: docs_edit_file, crash in
        _cloud_mark_synced, backward): the new version is in the cloud, the task that put it
        there did not commit, and a backward run comes before its retry: it imported that
        version as a new file, next to the attachment whose version it is."""
        doc = self.synced(self.ann, data=b"v1")
        doc.write({"raw": b"v2 from Odoo"})
        task = self.die_after_cloud_calls("file_update")
        self.backward()  # the task still holds its lease
        task.lease_until = datetime.datetime(2000, 1, 1)
        self.converge(backward=True)
        self.assertEqual(self.Attachment.search([("res_model", "=", "res.partner"),
                                                 ("res_id", "=", self.ann.id)]), doc)
        self.assertSynced(doc, b"v2 from Odoo")
        folder_id = self.folder_of(self.ann).cloud_id
        self.assertEqual([i.name for i in self.store.items.values()
                          if i.parent_id == folder_id], ["doc.txt"])

    def test_new_version_put_in_place_by_a_dead_worker_is_adopted(self):
        """Found by the documents convergence suite (seed 14: docs_edit_file, kill_worker): a
        worker uploads a file's new version, puts it in place of the old one and dies before
        its commit; the user then renames the file in Odoo. The retry found the name taken
        and uploaded the version again as "doc (2).txt", and the backward sync imported the
        first copy: the file twice."""
        doc = self.synced(self.ann, data=b"v1")
        doc.write({"raw": b"v2 from Odoo"})
        task = self.die_after_cloud_calls("file_update")
        task.lease_until = datetime.datetime(2000, 1, 1)
        doc.name = "renamed in Odoo.txt"
        self.converge(backward=True)
        folder_id = self.folder_of(self.ann).cloud_id
        self.assertEqual([i.name for i in self.store.items.values()
                          if i.parent_id == folder_id], ["doc.txt"])
        self.assertEqual(self.Attachment.search([("res_model", "=", "res.partner"),
                                                 ("res_id", "=", self.ann.id)]), doc)
        self.assertSynced(doc, b"v2 from Odoo")

    def update_stopped_before_its_rename(self):
        """A new version of a synced file is uploaded under its temporary name, the old one
        deleted, and the rename fails (the token expired): ``(attachment, folder id)``."""
        doc = self.synced(self.ann, data=b"v1")
        folder_id = self.folder_of(self.ann).cloud_id
        doc.write({"raw": b"v2 from Odoo"})
        def expired(adapter, item_id, new_name):
            raise cloud.AuthExpired("token expired", code=401)

        with patch.object(MemoryAdapter, "rename", expired):
            self.run_queue()
        self.assertEqual(len([i for i in self.store.items.values()
                              if i.parent_id == folder_id]), 1, "the new version is up")
        return doc, folder_id

    def test_deletion_in_odoo_takes_an_unfinished_new_version_along(self):
        """Found by the documents convergence suite (seed 14: auth expired on rename,
        docs_edit_file, run_all, docs_delete_file): a new version was uploaded under its
        temporary name, its task stopped before the rename, and the user deleted the file:
        the temporary upload stayed in the cloud for good, a file nobody knows."""
        doc, folder_id = self.update_stopped_before_its_rename()
        doc.unlink()
        self.client.action_connect()
        self.converge(backward=True)
        self.assertEqual([i.name for i in self.store.items.values()
                          if i.parent_id == folder_id], [])

    def test_newer_edit_replaces_an_unfinished_new_version(self):
        """Same suite (auth expired on rename, docs_edit_file, run_all, docs_edit_file): the
        user edits the file again before the retry; the new upload took the temporary name
        "(2)" and the unfinished one stayed behind."""
        doc, folder_id = self.update_stopped_before_its_rename()
        doc.write({"raw": b"v3 from Odoo"})
        self.client.action_connect()
        self.converge(backward=True)
        self.assertEqual([i.name for i in self.store.items.values()
                          if i.parent_id == folder_id], ["doc.txt"])
        self.assertSynced(doc, b"v3 from Odoo")
