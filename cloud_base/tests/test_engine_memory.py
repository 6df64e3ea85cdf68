"""The shared engine scenarios (``engine_scenarios.py``) on the in-memory reference storage."""
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

from .engine_scenarios import EngineScenarios
from .harness import APPLY_THEN_LOSE, MemoryHarness


class MemoryEngineHarness(MemoryHarness):
    """The memory harness on the store a ``memory`` client reads (the process-wide registry,
    by name), with faults injected into that client's adapter."""

    client = None

    def setup(self):
        self.store_name = "engine-%s" % uuid.uuid4().hex
        self.store = get_store(self.store_name)

    def teardown(self):
        drop_store(self.store_name)

    def inject(self, category, operation, count=1):
        self.client._get_adapter().faults.inject(
            operation, self._error(category), count=count, apply=category == APPLY_THEN_LOSE)

    def clear_faults(self):
        self.client._get_adapter().faults.clear()


@tagged("post_install", "-at_install")
class TestMemoryEngine(EngineScenarios, TransactionCase):
    harness_class = MemoryEngineHarness

    def make_engine_client(self):
        client = self.env["cloud.client"].create({
            "name": "Memory engine", "provider": "memory",
            "api_base_url": self.harness.store_name})
        client.action_connect()
        self.harness.client = client
        return client
