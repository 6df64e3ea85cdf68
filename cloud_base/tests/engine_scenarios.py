"""The engine scenarios every provider runs: direct, backward, reverse and faults, written once.

The scenarios drive the core (planner, queue, direct / backward / reverse engines) through a
real client of the provider, and act on the storage through the provider's contract harness
(``<addon>/tests/harness.py``, see ``harness.py``): a person adding, renaming, moving,
changing and deleting items in the cloud, and faults injected by category. They never name a
provider, a route or an emulator.

A provider runs them with one small test class (its *driver*)::

    from odoo.tests import TransactionCase, tagged

    from odoo.addons.cloud_base.tests.engine_scenarios import EngineScenarios

    from .harness import DropboxHarness


    @tagged("post_install", "-at_install")
    class TestDropboxEngine(EngineScenarios, TransactionCase):
        harness_class = DropboxHarness

        def make_engine_client(self):
            # a cloud.client of the provider, connected to the harness's (empty) account
            ...

Everything else comes from the harness: ``cloud_tree``, ``cloud_create_file``,
``cloud_create_folder``, ``cloud_update_file``, ``cloud_rename``, ``cloud_move``,
``cloud_delete``, ``cloud_content``, ``expire_cursors`` and ``inject(category, operation)``
(categories: ``harness.FAULTS``). A driver may override :meth:`EngineScenarios.settle` when
its storage needs more than one queue run to settle (it should not).
"""
import base64
import datetime

from odoo import fields

from .common import CloudTestMixin
from .harness import APPLY_THEN_LOSE, RATE_LIMITED, TIMEOUT, TRANSIENT_5XX

FOLDER = ("folder", 0)


class EngineScenarios(CloudTestMixin):
    """Provider-neutral scenarios of the engines; mix into a ``TransactionCase``."""

    #: the provider's contract harness (a ``harness.AdapterHarness`` subclass)
    harness_class = None
    #: Odoo's loader only runs test methods defined on the class itself unless told so
    allow_inherited_tests_method = True

    # -- the driver ------------------------------------------------------------------------
    def make_engine_client(self):
        """A ``cloud.client`` of the provider, connected to ``self.harness``'s account (to
        implement). The harness is set up; its account is empty."""
        raise NotImplementedError

    # -- set-up ------------------------------------------------------------------------------
    def setUp(self):
        super().setUp()
        self.harness = self.harness_class()
        self.harness.setup()
        self.addCleanup(self.harness.teardown)
        self.client = self.make_engine_client()
        self.assertEqual(self.client.state, "connected")
        self.client.mass_delete_min_files = 1000
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.rule_for(self.client, domain="[('id', 'in', %s)]" % [
            self.ann.id, self.bob.id])

    # -- running the engines ----------------------------------------------------------------
    def sync(self):
        self.client._prepare_direct()
        return self.settle()

    def backward(self):
        self.client._enqueue_backward()
        return self.settle()

    def settle(self):
        """Run the queue once (what a cron run does)."""
        return self.run_queue()

    def drain(self, rounds=10):
        """Run the queue, retrying failed attempts at once, until nothing is pending."""
        for _ in range(rounds):
            self.fast_forward()
            self.run_queue()
            if not self.Task.search_count([("client_id", "=", self.client.id),
                                           ("state", "in", ("pending", "running"))]):
                return
        self.fail("queue not drained: %s" % self.Task.search(
            [("client_id", "=", self.client.id), ("state", "=", "pending")]).mapped(
                lambda t: (t.type, t.last_error)))

    # -- inspection --------------------------------------------------------------------------
    def tree(self):
        return self.harness.cloud_tree()

    def folder_of(self, record):
        return self.env["cloud.folder"].search([("res_model", "=", record._name),
                                                ("res_id", "=", record.id),
                                                ("kind", "=", "object")], limit=1)

    def attachments_of(self, record):
        return self.Attachment.search([("res_model", "=", record._name),
                                       ("res_id", "=", record.id)])

    def cloud_hash(self, data):
        return self.client._get_adapter().compute_hash([data])

    def synced_doc(self, record=None, name="doc.txt", data=b"original"):
        doc = self.attach(record or self.ann, name, data)
        self.sync()
        self.assertSynced(doc, data)
        return doc

    def assertSynced(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "url")
        self.assertTrue(attachment.cloud_item_id)
        self.assertFalse(attachment.store_fname)
        self.assertEqual(self.harness.cloud_content(attachment.cloud_item_id), data)
        self.assertEqual(attachment.raw, data)
        self.assertEqual(base64.b64decode(attachment.datas), data)

    def assertInOdoo(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "binary")
        self.assertTrue(attachment.store_fname)
        self.assertFalse(attachment.cloud_item_id)
        self.assertEqual(attachment.raw, data)

    def assertNoDuplicates(self):
        paths = list(self.tree())
        if self.harness.case_insensitive:
            paths = [path.lower() for path in paths]
        self.assertEqual(len(paths), len(set(paths)), paths)
        self.assertFalse([p for p in paths if " (2)" in p], paths)

    # ------------------------------------------------------------------------------------------
    # Direct (R-DIR)
    # ------------------------------------------------------------------------------------------
    def test_r_dir_1_2_folders_upload_release_verify(self):
        data = b"%PDF-1.4 report"
        doc = self.attach(self.ann, "report.pdf", data, mimetype="application/pdf")
        self.assertTrue(doc.store_fname)
        self.sync()
        tree = self.tree()
        for path in ("/Odoo", "/Odoo/Contacts", "/Odoo/Contacts/Ann", "/Odoo/Contacts/Bob"):
            self.assertEqual(tree.get(path), FOLDER, path)  # Bob's: even without files
        self.assertEqual(tree.get("/Odoo/Contacts/Ann/report.pdf"), ("file", len(data)))
        self.assertSynced(doc, data)  # verified, then released from the filestore
        self.assertEqual((doc.cloud_size, doc.file_size), (len(data), len(data)))
        self.assertEqual(doc.mimetype, "application/pdf")
        if self.harness.hash_kind:
            self.assertEqual(doc.cloud_hash, self.cloud_hash(data))
        self.assertEqual(self.folder_of(self.ann).state, "synced")
        # a second planning finds nothing to do (idempotence)
        self.client._prepare_direct()
        self.assertFalse(self.Task.search_count([("state", "=", "pending")]))

    def test_r_dir_3_renames_follow_odoo(self):
        doc = self.synced_doc()
        file_id = doc.cloud_item_id
        self.ann.name = "Ann Smith"
        self.rule.folder_name = "People"
        self.sync()
        tree = self.tree()
        self.assertIn("/Odoo/People/Ann Smith/doc.txt", tree)
        self.assertNotIn("/Odoo/People/Ann", tree)
        self.assertNotIn("/Odoo/Contacts", tree)
        self.rule.name_expression = "${object.name} (#${object.id})"
        self.sync()
        ann_path = "/Odoo/People/Ann Smith (#%d)" % self.ann.id
        self.assertIn(ann_path + "/doc.txt", self.tree())
        self.assertSynced(doc, b"original")
        self.assertEqual(doc.cloud_item_id, file_id)  # renamed, never re-uploaded
        # renamed in the cloud: renamed back (Odoo owns folder names)
        self.harness.cloud_rename(self.folder_of(self.ann).cloud_id, "Annie")
        self.backward()
        self.sync()
        tree = self.tree()
        self.assertIn(ann_path + "/doc.txt", tree)
        self.assertNotIn("/Odoo/People/Annie", tree)
        self.assertSynced(doc, b"original")

    def test_r_dir_7_folder_already_moved_where_odoo_wants_it(self):
        """Found by the convergence suite (Dropbox, seed 12): a person moved a record's folder
        into another rule's folder, and the record then moved to that rule: the move Odoo
        plans targets the place the folder already is (Dropbox refuses a move onto itself)."""
        doc = self.synced_doc()
        vip = self.rule_for(self.client, folder="VIP", sequence=5, domain="[('id', '=', 0)]")
        self.sync()
        self.assertTrue(vip.folder_id.cloud_id)
        self.harness.cloud_move(self.folder_of(self.ann).cloud_id, vip.folder_id.cloud_id)
        vip.domain = "[('id', '=', %d)]" % self.ann.id
        self.sync()
        self.drain()
        self.assertFalse(self.Task.search_count([("client_id", "=", self.client.id),
                                                 ("state", "=", "failed")]))
        self.assertIn("/Odoo/VIP/Ann/doc.txt", self.tree())
        self.assertSynced(doc, b"original")

    def test_r_dir_4_deleting_record_deletes_folder(self):
        self.synced_doc(self.bob, "b.txt", b"bob")
        self.assertIn("/Odoo/Contacts/Bob/b.txt", self.tree())
        self.bob.unlink()
        self.sync()
        tree = self.tree()
        self.assertNotIn("/Odoo/Contacts/Bob", tree)
        self.assertNotIn("/Odoo/Contacts/Bob/b.txt", tree)
        self.assertIn("/Odoo/Contacts/Ann", tree)
        self.assertFalse(self.Task.search_count([("state", "in", ("pending", "failed"))]))

    def test_r_dir_5_deleting_synced_attachment_deletes_cloud_file(self):
        doc = self.synced_doc(name="gone.txt", data=b"bye")
        self.assertIn("/Odoo/Contacts/Ann/gone.txt", self.tree())
        doc.unlink()
        self.settle()
        self.assertNotIn("/Odoo/Contacts/Ann/gone.txt", self.tree())
        self.assertIn("/Odoo/Contacts/Ann", self.tree())

    # ------------------------------------------------------------------------------------------
    # Backward (R-BW): a person changes the cloud
    # ------------------------------------------------------------------------------------------
    def test_r_bw_1_file_added_in_cloud(self):
        self.synced_doc()
        item = self.harness.cloud_create_file(self.folder_of(self.ann).cloud_id,
                                              "from-cloud.pdf", b"%PDF cloud")
        self.backward()
        new = self.attachments_of(self.ann).filtered(lambda a: a.name == "from-cloud.pdf")
        self.assertEqual(len(new), 1)
        self.assertEqual(new.cloud_item_id, item.id)
        self.assertEqual(new.type, "url")
        self.assertEqual(new.mimetype, "application/pdf")
        self.assertEqual(new.file_size, len(b"%PDF cloud"))
        self.assertEqual(new.raw, b"%PDF cloud")

    def test_r_bw_2_subfolder_becomes_folder_link(self):
        self.synced_doc()
        sub = self.harness.cloud_create_folder(self.folder_of(self.ann).cloud_id, "Scans")
        self.harness.cloud_create_file(sub.id, "inside.txt", b"deep")
        self.backward()
        links = self.attachments_of(self.ann).filtered(lambda a: a.cloud_kind == "folder")
        self.assertEqual(links.mapped("name"), ["Scans"])
        self.assertEqual(links.cloud_item_id, sub.id)
        self.assertFalse(self.attachments_of(self.ann).filtered(
            lambda a: a.name == "inside.txt"))  # first level only
        self.harness.cloud_delete(sub.id)
        self.backward()
        self.assertFalse(links.exists())

    def test_r_bw_3_renamed_in_cloud(self):
        doc = self.synced_doc()
        self.harness.cloud_rename(doc.cloud_item_id, "renamed.txt")
        self.backward()
        self.assertEqual(doc.name, "renamed.txt")
        self.assertSynced(doc, b"original")
        tree = self.tree()
        self.assertIn("/Odoo/Contacts/Ann/renamed.txt", tree)  # the cloud owns file names
        self.assertNotIn("/Odoo/Contacts/Ann/doc.txt", tree)

    def test_r_bw_4_deleted_in_cloud(self):
        doc = self.synced_doc()
        other = self.synced_doc(name="other.txt", data=b"other")
        # deleted before the feed was ever read past the suite's own uploads: the feed
        # resolves through the merge base, which knows what the direct sync made
        self.harness.cloud_delete(doc.cloud_item_id)
        self.backward()
        self.assertFalse(doc.exists())
        self.assertTrue(other.exists())
        self.assertFalse(self.Task.search_count([("type", "=", "file_delete")]))

    def test_r_dir_6_object_folder_made_then_deleted_before_a_backward_run(self):
        """Issue 11 §1: an object folder the direct sync created, deleted in the cloud before
        the next backward run: noticed, recreated, and new files of the record reach it."""
        doc = self.synced_doc()
        folder = self.folder_of(self.ann)
        old_id = folder.cloud_id
        self.harness.cloud_delete(old_id)
        self.backward()
        self.assertFalse(doc.exists())  # R-BW-4: the file went with its folder
        self.drain()
        folder.invalidate_recordset()
        self.assertTrue(folder.cloud_id and folder.cloud_id != old_id)
        self.assertEqual(folder.state, "synced")
        late = self.attach(self.ann, "after.txt", b"after")
        self.sync()
        self.assertSynced(late, b"after")
        self.assertIn("/Odoo/Contacts/Ann/after.txt", self.tree())
        self.assertFalse(self.Task.search_count([("client_id", "=", self.client.id),
                                                 ("state", "=", "failed")]))

    def test_upgrade_builds_the_merge_base_from_one_full_listing(self):
        """A database of a version that kept the tree in the cursor has no merge base: the
        first backward run lists the tree once (logged), missing nothing that happened."""
        gone = self.synced_doc()
        gone_id = gone.cloud_item_id
        kept = self.synced_doc(name="kept.txt", data=b"kept")
        self.env.cr.execute("DELETE FROM cloud_item WHERE client_id = %s", [self.client.id])
        self.harness.cloud_delete(gone_id)
        self.harness.cloud_create_file(self.folder_of(self.bob).cloud_id, "new.txt", b"new")
        self.backward()
        self.assertFalse(gone.exists())
        self.assertSynced(kept, b"kept")
        self.assertEqual(self.attachments_of(self.bob).mapped("name"), ["new.txt"])
        self.assertTrue(self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                                      ("message", "ilike", "full listing")]))
        base = self.client._merge_base()
        self.assertEqual(base.get(kept.cloud_item_id).name, "kept.txt")
        self.assertIsNone(base.get(gone_id))

    def test_r_bw_5_moved_between_object_folders(self):
        doc = self.synced_doc()
        bob_folder = self.folder_of(self.bob)
        self.harness.cloud_move(doc.cloud_item_id, bob_folder.cloud_id)
        self.backward()
        self.assertEqual((doc.res_model, doc.res_id), ("res.partner", self.bob.id))
        self.assertEqual(doc.cloud_folder_id, bob_folder)
        self.assertSynced(doc, b"original")
        # moved outside any object folder: treated as deleted
        self.harness.cloud_move(doc.cloud_item_id, self.client.root_folder_id.cloud_id)
        self.backward()
        self.assertFalse(doc.exists())

    def test_r_bw_6_changed_in_cloud(self):
        doc = self.synced_doc()
        self.harness.cloud_update_file(doc.cloud_item_id, b"changed in the cloud")
        self.backward()
        self.assertEqual(doc.file_size, len(b"changed in the cloud"))
        if self.harness.hash_kind:
            self.assertEqual(doc.cloud_hash, self.cloud_hash(b"changed in the cloud"))
        self.assertSynced(doc, b"changed in the cloud")

    def test_r_bw_7_expired_cursor_full_listing_then_cursor_again(self):
        doc = self.synced_doc()
        self.backward()  # the feed is past our own uploads
        self.harness.expire_cursors()
        self.harness.cloud_create_file(self.folder_of(self.bob).cloud_id, "late.txt", b"late")
        self.harness.cloud_rename(doc.cloud_item_id, "renamed.txt")
        self.backward()
        self.assertEqual(doc.name, "renamed.txt")
        self.assertEqual(self.attachments_of(self.bob).mapped("name"), ["late.txt"])
        self.assertTrue(self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                                      ("message", "ilike", "reset")]))
        # the new cursor is used from there on
        self.harness.cloud_delete(doc.cloud_item_id)
        self.backward()
        self.assertFalse(doc.exists())

    # ------------------------------------------------------------------------------------------
    # Reverse (R-REV)
    # ------------------------------------------------------------------------------------------
    def test_r_rev_1_reset_brings_files_back_cloud_untouched(self):
        docs = self.attach(self.ann, "a.txt", b"alpha") | self.attach(self.bob, "b.txt", b"beta")
        self.sync()
        self.harness.cloud_create_file(self.folder_of(self.bob).cloud_id, "from-cloud.txt",
                                       b"cloud made")
        self.backward()
        made = self.attachments_of(self.bob).filtered(lambda a: a.name == "from-cloud.txt")
        self.assertEqual(made.type, "url")
        tree_before = self.tree()
        self.client.action_reset()
        self.drain()
        for doc, data in zip(docs | made, (b"alpha", b"beta", b"cloud made"), strict=True):
            self.assertInOdoo(doc, data)
        self.assertEqual(self.tree(), tree_before)  # R-CON-4: nothing deleted in the cloud
        self.assertEqual(self.client.state, "draft")
        self.assertFalse(self.env["cloud.folder"].search_count(
            [("client_id", "=", self.client.id)]))

    # ------------------------------------------------------------------------------------------
    # Faults (R-SAFE, R-Q-5): retried without loss or duplicate
    # ------------------------------------------------------------------------------------------
    def test_r_safe_1_transient_failure_during_upload_retried(self):
        self.sync()  # the folders
        for n, category in enumerate((TRANSIENT_5XX, TIMEOUT)):
            with self.subTest(fault=category):
                data = b"precious %d" % n
                doc = self.attach(self.ann, "%s.txt" % category, data)
                self.harness.inject(category, "upload")
                self.sync()
                self.assertInOdoo(doc, data)  # nothing released on a failure
                task = self.Task.search([("attachment_id", "=", doc.id)])
                self.assertEqual((task.state, task.attempts), ("pending", 1))
                self.fast_forward()
                self.settle()
                self.assertSynced(doc, data)
                self.assertEqual(task.state, "done")
        files = sorted(p for p, (kind, _size) in self.tree().items() if kind == "file")
        self.assertEqual(files, sorted("/Odoo/Contacts/Ann/%s.txt" % c
                                       for c in (TRANSIENT_5XX, TIMEOUT)))
        self.assertNoDuplicates()

    def test_r_safe_3_lost_answers_never_duplicate(self):
        """The backend performed the request but its answer was lost: the retry adopts the
        earlier upload (same size and hash) or folder instead of making a second one."""
        doc = self.synced_doc(name="once.txt", data=b"only once")
        carol = self.Partner.create({"name": "Carol"})
        self.rule.domain = "[('id', 'in', %s)]" % [self.ann.id, self.bob.id, carol.id]
        doc2 = self.attach(self.ann, "twice.txt", b"lost answer")
        self.harness.inject(APPLY_THEN_LOSE, "upload")
        self.harness.inject(APPLY_THEN_LOSE, "create_folder")
        self.sync()
        self.drain()
        retried = self.Task.search([("attempts", ">", 0)])  # both answers lost, once each
        self.assertEqual(sorted(retried.mapped(lambda t: (t.type, t.attempts, t.state))),
                         [("file_upload", 1, "done"), ("folder_create", 1, "done")])
        self.assertSynced(doc2, b"lost answer")
        self.assertSynced(doc, b"only once")
        tree = self.tree()
        self.assertEqual(sorted(p for p, (kind, _s) in tree.items() if kind == "file"),
                         ["/Odoo/Contacts/Ann/once.txt", "/Odoo/Contacts/Ann/twice.txt"])
        self.assertEqual(tree.get("/Odoo/Contacts/Carol"), FOLDER)
        self.assertNoDuplicates()
        # the adopted upload is in the merge base: deleted by a person before the next
        # backward run, it is noticed (issue 11 §1)
        self.assertEqual(self.client._merge_base().get(doc2.cloud_item_id).name, "twice.txt")
        self.harness.cloud_delete(doc2.cloud_item_id)
        self.backward()
        self.assertFalse(doc2.exists())

    def test_r_q_5_rate_limit_retry_after_honoured(self):
        self.sync()  # the folders
        doc = self.attach(self.ann, "limited.txt", b"x")
        self.harness.inject(RATE_LIMITED, "upload")
        before = fields.Datetime.now()
        self.sync()
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertEqual((task.state, task.attempts), ("pending", 1))
        wait = datetime.timedelta(seconds=self.harness.retry_after)
        self.assertGreaterEqual(task.next_attempt, before + wait - datetime.timedelta(seconds=2))
        self.assertLessEqual(task.next_attempt, before + wait + datetime.timedelta(seconds=10))
        self.assertInOdoo(doc, b"x")
        self.fast_forward()
        self.settle()
        self.assertSynced(doc, b"x")

    def test_r_safe_faults_during_backward_and_reverse(self):
        doc = self.synced_doc()
        self.backward()  # the feed is past our own uploads
        self.harness.cloud_create_file(self.folder_of(self.ann).cloud_id, "extra.txt",
                                       b"extra")
        self.harness.inject(TIMEOUT, "changes")
        self.backward()
        backward = self.Task.search([("type", "=", "backward"), ("attempts", ">", 0)])
        self.assertEqual(backward.state, "pending")  # failed once, retried
        self.drain()
        extra = self.attachments_of(self.ann).filtered(lambda a: a.name == "extra.txt")
        self.assertEqual(len(extra), 1)
        self.harness.inject(TRANSIENT_5XX, "download")
        self.harness.inject(TIMEOUT, "download")
        self.client.action_reset()
        self.drain()
        self.assertInOdoo(doc, b"original")
        self.assertInOdoo(extra, b"extra")
        reverse = self.Task.search([("type", "=", "reverse")])
        self.assertEqual(sum(reverse.mapped("attempts")), 2)  # both downloads failed once
        self.assertEqual(set(reverse.mapped("state")), {"done"})
