"""R-SEC-5: the link policy is an explicit setting; links the suite created are revoked on reset
and when a file is brought back into Odoo."""
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib.adapter import Transient
from odoo.addons.cloud_dropbox.lib.dropbox_adapter import DropboxAdapter

from .common import DropboxCase


class LinkPolicyMixin:

    def setup_docs(self, client, names=("a.txt", "b.txt")):
        partner = self.Partner.create({"name": "Ann"})
        self.make_rule(client, domain="[('id', '=', %d)]" % partner.id)
        docs = [self.attach(partner, name, name.encode()) for name in names]
        self.sync(client)
        for doc in docs:
            self.assertSynced(doc, doc.name.encode())
        return docs


@tagged("post_install", "-at_install", "security")
class TestDropboxLinkPolicy(LinkPolicyMixin, DropboxCase):

    def test_r_sec_5_personal_default_is_none(self):
        client = self.make_client()
        self.assertEqual(client.dropbox_link_policy, "none")
        self.assertEqual(client.dropbox_account_kind, "personal")
        doc, = self.setup_docs(client, ["a.txt"])
        self.assertEqual(doc.url, "https://www.dropbox.com/home/Odoo/Contacts/Ann/a.txt")
        self.assertFalse(self.emu.links)
        self.assertEqual(self.emu.counters["sharing/create_shared_link_with_settings"], 0)

    def test_r_sec_5_public_link_only_with_public_policy(self):
        client = self.make_client(dropbox_link_policy="public")
        self.assertEqual(client.dropbox_link_policy, "public")
        doc, = self.setup_docs(client, ["a.txt"])
        self.assertTrue(doc.url.startswith("https://www.dropbox.com/scl/fi/"))
        link, = self.emu.links.values()
        self.assertEqual(link["visibility"], "public")
        self.assertEqual(self.env["cloud.shared.link"].search(
            [("client_id", "=", client.id)]).link_id, doc.url)

    def test_r_sec_5_reset_revokes_links_the_suite_created(self):
        client = self.make_client(dropbox_link_policy="public")
        docs = self.setup_docs(client)
        self.assertEqual(len(self.emu.links), 2)
        client.action_reset()
        self.run_queue()
        self.assertEqual(client.state, "draft")
        for doc in docs:
            self.assertInOdoo(doc, doc.name.encode())
        self.assertFalse(self.emu.links)  # no link left in Dropbox
        self.assertFalse(self.env["cloud.shared.link"].search([("client_id", "=", client.id)]))

    def test_r_sec_5_link_not_created_by_suite_is_kept(self):
        client = self.make_client(dropbox_link_policy="public")
        partner = self.Partner.create({"name": "Ann"})
        self.make_rule(client, domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, "a.txt", b"a.txt")
        self.sync(client)
        # the user's own link of the file (created outside the suite) is not the suite's
        self.env["cloud.shared.link"].search([("client_id", "=", client.id)]).unlink()
        client.action_reset()
        self.run_queue()
        self.assertInOdoo(doc, b"a.txt")
        self.assertEqual(len(self.emu.links), 1)

    def test_r_sec_5_revocation_failure_keeps_the_file(self):
        client = self.make_client(dropbox_link_policy="public")
        doc, = self.setup_docs(client, ["a.txt"])
        with patch.object(DropboxAdapter, "revoke_link",
                          side_effect=Transient("down")):
            client.action_reset()
            self.run_queue()
        self.assertInOdoo(doc, b"a.txt")
        self.assertEqual(client.state, "draft")
        self.assertEqual(len(self.emu.links), 1)
        self.assertIn("could not be revoked", " ".join(
            self.env["cloud.log"].search([("client_id", "=", client.id)]).mapped("message")))

    def test_r_sec_5_team_on_personal_refused_at_connect(self):
        client = self.make_client(connect=False, dropbox_link_policy="team")
        client._set_secret("dropbox_refresh_token",
                           self.emu.issue_token(refresh=True)["refresh_token"])
        with self.assertRaisesRegex(UserError, "Team-only links need a Dropbox team"):
            client.action_connect()
        self.assertNotEqual(client.state, "connected")
        self.assertNotIn("/Odoo", self.emu.tree())  # nothing half-made in Dropbox

    def test_r_sec_5_team_on_personal_refused_on_save(self):
        client = self.make_client()
        with self.assertRaisesRegex(ValidationError, "Team-only links need a Dropbox team"):
            client.dropbox_link_policy = "team"

    def test_r_sec_5_emulator_refuses_team_only_on_personal(self):
        client = self.make_client(dropbox_link_policy="public")
        self.setup_docs(client, ["a.txt"])
        adapter = client._get_adapter()
        adapter.link_policy = "team"
        doc = self.env["ir.attachment"].search([("cloud_client_id", "=", client.id),
                                                ("cloud_kind", "=", "file")], limit=1)
        self.emu.links.clear()
        with self.assertRaisesRegex(Exception, "not part of a Dropbox team"):
            adapter.share_link(doc.cloud_item_id)
        self.assertFalse(self.emu.links)


@tagged("post_install", "-at_install", "security")
class TestDropboxLinkPolicyTeam(LinkPolicyMixin, DropboxCase):
    emulator_kwargs = {"team_space": True}

    def team_client(self, **vals):
        member = self.emu.add_team_member("Ann Other")
        grant = self.emu.issue_token(refresh=True, team=True)
        return self.make_client(grant=grant, dropbox_team=True, dropbox_team_member=member,
                                **vals)

    def test_r_sec_5_team_default_is_team_only(self):
        client = self.team_client()
        self.assertEqual(client.dropbox_link_policy, "team")
        self.assertEqual(client.dropbox_account_kind, "team")
        doc, = self.setup_docs(client, ["a.txt"])
        self.assertTrue(doc.url.startswith("https://www.dropbox.com/scl/fi/"))
        link, = self.emu.links.values()
        self.assertEqual(link["visibility"], "team_only")
        client.action_reset()
        self.run_queue()
        self.assertInOdoo(doc, b"a.txt")
        self.assertFalse(self.emu.links)
