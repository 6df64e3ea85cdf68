"""The contract harnesses of the Google Drive adapter: the real google-api-python-client and
google-auth against the loopback Drive emulator (``tests/cloud_emulators/gdrive.py``), on
My Drive and on a shared drive. The contract suite (``tests/contract``) and the shared engine
scenarios (``test_gdrive_engine.py``) run over them.

Drive allows several items of the same name in one folder: both harnesses announce
``duplicate_names``, and the contract's duplicate-name checks run on them (items people made
with the same name are all listed and reported; the adapter itself never makes a second one).
"""
import mimetypes
import threading

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.common import Fault
from cloud_emulators.gdrive import DriveEmulator, drive_error

from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem
from odoo.addons.cloud_base.tests.harness import (
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, NOT_FOUND, QUOTA_EXCEEDED, RATE_LIMITED, TIMEOUT,
    TRANSIENT_5XX, AdapterHarness,
)
from odoo.addons.cloud_gdrive.lib import gdrive_adapter
from odoo.addons.cloud_gdrive.lib.gdrive_adapter import FOLDER_MIME, GoogleDriveAdapter

KiB = 1024

#: adapter operation -> the emulator route its faultable request goes to; "op:upload" is the
#: next multipart upload or resumable session start, "op:upload-commit" the request that
#: makes the file appear (multipart, or the last chunk of a session)
ROUTES = {
    "check_connection": "about.get",
    "ensure_root": "files.list",
    "get_item": "files.get",
    "find_child": "files.list",
    "list_children": "files.list",
    "create_folder": "files.create",
    "upload": "op:upload",
    "download": "files.download",
    "rename": "files.update",
    "move": "files.update",
    "delete": "files.update",
    "latest_cursor": "changes.getStartPageToken",
    "changes": "changes.list",
    "share_link": "files.get",
}

GET_ROUTES = {"about.get", "files.get", "files.list", "files.download", "files.export",
              "changes.getStartPageToken", "changes.list", "drives.get", "drives.list"}


class HarnessEmulator(DriveEmulator):
    """Faults may target the upload groups above (the first matching request takes them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._current = threading.local()

    def dispatch(self, request):
        self._current.request = request
        return super().dispatch(request)

    def _is_commit(self, request):
        if request.route == "files.upload":
            return request.query.get("uploadType") != "resumable"
        if request.route != "upload_chunk":
            return False
        crange = request.header("content-range", "")
        head, _, total = crange.partition("/")
        if not total.isdigit() or "*" in head:
            return False
        end = head.rpartition("-")[2]
        return end.isdigit() and int(end) + 1 == int(total)

    def _take_fault(self, route):
        fault = super()._take_fault(route)
        if fault is not None:
            return fault
        request = getattr(self._current, "request", None)
        if request is None:
            return None
        if route == "files.upload":
            fault = self._pop_fault("op:upload")
        if fault is None and self._is_commit(request):
            fault = self._pop_fault("op:upload-commit")
        return fault


class GoogleDriveHarness(AdapterHarness):
    """My Drive."""

    name = "gdrive"
    case_insensitive = False
    duplicate_names = True
    hash_kind = "md5"
    conflict_gives_existing_id = True
    download_piece_size = 256 * KiB
    retry_after = 7
    page_size = 3
    chunk_threshold = 300 * KiB
    chunk_size = 256 * KiB
    shared_drive = False

    def setup(self):
        self.emu = HarnessEmulator().start()
        self.drive_id = self.emu.add_shared_drive("Team files") if self.shared_drive else None
        self.tokens = None

    def teardown(self):
        threading.Thread(target=self.emu.stop, daemon=True).start()

    @property
    def top_id(self):
        return self.drive_id or self.emu.root_id

    def adapter_options(self):
        return dict(client_id=self.emu.client_id, client_secret=self.emu.client_secret,
                    drive_id=self.drive_id, base_url=self.emu.base_url,
                    page_size=self.page_size, chunk_threshold=self.chunk_threshold,
                    chunk_size=self.chunk_size, download_chunk_size=self.download_piece_size,
                    timeout=10, rate_limit_retries=0, chunk_retries=0)

    def _adapter(self):
        return GoogleDriveAdapter(refresh_token=self.tokens["refresh_token"],
                                  access_token=self.tokens["access_token"],
                                  **self.adapter_options())

    def new_adapter(self):
        self.tokens = self.emu.issue_tokens()
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud ---------------------------------------------------------
    def _item(self, file_id):
        meta = self.emu.item(file_id)
        parents = meta.get("parents") or [None]
        if meta["mimeType"] == FOLDER_MIME:
            return CloudItem(meta["id"], meta["name"], FOLDER, parents[0],
                             etag=meta["version"], mimetype=FOLDER_MIME)
        return CloudItem(meta["id"], meta["name"], FILE, parents[0],
                         size=int(meta.get("size") or 0), hash=meta.get("md5Checksum"),
                         etag=meta["version"], mimetype=meta["mimeType"])

    def cloud_create_folder(self, parent_id, name):
        return self._item(self.emu.add_folder(name, parent=parent_id))

    def cloud_create_file(self, parent_id, name, data):
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return self._item(self.emu.add_file(name, data, parent=parent_id, mime_type=mime))

    def cloud_update_file(self, item_id, data):
        with self.emu.lock:
            f = self.emu._files[item_id]
            f.content = bytes(data)
            self.emu._changed(f)
        return self._item(item_id)

    def cloud_rename(self, item_id, new_name):
        self.emu.rename(item_id, new_name)
        return self._item(item_id)

    def cloud_move(self, item_id, new_parent_id):
        self.emu.move(item_id, new_parent_id)
        return self._item(item_id)

    def cloud_delete(self, item_id):
        self.emu.trash(item_id)  # what a person does in Drive's UI

    def cloud_content(self, item_id):
        return self.emu.content(item_id)

    def cloud_tree(self):
        return {path: ("folder", 0) if data is None else ("file", len(data))
                for path, data in self.emu.tree(root=self.top_id).items()}

    def expire_cursors(self):
        self.emu.invalidate_page_tokens()

    # -- faults and counters -----------------------------------------------------------
    def inject(self, category, operation, count=1):
        route = ROUTES[operation]
        emu = self.emu
        if category == RATE_LIMITED:
            emu.rate_limit(route, status=429, retry_after=self.retry_after, count=count)
        elif category == TRANSIENT_5XX:
            emu.server_error(route, status=503, count=count)
        elif category == TIMEOUT:
            # httplib2 sends a GET again once when its answer is lost (stale connection):
            # two drops per failure the caller sees
            retries = 2 if route in GET_ROUTES else 1
            emu.inject(route, Fault("timeout", count=count * retries, delay=0.05))
        elif category == AUTH_EXPIRED:
            # the access token is refused and its refresh too (revoked grant)
            emu.fail(route, 401, "authError", "Invalid Credentials", count=count)
            emu.inject("token", Fault("status", count=count, status=400,
                                      body=b'{"error": "invalid_grant", "error_description":'
                                           b' "Token has been expired or revoked."}',
                                      headers={"Content-Type": "application/json"}))
        elif category == QUOTA_EXCEEDED:
            emu.storage_quota_exceeded(route="op:upload", count=count)
        elif category == NOT_FOUND:
            emu.not_found(route, count=count)
        elif category == CURSOR_RESET:
            response = drive_error(400, "invalid", "Invalid Value", location="pageToken")
            emu.inject(route, Fault("status", count=count, status=400, body=response.body,
                                    headers=response.headers))
        elif category == APPLY_THEN_LOSE:
            if route == "op:upload":
                route = "op:upload-commit"
            emu.inject(route, Fault("drop_after_apply", count=count))
        else:
            raise ValueError("unknown fault category %r" % category)

    def clear_faults(self):
        self.emu.clear_faults()

    def call_count(self, operation):
        if operation == "upload_chunk":
            return self.emu.counters["upload_chunk"]
        route = ROUTES[operation]
        if route == "op:upload":
            return self.emu.counters["files.upload"]
        return self.emu.counters[route]


class SharedDriveHarness(GoogleDriveHarness):
    """A shared drive (``corpora=drive``, ``driveId``, ``includeItemsFromAllDrives``)."""

    name = "gdrive_shared"
    shared_drive = True


#: what the contract suite runs against (nothing when the SDK is missing)
HARNESSES = [GoogleDriveHarness, SharedDriveHarness] if gdrive_adapter.build is not None else []
