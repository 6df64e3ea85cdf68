"""The contract harness of the Dropbox adapter: the real ``dropbox`` SDK against the loopback
emulator (``tests/cloud_emulators/dropbox.py``). The contract suite (``tests/contract``) and the
shared engine scenarios (``test_dropbox_engine.py``) run over it."""
import json

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.common import Fault
from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem
from odoo.addons.cloud_base.tests.harness import (
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, NOT_FOUND, QUOTA_EXCEEDED, RATE_LIMITED, TIMEOUT,
    TRANSIENT_5XX, AdapterHarness,
)
from odoo.addons.cloud_dropbox.lib import dropbox_adapter
from odoo.addons.cloud_dropbox.lib.dropbox_adapter import TOP_ID, DropboxAdapter

#: adapter operation -> emulator route its first faultable request goes to; "upload" is
#: a group: the next simple upload or upload session (start, or finish for faults that
#: must leave the file behind), whichever comes first
ROUTES = {
    "check_connection": "users/get_current_account",
    "ensure_root": "files/get_metadata",
    "get_item": "files/get_metadata",
    "find_child": "files/get_metadata",
    "list_children": "files/list_folder",
    "create_folder": "files/create_folder_v2",
    "upload": "op:upload",
    "download": "files/download",
    "rename": "files/move_v2",
    "move": "files/move_v2",
    "delete": "files/delete_v2",
    "latest_cursor": "files/list_folder",
    "changes": "files/list_folder/continue",
    "share_link": "sharing/create_shared_link_with_settings",
}
GROUPS = {
    "op:upload": ("files/upload", "files/upload_session/start"),
    "op:upload-commit": ("files/upload", "files/upload_session/finish"),
}
NOT_FOUND_ERRORS = {
    "files/move_v2": {".tag": "from_lookup", "from_lookup": {".tag": "not_found"}},
    "files/delete_v2": {".tag": "path_lookup", "path_lookup": {".tag": "not_found"}},
}
CHUNK_ROUTES = ("files/upload_session/start", "files/upload_session/append_v2",
                "files/upload_session/finish")

class HarnessEmulator(DropboxEmulator):
    """Faults may target a group of routes (the first matching request takes them)."""

    def _take_fault(self, route):
        fault = super()._take_fault(route)
        if fault is None:
            for group, routes in GROUPS.items():
                if route in routes:
                    fault = self._pop_fault(group)
                    if fault is not None:
                        return fault
        return fault

def json_fault(status, error, summary=None, headers=None, count=1):
    body = {"error_summary": summary or "%s/.." % error[".tag"], "error": error}
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return Fault("status", count=count, status=status, body=json.dumps(body).encode(),
                 headers=hdrs)

class DropboxHarness(AdapterHarness):
    name = "dropbox"
    case_insensitive = True
    hash_kind = "dropbox"
    conflict_gives_existing_id = True
    download_piece_size = 1024 * 1024
    retry_after = 7
    page_size = 3
    # big enough that the 2 MiB download test does not send 65,536 session requests
    chunk_threshold = 100 * 1024
    chunk_size = 64 * 1024
    top_id = TOP_ID

    def setup(self):
        self.emu = HarnessEmulator().start()
        self.grant = None

    def teardown(self):
        self.emu.stop()

    def _adapter(self):
        return DropboxAdapter(
            refresh_token=self.grant["refresh_token"], app_key=DEFAULT_APP_KEY,
            app_secret=DEFAULT_APP_SECRET, base_url=self.emu.base_url,
            page_size=self.page_size, chunk_threshold=self.chunk_threshold,
            chunk_size=self.chunk_size, timeout=10)

    def new_adapter(self):
        self.grant = self.emu.issue_token(refresh=True)
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud ---------------------------------------------------------
    def _path(self, item_id):
        return "" if item_id == TOP_ID else self.emu.item(item_id)["path_display"]

    def _item(self, meta, parent_id):
        if meta[".tag"] == "folder":
            return CloudItem(meta["id"], meta["name"], FOLDER, parent_id,
                             path=meta["path_display"])
        return CloudItem(meta["id"], meta["name"], FILE, parent_id, size=meta["size"],
                         hash=meta["content_hash"], etag=meta["rev"],
                         path=meta["path_display"])

    def cloud_create_folder(self, parent_id, name):
        return self._item(self.emu.make_folder(self._path(parent_id) + "/" + name),
                          parent_id)

    def cloud_create_file(self, parent_id, name, data):
        return self._item(self.emu.put_file(self._path(parent_id) + "/" + name, data),
                          parent_id)

    def _parent_id(self, path):
        parent = path.rsplit("/", 1)[0]
        return TOP_ID if not parent else self.emu.item(parent)["id"]

    def cloud_update_file(self, item_id, data):
        return self._item(self.emu.put_file(self._path(item_id), data),
                          self._parent_id(self._path(item_id)))

    def cloud_rename(self, item_id, new_name):
        path = self._path(item_id)
        meta = self.emu.move(path, path.rsplit("/", 1)[0] + "/" + new_name)
        return self._item(meta, self._parent_id(meta["path_display"]))

    def cloud_move(self, item_id, new_parent_id):
        path = self._path(item_id)
        meta = self.emu.move(path, self._path(new_parent_id) + "/" + path.rsplit("/", 1)[1])
        return self._item(meta, new_parent_id)

    def cloud_delete(self, item_id):
        self.emu.delete(self._path(item_id))

    def cloud_content(self, item_id):
        return self.emu.content(item_id)

    def cloud_tree(self):
        return {path: ("folder", 0) if size == "folder" else ("file", size)
                for path, size in self.emu.tree().items()}

    def expire_cursors(self):
        self.emu.expire_cursors()

    # -- faults and counters -----------------------------------------------------------
    def inject(self, category, operation, count=1):
        route = ROUTES[operation]
        emu = self.emu
        if category == RATE_LIMITED:
            emu.rate_limit(route, retry_after=self.retry_after, count=count)
        elif category == TRANSIENT_5XX:
            emu.server_error(route, status=503, count=count)
        elif category == TIMEOUT:
            emu.inject(route, Fault("timeout", count=count, delay=0.05))
        elif category == AUTH_EXPIRED:
            # the access token is reported expired and the refresh is refused
            emu.inject(route, json_fault(401, {".tag": "expired_access_token"},
                                         count=count))
            emu.inject("oauth2/token", Fault(
                "status", count=count, status=400,
                body=json.dumps({"error": "invalid_grant",
                                 "error_description": "refresh token is invalid or "
                                                      "revoked"}).encode(),
                headers={"Content-Type": "application/json"}))
        elif category == QUOTA_EXCEEDED:
            emu.insufficient_space(count=count)
        elif category == NOT_FOUND:
            error = NOT_FOUND_ERRORS.get(route, {".tag": "path",
                                                 "path": {".tag": "not_found"}})
            emu.inject(route, json_fault(409, error, count=count))
        elif category == CURSOR_RESET:
            emu.inject(route, json_fault(409, {".tag": "reset"}, count=count))
        elif category == APPLY_THEN_LOSE:
            if route == "op:upload":
                route = "op:upload-commit"
            emu.inject(route, Fault("drop_after_apply", count=count))
        else:
            raise ValueError("unknown fault category %r" % category)

    def clear_faults(self):
        self.emu.clear_faults()
        with self.emu.lock:
            self.emu._force_insufficient = 0

    def call_count(self, operation):
        if operation == "upload_chunk":
            return sum(self.emu.counters[route] for route in CHUNK_ROUTES)
        route = ROUTES[operation]
        return sum(self.emu.counters[r] for r in GROUPS.get(route, (route,)))


#: what the contract suite runs against (nothing when the SDK is missing)
HARNESSES = [DropboxHarness] if dropbox_adapter.dropbox is not None else []
