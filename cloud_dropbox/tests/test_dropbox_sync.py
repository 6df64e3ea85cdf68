"""The Dropbox client driven by the sync core, against the emulator (R-CON-3/6, R-DIR-2,
R-BW-3..5/7, R-Q-5, R-LINK-1)."""
import datetime
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.dropbox import DropboxEmulator, content_hash

from .common import DropboxCase, consent

MiB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestDropboxSync(DropboxCase):

    def setUp(self):
        super().setUp()
        self.client = self.make_client()
        self.ann, self.bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        self.rule = self.make_rule(self.client, domain="[('id', 'in', %s)]" % [
            self.ann.id, self.bob.id])

    def synced_doc(self, name="doc.txt", data=b"original"):
        doc = self.attach(self.ann, name, data)
        self.sync(self.client)
        self.assertSynced(doc, data)
        return doc

    # -- direct sync ---------------------------------------------------------------------------
    def test_r_dir_2_upload_verified_with_shared_link(self):
        self.client.dropbox_link_policy = "public"  # R-SEC-5: only when chosen
        doc = self.synced_doc()
        self.assertIn("/Odoo/Contacts/Ann/doc.txt", self.emu.tree())
        self.assertEqual(doc.cloud_hash, content_hash(b"original"))
        self.assertTrue(doc.url.startswith("https://www.dropbox.com/scl/fi/"))  # R-LINK-1
        self.assertEqual(self.emu.counters["files/upload"], 1)
        self.assertEqual(self.emu.counters["files/upload_session/start"], 0)

    def test_r_link_1_no_shared_links(self):
        self.client.dropbox_link_policy = "none"
        doc = self.synced_doc("report 1.pdf", b"%PDF")
        self.assertEqual(doc.url, "https://www.dropbox.com/home/Odoo/Contacts/Ann/report%201.pdf")
        self.assertFalse(self.emu.links)

    def test_r_dir_2_chunked_upload_above_threshold(self):
        self.client.options = {"chunk_threshold": 4 * MiB, "chunk_size": 4 * MiB}
        data = bytes(range(256)) * (9 * MiB // 256) + b"tail"
        doc = self.synced_doc("big.bin", data)
        self.assertEqual(self.emu.counters["files/upload"], 0)
        self.assertEqual(self.emu.counters["files/upload_session/start"], 1)
        self.assertEqual(self.emu.counters["files/upload_session/append_v2"], 1)
        self.assertEqual(self.emu.counters["files/upload_session/finish"], 1)
        self.assertEqual(doc.cloud_hash, content_hash(data))

    def test_r_dir_2_hash_mismatch_never_releases_binary(self):
        real_meta = DropboxEmulator._meta

        def lying_meta(emu, node):
            meta = real_meta(emu, node)
            if meta[".tag"] == "file":
                meta["content_hash"] = "0" * 64
            return meta

        doc = self.attach(self.ann, "doc.txt", b"precious")
        with patch.object(DropboxEmulator, "_meta", lying_meta):
            self.sync(self.client)
        self.assertInOdoo(doc, b"precious")
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertEqual(task.state, "pending")
        self.assertIn("does not match", task.last_error)
        self.assertNotIn("/Odoo/Contacts/Ann/doc.txt", self.emu.tree())  # damaged copy removed
        self.fast_forward()
        self.run_queue()
        self.assertSynced(doc, b"precious")

    # -- tokens (R-CON-3) ----------------------------------------------------------------------
    def test_r_con_3_expired_access_token_refreshed(self):
        self.synced_doc()
        refreshes = self.emu.counters["oauth2/token"]
        self.emu.expire_access_tokens()
        doc = self.attach(self.ann, "later.txt", b"later")
        self.sync(self.client)
        self.assertSynced(doc, b"later")
        self.assertEqual(self.emu.counters["oauth2/token"], refreshes + 1)
        self.assertEqual(self.client.state, "connected")

    def test_r_con_3_revoked_refresh_token_keeps_queue_then_reconnect(self):
        self.synced_doc()
        self.emu.revoke_refresh_tokens()
        self.emu.expire_access_tokens()
        doc = self.attach(self.ann, "waiting.txt", b"waiting")
        self.sync(self.client)
        self.assertEqual(self.client.state, "reconnect")
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertEqual((task.state, task.attempts), ("pending", 0))
        self.assertFalse(self.Task.search_count([("state", "=", "failed")]))
        self.assertInOdoo(doc, b"waiting")
        self.assertIn("needs to be reconnected", self.client.message_ids[0].body)
        admin_partner = self.env.ref("base.user_admin").partner_id
        self.assertIn(admin_partner, self.client.message_ids[0].partner_ids)
        self.assertFalse(self.run_queue())  # the client waits
        # Reconnect: Dropbox's consent page again, then the callback
        action = self.client.action_reconnect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        _location, params = consent(action)
        client, error = self.env["cloud.client"]._oauth_callback(params)
        self.assertFalse(error)
        self.assertEqual(client, self.client)
        self.assertEqual(self.client.state, "connected")
        self.run_queue()
        self.assertSynced(doc, b"waiting")
        self.assertEqual(task.state, "done")

    # -- rate limits (R-Q-5) -------------------------------------------------------------------
    def test_r_q_5_write_rate_limit_retry_after_honoured(self):
        """Dropbox's second rate limit (too_many_write_operations, per namespace); the first
        (too_many_requests) is the shared engine scenario (test_dropbox_engine.py)."""
        doc = self.attach(self.ann, "too_many_write_operations.txt", b"x")
        self.emu.rate_limit("files/upload", retry_after=120, reason="too_many_write_operations")
        before = fields.Datetime.now()
        self.sync(self.client)
        task = self.Task.search([("attachment_id", "=", doc.id)])
        self.assertEqual(task.state, "pending")
        self.assertEqual(task.attempts, 1)
        self.assertGreaterEqual(task.next_attempt, before + datetime.timedelta(seconds=115))
        self.assertLessEqual(task.next_attempt, before + datetime.timedelta(seconds=130))
        self.assertInOdoo(doc, b"x")
        self.fast_forward()
        self.run_queue()
        self.assertSynced(doc, b"x")

    # -- backward sync (R-BW; the scenarios themselves: test_dropbox_engine.py) ----------------
    def test_r_bw_7_changes_read_from_the_cursor_not_a_listing(self):
        doc = self.synced_doc()
        other = self.synced_doc("other.txt", b"other")
        self.sync(self.client)  # Bob's folder too
        listings = self.emu.counters["files/list_folder"]
        continued = self.emu.counters["files/list_folder/continue"]
        self.emu.move("/Odoo/Contacts/Ann/doc.txt", "/Odoo/Contacts/Ann/renamed.txt")
        self.backward(self.client)
        self.assertEqual(doc.name, "renamed.txt")
        self.emu.move("/Odoo/Contacts/Ann/renamed.txt", "/Odoo/Contacts/Bob/renamed.txt")
        self.backward(self.client)
        self.assertEqual((doc.res_model, doc.res_id), ("res.partner", self.bob.id))
        self.emu.delete("/Odoo/Contacts/Bob/renamed.txt")
        self.backward(self.client)
        self.assertFalse(doc.exists())
        self.emu.put_file("/Odoo/Contacts/Ann/scan.pdf", b"%PDF scan")
        self.backward(self.client)
        scan = self.Attachment.search([("res_id", "=", self.ann.id), ("name", "=", "scan.pdf"),
                                       ("res_model", "=", "res.partner")])
        self.assertEqual(scan.raw, b"%PDF scan")
        self.assertTrue(other.exists())
        # all of it from the cursor: no listing of the tree (R-BW-7)
        self.assertEqual(self.emu.counters["files/list_folder"], listings)
        self.assertGreaterEqual(self.emu.counters["files/list_folder/continue"] - continued, 4)


@tagged("post_install", "-at_install")
class TestDropboxTeam(DropboxCase):
    emulator_kwargs = {"team_space": True}

    def test_r_con_6_team_member_and_team_space(self):
        member = self.emu.add_team_member("Ann Other")
        grant = self.emu.issue_token(refresh=True, team=True)
        client = self.make_client(grant=grant, dropbox_team=True, dropbox_team_member=member,
                                  dropbox_use_team_root=True)
        partner = self.Partner.create({"name": "Team partner"})
        self.make_rule(client, domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, "team.txt", b"team")
        self.sync(client)
        self.assertSynced(doc, b"team")
        self.assertTrue(self.emu.seen_headers)
        path_root = '{".tag": "root", "root": "%s"}' % self.emu.root_namespace_id
        for seen in self.emu.seen_headers:
            self.assertEqual(seen["select_user"], member, seen["route"])
        writes = [s for s in self.emu.seen_headers if s["route"].startswith("files/")]
        self.assertTrue(writes)
        for seen in writes:
            self.assertEqual(seen["path_root"], path_root, seen["route"])
        self.assertIn("Ann Other", " ".join(
            self.env["cloud.log"].search([("client_id", "=", client.id)]).mapped("message")))
