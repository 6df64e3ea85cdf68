"""The randomized convergence suite through the real Graph adapter and msal, against the Graph
emulator; the machine and the model are cloud_base's."""
import posixpath
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.convergence import (ALL_OPERATIONS, KNOWN_ADAPTER_BUGS,
                                                      KNOWN_BUGS, Backend,
                                                      run_convergence)

from .common import new_client
from .harness import HarnessEmulator, consent_cache
from ..lib.graph_adapter import ONEDRIVE_SCOPES

ONEDRIVE_OPERATIONS = ALL_OPERATIONS - set(KNOWN_BUGS) - set(KNOWN_ADAPTER_BUGS)


class OneDriveBackend(Backend):
    """One account of the emulator's tenant: the default user with a fresh, empty OneDrive
    per example, or (:meth:`spawn`) another user of the tenant with its own; paths from the
    drive's top."""

    name = "onedrive"
    #: one emulator for the whole run (stopping one waits for its poll)
    shared_emu = None
    #: (emulator, user) -> serialized token cache of that account's consent
    consents = {}

    def __init__(self, emu=None, user_id=None):
        self.emu = emu
        self.user_id = user_id  # None: the emulator's default user

    @property
    def drive_id(self):
        return self.emu.user_drive_id(self.user_id)

    def setup(self, case):
        if OneDriveBackend.shared_emu is None:
            OneDriveBackend.shared_emu = HarnessEmulator().start()
            case.addClassCleanup(OneDriveBackend._stop)
        self.emu = OneDriveBackend.shared_emu
        self.emu.clear_faults()
        self.emu.me_drive_id = self.emu.add_drive("OneDrive %s" % uuid.uuid4().hex[:6])
        return self.create_client(case)

    def spawn(self):
        """Another account of the tenant: another user, signed in on the consent page, whose
        own OneDrive is empty."""
        tag = uuid.uuid4().hex[:6]
        user_id = self.emu.add_user("User %s" % tag, "user.%s@contoso.onmicrosoft.com" % tag)
        return OneDriveBackend(self.emu, user_id)

    def create_client(self, case):
        return new_client(case.env, self.emu, "onedrive", token_cache=self._consent(),
                          name="OneDrive %s" % uuid.uuid4().hex[:6])

    def _consent(self):
        """The token cache of this account's consent: played once per account and run (the
        consent itself is the OAuth tests' business, not this suite's)."""
        key = (self.emu.base_url, self.user_id)
        if key not in OneDriveBackend.consents:
            OneDriveBackend.consents[key] = consent_cache(self.emu, ONEDRIVE_SCOPES,
                                                          user_id=self.user_id)
        return OneDriveBackend.consents[key]

    def point(self, client):
        """The administrator signs in with this account (the consent page)."""
        client._set_secret("onedrive_token_cache",
                           consent_cache(self.emu, ONEDRIVE_SCOPES, user_id=self.user_id))

    @classmethod
    def _stop(cls):
        if cls.shared_emu is not None:
            cls.shared_emu.stop()
            cls.shared_emu = None
            cls.consents.clear()

    def reconnect(self, client):
        """Reconnect needs the consent page: play the callback's part (a new token cache,
        then the connection the /one_drive_token controller makes)."""
        if client.state == "connected":
            client.action_connect()
            return
        self.point(client)
        client._connect()

    def items(self, below):
        prefix = below.lower().rstrip("/") + "/"
        return {path: "folder" if data is None else "file"
                for path, data in self.emu.tree(self.drive_id).items()
                if path.lower().startswith(prefix)}

    def _id(self, path):
        item_id = self.emu.find(path, self.drive_id)
        if item_id is None:
            raise KeyError(path)
        return item_id

    def read(self, path):  # pylint: disable=method-required-super
        return self.emu.content(self._id(path))

    def write(self, path, data):  # pylint: disable=method-required-super
        self.emu.add_file(path, data, self.drive_id)

    def mkdir(self, path):
        self.emu.add_folder(path, self.drive_id)

    def move(self, src, dst):
        parent = posixpath.dirname(dst)
        parent_id = self.emu.find(parent, self.drive_id) if parent.strip("/") else \
            self.emu.root_id(self.drive_id)
        self.emu.move(self._id(src), parent_id, posixpath.basename(dst))

    def delete(self, path):
        self.emu.delete(self._id(path))

    def path_of(self, item_id):
        data = self.emu.item(item_id)
        if not data or "deleted" in data:
            return None
        with self.emu.lock:
            return self.emu._path_of(self.emu._items[item_id])


@tagged("post_install", "-at_install", "cloud_convergence")
class TestConvergenceOneDrive(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))

    def test_r_safe_1_random_interleavings_converge_on_onedrive(self):
        run_convergence(self, OneDriveBackend(), examples=100, steps=10, default_seed=12,
                        ops=ONEDRIVE_OPERATIONS,
                        make_command="make convergence ADDONS=cloud_onedrive")
