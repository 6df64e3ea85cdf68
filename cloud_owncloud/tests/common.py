import uuid

from odoo.tests import TransactionCase

from odoo.addons.cloud_base.tests.common import CloudTestMixin
from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.common import Fault  # noqa: F401 - re-exported for the tests
from cloud_emulators.owncloud import OwnCloudEmulator


class OwnCloudCase(CloudTestMixin, TransactionCase):
    """One emulator for the class; a fresh ownCloud user (empty storage) per test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = OwnCloudEmulator(users={}).start()
        cls.addClassCleanup(cls.emulator.stop)

    def setUp(self):
        super().setUp()
        self.emulator.clear_faults()
        self.user = "odoo-%s" % uuid.uuid4().hex[:8]
        self.password = self.emulator.add_app_password(
            self.emulator.add_user(self.user, "account-password"))

    # -- helpers -----------------------------------------------------------------------------
    def make_client(self, connect=True, **vals):
        client = self.env["cloud.client"].create(dict({
            "name": "Nextcloud %s" % self.user, "provider": "owncloud",
            "owncloud_url": self.emulator.base_url, "owncloud_login": self.user,
            "owncloud_password": self.password, "mass_delete_min_files": 1000,
            "options": {"timeout": 2, "chunk_threshold": 64 * 1024, "chunk_size": 16 * 1024},
        }, **vals))
        if connect:
            client.action_connect()
        return client

    def make_rule(self, client, model="res.partner", folder="Contacts", **vals):
        return self.rule_for(client, model, folder, **vals)

    def drain(self, client, rounds=10):
        """Run the queue, retrying failed attempts at once, until nothing is pending."""
        for _ in range(rounds):
            self.fast_forward()
            self.run_queue()
            if not self.Task.search_count([("client_id", "=", client.id),
                                           ("state", "in", ("pending", "running"))]):
                return
        self.fail("queue not drained: %s" % self.Task.search(
            [("client_id", "=", client.id), ("state", "=", "pending")]).mapped(
                lambda t: (t.type, t.last_error)))

    def tree(self):
        return self.emulator.tree(self.user)

    def files(self):
        return {path: size for path, (kind, size) in self.tree().items() if kind == "file"}

    def cloud_bytes(self, attachment):
        info = self.emulator.item_by_fileid(self.user, attachment.cloud_item_id)
        self.assertTrue(info, "no cloud file for %s" % attachment.name)
        return self.emulator.get(self.user, info["path"])

    def assertSynced(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "url")
        self.assertTrue(attachment.cloud_item_id)
        self.assertFalse(attachment.store_fname)
        self.assertEqual(self.cloud_bytes(attachment), data)
        self.assertEqual(attachment.raw, data)

    def assertLocal(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "binary")
        self.assertFalse(attachment.cloud_item_id)
        self.assertEqual(attachment.raw, data)
