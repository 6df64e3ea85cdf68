"""One broken rule does not stop planning (issue 11, loss paths)."""
import uuid

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.cloud_base.lib.memory_adapter import drop_store

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestPlanningErrors(CloudCase):

    def break_filter(self, rule):
        """A filter that was valid when saved and is not any more (e.g. a removed field)."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE cloud_sync_rule SET domain = %s WHERE id = %s",
                            ["[('x_removed_field', '=', 1)]", rule.id])
        rule.invalidate_recordset()

    def test_broken_rule_leaves_its_folders_and_the_rest_goes_on(self):
        contacts = self.make_rule(domain="[('name', 'like', 'Kept')]")
        partner = self.Partner.create({"name": "Kept partner"})
        doc = self.attach(partner, "kept.txt", b"kept")
        self.sync()
        self.assertSynced(doc, b"kept")
        folder = self.folder_of(partner)
        # a rule of another model on the same client, and another client
        users = self.make_rule("res.users", "Users", domain="[('login', '=', 'admin')]")
        other_store = "other-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, other_store)
        other = self.make_client(other_store, name="Other")
        # (its rules on contacts wait too: which contacts the broken rule owns is unknown)
        self.rule_for(other, "res.country", "Countries", domain="[('code', '=', 'BE')]")
        belgium = self.env.ref("base.be")
        self.break_filter(contacts)
        with mute_logger("odoo.addons.cloud_base.models.cloud_client"):
            self.env["cloud.client"]._cron_prepare_queue()
        for _round in range(2):  # a task that waited for its folder runs in the second
            self.fast_forward()
            self.run_queue()
        # the broken rule's folders are untouched: not detached, not deleted, file synced
        self.assertEqual(folder.state, "synced")
        self.assertSynced(doc, b"kept")
        self.assertTrue(self.env["cloud.log"].search([
            ("client_id", "=", self.client.id), ("level", "=", "error"),
            ("message", "like", "filter cannot be evaluated")]))
        # the other rule of this client and the other client were planned
        self.assertTrue(users.folder_id.cloud_id)
        self.assertTrue(self.env["cloud.folder"].search([
            ("client_id", "=", other.id), ("res_model", "=", "res.country"),
            ("res_id", "=", belgium.id), ("kind", "=", "object")]).cloud_id)
        # fixed: planning of the rule resumes, nothing was lost
        contacts.domain = "[('name', 'like', 'Kept')]"
        self.sync()
        self.assertEqual(self.folder_of(partner), folder)
        self.assertSynced(doc, b"kept")

    def test_sync_now_by_an_administrator_of_one_company_keeps_every_company_synced(self):
        """Planning sees every record of the rules, whoever presses Sync now: an
        administrator working in one company must not unsync the records of another (the
        company record rules are theirs, not the engine's)."""
        other = self.env["res.company"].create({"name": "Other company"})
        admin = self.env.ref("base.user_admin")
        admin.company_ids |= other
        far = self.Partner.create({"name": "Far", "company_id": other.id})
        self.make_rule(domain="[('id', '=', %s)]" % far.id)
        doc = self.attach(far, "far.txt", b"far")
        self.sync()
        folder = self.folder_of(far)
        self.assertEqual(folder.state, "synced")
        self.client.with_user(admin).with_context(
            allowed_company_ids=[admin.company_id.id]).action_sync_now()
        self.run_queue()
        folder.invalidate_recordset()
        self.assertEqual(folder.state, "synced")
        self.assertSynced(doc, b"far")
