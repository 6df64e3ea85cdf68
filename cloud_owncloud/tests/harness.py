"""The contract harness of the ownCloud/Nextcloud adapter: ``cloud_owncloud``'s adapter against
the loopback emulator (``tests/cloud_emulators/owncloud.py``, WebDAV + OCS). The contract suite
(``tests/contract``) and the shared engine scenarios (``test_owncloud_engine.py``) run over it."""
import uuid

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.common import Fault
from cloud_emulators.owncloud import OwnCloudEmulator

from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem
from odoo.addons.cloud_base.tests.harness import (
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, NOT_FOUND, QUOTA_EXCEEDED, RATE_LIMITED, TIMEOUT,
    TRANSIENT_5XX, AdapterHarness,
)
from odoo.addons.cloud_owncloud.lib.owncloud_adapter import OwnCloudAdapter


class HarnessEmulator(OwnCloudEmulator):
    """The emulator with the harness's routes (``"upload"`` groups both upload protocols) and
    a changeable ``oc:data-fingerprint`` (cursor expiry, CURSOR_RESET)."""

    fingerprint = ""
    glitches = 0

    def route_of(self, request):
        route = super().route_of(request)
        if route == "PUT" and not request.header("oc-chunked") or \
                route == "uploads/MOVE":
            return "upload"
        if route == "PUT":
            return "PUT-chunk-v1"
        return route

    def handle(self, request):
        request.route = OwnCloudEmulator.route_of(self, request)  # the real name
        return super().handle(request)

    def _propfind(self, request, user, base, path):
        if self.glitches:  # a one-off fingerprint change (CURSOR_RESET)
            self.glitches -= 1
            saved, self.fingerprint = self.fingerprint, "glitch-%s" % uuid.uuid4().hex
            try:
                return super()._propfind(request, user, base, path)
            finally:
                self.fingerprint = saved
        return super()._propfind(request, user, base, path)

    def _prop_value(self, user, fs, path, node, clark):
        if clark == "{http://owncloud.org/ns}data-fingerprint":
            return self.fingerprint
        return super()._prop_value(user, fs, path, node, clark)


class OwnCloudHarness(AdapterHarness):
    """``cloud_owncloud``'s adapter against the ownCloud/Nextcloud emulator (WebDAV + OCS).

    Faults are injected on the emulator's routes (the request an adapter operation makes to
    do its work; reads before it go through). ``"upload"`` covers the plain PUT and the
    chunking-v2 commit (``MOVE .file``). NOT_FOUND on a lookup by id is injected three times:
    after a 404 at the remembered path the adapter searches its known roots, then the top.
    Cursor expiry is the server's ``oc:data-fingerprint`` changing (what a restore from backup
    does).
    """

    name = "owncloud"
    case_insensitive = False  # like Nextcloud/ownCloud on a POSIX file system
    hash_kind = "sha1"
    conflict_gives_existing_id = True
    #: small, so that the big-download check does not need thousands of 32-byte chunks
    download_piece_size = 1024
    user, password = "odoo", "app-pass-word"
    timeout = 1.0

    #: adapter operation -> emulator route of the request that does the work
    ROUTES = {
        "check_connection": "ocs/capabilities", "ensure_root": "MKCOL",
        "get_item": "PROPFIND", "find_child": "PROPFIND", "list_children": "PROPFIND",
        "create_folder": "MKCOL", "upload": "upload", "download": "GET", "rename": "MOVE",
        "move": "MOVE", "delete": "DELETE", "latest_cursor": "PROPFIND",
        "changes": "PROPFIND", "share_link": "ocs/shares",
    }

    def setup(self):
        self.emulator = HarnessEmulator(users={self.user: self.password}).start()
        self.top_id = str(self.emulator.info(self.user, "/")["fileid"])

    def teardown(self):
        self.emulator.stop()

    def _adapter(self):
        return OwnCloudAdapter(self.emulator.base_url, self.user, self.password,
                               timeout=self.timeout, page_size=self.page_size,
                               chunk_threshold=self.chunk_threshold, chunk_size=self.chunk_size,
                               download_piece=self.download_piece_size)

    def new_adapter(self):
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud -------------------------------------------------------------
    def _path(self, item_id):
        info = self.emulator.item_by_fileid(self.user, item_id)
        if info is None:
            raise KeyError(item_id)
        return info["path"]

    def _item(self, path):
        info = self.emulator.info(self.user, path)
        parent = path.rsplit("/", 1)[0] or "/"
        return CloudItem(str(info["fileid"]), path.rsplit("/", 1)[-1],
                         FOLDER if info["kind"] == "folder" else FILE,
                         str(self.emulator.info(self.user, parent)["fileid"]),
                         size=info["size"], etag=info["etag"], path=path)

    def cloud_create_folder(self, parent_id, name):
        path = self._path(parent_id).rstrip("/") + "/" + name
        self.emulator.mkdir(self.user, path)
        return self._item(path)

    def cloud_create_file(self, parent_id, name, data):
        path = self._path(parent_id).rstrip("/") + "/" + name
        self.emulator.put(self.user, path, data)
        return self._item(path)

    def cloud_update_file(self, item_id, data):
        path = self._path(item_id)
        self.emulator.put(self.user, path, data)
        return self._item(path)

    def cloud_rename(self, item_id, new_name):
        path = self._path(item_id)
        target = (path.rsplit("/", 1)[0] or "") + "/" + new_name
        self.emulator.move(self.user, path, target)
        return self._item(target)

    def cloud_move(self, item_id, new_parent_id):
        path = self._path(item_id)
        target = self._path(new_parent_id).rstrip("/") + "/" + path.rsplit("/", 1)[-1]
        self.emulator.move(self.user, path, target)
        return self._item(target)

    def cloud_delete(self, item_id):
        self.emulator.delete(self.user, self._path(item_id))

    def cloud_content(self, item_id):
        return self.emulator.get(self.user, self._path(item_id))

    def cloud_tree(self):
        return {path: (kind, 0 if kind == "folder" else size)
                for path, (kind, size) in self.emulator.tree(self.user).items()}

    def expire_cursors(self):
        self.emulator.fingerprint = "restored-%s" % uuid.uuid4().hex

    # -- faults and counters ---------------------------------------------------------------
    def inject(self, category, operation, count=1):
        route = self.ROUTES[operation]
        if category == CURSOR_RESET:
            self.emulator.glitches += count
            return
        if category == NOT_FOUND and route == "PROPFIND":
            count *= 3  # the remembered path, then the search: known roots, the top
        if category == RATE_LIMITED:
            fault = Fault("status", count, 429, b"Too many requests",
                          {"Retry-After": str(self.retry_after)})
        elif category == TRANSIENT_5XX:
            fault = Fault("status", count, 503, b"Service Unavailable")
        elif category == TIMEOUT:
            fault = Fault("timeout", count, delay=self.timeout + 0.5)
        elif category == AUTH_EXPIRED:
            fault = Fault("status", count, 401, b"", {"WWW-Authenticate": 'Basic realm="x"'})
        elif category == QUOTA_EXCEEDED:
            fault = Fault("status", count, 507, b"")
        elif category == NOT_FOUND:
            fault = Fault("status", count, 404, b"")
        elif category == APPLY_THEN_LOSE:
            fault = Fault("drop_after_apply", count)
        else:
            raise ValueError("unknown fault category %r" % category)
        self.emulator.inject(route, fault)

    def clear_faults(self):
        self.emulator.clear_faults()
        self.emulator.glitches = 0

    def call_count(self, operation):
        counters = self.emulator.counters
        if operation == "upload_chunk":
            return counters["uploads/PUT"] + counters["PUT-chunk-v1"]
        return counters[self.ROUTES.get(operation, operation)]


#: what the contract suite runs against
HARNESSES = [OwnCloudHarness]
