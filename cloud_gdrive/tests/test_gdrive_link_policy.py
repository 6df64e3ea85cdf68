"""R-SEC-5 on Google Drive: the link policy is a setting of the client; the reader permission
the suite adds (anyone with the link, or the account's Workspace domain) is removed when a file
comes back into Odoo and on reset; sharing people added stays."""
import threading
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
from odoo.addons.cloud_base.tests.common import CloudTestMixin

from cloud_emulators.gdrive import DriveEmulator

from odoo.addons.cloud_base.lib.adapter import Transient
from odoo.addons.cloud_gdrive.lib.gdrive_adapter import GoogleDriveAdapter
from odoo.addons.cloud_gdrive.models.cloud_client import TOKEN_SECRET

from .common import connect_with_grant, gdrive_client_values


class LinkPolicyCase(CloudTestMixin, TransactionCase):
    emulator_kwargs = {}

    def setUp(self):
        super().setUp()
        self.emu = DriveEmulator(**self.emulator_kwargs).start()
        self.addCleanup(lambda: threading.Thread(target=self.emu.stop, daemon=True).start())
        self.partner = self.Partner.create({"name": "Ann"})

    def connected_client(self, **vals):
        return connect_with_grant(self.env["cloud.client"].create(
            gdrive_client_values(self.emu, **vals)), self.emu)

    def synced_doc(self, client, name="a.txt"):
        self.rule_for(client, domain="[('id', '=', %d)]" % self.partner.id)
        doc = self.attach(self.partner, name, name.encode())
        client._prepare_direct()
        self.run_queue()
        doc.invalidate_recordset()
        self.assertEqual(doc.type, "url")
        return doc

    def recorded(self, client):
        return self.env["cloud.shared.link"].search([("client_id", "=", client.id)])

    def assertBackInOdoo(self, doc, data):
        doc.invalidate_recordset()
        self.assertEqual(doc.type, "binary")
        self.assertEqual(doc.raw, data)


@tagged("post_install", "-at_install", "security")
class TestGoogleDriveLinkPolicy(LinkPolicyCase):
    """A personal (consumer) Google account."""

    def test_r_sec_5_default_is_no_sharing(self):
        client = self.connected_client()
        self.assertEqual(client.gdrive_link_policy, "none")
        self.assertTrue(client.gdrive_account.endswith("@gmail.com"))
        doc = self.synced_doc(client)
        self.assertEqual(doc.url, "https://drive.google.com/file/d/%s/view"
                         % doc.cloud_item_id)
        self.assertEqual(self.emu.permissions(doc.cloud_item_id), [])
        self.assertEqual(self.emu.counters["permissions.create"], 0)
        self.assertFalse(self.emu.can_open(doc.cloud_item_id, self.emu.add_user()))

    def test_r_sec_5_anyone_with_the_link_then_revoked_on_reset(self):
        client = self.connected_client(gdrive_link_policy="anyone")
        doc = self.synced_doc(client)
        perm, = self.emu.permissions(doc.cloud_item_id)
        self.assertEqual((perm["type"], perm["role"], perm["allowFileDiscovery"]),
                         ("anyone", "reader", False))
        self.assertTrue(doc.url.startswith("https://drive.google.com/file/d/"))
        stranger = self.emu.add_user()
        self.assertTrue(self.emu.can_open(doc.cloud_item_id, stranger))
        self.assertEqual(self.recorded(client).link_id, perm["id"])
        # the feed reports the sharing as a change of the file: nothing to do for Odoo
        downloads = self.emu.counters["files.download"]
        client._enqueue_backward()
        self.run_queue()
        self.assertEqual(self.emu.counters["files.download"], downloads)
        self.assertEqual(len(self.recorded(client)), 1)
        self.assertEqual(self.Attachment.search_count([("res_model", "=", "res.partner"),
                                                       ("res_id", "=", self.partner.id)]), 1)
        item_id = doc.cloud_item_id
        client.action_reset()
        self.run_queue()
        self.assertEqual(client.state, "draft")
        self.assertBackInOdoo(doc, b"a.txt")
        self.assertEqual(self.emu.permissions(item_id), [])
        self.assertFalse(self.emu.can_open(item_id, stranger))
        self.assertFalse(self.recorded(client))

    def test_r_sec_5_sharing_a_person_added_stays(self):
        client = self.connected_client(gdrive_link_policy="anyone")
        self.synced_doc(client)
        folder = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                  ("res_id", "=", self.partner.id)])
        theirs = self.emu.add_file("theirs.txt", b"made in Drive", parent=folder.cloud_id)
        self.emu.share(theirs, "anyone")
        client._enqueue_backward()
        self.run_queue()
        imported = self.env["ir.attachment"].search([("cloud_item_id", "=", theirs)])
        self.assertTrue(imported)
        self.assertEqual(len(self.emu.permissions(theirs)), 1)  # not a second one
        self.assertEqual(len(self.recorded(client)), 1)  # only the suite's own file's
        client.action_reset()
        self.run_queue()
        self.assertEqual([p["id"] for p in self.emu.permissions(theirs)], ["anyoneWithLink"])

    def test_r_sec_5_revocation_failure_keeps_the_file_and_the_record(self):
        client = self.connected_client(gdrive_link_policy="anyone")
        doc = self.synced_doc(client)
        item_id = doc.cloud_item_id
        with patch.object(GoogleDriveAdapter, "revoke_link", side_effect=Transient("down")):
            client.action_reset()
            self.run_queue()
        self.assertBackInOdoo(doc, b"a.txt")
        self.assertEqual(len(self.emu.permissions(item_id)), 1)
        self.assertTrue(self.recorded(client))  # tried again at the next reset
        self.assertIn("could not be revoked", " ".join(self.env["cloud.log"].search(
            [("client_id", "=", client.id)]).mapped("message")))

    def test_r_sec_5_domain_refused_on_a_personal_account_at_connect(self):
        client = self.env["cloud.client"].create(gdrive_client_values(
            self.emu, gdrive_link_policy="domain", gdrive_link_domain="example.com"))
        client._set_secret(TOKEN_SECRET, self.emu.issue_tokens()["refresh_token"])
        with self.assertRaisesRegex(UserError, "needs a Google Workspace account"):
            client.with_context(cloud_oauth_done=True).action_connect()
        self.assertNotEqual(client.state, "connected")
        self.assertNotIn("/Odoo", self.emu.tree())  # nothing half-made in Drive

    def test_r_sec_5_domain_refused_on_a_personal_account_on_save(self):
        client = self.connected_client()
        with self.assertRaisesRegex(ValidationError, "needs a Google Workspace account"):
            client.write({"gdrive_link_policy": "domain", "gdrive_link_domain": "gmail.com"})

    def test_r_sec_5_emulator_refuses_a_domain_grant_of_a_personal_account(self):
        client = self.connected_client(gdrive_link_policy="anyone")
        doc = self.synced_doc(client)
        adapter = client._get_adapter()
        adapter.link_policy, adapter.link_domain = "domain", "example.com"
        with self.assertRaisesRegex(Exception, "domain is invalid or not applicable"):
            adapter.share(doc.cloud_item_id)
        self.assertEqual([p["type"] for p in self.emu.permissions(doc.cloud_item_id)],
                         ["anyone"])


@tagged("post_install", "-at_install", "security")
class TestGoogleDriveLinkPolicyWorkspace(LinkPolicyCase):
    """A Google Workspace account of example.com."""
    emulator_kwargs = {"workspace_domain": "example.com"}

    def test_r_sec_5_domain_of_the_account_then_revoked_when_the_file_comes_back(self):
        client = self.connected_client(gdrive_link_policy="domain")
        self.assertEqual(client.gdrive_link_domain, "example.com")  # the account's own
        doc = self.synced_doc(client)
        item_id = doc.cloud_item_id
        perm, = self.emu.permissions(item_id)
        self.assertEqual((perm["type"], perm["domain"], perm["role"]),
                         ("domain", "example.com", "reader"))
        colleague = self.emu.add_user(workspace_domain="example.com")
        outsider = self.emu.add_user(workspace_domain="other.org")
        self.assertTrue(self.emu.can_open(item_id, colleague))
        self.assertFalse(self.emu.can_open(item_id, outsider))
        # the rule moves to a client of the colleague's account: the file comes back first
        other = connect_with_grant(self.env["cloud.client"].create(gdrive_client_values(
            self.emu, name="Colleague")), self.emu, user=colleague)
        self.env["cloud.sync.rule"].search([("client_id", "=", client.id)]).client_id = other
        self.run_queue()
        self.assertEqual(self.emu.permissions(item_id), [])
        self.assertFalse(self.recorded(client))
        doc.invalidate_recordset()
        self.assertEqual(doc.raw, b"a.txt")

    def test_r_sec_5_another_domain_refused(self):
        client = self.env["cloud.client"].create(gdrive_client_values(
            self.emu, gdrive_link_policy="domain", gdrive_link_domain="other.org"))
        client._set_secret(TOKEN_SECRET, self.emu.issue_tokens()["refresh_token"])
        with self.assertRaisesRegex(UserError, r"own Workspace domain \(example.com\) only"):
            client.with_context(cloud_oauth_done=True).action_connect()
        self.assertNotIn("/Odoo", self.emu.tree())
