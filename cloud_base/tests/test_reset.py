"""A reset ends in a clear state (issue 11, loss paths): planning pauses while it runs, files
deleted in Odoo are still deleted in the cloud, and a file that cannot come back stops the
reset with its name instead of leaving it pending for ever."""
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestReset(CloudCase):

    def setUp(self):
        super().setUp()
        self.make_rule()
        self.partner = self.Partner.create({"name": "Reset"})
        self.kept = self.attach(self.partner, "kept.txt", b"kept")
        self.gone = self.attach(self.partner, "gone.txt", b"gone")
        self.sync()
        self.assertSynced(self.kept, b"kept")
        self.assertSynced(self.gone, b"gone")

    def drain(self, rounds=8):
        for _round in range(rounds):
            self.fast_forward()
            self.run_queue()

    def test_planning_pauses_and_deletions_still_happen(self):
        gone_id = self.gone.cloud_item_id
        self.gone.unlink()  # its cloud deletion is queued
        self.client.action_reset()
        self.assertTrue(self.client.reset_pending)
        late = self.attach(self.partner, "late.txt", b"added during the reset")
        self.client._prepare_direct()
        self.client._enqueue_backward()
        self.assertFalse(self.Task.search_count([
            ("client_id", "=", self.client.id), ("state", "=", "pending"),
            ("type", "not in", ("reverse", "file_delete"))]))
        self.drain()
        self.assertFalse(self.client.reset_pending)
        self.assertEqual(self.client.state, "draft")
        self.assertNotIn(gone_id, self.store.items)  # deleted in Odoo: deleted in the cloud
        self.kept.invalidate_recordset()
        self.assertEqual((self.kept.type, self.kept.raw), ("binary", b"kept"))
        self.assertEqual(late.raw, b"added during the reset")

    def test_file_that_cannot_come_back_stops_the_reset_with_its_name(self):
        self.env["ir.config_parameter"].sudo().set_param("cloud_base.max_attempts", 2)
        self.adapter.faults.inject("download", cloud.Transient("server down"), count=100)
        self.client.action_reset()
        self.drain()
        self.assertFalse(self.client.reset_pending)
        self.assertEqual(self.client.state, "error")
        self.assertIn("could not be brought back", self.client.sudo().state_message)
        self.assertIn("kept.txt", self.client.sudo().state_message)
        self.assertTrue(self.env["cloud.log"].search([
            ("client_id", "=", self.client.id), ("level", "=", "error"),
            ("message", "like", "Reset stopped")]))
        # nothing lost: the files are still synced, a new reset can bring them back
        self.assertTrue(self.kept.cloud_item_id)
        self.adapter.faults.clear()
        self.client.action_connect()
        self.client.action_reset()
        self.drain()
        self.assertEqual(self.client.state, "draft")
        self.kept.invalidate_recordset()
        self.assertEqual(self.kept.raw, b"kept")
