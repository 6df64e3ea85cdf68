"""Concurrent transfers inside one queue run (issue 15 §1): the network part of a batch's
uploads runs in threads, each task still commits its own result in the main thread, and the
nothing-lost rules hold (ambiguous failures, throttling, names chosen by siblings)."""
import os
import threading
import time
import uuid

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.memory_adapter import MemoryAdapter

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestConcurrentTransfers(CloudCase):

    def setUp(self):
        super().setUp()
        self.partner = self.Partner.create({"name": "Ann"})
        self.make_rule(domain="[('id', '=', %s)]" % self.partner.id)
        self.attach(self.partner, "first.txt", b"first")
        self.sync()  # the folders exist: what follows are upload batches
        self.calls = []  # (operation, thread name)
        self.in_flight, self.peak = 0, 0
        lock = threading.Lock()
        original = MemoryAdapter._call
        test = self

        def watched(adapter, operation, apply_fn):
            with lock:
                test.calls.append((operation, threading.current_thread().name))
                test.in_flight += 1
                test.peak = max(test.peak, test.in_flight)
            try:
                return original(adapter, operation, apply_fn)
            finally:
                with lock:
                    test.in_flight -= 1

        self.patch(MemoryAdapter, "_call", watched)
        self.adapter.latency = 0.02  # long enough for transfers to overlap

    def uploads_by_thread(self):
        return [name for operation, name in self.calls if operation == "upload"]

    def test_a_batch_is_uploaded_by_parallel_threads_and_committed_in_order(self):
        self.client.transfer_concurrency = 4
        docs = [self.attach(self.partner, "doc%02d.txt" % n, b"content %d" % n)
                for n in range(12)]
        self.client._prepare_direct()
        tasks = self.Task.search([("attachment_id", "in", [d.id for d in docs])])
        done = []
        original = type(self.Task)._mark_done

        def mark_done(task):
            done.append((task.id, threading.current_thread().name))
            return original(task)

        self.patch(type(self.Task), "_mark_done", mark_done)
        self.assertEqual(self.run_queue(), 12)
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"content %d" % n)
        threads = self.uploads_by_thread()
        self.assertEqual(len(threads), 12)  # each file sent once
        self.assertTrue(all(name.startswith("cloud-transfer") for name in threads), threads)
        self.assertGreater(self.peak, 1)
        self.assertLessEqual(self.peak, 4)
        # results are committed by the runner's own thread, task after task
        main = threading.current_thread().name
        self.assertEqual(done, [(task_id, main) for task_id in sorted(tasks.ids)])

    def test_one_transfer_at_a_time_keeps_everything_in_the_runner(self):
        self.client.transfer_concurrency = 1
        docs = [self.attach(self.partner, "one%d.txt" % n, b"one %d" % n) for n in range(4)]
        self.sync()
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"one %d" % n)
        main = threading.current_thread().name
        self.assertEqual({name for _operation, name in self.calls}, {main})
        self.assertEqual(self.peak, 1)

    def test_same_names_chosen_in_one_batch_never_replace_each_other(self):
        docs = [self.attach(self.partner, "scan.pdf", b"scan %d" % n) for n in range(6)]
        self.sync()
        names = set()
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"scan %d" % n)
            names.add(self.store.items[doc.cloud_item_id].name)
        self.assertEqual(len(names), 6)
        self.assertIn("scan.pdf", names)
        self.assertEqual(len(self.uploads_by_thread()), 6)

    def test_an_answer_lost_in_a_thread_is_adopted_by_the_retry(self):
        docs = [self.attach(self.partner, "lost%d.txt" % n, b"lost %d" % n) for n in range(5)]
        self.adapter.faults.inject("upload", cloud.Transient("connection reset", code="reset"),
                                   apply=True)
        self.sync()
        self.assertEqual(self.Task.search_count([("state", "=", "pending"),
                                                 ("type", "=", "file_upload")]), 1)
        self.converge()
        folder = self.folder_of(self.partner)
        names = [item.name for item in self.store.items.values()
                 if item.parent_id == folder.cloud_id]
        self.assertEqual(sorted(names), sorted(["first.txt"] + [d.name for d in docs]))
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"lost %d" % n)

    def test_throttling_halves_the_transfers_and_waits_without_costing_attempts(self):
        self.client.transfer_concurrency = 4
        docs = [self.attach(self.partner, "t%02d.txt" % n, b"t %d" % n) for n in range(10)]
        self.adapter.faults.inject("upload", cloud.RateLimited("slow down", retry_after=30))
        self.sync()
        limit = self.client._transfer_limit()
        self.assertLess(limit.current, 4)  # halved (and maybe grown back a little since)
        self.assertGreater(limit.pause_left(), 20)
        tasks = self.Task.search([("attachment_id", "in", [d.id for d in docs])])
        self.assertFalse(tasks.filtered(lambda t: t.state == "failed"))
        waiting = tasks.filtered(lambda t: t.state == "pending")
        self.assertTrue(waiting)
        throttled = waiting.filtered(lambda t: t.attempts)
        self.assertEqual(len(throttled), 1)  # the one that met the 429 counts an attempt
        for task in waiting:
            delay = (task.next_attempt - task.write_date).total_seconds()
            self.assertGreaterEqual(delay, 25)  # Retry-After honoured by all of them
        self.converge()
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"t %d" % n)

    def test_uploads_into_a_new_folder_are_sent_ahead_once_it_exists(self):
        self.client.transfer_concurrency = 4
        bob = self.Partner.create({"name": "Bob"})
        self.make_rule(folder="Bob", domain="[('id', '=', %s)]" % bob.id)
        docs = [self.attach(bob, "b%d.txt" % n, b"b %d" % n) for n in range(5)]
        self.sync()  # one batch: the folder tasks, then the uploads
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"b %d" % n)
        threads = self.uploads_by_thread()
        self.assertEqual(len(threads), 5)
        self.assertTrue(all(name.startswith("cloud-transfer") for name in threads), threads)

    def test_parallel_transfers_setting_is_bounded(self):
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                self.client.transfer_concurrency = 0
                self.client.flush_recordset()
        with self.assertRaises(ValidationError):
            with self.env.cr.savepoint():
                self.client.transfer_concurrency = 100
                self.client.flush_recordset()

    def test_refused_credentials_stop_the_transfers_not_yet_started(self):
        self.client.transfer_concurrency = 2
        docs = [self.attach(self.partner, "r%d.txt" % n, b"r %d" % n) for n in range(8)]
        self.adapter.faults.inject("upload", cloud.AuthExpired("revoked"))
        self.sync()
        self.assertEqual(self.client.state, "reconnect")
        tasks = self.Task.search([("attachment_id", "in", [d.id for d in docs])])
        # the queue is kept (R-CON-3); the refused upload and at most the one transfer
        # already in flight when the refusal came were sent, and the latter's task may have
        # committed before the refused one
        self.assertLessEqual(len(self.uploads_by_thread()), 2)
        done = tasks.filtered(lambda t: t.state == "done")
        self.assertLessEqual(len(done), 1)
        self.assertEqual(set((tasks - done).mapped("state")), {"pending"})
        self.assertEqual(set(tasks.mapped("attempts")), {0})
        self.client.action_connect()
        self.converge()
        for n, doc in enumerate(docs):
            self.assertSynced(doc, b"r %d" % n)
        # sent again: the refused one, and the one in flight when its task was released
        # (its retry's upload is refused by the name it already holds, then adopted)
        self.assertLessEqual(len(self.uploads_by_thread()), 10)
        wanted = {"r%d.txt" % n for n in range(8)}
        names = [item.name for item in self.store.items.values() if item.name in wanted]
        self.assertEqual(sorted(names), sorted(wanted))  # each once: nothing duplicated

    def incoming(self):
        folder = self.env["ir.attachment"]._cloud_incoming_folder()
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def test_files_brought_back_are_downloaded_by_parallel_threads(self):
        self.client.transfer_concurrency = 4
        docs = [self.attach(self.partner, "back%d.txt" % n, b"back %d" % n) for n in range(8)]
        self.sync()
        self.calls.clear()
        self.adapter.faults.inject("download", cloud.Transient("connection reset"))
        for doc in docs:
            self.Task._enqueue(self.client, "reverse", attachment=doc)
        self.run_queue()
        self.fast_forward()
        self.run_queue()  # the one whose download failed, again
        for n, doc in enumerate(docs):
            doc.invalidate_recordset()
            self.assertEqual((doc.type, doc.raw), ("binary", b"back %d" % n))
            self.assertFalse(doc.cloud_item_id)
        threads = [name for operation, name in self.calls if operation == "download"]
        self.assertEqual(len(threads), 9)  # eight, and the failed one again
        self.assertTrue(all(name.startswith("cloud-transfer") for name in threads), threads)
        self.assertEqual(self.incoming(), [])  # no download left behind

    def test_downloads_left_by_a_killed_worker_are_cleaned(self):
        folder = self.env["ir.attachment"]._cloud_incoming_folder()
        os.makedirs(folder, exist_ok=True)
        old, fresh = (os.path.join(folder, "restore-%s" % uuid.uuid4().hex) for _ in range(2))
        for path in (old, fresh):
            with open(path, "wb") as handle:
                handle.write(b"partial")
        os.utime(old, (time.time() - 2 * 86400,) * 2)
        self.Task._cron_clean()
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(fresh))
        os.unlink(fresh)
