import hashlib
import random

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.cloud_base.lib import adapter as cloud

from .common import CloudCase

TASK_LOGGER = "odoo.addons.cloud_base.models.cloud_task"

#: every adapter operation a direct, backward or reverse run uses
OPERATIONS = ("ensure_root", "create_folder", "find_child", "upload", "get_item", "rename",
              "move", "delete", "changes", "latest_cursor", "download")
ERRORS = (
    lambda: cloud.Transient("connection reset", code="timeout"),
    lambda: cloud.RateLimited("too many requests", code=429, retry_after=3),
    lambda: cloud.QuotaExceeded("insufficient space", code="insufficient_space"),
)


@tagged("post_install", "-at_install")
class TestSafety(CloudCase):

    def setUp(self):
        super().setUp()
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.make_rule(domain="[('id', 'in', %s)]" % [self.ann.id, self.bob.id])
        self.contents = {}

    def add_files(self, record, count, prefix):
        docs = self.Attachment
        for i in range(count):
            data = ("%s-%d-" % (prefix, i)).encode() * (i + 1)
            doc = self.attach(record, "%s%d.txt" % (prefix, i), data)
            self.contents[doc.id] = hashlib.sha256(data).hexdigest()
            docs |= doc
        return docs

    def assertNothingLost(self):
        for doc in self.Attachment.browse(list(self.contents)):
            doc.invalidate_recordset()
            self.assertTrue(doc.exists(), doc)
            self.assertEqual(hashlib.sha256(doc.raw).hexdigest(), self.contents[doc.id],
                             doc.name)
        self.assertNoDuplicates()

    def crash_once(self, method):
        """The next call of ``ir.attachment.<method>`` dies like a killed worker would."""
        Attachment = type(self.Attachment)
        original = getattr(Attachment, method)
        state = {"armed": True}

        def crashing(records, *args, **kwargs):
            if state["armed"]:
                state["armed"] = False
                raise MemoryError("worker killed in %s" % method)
            return original(records, *args, **kwargs)

        self.patch(Attachment, method, crashing)

    def assertNoDuplicates(self):
        for item in list(self.store.items.values()):
            names = [c.name.lower() for c in self.store.children(item.id)]
            self.assertEqual(len(names), len(set(names)), names)

    def test_r_safe_1_failure_at_every_step_of_upload_and_reverse(self):
        """Inject each error, plain and ambiguous (applied, answer lost), at every call of
        every operation of a direct then reverse cycle; re-run until converged; every
        attachment must keep its bytes and the cloud must hold no duplicate."""
        self.add_files(self.ann, 2, "a")
        self.add_files(self.bob, 1, "b")
        self.sync()
        self.add_files(self.ann, 2, "late")
        scenarios = [(op, i, err, apply) for op in ("find_child", "upload", "create_folder")
                     for i in range(3) for err in ERRORS for apply in (False, True)]
        for op, nth, make_error, apply in scenarios:
            with self.subTest(op=op, nth=nth, apply=apply, error=make_error().code):
                self.add_files(self.bob, 1, "%s%s%s" % (op, nth, apply))
                self.client._prepare_direct()
                self.run_queue(max_tasks=nth)
                self.adapter.faults.inject(op, make_error(), apply=apply)
                self.converge()
                self.adapter.faults.clear()
                self.assertNothingLost()
        # a crash between the verified upload and the release (the transaction rolls back)
        for step in ("_cloud_mark_synced", "_cloud_local_chunks"):
            with self.subTest(crash=step):
                self.add_files(self.ann, 1, "crash-%s" % step)
                self.crash_once(step)
                with mute_logger(TASK_LOGGER):  # the crash is expected
                    self.converge()
                self.assertNothingLost()
        synced = self.Attachment.browse(list(self.contents)).filtered("cloud_item_id")
        self.assertEqual(len(synced), len(self.contents))
        # reverse, with a failure at each download
        self.client.action_reset()
        for make_error in ERRORS:
            self.adapter.faults.inject("download", make_error(), apply=True)
            self.fast_forward()  # a 429 earlier paused the client's transfers: time passes
            self.run_queue(max_tasks=2)
            self.assertNothingLost()
        self.crash_once("_cloud_restore_binary")
        with mute_logger(TASK_LOGGER):
            self.run_queue(max_tasks=1)
        self.assertNothingLost()
        self.fast_forward()
        for _ in range(10):
            self.fast_forward()
            self.run_queue()
        self.assertNothingLost()
        self.assertFalse(self.Attachment.browse(list(self.contents)).filtered("cloud_item_id"))

    def test_r_safe_1_randomized_interleavings(self):
        """Seeded random edits on both sides, sync runs and faults: converges, loses nothing."""
        rng = random.Random(1234)
        people = self.ann | self.bob
        self.sync()
        for step in range(30):
            action = rng.choice(["attach", "attach", "sync", "backward", "fault", "rename",
                                 "cloud_rename", "cloud_add"])
            record = rng.choice(people)
            if action == "attach":
                self.add_files(record, 1, "r%d" % step)
            elif action == "sync":
                self.sync()
            elif action == "backward":
                self.backward()
            elif action == "fault":
                op = rng.choice(OPERATIONS)
                self.adapter.faults.inject(op, rng.choice(ERRORS)(), apply=rng.random() < .5)
            elif action == "rename":
                record.name = "%s%d" % (record.name[:3], step)
            elif action == "cloud_rename":
                synced = self.Attachment.search([("cloud_item_id", "!=", False),
                                                 ("cloud_kind", "=", "file")])
                if synced:
                    doc = rng.choice(synced)
                    self.store.update(doc.cloud_item_id, name="cloud-%d-%s" % (step, doc.name))
            elif action == "cloud_add":
                folder = self.folder_of(record)
                if folder.cloud_id:
                    data = b"cloud file %d" % step
                    self.store.put_file(folder.cloud_id, "c%d.bin" % step, data)
        self.adapter.faults.clear()
        self.converge(backward=True)
        self.backward()
        self.assertNothingLost()
        # idempotence: a further cycle plans nothing
        self.client._prepare_direct()
        self.assertFalse(self.Task.search_count([("state", "=", "pending")]))
        for person in people:
            folder = self.folder_of(person)
            self.assertEqual(self.store.items[folder.cloud_id].name, person.name)

    def test_r_safe_3_retry_after_lost_answer_no_duplicate(self):
        doc = self.attach(self.ann, "once.txt", b"only once")
        self.sync()  # folders and upload
        doc2 = self.attach(self.ann, "twice.txt", b"lost answer")
        self.adapter.faults.inject("upload", cloud.Transient("timeout"), apply=True)
        self.adapter.faults.inject("create_folder", cloud.Transient("timeout"), apply=True)
        carol = self.Partner.create({"name": "Carol"})
        self.rule.domain = "[('id', 'in', %s)]" % [self.ann.id, self.bob.id, carol.id]
        self.converge()
        names = [c.name for c in self.store.children(self.folder_of(self.ann).cloud_id)]
        self.assertEqual(sorted(names), ["once.txt", "twice.txt"])
        rule_children = [c.name for c in self.store.children(self.rule.folder_id.cloud_id)]
        self.assertEqual(rule_children.count("Carol"), 1)
        self.assertSynced(doc2, b"lost answer")
        # a different file that happens to carry the same name is not adopted
        self.store.put_file(self.folder_of(self.bob).cloud_id, "same.txt", b"someone else")
        mine = self.attach(self.bob, "same.txt", b"mine")
        self.sync()
        self.assertSynced(mine, b"mine")
        self.assertEqual(mine.name, "same (2).txt")
        self.assertTrue(doc)

    def test_r_safe_4_conflict_keeps_both_versions(self):
        doc = self.attach(self.ann, "plan.txt", b"v1")
        self.sync()
        # changed in the cloud...
        self.store.content[doc.cloud_item_id] = b"cloud v2"
        self.store.update(doc.cloud_item_id, size=8, hash=cloud.sha256_hex([b"cloud v2"]))
        # ...and in Odoo before the next sync
        doc.write({"raw": b"odoo v2"})
        self.run_queue()
        self.sync()
        self.assertSynced(doc, b"cloud v2")
        self.assertEqual(doc.name, "plan.txt")
        copy = self.Attachment.search([("name", "like", "plan (conflict"),
                                       ("res_id", "=", self.ann.id)])
        self.assertEqual(len(copy), 1)
        self.assertSynced(copy, b"odoo v2")
        self.assertTrue(self.env["cloud.log"].search([("message", "like", "Conflict")]))
        # without a cloud change, an Odoo edit simply replaces the cloud version
        doc.write({"raw": b"odoo v3"})
        self.run_queue()
        self.assertSynced(doc, b"odoo v3")
        self.assertEqual(doc.name, "plan.txt")
