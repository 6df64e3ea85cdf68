import base64
import io
import uuid

from odoo.tests import TransactionCase

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store
from odoo.addons.cloud_base.models import cloud_client as cloud_client_module


class WorkerDied(BaseException):
    """The worker process is killed: no handler of the code under test runs (not an
    Exception, so nothing catches it on the way)."""


class DyingStream(io.BytesIO):
    """The content of an upload whose worker dies once the provider accepted ``chunks``
    more chunks (``accepted()`` counts them, e.g. the length of an emulator's
    ``upload_chunk_sizes``): the next read raises :class:`WorkerDied`."""

    def __init__(self, data, chunks, accepted):
        super().__init__(data)
        self.accepted = accepted
        self.limit = accepted() + chunks

    def read(self, size=-1):
        if self.accepted() >= self.limit:
            raise WorkerDied("killed after %d chunks" % self.limit)
        return super().read(size)


class CloudTestMixin:
    """Helpers shared by the core's and the provider add-ons' tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.Partner = cls.env["res.partner"]
        cls.Attachment = cls.env["ir.attachment"]
        cls.Task = cls.env["cloud.task"]

    def rule_for(self, client, model="res.partner", folder="Contacts", **vals):
        return self.env["cloud.sync.rule"].create(dict({
            "model_id": self.env["ir.model"]._get(model).id, "folder_name": folder,
            "client_id": client.id}, **vals))

    def attach(self, record, name="doc.txt", data=b"hello", **vals):
        return self.env["ir.attachment"].create(dict({
            "name": name, "raw": data, "res_model": record._name, "res_id": record.id}, **vals))

    def run_queue(self, **kw):
        self.env.flush_all()
        return self.env["cloud.task"]._run_queue(time_budget=kw.pop("time_budget", 120), **kw)

    def fast_forward(self):
        """Make every waiting task due now (skips back-off delays, and the pauses a provider
        asked of the transfer threads)."""
        self.env["cloud.task"].search([("state", "=", "pending")]).write(
            {"next_attempt": "2000-01-01"})
        cloud_client_module._LIMITS.clear()


class CloudCase(CloudTestMixin, TransactionCase):
    """A connected in-memory client on a fresh store for every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_model = cls.env["ir.model"]._get("res.partner")

    def setUp(self):
        super().setUp()
        self.store_name = "test-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, self.store_name)
        self.store = get_store(self.store_name)
        self.client = self.make_client(self.store_name)
        self.adapter = self.client._get_adapter()

    # -- set-up helpers ----------------------------------------------------------------------
    def make_client(self, store_name, **vals):
        client = self.env["cloud.client"].create(dict({
            "name": "Memory %s" % store_name[-6:], "provider": "memory",
            "api_base_url": store_name, "mass_delete_min_files": 1000}, **vals))
        client.action_connect()
        return client

    def make_rule(self, model="res.partner", folder="Contacts", client=None, **vals):
        return self.rule_for(client or self.client, model, folder, **vals)

    # -- running the engines -------------------------------------------------------------------

    def sync(self, client=None):
        (client or self.client)._prepare_direct()
        return self.run_queue()

    def backward(self, client=None):
        (client or self.client)._enqueue_backward()
        return self.run_queue()

    def converge(self, rounds=20, backward=False):
        """Run cycles until a direct planning finds nothing left to do."""
        for _ in range(rounds):
            self.fast_forward()
            self.client._prepare_direct()
            if backward:
                self.client._enqueue_backward()
            self.run_queue()
            self.fast_forward()
            self.client._prepare_direct()
            if not self.Task.search_count([("state", "=", "pending")]):
                return
        self.fail("did not converge: %s" % self.Task.search(
            [("state", "=", "pending")]).mapped(lambda t: (t.type, t.last_error)))

    # -- cloud inspection ---------------------------------------------------------------------
    def tree(self):
        return self.store.tree()

    def folder_of(self, record):
        return self.env["cloud.folder"].search([("res_model", "=", record._name),
                                                ("res_id", "=", record.id),
                                                ("kind", "=", "object")], limit=1)

    def cloud_item(self, path):
        node = self.store.items[self.store.ROOT_ID]
        for part in path.strip("/").split("/"):
            node = self.store.child_named(node.id, part)
            if node is None:
                return None
        return node

    def assertSynced(self, attachment, data):
        attachment.invalidate_recordset()
        self.assertEqual(attachment.type, "url")
        self.assertTrue(attachment.cloud_item_id)
        self.assertFalse(attachment.store_fname)
        self.assertEqual(self.store.content[attachment.cloud_item_id], data)
        self.assertEqual(attachment.raw, data)
        self.assertEqual(base64.b64decode(attachment.datas), data)
