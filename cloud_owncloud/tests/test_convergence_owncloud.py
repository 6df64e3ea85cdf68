"""The randomized convergence suite through the real ownCloud adapter and pyocclient, against
the ownCloud/Nextcloud emulator (issue 11 §3); the machine and the model are cloud_base's."""
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.convergence import (ALL_OPERATIONS, KNOWN_ADAPTER_BUGS,
                                                      KNOWN_BUGS, Backend,
                                                      run_convergence)

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - makes tests/ importable

from cloud_emulators.owncloud import OwnCloudEmulator

OWNCLOUD_OPERATIONS = ALL_OPERATIONS - set(KNOWN_BUGS) - set(KNOWN_ADAPTER_BUGS)


class OwnCloudBackend(Backend):
    """One emulator for the run, a fresh user (empty storage) per example."""

    name = "owncloud"

    def __init__(self, emulator):
        self.emulator = emulator

    def _new_user(self):
        self.user = "conv-%s" % uuid.uuid4().hex[:10]
        self.password = self.emulator.add_app_password(
            self.emulator.add_user(self.user, "account-password"))

    def setup(self, case):
        self._new_user()
        return self.create_client(case)

    def spawn(self):
        """Another account: another user of the same server."""
        other = OwnCloudBackend(self.emulator)
        other._new_user()
        return other

    def create_client(self, case):
        client = case.env["cloud.client"].create({
            "name": "Nextcloud %s" % self.user, "provider": "owncloud",
            "owncloud_url": self.emulator.base_url, "owncloud_login": self.user,
            "owncloud_password": self.password, "mass_delete_min_files": 1000,
            "options": {"timeout": 2, "chunk_threshold": 64 * 1024, "chunk_size": 16 * 1024}})
        client.action_connect()
        return client

    def point(self, client):
        client.write({"owncloud_login": self.user, "owncloud_password": self.password})

    def items(self, below):
        prefix = below + "/"
        return {path: kind for path, (kind, _size) in self.emulator.tree(self.user).items()
                if path.startswith(prefix)}

    def read(self, path):  # pylint: disable=method-required-super
        return self.emulator.get(self.user, path)

    def write(self, path, data):  # pylint: disable=method-required-super
        self.emulator.put(self.user, path, data)

    def mkdir(self, path):
        self.emulator.mkdir(self.user, path)

    def move(self, src, dst):
        self.emulator.move(self.user, src, dst)

    def delete(self, path):
        self.emulator.delete(self.user, path)

    def path_of(self, item_id):
        try:
            info = self.emulator.item_by_fileid(self.user, item_id)
        except (TypeError, ValueError):
            return None
        return info["path"] if info else None


@tagged("post_install", "-at_install", "cloud_convergence")
class TestConvergenceOwnCloud(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.emulator = OwnCloudEmulator(users={}).start()
        cls.addClassCleanup(cls.emulator.stop)

    def test_r_safe_1_random_interleavings_converge_on_owncloud(self):
        run_convergence(self, OwnCloudBackend(self.emulator), examples=100, steps=10,
                        default_seed=13, ops=OWNCLOUD_OPERATIONS,
                        make_command="make convergence ADDONS=cloud_owncloud")
