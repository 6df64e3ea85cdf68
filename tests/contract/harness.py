"""Harnesses: what the contract suite needs to drive one kind of storage adapter.

A harness wraps one adapter kind (memory, ownCloud + its emulator, Dropbox + its emulator, ...)
and gives the suite, in provider-neutral terms:

a. a fresh adapter on a fresh, empty account (:meth:`AdapterHarness.new_adapter`), and more
   adapters on that same account (:meth:`AdapterHarness.another_adapter`, "a second worker");
b. "a person in the cloud": changes made directly in the backend, not through the adapter
   (``cloud_create_folder``, ``cloud_create_file``, ``cloud_rename``, ``cloud_move``,
   ``cloud_delete``, ``cloud_content``, ``expire_cursors``). They take and return the ids the
   adapter uses, so a path-based emulator has to translate ids to paths itself;
c. fault injection by category (:data:`FAULTS`) on the next call(s) of an adapter operation
   (operation = the name of a :class:`StorageAdapter` method);
d. small page sizes and chunk sizes, declared as attributes (``page_size``,
   ``chunk_threshold``, ``chunk_size``) and applied to the adapters it builds;
e. call counters (:meth:`AdapterHarness.call_count`).

Capability flags (class attributes) describe legitimate differences between providers. The
suite never skips a core check because of a flag: it checks the variant the flag announces.

Adding a provider (when its adapter lands)::

    class DropboxHarness(AdapterHarness):
        name = "dropbox"
        case_insensitive = True
        hash_kind = "dropbox"
        chunk_threshold = 8 * 1024 * 1024 + 1 ...   # whatever the emulator accepts

        def setup(self):            # start the emulator, register the app, issue a token
        def teardown(self):         # stop it
        def new_adapter(self):      # DropboxAdapter(..., page_size=self.page_size, ...)
        ...                          # every method marked "to implement" below

    HARNESSES.append(DropboxHarness)   # at the bottom of this module

Nothing else changes: ``test_adapter_contract.py`` is parametrized over :data:`HARNESSES`.
"""
from __future__ import annotations

import uuid

from odoo.addons.cloud_base.lib.adapter import (
    AuthExpired, NotFound, QuotaExceeded, RateLimited, ResetNeeded, Transient,
)
from odoo.addons.cloud_base.lib.memory_adapter import FaultPlan, MemoryAdapter, MemoryStore

# -- fault categories --------------------------------------------------------------------------
RATE_LIMITED = "rate_limited"  # 429 / too_many_requests with a Retry-After
TRANSIENT_5XX = "transient_5xx"  # 500/502/503: not applied
TIMEOUT = "timeout"  # no answer in time (may or may not have been applied)
AUTH_EXPIRED = "auth_expired"  # credentials invalid and not refreshable
QUOTA_EXCEEDED = "quota_exceeded"  # no space left (uploads)
NOT_FOUND = "not_found"  # the item is reported missing
CURSOR_RESET = "cursor_reset"  # the change-feed cursor cannot be continued (changes)
APPLY_THEN_LOSE = "apply_then_lose"  # performed by the backend, answer lost (ambiguous)

#: category -> the exception class the adapter must raise for it
FAULTS = {
    RATE_LIMITED: RateLimited,
    TRANSIENT_5XX: Transient,
    TIMEOUT: Transient,
    AUTH_EXPIRED: AuthExpired,
    QUOTA_EXCEEDED: QuotaExceeded,
    NOT_FOUND: NotFound,
    CURSOR_RESET: ResetNeeded,
    APPLY_THEN_LOSE: Transient,
}


class AdapterHarness:
    """Base class. Subclasses implement every method that raises NotImplementedError."""

    #: shown in the test ids
    name = "abstract"

    # -- capabilities ----------------------------------------------------------------------
    #: names are compared case-insensitively (find_child, create_folder, upload, conflicts)
    case_insensitive = True
    #: ``adapter.hash_kind`` the files are expected to carry (``CloudItem.hash``), or None
    hash_kind = None
    #: a Conflict carries ``existing_id`` (the id of the item in the way)
    conflict_gives_existing_id = True
    #: download() of a file larger than this yields more than one piece
    download_piece_size = 1024 * 1024
    #: the ``retry_after`` (seconds) the harness announces with RATE_LIMITED
    retry_after = 7

    # -- sizes the adapters are built with (kept small: paging and chunking are cheap) ------
    page_size = 3
    chunk_threshold = 100
    chunk_size = 32

    #: the id of the top of the account (where ``ensure_root`` creates the suite's root)
    top_id = None

    # -- life cycle ------------------------------------------------------------------------
    def setup(self):
        """Start what the harness needs (emulator, account). Called once per test."""

    def teardown(self):
        """Stop it."""

    def new_adapter(self):
        """A fresh adapter on a fresh, empty account (to implement)."""
        raise NotImplementedError

    def another_adapter(self):
        """One more adapter on the account of the last ``new_adapter`` (to implement)."""
        raise NotImplementedError

    # -- a person in the cloud -------------------------------------------------------------
    def cloud_create_folder(self, parent_id, name):
        """Create a folder directly in the backend; return its CloudItem (to implement)."""
        raise NotImplementedError

    def cloud_create_file(self, parent_id, name, data):
        """Create a file directly in the backend; return its CloudItem (to implement)."""
        raise NotImplementedError

    def cloud_rename(self, item_id, new_name):
        raise NotImplementedError

    def cloud_move(self, item_id, new_parent_id):
        raise NotImplementedError

    def cloud_delete(self, item_id):
        raise NotImplementedError

    def cloud_content(self, item_id):
        """The bytes of a file as the backend stores them."""
        raise NotImplementedError

    def expire_cursors(self):
        """Make every change-feed cursor handed out so far invalid."""
        raise NotImplementedError

    # -- faults and counters ---------------------------------------------------------------
    def inject(self, category, operation, count=1):
        """Make the next ``count`` calls of adapter method ``operation`` fail with fault
        ``category`` (a key of :data:`FAULTS`), on whichever adapter of the account makes
        them (to implement).

        ``count`` is what the adapter's caller sees: a harness whose adapter retries some
        errors by itself injects as many more as the adapter will swallow. ``"upload"`` covers
        both upload protocols; for APPLY_THEN_LOSE on a chunked upload the fault hits the
        request that makes the file appear (the commit), so the file exists afterwards."""
        raise NotImplementedError

    def clear_faults(self):
        """Forget pending faults and undo lasting ones (e.g. re-issue revoked credentials)."""
        raise NotImplementedError

    def call_count(self, operation):
        """Backend calls of adapter method ``operation`` on this account so far;
        ``"upload_chunk"`` counts the pieces sent through the chunked upload protocol."""
        raise NotImplementedError


class MemoryHarness(AdapterHarness):
    """The in-memory reference adapter."""

    name = "memory"
    case_insensitive = True
    hash_kind = "sha256"
    conflict_gives_existing_id = True
    download_piece_size = 256 * 1024  # MemoryAdapter.download streams 256 KiB pieces
    top_id = MemoryStore.ROOT_ID

    def setup(self):
        self.store = None
        # one fault plan shared by the adapters of the account: faults are the backend's, so
        # "the next upload fails" whichever adapter (worker) makes it
        self.faults = FaultPlan()

    def _adapter(self):
        adapter = MemoryAdapter(self.store, page_size=self.page_size,
                                chunk_threshold=self.chunk_threshold, chunk_size=self.chunk_size)
        adapter.faults = self.faults
        return adapter

    def new_adapter(self):
        # a private store: not in the process-wide registry, so nothing leaks between tests
        self.store = MemoryStore("contract-%s" % uuid.uuid4().hex[:8])
        self.faults.clear()
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud -------------------------------------------------------------
    def cloud_create_folder(self, parent_id, name):
        return self.store.put_folder(parent_id, name)

    def cloud_create_file(self, parent_id, name, data):
        return self.store.put_file(parent_id, name, data)

    def cloud_rename(self, item_id, new_name):
        return self.store.update(item_id, name=new_name)

    def cloud_move(self, item_id, new_parent_id):
        return self.store.update(item_id, parent_id=new_parent_id)

    def cloud_delete(self, item_id):
        self.store.remove(item_id)

    def cloud_content(self, item_id):
        return self.store.content[item_id]

    def expire_cursors(self):
        self.store.expire_cursors()

    # -- faults and counters ---------------------------------------------------------------
    def _error(self, category):
        if category == RATE_LIMITED:
            return RateLimited("Too many requests", code="429", retry_after=self.retry_after)
        if category == TRANSIENT_5XX:
            return Transient("Service unavailable", code="503")
        if category == TIMEOUT:
            return Transient("Read timed out", code="timeout")
        if category == AUTH_EXPIRED:
            return AuthExpired("Access token expired", code="expired_access_token")
        if category == QUOTA_EXCEEDED:
            return QuotaExceeded("Storage quota exceeded", code="insufficient_space")
        if category == NOT_FOUND:
            return NotFound("Item not found", code="not_found")
        if category == CURSOR_RESET:
            return ResetNeeded("Cursor reset", code="reset")
        if category == APPLY_THEN_LOSE:
            return Transient("Connection lost after the request", code="connection_lost")
        raise ValueError("unknown fault category %r" % category)

    def inject(self, category, operation, count=1):
        self.faults.inject(operation, self._error(category), count=count,
                           apply=category == APPLY_THEN_LOSE)

    def clear_faults(self):
        self.faults.clear()

    def call_count(self, operation):
        return self.store.calls[operation]


#: every harness the contract suite runs against; a provider appends its own here
HARNESSES = [MemoryHarness]


# ------------------------------------------------------------------------------------------
# Dropbox: the real SDK against the loopback emulator
# ------------------------------------------------------------------------------------------
def _dropbox_harness():
    import json

    from cloud_emulators.common import Fault
    from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

    from odoo.addons.cloud_base.lib.adapter import CloudItem, FILE, FOLDER
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

    return DropboxHarness


try:
    import dropbox as _dropbox_sdk  # noqa: F401
except ImportError:  # pragma: no cover - the SDK is part of the suite's requirements
    pass
else:
    DropboxHarness = _dropbox_harness()
    HARNESSES.append(DropboxHarness)


# -- ownCloud / Nextcloud ----------------------------------------------------------------------
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
        from cloud_emulators.owncloud import OwnCloudEmulator

        class Emulator(OwnCloudEmulator):
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

        self.emulator = Emulator(users={self.user: self.password}).start()
        self.top_id = str(self.emulator.info(self.user, "/")["fileid"])

    def teardown(self):
        self.emulator.stop()

    def _adapter(self):
        from odoo.addons.cloud_owncloud.lib.owncloud_adapter import OwnCloudAdapter

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
        from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem

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

    def expire_cursors(self):
        self.emulator.fingerprint = "restored-%s" % uuid.uuid4().hex

    # -- faults and counters ---------------------------------------------------------------
    def inject(self, category, operation, count=1):
        from cloud_emulators.common import Fault

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


HARNESSES.append(OwnCloudHarness)
