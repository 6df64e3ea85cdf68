"""The randomized convergence suite on the documents workspace (R-DOC-1), on the in-memory
storage and, with cloud_owncloud installed, through the ownCloud adapter and pyocclient against
the ownCloud/Nextcloud emulator. CI runs a few examples with fixed seeds; ``make soak`` runs
many more with a new seed. See ``convergence_documents.py`` for the operations and the
invariants."""
import unittest

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests import emulators
from odoo.addons.cloud_base.tests.convergence import MemoryBackend, run_convergence

from .convergence_documents import DOCUMENTS_OPERATIONS, WorkspaceMachine

if emulators.AVAILABLE:
    # the module, not its names: its test class would run here a second time
    from odoo.addons.cloud_owncloud.tests import test_convergence_owncloud as owncloud_suite
else:  # the add-ons deployed without the repository's tests folder
    owncloud_suite = None


class WorkspaceConvergenceCase(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))


@tagged("post_install", "-at_install", "cloud_convergence")
class TestWorkspaceConvergence(WorkspaceConvergenceCase):

    def test_r_doc_1_random_workspace_interleavings_converge(self):
        run_convergence(self, MemoryBackend(), examples=100, steps=12, default_seed=14,
                        ops=DOCUMENTS_OPERATIONS, machine=WorkspaceMachine,
                        make_command="make convergence ADDONS=cloud_documents")


@unittest.skipIf(owncloud_suite is None, "the cloud emulators are not available")
@tagged("post_install", "-at_install", "cloud_convergence")
class TestWorkspaceConvergenceOwnCloud(WorkspaceConvergenceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "owncloud" not in cls.env["cloud.client"]._provider_registry():
            raise unittest.SkipTest("cloud_owncloud is not installed")
        cls.emulator = owncloud_suite.OwnCloudEmulator(users={}).start()
        cls.addClassCleanup(cls.emulator.stop)

    def test_r_doc_1_random_workspace_interleavings_converge_on_owncloud(self):
        run_convergence(self, owncloud_suite.OwnCloudBackend(self.emulator), examples=30,
                        steps=10, default_seed=15, ops=DOCUMENTS_OPERATIONS,
                        machine=WorkspaceMachine,
                        make_command="make convergence ADDONS=cloud_documents,cloud_owncloud")
