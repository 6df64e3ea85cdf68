"""R-SEC-5 on OneDrive/SharePoint: the link policy is an explicit setting; the sharing links
the suite created (``createLink``) are deleted (their permission) on reset and when a file is
brought back into Odoo; a failed deletion is logged and never keeps a file in the cloud."""
from odoo.tests import tagged

from .common import OneDriveCase, new_client


@tagged("post_install", "-at_install", "security")
class TestOneDriveLinkPolicy(OneDriveCase):

    def setup_docs(self, client, names=("a.txt", "b.txt"), partner=None):
        partner = partner or self.Partner.create({"name": "Ann"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        docs = [self.attach(partner, name, name.encode()) for name in names]
        self.sync(client)
        for doc in docs:
            self.assertSynced(doc, doc.name.encode())
        return docs

    def links(self, client):
        return self.env["cloud.shared.link"].search([("client_id", "=", client.id)])

    def assertInOdoo(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "binary")
        self.assertFalse(attachment.cloud_item_id)
        self.assertEqual(attachment.raw, data)

    def test_r_sec_5_no_sharing_link_by_default(self):
        client = self.make_client()
        self.assertEqual(client.onedrive_link_policy, "none")
        doc, = self.setup_docs(client, ["a.txt"])
        self.assertIn("/Odoo/Contacts/Ann/a.txt", doc.url)  # the item's own webUrl
        self.assertEqual(self.emu.counters["create_link"], 0)
        self.assertFalse(self.emu.links(doc.cloud_item_id))
        self.assertFalse(self.links(client))

    def test_r_sec_5_reset_revokes_links_the_suite_created(self):
        client = self.make_client(onedrive_link_policy="anonymous")
        docs = self.setup_docs(client)
        items = [doc.cloud_item_id for doc in docs]
        for doc, item_id in zip(docs, items, strict=True):
            link, = self.emu.links(item_id)
            self.assertEqual(link["link"]["scope"], "anonymous")
            self.assertEqual(doc.url, link["link"]["webUrl"])
        self.assertEqual(sorted(self.links(client).mapped("link_id")),
                         sorted(self.emu.links(i)[0]["id"] for i in items))
        client.action_reset()
        self.run_queue()
        self.assertEqual(client.state, "draft")
        for doc in docs:
            self.assertInOdoo(doc, doc.name.encode())
        for item_id in items:
            self.assertFalse(self.emu.links(item_id))  # the files stay, unshared
            self.assertTrue(self.emu.item(item_id) and "deleted" not in self.emu.item(item_id))
        self.assertEqual(self.emu.counters["delete_permission"], 2)
        self.assertFalse(self.links(client))

    def test_r_sec_5_link_revoked_when_the_file_comes_back(self):
        """The record's rule moves to another client (another account of the tenant): its
        file comes back from the first one, whose link goes; the second makes its own."""
        client = self.make_client(onedrive_link_policy="anonymous")
        doc, = self.setup_docs(client, ["a.txt"])
        first_item = doc.cloud_item_id
        other_user = self.emu.add_user("Bob", "bob@contoso.onmicrosoft.com")
        other = new_client(self.env, self.emu, name="Bob's OneDrive", user_id=other_user,
                           onedrive_link_policy="anonymous")
        self.env["cloud.sync.rule"].search([("client_id", "=", client.id)]).client_id = other
        for _round in range(3):
            self.sync(client)
            self.sync(other)
        self.assertFalse(self.emu.links(first_item))
        self.assertFalse(self.links(client))
        doc.invalidate_recordset()
        self.assertEqual(doc.cloud_client_id, other)
        link, = self.emu.links(doc.cloud_item_id)
        self.assertEqual(self.links(other).link_id, link["id"])

    def test_r_sec_5_link_of_someone_else_is_kept(self):
        client = self.make_client(onedrive_link_policy="organization")
        partner = self.Partner.create({"name": "Ann"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        doc = self.attach(partner, "a.txt", b"a.txt")
        self.sync(client)
        item_id = doc.cloud_item_id
        self.assertFalse(self.links(client).filtered(lambda link: link.item_id != item_id))
        self.links(client).unlink()
        theirs = self.emu.add_link(item_id, scope="anonymous")
        client.action_reset()
        self.run_queue()
        self.assertInOdoo(doc, b"a.txt")
        self.assertEqual([link["id"] for link in self.emu.links(item_id)
                          if link["link"]["scope"] == "anonymous"], [theirs["id"]])

    def test_r_sec_5_existing_link_of_the_suite_recorded_again(self):
        """createLink answers 200 with the link already there: when this application made it
        (its record lost with a rolled-back task), it is the suite's and is revoked later."""
        client = self.make_client(onedrive_link_policy="anonymous")
        adapter = client._get_adapter()
        item = adapter.upload(adapter.ensure_root("Odoo").id, "x.txt", b"x", 1)
        url = adapter.share_link(item.id)
        self.assertEqual(adapter.pop_created_link(item.id)[1], url)
        self.assertEqual(adapter.share_link(item.id), url)  # 200: the same link
        permission_id, again = adapter.pop_created_link(item.id)
        self.assertEqual((permission_id, again), (self.emu.links(item.id)[0]["id"], url))
        self.assertTrue(adapter.revoke_link(permission_id, item.id))
        self.assertTrue(adapter.revoke_link(permission_id, item.id))  # already gone
        self.assertFalse(self.emu.links(item.id))

    def test_r_sec_5_revocation_failure_logged_and_file_kept(self):
        client = self.make_client(onedrive_link_policy="anonymous")
        doc, = self.setup_docs(client, ["a.txt"])
        item_id = doc.cloud_item_id
        self.emu.fail("delete_permission", 503, "serviceNotAvailable", "Down", count=5)
        client.action_reset()
        self.run_queue()
        self.assertInOdoo(doc, b"a.txt")
        self.assertEqual(client.state, "draft")
        self.assertEqual(len(self.emu.links(item_id)), 1)
        self.assertEqual(len(self.links(client)), 1)  # a later reset tries again
        self.assertIn("could not be revoked", " ".join(
            self.env["cloud.log"].search([("client_id", "=", client.id)]).mapped("message")))
