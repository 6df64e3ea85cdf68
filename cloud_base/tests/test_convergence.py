"""The randomized convergence suite on the in-memory storage (issue 11 §3).

CI: 1,000 examples with a fixed seed; ``make soak`` runs many more with a new seed. A failure
logs its one-line replay command. See ``convergence.py`` for the machine and the model.
"""
from odoo.tests import TransactionCase, tagged

from .convergence import ALL_OPERATIONS, KNOWN_BUGS, MemoryBackend, run_convergence

#: what converges today; the operations of KNOWN_BUGS stay off until their bug is fixed
MEMORY_OPERATIONS = ALL_OPERATIONS - set(KNOWN_BUGS)


@tagged("post_install", "-at_install", "cloud_convergence")
class TestConvergence(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))

    def test_r_safe_1_random_interleavings_converge(self):
        run_convergence(self, MemoryBackend(), examples=1000, steps=10, default_seed=11,
                        ops=MEMORY_OPERATIONS,
                        make_command="make convergence ADDONS=cloud_base")
