"""ownCloud specifics of the direct and backward sync through the addon against the emulator:
chunked uploads, share links, WebDAV faults (500 and timeouts on each kind of request, lost
answers of the chunked commit, 423 Locked, 507 quota) with no loss, no duplicate, and the cost
of the snapshot change feed. The direct / backward / reverse scenarios themselves are the
shared engine scenarios (``test_owncloud_engine.py``)."""
import random

from odoo.tests import tagged

from odoo.addons.cloud_owncloud.lib import owncloud_adapter

from .common import Fault, OwnCloudCase


def payload(size, seed=0):
    return random.Random("%d-%d" % (size, seed)).randbytes(size)


@tagged("post_install", "-at_install")
class TestOwnCloudSync(OwnCloudCase):

    def setUp(self):
        super().setUp()
        self.client = self.make_client()
        self.ann = self.Partner.create({"name": "Ann"})
        self.bob = self.Partner.create({"name": "Bob"})
        self.rule = self.make_rule(self.client, domain="[('id', 'in', %s)]"
                                   % [self.ann.id, self.bob.id])
        self.small = b"hello ownCloud\n"
        self.big = payload(200 * 1024)  # above the client's 64 KiB chunk threshold
        self.doc = self.attach(self.ann, "doc.txt", self.small)
        self.scan = self.attach(self.ann, "scan.bin", self.big)

    def sync(self):
        self.client._prepare_direct()
        self.drain(self.client)

    def backward(self):
        self.client._enqueue_backward()
        self.drain(self.client)

    def assertNoDuplicates(self):
        paths = list(self.tree())
        lowered = [p.lower() for p in paths]
        self.assertEqual(len(lowered), len(set(lowered)), paths)
        self.assertFalse([p for p in paths if "(2)" in p], paths)

    # -- direct ------------------------------------------------------------------------------
    def test_r_dir_1_2_direct_sync_uploads_and_links(self):
        commits = self.emulator.counters["uploads/MOVE"]
        self.sync()
        files = self.files()
        self.assertEqual(files["/Odoo/Contacts/Ann/doc.txt"], len(self.small))
        self.assertEqual(files["/Odoo/Contacts/Ann/scan.bin"], len(self.big))
        self.assertIn("/Odoo/Contacts/Bob", self.tree())  # R-DIR-1: even without files
        self.assertSynced(self.doc, self.small)
        self.assertSynced(self.scan, self.big)
        self.assertEqual(self.emulator.counters["uploads/MOVE"] - commits, 1)  # chunked (v2) once
        self.assertTrue(self.doc.url.startswith(self.emulator.base_url + "/index.php/f/"))
        self.assertEqual(self.doc.cloud_hash, self.emulator.info(
            self.user, "/Odoo/Contacts/Ann/doc.txt")["checksum"].split()[0][5:])
        self.assertNoDuplicates()

    def test_an_upload_costs_three_requests_and_files_of_one_folder_share_its_check(self):
        """Issue 15 §2: an upload task was 5 PROPFINDs and a PUT. Now: the folder's check
        (shared for a moment by the next files of that folder), the PUT (its If-None-Match
        refuses an existing name, so no lookup is made before it) and the read-back that
        verifies it."""
        self.client.transfer_concurrency = 1  # one after the other, to count them
        self.patch(owncloud_adapter, "FOLDER_CHECK_SECONDS", 60)  # however slow this machine
        self.sync()
        for n in range(3):
            self.attach(self.bob, "note%d.txt" % n, b"note %d" % n)
        self.client._prepare_direct()
        before = len(self.emulator.requests)
        self.drain(self.client)
        sent = [(method, path) for method, _route, path, _status in
                self.emulator.requests[before:] if method in ("PROPFIND", "PUT")]
        puts = [r for r in sent if r[0] == "PUT"]
        self.assertEqual(len(puts), 3)
        self.assertLessEqual(len(sent), 3 * 2 + 1, sent)  # one folder check for the three
        files = self.files()
        for n in range(3):
            self.assertEqual(files["/Odoo/Contacts/Bob/note%d.txt" % n], len(b"note 0"))

    def test_r_link_1_public_share_links(self):
        self.client.owncloud_public_links = True
        self.sync()
        self.doc.invalidate_recordset()
        self.assertIn("/index.php/s/", self.doc.url)
        shares = self.emulator.shares(self.user)
        self.assertEqual(len([s for s in shares if s["share_type"] == 3]), 2)

    def public_links(self):
        return [s for s in self.emulator.shares(self.user) if s["share_type"] == 3]

    def test_r_sec_5_public_links_go_when_their_files_come_back(self):
        self.client.owncloud_public_links = True
        self.sync()
        recorded = self.env["cloud.shared.link"].search([("client_id", "=", self.client.id)])
        self.assertEqual(len(recorded), 2)
        self.assertEqual(set(recorded.mapped("link_id")),
                         {str(s["id"]) for s in self.public_links()})
        self.client.action_archive()  # every file comes back into Odoo (R-REV-1)
        self.run_queue()
        self.assertEqual(self.client.state, "archived")
        self.assertFalse(self.doc.cloud_item_id)
        self.assertEqual(self.doc.raw, self.small)
        self.assertFalse(self.public_links())  # nobody downloads them with the old link
        self.assertFalse(recorded.exists())

    def test_r_sec_5_reset_revokes_only_the_links_the_suite_made(self):
        self.client.owncloud_public_links = True
        self.sync()
        recorded = self.env["cloud.shared.link"].search([("client_id", "=", self.client.id)])
        kept = recorded.filtered(lambda link: link.item_id == self.scan.cloud_item_id)
        kept.unlink()  # as if the user had shared that file before the suite asked
        self.client.action_reset()
        self.drain(self.client)
        self.assertEqual(self.doc.raw, self.small)
        self.assertEqual(len(self.public_links()), 1)
        self.assertEqual(self.public_links()[0]["path"], "/Odoo/Contacts/Ann/scan.bin")
        self.assertFalse(self.env["cloud.shared.link"].search(
            [("client_id", "=", self.client.id)]))

    # -- backward ----------------------------------------------------------------------------
    def test_r_bw_7_backward_cost_follows_changes(self):
        partners = self.Partner.create([{"name": "P%03d" % n} for n in range(40)])
        self.rule.domain = "[('id', 'in', %s)]" % (partners.ids + [self.ann.id])
        self.sync()
        self.backward()  # settles the cursor after our own uploads
        before = self.emulator.counters["PROPFIND"]
        self.backward()
        self.assertLessEqual(self.emulator.counters["PROPFIND"] - before, 1)
        self.emulator.put(self.user, "/Odoo/Contacts/P007/cloud.txt", b"x")
        before = self.emulator.counters["PROPFIND"]
        self.backward()
        # root, rule folder, object folder (+ a few lookups), not one per folder (40+)
        self.assertLess(self.emulator.counters["PROPFIND"] - before, 8)
        self.assertTrue(self.Attachment.search([("name", "=", "cloud.txt")]))

    # -- faults: no loss, no duplicate ---------------------------------------------------------
    def test_r_safe_faults_500_and_timeouts(self):
        self.emulator.inject("PUT", Fault("status", 1, 500))
        self.emulator.inject("MKCOL", Fault("timeout", 1, delay=2.5))
        self.emulator.inject("uploads/PUT", Fault("status", 2, 503))
        self.emulator.inject("PROPFIND", Fault("status", 1, 502))
        self.sync()
        self.assertSynced(self.doc, self.small)
        self.assertSynced(self.scan, self.big)
        self.assertNoDuplicates()

    def test_r_safe_3_lost_answers_never_duplicate(self):
        self.emulator.inject("PUT", Fault("drop_after_apply", 1))
        self.emulator.inject("uploads/MOVE", Fault("drop_after_apply", 1))
        self.emulator.inject("MKCOL", Fault("drop_after_apply", 1))
        self.sync()
        self.assertSynced(self.doc, self.small)
        self.assertSynced(self.scan, self.big)
        self.assertEqual(sorted(self.files()), ["/Odoo/Contacts/Ann/doc.txt",
                                                "/Odoo/Contacts/Ann/scan.bin"])
        self.assertNoDuplicates()

    def test_r_safe_1_locked_folder_423_then_released(self):
        self.client._prepare_direct()
        self.fast_forward()
        self.run_queue()  # folders made; let us lock Ann's folder before the uploads
        self.emulator.lock_item("/Odoo/Contacts/Ann", user=self.user)
        self.doc2 = self.attach(self.ann, "later.txt", b"later")
        self.client._prepare_direct()
        self.fast_forward()
        self.run_queue()
        self.doc2.invalidate_recordset()
        self.assertEqual(self.doc2.type, "binary")  # kept in Odoo while locked
        self.assertEqual(self.doc2.raw, b"later")
        waiting = self.Task.search([("attachment_id", "=", self.doc2.id),
                                    ("state", "=", "pending")])
        self.assertTrue(waiting)
        self.assertIn("423", waiting.last_error)
        self.emulator.unlock("/Odoo/Contacts/Ann", user=self.user)
        self.sync()
        self.assertSynced(self.doc2, b"later")
        self.assertNoDuplicates()

    def test_r_safe_1_quota_507_then_space_freed(self):
        self.emulator.set_quota(self.user, 1024)
        self.client._prepare_direct()
        self.fast_forward()
        self.run_queue()
        self.scan.invalidate_recordset()
        self.assertEqual(self.scan.type, "binary")
        self.assertEqual(self.scan.raw, self.big)  # nothing lost
        task = self.Task.search([("attachment_id", "=", self.scan.id)])
        self.assertIn("507", task.last_error or "")
        self.emulator.set_quota(self.user, None)
        self.sync()
        self.assertSynced(self.scan, self.big)
        self.assertSynced(self.doc, self.small)
        self.assertNoDuplicates()
