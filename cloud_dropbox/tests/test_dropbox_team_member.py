"""A Dropbox team connection whose member is chosen by e-mail (R-CON-6): the e-mail is resolved
through ``team/members/get_info_v2`` with the team token, then every user call carries
``Dropbox-API-Select-User`` with the member id found."""
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DropboxCase


@tagged("post_install", "-at_install")
class TestDropboxTeamMemberByEmail(DropboxCase):

    def setUp(self):
        super().setUp()
        self.ann = self.emu.add_team_member("Ann Other", email="ann.other@example.com")
        self.bob = self.emu.add_team_member("Bob Member", email="bob.member@example.com")
        self.partner = self.Partner.create({"name": "Team partner"})

    def team_client(self, member, connect=True):
        grant = self.emu.issue_token(refresh=True, team=True)
        return self.make_client(connect=connect, grant=grant, dropbox_team=True,
                                dropbox_team_member=member)

    def connect_expecting_error(self, client):
        """Connect, which must fail; returns the UserError's text. Not in assertRaises: its
        savepoint would roll back the failure recorded on the client."""
        client._set_secret("dropbox_refresh_token",
                           self.emu.issue_token(refresh=True, team=True)["refresh_token"])
        try:
            client.action_connect()
        except UserError as exc:
            return str(exc)
        self.fail("Connect did not fail")

    def lookups(self):
        return [s for s in self.emu.seen_headers if s["route"] == "team/members/get_info_v2"]

    def sync_one(self, client, name):
        self.make_rule(client, domain="[('id', '=', %d)]" % self.partner.id)
        doc = self.attach(self.partner, name, name.encode())
        self.sync(client)
        self.assertSynced(doc, name.encode())
        return doc

    def test_r_con_6_member_by_email_selects_member_id(self):
        client = self.team_client("  Ann.Other@Example.com ")
        self.assertEqual(client.dropbox_team_member_id, self.ann)
        # the lookup is a team call: no Select-User on it
        self.assertEqual(len(self.lookups()), 1)
        self.assertFalse(self.lookups()[0]["select_user"])
        self.sync_one(client, "ann.txt")
        user_calls = [s for s in self.emu.seen_headers
                      if s["route"] != "team/members/get_info_v2"]
        self.assertTrue([s for s in user_calls if s["route"] == "files/upload"])
        for seen in user_calls:
            self.assertEqual(seen["select_user"], self.ann, seen["route"])
        # the id is kept: the adapter rebuilt later does not look the e-mail up again
        client._drop_adapter()
        client.action_connect()
        self.assertEqual(len(self.lookups()), 1)
        self.assertIn("Ann Other", " ".join(
            self.env["cloud.log"].search([("client_id", "=", client.id)]).mapped("message")))

    def test_r_con_6_changed_email_looked_up_again(self):
        client = self.team_client("ann.other@example.com")
        self.assertEqual(client.dropbox_team_member_id, self.ann)
        client.dropbox_team_member = "bob.member@example.com"
        self.assertNotEqual(client.dropbox_team_member_id, self.ann)  # not the former id
        client.action_connect()
        self.assertEqual(client.dropbox_team_member_id, self.bob)
        self.emu.seen_headers.clear()
        self.sync_one(client, "bob.txt")
        self.assertTrue(self.emu.seen_headers)
        for seen in self.emu.seen_headers:
            self.assertEqual(seen["select_user"], self.bob, seen["route"])

    def test_r_con_6_unknown_email_refused_at_connect(self):
        client = self.team_client("nobody@example.com", connect=False)
        message = self.connect_expecting_error(client)
        self.assertIn("No team member with the e-mail nobody@example.com", message)
        self.assertNotEqual(client.state, "connected")
        self.assertEqual(client.state, "draft")
        self.assertIn("nobody@example.com", client.state_message)
        self.assertFalse(client.dropbox_team_member_id)
        self.assertEqual(len(self.lookups()), 1)
        # nothing was done in anybody's Dropbox
        self.assertFalse([s for s in self.emu.seen_headers if s["select_user"]])
        self.assertEqual(self.emu.tree(), {})

    def test_r_con_6_invalid_member_refused_at_connect(self):
        client = self.team_client("Ann Other", connect=False)
        message = self.connect_expecting_error(client)
        self.assertIn("neither an e-mail address nor a team member id", message)
        self.assertNotEqual(client.state, "connected")
        self.assertFalse(self.lookups())  # refused before any request

    def test_r_con_6_user_token_cannot_look_members_up(self):
        client = self.make_client(connect=False, dropbox_team=True,
                                  dropbox_team_member="ann.other@example.com")
        client._set_secret("dropbox_refresh_token",
                           self.emu.issue_token(refresh=True)["refresh_token"])
        with self.assertRaises(UserError) as cm:
            client.action_connect()
        self.assertIn("team management function", str(cm.exception))
        self.assertNotEqual(client.state, "connected")
        self.assertFalse(client.dropbox_team_member_id)
