"""The randomized convergence suite through the real Dropbox adapter and SDK, against the
Dropbox emulator (issue 11 §3); the machine and the model are cloud_base's."""
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.convergence import (ALL_OPERATIONS, KNOWN_ADAPTER_BUGS,
                                                      KNOWN_BUGS, Backend,
                                                      run_convergence)

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - makes tests/ importable

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

#: the memory suite's set; a fresh account per example makes "reconnect" cheap too
DROPBOX_OPERATIONS = ALL_OPERATIONS - set(KNOWN_BUGS) - set(KNOWN_ADAPTER_BUGS)


class DropboxBackend(Backend):
    """A fresh emulator (one empty account) per example."""

    name = "dropbox"
    emu = None

    def _start(self):
        self.emu = DropboxEmulator().start()

    def setup(self, case):
        self._start()
        return self.create_client(case)

    def spawn(self):
        """Another Dropbox account: another emulator (its own account id)."""
        other = DropboxBackend()
        other._start()
        return other

    def create_client(self, case):
        client = case.env["cloud.client"].create({
            "name": "Dropbox %s" % uuid.uuid4().hex[:6], "provider": "dropbox",
            "api_base_url": self.emu.base_url, "dropbox_app_key": DEFAULT_APP_KEY,
            "dropbox_app_secret": DEFAULT_APP_SECRET, "mass_delete_min_files": 1000})
        grant = self.emu.issue_token(refresh=True)
        client._set_secret("dropbox_refresh_token", grant["refresh_token"])
        client.action_connect()
        return client

    def point(self, client):
        """The administrator authorizes this account (a new grant) on the client."""
        grant = self.emu.issue_token(refresh=True)
        client._set_secret("dropbox_refresh_token", grant["refresh_token"])
        client.write({"api_base_url": self.emu.base_url})

    def teardown(self):
        if self.emu is not None:
            self.emu.stop()

    def reconnect(self, client):
        """Reconnect needs the consent page on OAuth providers: play the callback's part
        (a new grant, then the connection the /dropbox_token controller makes)."""
        if client.state == "connected":
            client.action_connect()
            return
        grant = self.emu.issue_token(refresh=True)
        client._set_secret("dropbox_refresh_token", grant["refresh_token"])
        client._connect()

    def items(self, below):
        prefix = below.lower() + "/"
        return {path: "folder" if size == "folder" else "file"
                for path, size in self.emu.tree().items() if path.lower().startswith(prefix)}

    def read(self, path):  # pylint: disable=method-required-super
        return self.emu.content(path)

    def write(self, path, data):  # pylint: disable=method-required-super
        self.emu.put_file(path, data)

    def mkdir(self, path):
        self.emu.make_folder(path)

    def move(self, src, dst):
        self.emu.move(src, dst)

    def delete(self, path):
        self.emu.delete(path)

    def path_of(self, item_id):
        meta = self.emu.item(item_id)
        return meta["path_display"] if meta else None


@tagged("post_install", "-at_install", "cloud_convergence")
class TestConvergenceDropbox(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))

    def test_r_safe_1_random_interleavings_converge_on_dropbox(self):
        run_convergence(self, DropboxBackend(), examples=100, steps=10, default_seed=12,
                        ops=DROPBOX_OPERATIONS,
                        make_command="make convergence ADDONS=cloud_dropbox")
