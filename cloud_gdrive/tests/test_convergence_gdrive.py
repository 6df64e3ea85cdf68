"""The randomized convergence suite through the real Google Drive adapter and SDK, against
the Drive emulator; the machine and the model are cloud_base's."""
import posixpath
import threading
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.convergence import (ALL_OPERATIONS, KNOWN_ADAPTER_BUGS,
                                                      KNOWN_BUGS, Backend,
                                                      run_convergence)

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - makes tests/ importable

from cloud_emulators.gdrive import DriveEmulator

from odoo.addons.cloud_gdrive.models.cloud_client import TOKEN_SECRET

from .common import connect_with_grant, gdrive_client_values

GDRIVE_OPERATIONS = ALL_OPERATIONS - set(KNOWN_BUGS) - set(KNOWN_ADAPTER_BUGS)


class GoogleDriveBackend(Backend):
    """One Google account's My Drive: a fresh emulator per example, another account of the
    same emulator for :meth:`spawn` (it is the same Google: only the login changes). Paths
    are resolved by name from the account's root (the suite never makes two items of one
    name)."""

    name = "gdrive"
    emu = None
    user = None
    owns_emulator = False

    def setup(self, case):
        self.emu = DriveEmulator().start()
        self.user = self.emu.default_user
        self.owns_emulator = True
        return self.create_client(case)

    def spawn(self):
        """Another Google account (its own, empty My Drive) on the same emulator."""
        other = GoogleDriveBackend()
        other.emu = self.emu
        other.user = self.emu.add_user()
        return other

    def create_client(self, case):
        client = case.env["cloud.client"].create(gdrive_client_values(
            self.emu, name="Google Drive %s" % uuid.uuid4().hex[:6]))
        return connect_with_grant(client, self.emu, user=self.user)

    def point(self, client):
        """The administrator signs in to Google with this account and gives the consent: the
        client holds this account's grant (its other settings stay)."""
        client._set_secret(TOKEN_SECRET, self.emu.issue_tokens(user=self.user)["refresh_token"])

    def teardown(self):
        if self.owns_emulator:
            threading.Thread(target=self.emu.stop, daemon=True).start()

    def reconnect(self, client):
        """Reconnect needs Google's consent page: play the callback's part (this account's
        consent)."""
        if client.state == "connected":
            client.action_connect()
            return
        connect_with_grant(client, self.emu, user=self.user)

    def _id_at(self, path):
        node = self.user.root_id
        for name in [part for part in path.split("/") if part]:
            found = self.emu.find(name, parent=node)
            if not found:
                return None
            node = found[0]
        return node

    def items(self, below):
        prefix = below.rstrip("/") + "/"
        return {path: "folder" if data is None else "file"
                for path, data in self.emu.tree(root=self.user.root_id).items()
                if path.startswith(prefix)}

    def read(self, path):  # pylint: disable=method-required-super
        return self.emu.content(self._id_at(path))

    def write(self, path, data):  # pylint: disable=method-required-super
        existing = self._id_at(path)
        if existing:
            with self.emu.lock:
                f = self.emu._files[existing]
                f.content = bytes(data)
                self.emu._changed(f)
            return
        parent, name = posixpath.split(path)
        self.emu.add_file(name, data, parent=self._id_at(parent))

    def mkdir(self, path):
        parent, name = posixpath.split(path)
        self.emu.add_folder(name, parent=self._id_at(parent))

    def move(self, src, dst):
        item_id = self._id_at(src)
        parent, name = posixpath.split(dst)
        self.emu.move(item_id, self._id_at(parent))
        if name != posixpath.basename(src):
            self.emu.rename(item_id, name)

    def delete(self, path):
        self.emu.trash(self._id_at(path))

    def path_of(self, item_id):
        names, node = [], self.emu.item(item_id)
        while node is not None and node["id"] != self.user.root_id:
            if node.get("trashed"):
                return None
            names.append(node["name"])
            parents = node.get("parents") or []
            if not parents:
                return None
            node = self.emu.item(parents[0])
        if node is None:
            return None
        return "/" + "/".join(reversed(names))


@tagged("post_install", "-at_install", "cloud_convergence")
class TestConvergenceGoogleDrive(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))

    def test_r_safe_1_random_interleavings_converge_on_gdrive(self):
        run_convergence(self, GoogleDriveBackend(), examples=100, steps=10, default_seed=13,
                        ops=GDRIVE_OPERATIONS,
                        make_command="make convergence ADDONS=cloud_gdrive")
