"""The contract harnesses of the Graph adapter: ``msal`` and Graph over ``requests`` against
the loopback emulator (``tests/cloud_emulators/graph.py``), once on a user's OneDrive and once
on a SharePoint document library. The contract suite (``tests/contract``) and the shared
engine scenarios (``test_onedrive_engine.py``) run over them."""
import warnings
from urllib.parse import parse_qs, urlsplit

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable

from cloud_emulators.common import Fault
from cloud_emulators.graph import GraphEmulator, graph_error

from odoo.addons.cloud_base.lib.adapter import FILE, FOLDER, CloudItem
from odoo.addons.cloud_base.tests.harness import (
    APPLY_THEN_LOSE, AUTH_EXPIRED, CURSOR_RESET, NOT_FOUND, QUOTA_EXCEEDED, RATE_LIMITED, TIMEOUT,
    TRANSIENT_5XX, AdapterHarness,
)
from odoo.addons.cloud_onedrive.lib import graph_adapter
from odoo.addons.cloud_onedrive.lib.graph_adapter import (
    CHUNK_UNIT, ONEDRIVE_SCOPES, SHAREPOINT_SCOPES, GraphAdapter, make_session,
)

REDIRECT_URI = "http://localhost:8069/one_drive_token"

#: adapter operation -> emulator route of its first faultable request; "op:upload" is the
#: first request of either upload protocol, "op:upload-commit" the one that makes the file
ROUTES = {
    "check_connection": "me",
    "ensure_root": "item",
    "get_item": "item",
    "find_child": "item",
    "list_children": "children",
    "create_folder": "create_folder",
    "upload": "op:upload",
    "download": "download",
    "rename": "update",
    "move": "update",
    "delete": "delete",
    "latest_cursor": "delta",
    "changes": "delta",
    "share_link": "create_link",
}
GROUPS = {
    "op:upload": ("content", "upload_session"),
    "op:upload-commit": ("content", "upload_commit"),
}
CHUNK_ROUTES = ("upload_chunk", "upload_commit")


class HarnessEmulator(GraphEmulator):
    """The last fragment of an upload session (the one that makes the file) has a route
    of its own, and faults may target a group of routes."""

    def route_of(self, request):
        route = super().route_of(request)
        if route == "upload_chunk" and request.method == "PUT":
            span = request.header("content-range", "").partition(" ")[2]
            rng, _, total = span.partition("/")
            end = rng.partition("-")[2]
            if end.isdigit() and total.isdigit() and int(end) == int(total) - 1:
                return "upload_commit"
        return route

    def handle(self, request):
        if request.route == "upload_commit":
            request.route = "upload_chunk"
        return super().handle(request)

    def _take_fault(self, route):
        fault = super()._take_fault(route)
        if fault is None:
            for group, routes in GROUPS.items():
                if route in routes:
                    fault = self._pop_fault(group)
                    if fault is not None:
                        return fault
        return fault


def consent_cache(emu, scopes, redirect_uri=REDIRECT_URI, user_id=None):
    """A serialized msal token cache, as the consent round trip leaves it: msal's auth code
    flow against the emulator's authorize and token endpoints (``user_id``: the account that
    signs in, else the emulator's default user)."""
    import msal

    session = make_session(emu.base_url, timeout=10)
    cache = msal.SerializableTokenCache()
    app = msal.ConfidentialClientApplication(
        emu.client_id, client_credential=emu.client_secret,
        authority=graph_adapter.AUTHORITY, token_cache=cache, http_client=session,
        http_cache=graph_adapter.discovery_cache(emu.base_url, graph_adapter.AUTHORITY))
    with warnings.catch_warnings():
        # msal recommends response_mode=form_post; the redirect URL answers GET (query)
        warnings.filterwarnings("ignore", message="response_mode=", category=UserWarning)
        flow = app.initiate_auth_code_flow(list(scopes), redirect_uri=redirect_uri)
    emu.signing_in = user_id
    try:
        answer = session.get(flow["auth_uri"], allow_redirects=False)
    finally:
        emu.signing_in = None
    assert answer.status_code == 302, answer.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    return cache.serialize()


def token_refused(count=1):
    body = {"error": "invalid_grant", "error_description": "AADSTS50173: The provided grant "
            "has expired due to it being revoked.", "error_codes": [50173]}
    import json
    return Fault("status", count=count, status=400, body=json.dumps(body).encode(),
                 headers={"Content-Type": "application/json"})


class GraphHarness(AdapterHarness):
    """The user's OneDrive (``/me/drive``)."""

    name = "onedrive"
    case_insensitive = True
    hash_kind = "quickxor"
    conflict_gives_existing_id = True
    download_piece_size = 1024 * 1024
    retry_after = 7
    page_size = 3
    chunk_threshold = 2 * CHUNK_UNIT
    chunk_size = CHUNK_UNIT
    sharepoint = False
    link_policy = "anonymous"

    def setup(self):
        self.emu = HarnessEmulator().start()
        self.cache = None
        self.drive_id = self._drive()

    def teardown(self):
        self.emu.stop()

    @property
    def top_id(self):
        return self.emu.root_id(self.drive_id)

    def _drive(self):
        return None  # /me/drive

    def _adapter(self):
        return GraphAdapter(
            self.emu.client_id, self.emu.client_secret, token_cache=self.cache,
            drive_id=self.drive_id if self.sharepoint else None, sharepoint=self.sharepoint,
            link_policy=self.link_policy, base_url=self.emu.base_url,
            page_size=self.page_size, chunk_threshold=self.chunk_threshold,
            chunk_size=self.chunk_size, timeout=10, max_wait=0)

    def new_adapter(self):
        self.cache = consent_cache(self.emu, SHAREPOINT_SCOPES if self.sharepoint
                                   else ONEDRIVE_SCOPES)
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud ---------------------------------------------------------
    def _item(self, item_id):
        data = self.emu.item(item_id)
        parent = (data.get("parentReference") or {}).get("id")
        if "folder" in data:
            return CloudItem(data["id"], data["name"], FOLDER, parent, etag=data["eTag"])
        return CloudItem(data["id"], data["name"], FILE, parent, size=data["size"],
                         hash=data["file"]["hashes"]["quickXorHash"], etag=data["cTag"])

    def _path(self, item_id):
        with self.emu.lock:
            return self.emu._path_of(self.emu._items[item_id])

    def _join(self, parent_id, name):
        return self._path(parent_id).rstrip("/") + "/" + name

    def cloud_create_folder(self, parent_id, name):
        return self._item(self.emu.add_folder(self._join(parent_id, name), self.drive_id))

    def cloud_create_file(self, parent_id, name, data):
        return self._item(self.emu.add_file(self._join(parent_id, name), data, self.drive_id))

    def cloud_update_file(self, item_id, data):
        return self._item(self.emu.add_file(self._path(item_id), data, self.drive_id))

    def cloud_rename(self, item_id, new_name):
        self.emu.rename(item_id, new_name)
        return self._item(item_id)

    def cloud_move(self, item_id, new_parent_id):
        self.emu.move(item_id, new_parent_id)
        return self._item(item_id)

    def cloud_delete(self, item_id):
        self.emu.delete(item_id)

    def cloud_content(self, item_id):
        return self.emu.content(item_id)

    def cloud_tree(self):
        return {path: ("folder", 0) if data is None else ("file", len(data))
                for path, data in self.emu.tree(self.drive_id).items()}

    def expire_cursors(self):
        self.emu.expire_delta_tokens()

    # -- faults and counters -----------------------------------------------------------
    def inject(self, category, operation, count=1):
        route = ROUTES[operation]
        if operation == "share_link" and self.link_policy == "none":
            route = "item"
        emu = self.emu
        if category == RATE_LIMITED:
            emu.throttle(route, retry_after=self.retry_after, count=count)
        elif category == TRANSIENT_5XX:
            emu.fail(route, 502, "generalException", "Bad gateway", count=count)
        elif category == TIMEOUT:
            emu.inject(route, Fault("timeout", count=count, delay=0.05))
        elif category == AUTH_EXPIRED:
            # the access token is refused, and so is the refresh
            emu.fail(route, 401, "InvalidAuthenticationToken",
                     "Lifetime validation failed, the token is expired.", count=count)
            emu.inject("token", token_refused(count))
        elif category == QUOTA_EXCEEDED:
            emu.quota_exceeded(route, count=count)
        elif category == NOT_FOUND:
            emu.fail(route, 404, "itemNotFound", "Item not found", count=count)
        elif category == CURSOR_RESET:
            response = graph_error(410, "resyncRequired", "Resync required.")
            emu.inject(route, Fault("status", count=count, status=410, body=response.body,
                                    headers=response.headers))
        elif category == APPLY_THEN_LOSE:
            if route == "op:upload":
                route = "op:upload-commit"
            emu.drop_after_apply(route, count=count)
        else:
            raise ValueError("unknown fault category %r" % category)

    def clear_faults(self):
        self.emu.clear_faults()

    def call_count(self, operation):
        if operation == "upload_chunk":
            return sum(self.emu.counters[route] for route in CHUNK_ROUTES)
        route = ROUTES[operation]
        return sum(self.emu.counters[r] for r in GROUPS.get(route, (route,)))


class PersonalHarness(GraphHarness):
    """A personal OneDrive (Microsoft account): the change feed follows the watched folder
    alone (``/items/{id}/delta``)."""

    name = "onedrive_personal"

    def setup(self):
        result = super().setup()
        self.emu._drives[self.emu.me_drive_id].drive_type = "personal"
        return result


class SharePointHarness(GraphHarness):
    """A document library of a SharePoint site (``/drives/{id}``)."""

    name = "sharepoint"
    sharepoint = True
    link_policy = "organization"

    def _drive(self):
        return self.emu.site_drive_ids[0]


#: what the contract suite runs against (nothing when msal is missing)
HARNESSES = [GraphHarness, PersonalHarness, SharePointHarness] \
    if graph_adapter.msal is not None else []
