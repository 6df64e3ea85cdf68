"""Loopback emulator of Microsoft Graph (OneDrive / SharePoint) and of the Microsoft identity
platform endpoints that ``msal`` uses.

The real, unmodified SDKs talk to it through :func:`make_session`, a ``requests.Session`` whose
``request()`` rewrites ``https://graph.microsoft.com`` to ``<emulator>/graph`` and
``https://login.microsoftonline.com`` to ``<emulator>/login`` (paths kept)::

    emu = GraphEmulator().start()
    session = make_session(emu.base_url)
    app = msal.ConfidentialClientApplication(emu.client_id, client_credential=emu.client_secret,
        authority="https://login.microsoftonline.com/common",
        token_cache=msal.SerializableTokenCache(), http_client=session)

Links the emulator hands out (``@odata.nextLink``, ``@odata.deltaLink``) keep the production
``https://graph.microsoft.com/v1.0`` form when the request came through the rewriting session
(``/graph`` prefix) and use the emulator's own ``http://`` URL otherwise. Upload session URLs and
pre-authenticated download URLs always point at the emulator itself (``/_upload/…``,
``/_download/…``): ``requests`` follows redirects without going through ``Session.request``.

The tenant has accounts (:meth:`GraphEmulator.add_user`, each with its own OneDrive): the
authorize page signs in ``signing_in`` (None: the default user), and ``/me``, ``/me/drive``
answer for the user the access token was issued to. Paths longer than 400 characters (the
drive's server path included) are refused; delta on a folder is answered on personal drives
only.

Route names (for :meth:`inject`, the fault helpers and ``counters``):

========================  =================================================================
``openid_config``         GET ``/{tenant}/v2.0/.well-known/openid-configuration``
``instance_discovery``    GET ``/common/discovery/instance``
``authorize``             GET ``/{tenant}/oauth2/v2.0/authorize``
``token``                 POST ``/{tenant}/oauth2/v2.0/token``
``me``                    GET ``/me``
``drive``                 GET ``/me/drive``, ``/drives/{d}``, ``/sites/{s}/drive``
``drives``                GET ``/sites/{s}/drives``, ``/me/drives``
``site``                  GET ``/sites/{hostname}:/{path}``, ``/sites/{id}``, ``/sites/root``
``item``                  GET an item (by id or path)
``children``              GET ``…/children``
``create_folder``         POST ``…/children``
``content``               PUT ``…:/{name}:/content`` or ``…/items/{id}/content`` (simple upload)
``download``              GET ``…/content`` (302 to the pre-authenticated URL)
``download_url``          GET the pre-authenticated download URL
``upload_session``        POST ``…:/{name}:/createUploadSession``
``upload_chunk``          PUT/GET/DELETE on an ``uploadUrl``
``update``                PATCH an item (rename / move)
``delete``                DELETE an item
``create_link``           POST ``…/createLink``
``permissions``           GET ``…/permissions`` (the item's own and inherited ones)
``permission``            GET ``…/permissions/{perm-id}``
``delete_permission``     DELETE ``…/permissions/{perm-id}`` (not inherited, not the owner)
``delta``                 GET ``…/root/delta``
========================  =================================================================
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import itertools
import json
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import requests

from .common import DropConnection, Emulator, Fault, Request, Response  # noqa: F401

GRAPH_HOST = "https://graph.microsoft.com"
LOGIN_HOST = "https://login.microsoftonline.com"
GRAPH_PREFIX = "/graph"
LOGIN_PREFIX = "/login"
GRAPH_ROOT = GRAPH_HOST + "/v1.0"

CHUNK_UNIT = 320 * 1024
#: OneDrive and SharePoint refuse an item whose decoded server-relative path (the drive's
#: own path, e.g. /personal/<user>/Documents, then the folders and the name) is longer
MAX_PATH = 400
MAX_CHUNK = 60 * 1024 * 1024
MSAL_RESERVED_SCOPES = {"openid", "profile", "offline_access"}


# -- transport -------------------------------------------------------------------------------
class RewritingSession(requests.Session):
    """``requests.Session`` sending Graph and login.microsoftonline.com calls to the emulator."""

    def __init__(self, base_url):
        super().__init__()
        base = base_url.rstrip("/")
        self.rewrites = [(GRAPH_HOST, base + GRAPH_PREFIX), (LOGIN_HOST, base + LOGIN_PREFIX)]

    def rewrite(self, url):
        for src, dst in self.rewrites:
            if url == src or url.startswith(src + "/") or url.startswith(src + "?"):
                return dst + url[len(src):]
        return url

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


def make_session(base_url):
    """A ``requests.Session`` (usable as msal's ``http_client``) pointed at the emulator."""
    return RewritingSession(base_url)


# -- QuickXorHash ----------------------------------------------------------------------------
def quickxorhash(data: bytes) -> str:
    """Microsoft's QuickXorHash of ``data``, base64 encoded (as in ``file.hashes``).

    Byte ``k`` is XORed into a 160-bit circular register at bit ``(11 * k) % 160``, then the
    length (64-bit little endian) is XORed into the last 8 bytes of the little-endian digest.
    Bytes 160 apart land on the same bit, so the data is folded in 160-byte blocks first.
    """
    data = bytes(data)
    folded = 0
    for i in range(0, len(data), 160):
        folded ^= int.from_bytes(data[i:i + 160], "little")
    folded_bytes = folded.to_bytes(160, "little")
    mask = (1 << 160) - 1
    register = 0
    for j, byte in enumerate(folded_bytes):
        if byte:
            value = byte << ((11 * j) % 160)
            register ^= (value & mask) ^ (value >> 160)
    digest = bytearray(register.to_bytes(20, "little"))
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        digest[12 + i] ^= b
    return base64.b64encode(bytes(digest)).decode()


# -- helpers ---------------------------------------------------------------------------------
def _iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (int(ts * 1000) % 1000)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_item_id():
    return "01" + base64.b32encode(secrets.token_bytes(20)).decode()[:32]


def graph_error(status, code, message, headers=None, inner=None):
    """A Graph error response ``{"error": {"code", "message", "innerError"}}``."""
    body = {"error": {"code": code, "message": message,
                      "innerError": dict({"date": _iso(time.time()).split(".")[0],
                                          "request-id": str(uuid.uuid4()),
                                          "client-request-id": str(uuid.uuid4())},
                                         **(inner or {}))}}
    return Response.json(body, status, headers=headers)


class GraphHTTPError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.response = graph_error(status, code, message, headers)


def _aad_error(status, error, description, codes, suberror=None):
    now = datetime.now(timezone.utc)
    body = {"error": error,
            "error_description": "%s Trace ID: %s Correlation ID: %s Timestamp: %s" % (
                description, uuid.uuid4(), uuid.uuid4(), now.strftime("%Y-%m-%d %H:%M:%SZ")),
            "error_codes": codes, "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4()),
            "error_uri": LOGIN_HOST + "/error?code=%d" % codes[0]}
    if suberror:
        body["suberror"] = suberror
    return Response.json(body, status)


# -- state -----------------------------------------------------------------------------------
class Item:
    __slots__ = ("id", "drive_id", "name", "parent_id", "is_folder", "content", "created",
                 "modified", "version", "cversion", "seq", "deleted", "is_root", "links",
                 "created_seq", "parent_log")

    def __init__(self, drive_id, name, parent_id, is_folder, content=b"", is_root=False):
        self.id = _new_item_id()
        self.drive_id = drive_id
        self.name = name
        self.parent_id = parent_id
        self.is_folder = is_folder
        self.content = content
        self.created = self.modified = time.time()
        self.version = 1
        self.cversion = 1
        self.seq = 0
        self.deleted = False
        self.is_root = is_root
        self.links = {}
        self.created_seq = 0
        #: ``(last sequence number under that parent, parent id)`` of every move, oldest
        #: first: where the item was when a delta token was handed out
        self.parent_log = []


class Drive:
    def __init__(self, drive_id, name, drive_type, web_url, owner, quota_total):
        self.id = drive_id
        self.name = name
        self.drive_type = drive_type
        self.web_url = web_url
        self.owner = owner
        self.quota_total = quota_total
        self.root_id = None
        self.created = time.time()


class Site:
    def __init__(self, hostname, path, display_name):
        self.hostname = hostname
        self.path = path  # server-relative, e.g. "/sites/Team"
        self.id = "%s,%s,%s" % (hostname, uuid.uuid4(), uuid.uuid4())
        self.display_name = display_name
        self.drive_ids = []

    @property
    def web_url(self):
        return "https://%s%s" % (self.hostname, self.path)


class UploadSession:
    def __init__(self, sid, drive_id, parent_id, name, conflict, existing_id):
        self.id = sid
        self.drive_id = drive_id
        self.parent_id = parent_id
        self.name = name
        self.conflict = conflict
        self.existing_id = existing_id
        self.data = bytearray()
        self.total = None
        self.expires = time.time() + 7 * 24 * 3600
        self.chunk_sizes = []


class GraphEmulator(Emulator):
    """In-memory Microsoft Graph (drives, sites, items, delta) + identity platform (OAuth)."""

    name = "graph"

    def __init__(self, host="127.0.0.1", port=0, latency=0.0, client_id="graph-client-id",
                 client_secret="graph-client-secret", access_token_lifetime=3600,
                 tenant_id="8f6f3c1e-3b1f-4b5e-9c44-5a8d2f0e0c01"):
        super().__init__(host, port, latency)
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_lifetime = access_token_lifetime
        self.tenant_id = tenant_id
        self.user = {"id": "5c0e1b6a-1f7d-4c2a-9a57-2e3f5b7c9d11", "displayName": "Test User",
                     "userPrincipalName": "test.user@contoso.onmicrosoft.com",
                     "mail": "test.user@contoso.onmicrosoft.com"}
        #: every account of the tenant: user id -> (user JSON, drive id or None for the
        #: default user, whose drive is ``me_drive_id``)
        self.users = {self.user["id"]: (self.user, None)}
        #: who signs in on the authorize page (None: the default user)
        self.signing_in = None
        self.approve = True  # authorize endpoint: approve (True) or deny (False)
        self.allow_anonymous_links = True
        self.simple_upload_limit = 250 * 1024 * 1024
        self.simple_upload_sizes = []  # sizes of the simple uploads received
        self.upload_chunk_sizes = []  # sizes of the upload-session chunks received
        self.delta_page_size = 200
        self.delta_emit_deleted_descendants = False
        self.default_page_size = 200
        self._codes = {}
        self._access_tokens = {}  # token -> {"expires", "scope"}
        self._refresh_tokens = {}  # token -> {"scope", "revoked"}
        self._items = {}
        #: parent id -> ids of the items ever placed in it (deleted ones filtered on read):
        #: listings do not scan every item of every drive
        self._placed = collections.defaultdict(set)
        self._drives = {}
        self._sites = {}
        self._sessions = {}
        self._downloads = {}
        self._hash_cache = {}
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._delta_epoch = 1
        self._build_default_state()

    # -- seeded state ----------------------------------------------------------------------
    def _build_default_state(self):
        owner = {"user": {"displayName": self.user["displayName"], "id": self.user["id"],
                          "email": self.user["mail"]}}
        me = self.add_drive("OneDrive", "business",
                            "https://contoso-my.sharepoint.com/personal/test_user_contoso_"
                            "onmicrosoft_com/Documents", owner)
        self.me_drive_id = me
        site = Site("contoso.sharepoint.com", "/sites/Team", "Team")
        self._sites[site.id] = site
        self.default_site_id = site.id
        group = {"group": {"displayName": "Team", "id": str(uuid.uuid4())}}
        site.drive_ids.append(self.add_drive("Documents", "documentLibrary",
                                             site.web_url + "/Shared%20Documents", group))
        site.drive_ids.append(self.add_drive("Archive", "documentLibrary",
                                             site.web_url + "/Archive", group))

    def add_drive(self, name, drive_type="business", web_url=None, owner=None,
                  quota_total=1024 ** 4):
        """Create a drive (with its root folder); return its id."""
        with self.lock:
            drive_id = "b!" + _b64url(secrets.token_bytes(48))
            drive = Drive(drive_id, name, drive_type,
                          web_url or "https://contoso-my.sharepoint.com/" + name,
                          owner or {}, quota_total)
            self._drives[drive_id] = drive
            root = Item(drive_id, "root", None, True, is_root=True)
            self._items[root.id] = root
            drive.root_id = root.id
            self._touch(root)
            root.created_seq = root.seq
            return drive_id

    def add_site(self, hostname, path, display_name, libraries=("Documents",)):
        """Create a SharePoint site with document libraries; return the site id."""
        with self.lock:
            site = Site(hostname, path, display_name)
            self._sites[site.id] = site
            for lib in libraries:
                site.drive_ids.append(self.add_drive(
                    lib, "documentLibrary", site.web_url + "/" + quote(lib),
                    {"group": {"displayName": display_name}}))
            return site.id

    def add_user(self, display_name, principal):
        """Another account of the tenant with its own, empty OneDrive; return the user id
        (sign in as it with ``signing_in``)."""
        with self.lock:
            user_id = str(uuid.uuid4())
            user = {"id": user_id, "displayName": display_name,
                    "userPrincipalName": principal, "mail": principal}
            slug = principal.replace("@", "_").replace(".", "_")
            owner = {"user": {"displayName": display_name, "id": user_id,
                              "email": principal}}
            drive_id = self.add_drive("OneDrive", "business",
                                      "https://contoso-my.sharepoint.com/personal/%s/Documents"
                                      % slug, owner)
            self.users[user_id] = (user, drive_id)
            return user_id

    def user_drive_id(self, user_id=None):
        """The OneDrive of an account (``/me/drive`` when it signed in)."""
        user, drive_id = self.users[user_id or self.user["id"]]
        return drive_id or self.me_drive_id

    @property
    def site_drive_ids(self):
        return list(self._sites[self.default_site_id].drive_ids)

    # -- inspection / direct manipulation helpers ------------------------------------------
    def _drive_of(self, drive_id):
        return self._drives[drive_id or self.me_drive_id]

    def root_id(self, drive_id=None):
        return self._drive_of(drive_id).root_id

    def tree(self, drive_id=None):
        """``{"/path": bytes | None}`` of the live items of a drive (None for folders)."""
        with self.lock:
            drive = self._drive_of(drive_id)
            out = {}

            def walk(folder, prefix):
                for child in sorted(self._children(folder.id), key=lambda i: i.name.lower()):
                    path = prefix + "/" + child.name
                    out[path] = None if child.is_folder else bytes(child.content)
                    if child.is_folder:
                        walk(child, path)

            walk(self._items[drive.root_id], "")
            return out

    def item(self, item_id):
        """The Graph JSON of an item (live or deleted), or None."""
        with self.lock:
            it = self._items.get(item_id)
            return self._item_json(it, "http://emulator") if it else None

    def content(self, item_id):
        with self.lock:
            return bytes(self._items[item_id].content)

    def find(self, path, drive_id=None):
        """Item id at ``path`` ("/a/b") in a drive, or None."""
        with self.lock:
            drive = self._drive_of(drive_id)
            it = self._walk(self._items[drive.root_id], path)
            return it.id if it else None

    def add_folder(self, path, drive_id=None):
        """Create the folders of ``path`` as needed (server-side, as another client would)."""
        with self.lock:
            drive = self._drive_of(drive_id)
            node = self._items[drive.root_id]
            for part in [p for p in path.split("/") if p]:
                child = self._child_named(node.id, part)
                if child is None:
                    child = self._new_item(drive.id, part, node.id, True)
                node = child
            return node.id

    def add_file(self, path, data=b"", drive_id=None):
        """Create or overwrite a file at ``path`` (parents created); return its id."""
        with self.lock:
            drive = self._drive_of(drive_id)
            parent_path, _, name = path.rstrip("/").rpartition("/")
            parent_id = self.add_folder(parent_path, drive.id) if parent_path.strip("/") \
                else drive.root_id
            existing = self._child_named(parent_id, name)
            if existing:
                self._set_content(existing, bytes(data))
                return existing.id
            return self._new_item(drive.id, name, parent_id, False, bytes(data)).id

    def rename(self, item_id, new_name):
        with self.lock:
            it = self._items[item_id]
            it.name = new_name
            self._modified(it)

    def move(self, item_id, new_parent_id, new_name=None):
        with self.lock:
            it = self._items[item_id]
            self._set_parent(it, new_parent_id)
            if new_name:
                it.name = new_name
            self._modified(it)

    def delete(self, item_id):
        with self.lock:
            self._delete(self._items[item_id])

    def links(self, item_id):
        """The sharing link permissions of an item (its own)."""
        with self.lock:
            return [dict(p) for p in self._items[item_id].links.values()]

    def add_link(self, item_id, link_type="view", scope="organization",
                 application="Another app"):
        """A sharing link made by someone else (another application); its permission."""
        with self.lock:
            return dict(self._new_link(self._items[item_id], link_type, scope,
                                       {"id": str(uuid.uuid4()), "displayName": application}))

    def set_quota(self, total, drive_id=None):
        with self.lock:
            self._drive_of(drive_id).quota_total = total

    def used(self, drive_id=None):
        with self.lock:
            drive = self._drive_of(drive_id)
            return sum(len(i.content) for i in self._items.values()
                       if i.drive_id == drive.id and not i.deleted and not i.is_folder)

    # -- token helpers ---------------------------------------------------------------------
    def issue_tokens(self, scope="Files.ReadWrite.All", user_id=None):
        """Mint an access + refresh token pair without the OAuth dance (for adapter tests)."""
        with self.lock:
            return self._mint_tokens(scope, user_id=user_id)

    def expire_access_tokens(self):
        """Every access token issued so far is now expired (401 InvalidAuthenticationToken)."""
        with self.lock:
            for info in self._access_tokens.values():
                info["expires"] = 0

    def revoke_refresh_tokens(self, token=None):
        """Revoke one refresh token (or all): the token grant answers 400 invalid_grant."""
        with self.lock:
            for rt, info in self._refresh_tokens.items():
                if token is None or rt == token:
                    info["revoked"] = True

    def expire_delta_tokens(self):
        """Every delta/next link issued so far answers 410 Gone (resyncRequired)."""
        with self.lock:
            self._delta_epoch += 1

    def expire_upload_sessions(self):
        with self.lock:
            for s in self._sessions.values():
                s.expires = 0

    # -- fault helpers ---------------------------------------------------------------------
    def fail(self, route, status, code, message="Injected failure", count=1, headers=None):
        """The next ``count`` requests of ``route`` answer ``status`` with a Graph error."""
        resp = graph_error(status, code, message, headers)
        self.inject(route, Fault("status", count=count, status=status, body=resp.body,
                                 headers=resp.headers))

    def throttle(self, route, retry_after=1, count=1, status=429, code=None):
        """429 (or 503) with ``Retry-After`` (None: header left out, as Graph sometimes does)."""
        code = code or ("activityLimitReached" if status == 429 else "serviceNotAvailable")
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        message = ("The request has been throttled" if status == 429
                   else "Service unavailable")
        self.fail(route, status, code, message, count, headers)

    def quota_exceeded(self, route="content", count=1):
        self.fail(route, 507, "quotaLimitReached", "Insufficient Space Available", count)

    def drop_after_apply(self, route, count=1):
        """Perform the next ``count`` requests of ``route`` but drop the connection."""
        self.inject(route, Fault("drop_after_apply", count=count))

    def timeout(self, route, delay=1.0, count=1):
        self.inject(route, Fault("timeout", count=count, delay=delay))

    # -- internals: items ------------------------------------------------------------------
    def _touch(self, it):
        it.seq = next(self._seq)
        self._last_seq = it.seq

    def _modified(self, it, content=False):
        it.modified = time.time()
        it.version += 1
        if content:
            it.cversion += 1
        self._touch(it)

    def _new_item(self, drive_id, name, parent_id, is_folder, content=b""):
        it = Item(drive_id, name, parent_id, is_folder, content)
        self._items[it.id] = it
        self._placed[parent_id].add(it.id)
        self._touch(it)
        it.created_seq = it.seq
        return it

    def _set_parent(self, it, parent_id):
        if parent_id != it.parent_id:
            it.parent_log.append((self._last_seq, it.parent_id))
            self._placed[it.parent_id].discard(it.id)
            self._placed[parent_id].add(it.id)
            it.parent_id = parent_id

    def _parent_at(self, it, seq):
        """The parent id of ``it`` once the changes up to ``seq`` were made."""
        for until, parent_id in it.parent_log:
            if seq <= until:
                return parent_id
        return it.parent_id

    def _was_below(self, it, ancestor_id, seq):
        """Was ``it`` (alive) below ``ancestor_id`` once the changes up to ``seq`` were
        made?"""
        node, seen = it, set()
        while node is not None and node.id not in seen:
            if node.created_seq > seq:
                return False
            if node.id == ancestor_id:
                return True
            seen.add(node.id)
            node = self._items.get(self._parent_at(node, seq))
        return False

    def _set_content(self, it, data):
        it.content = data
        self._modified(it, content=True)

    def _children(self, item_id):
        items = self._items
        return [items[i] for i in self._placed.get(item_id, ()) if not items[i].deleted]

    def _child_named(self, parent_id, name):
        low = name.lower()
        for child in self._children(parent_id):
            if child.name.lower() == low:
                return child
        return None

    def _walk(self, start, path):
        node = start
        for part in [p for p in path.split("/") if p]:
            if not node.is_folder:
                return None
            node = self._child_named(node.id, part)
            if node is None:
                return None
        return node

    def _delete(self, it):
        todo = [it]
        while todo:
            node = todo.pop()
            if node.is_folder:
                todo.extend(self._children(node.id))
            node.deleted = True
            if node is it or self.delta_emit_deleted_descendants:
                self._touch(node)
        self._downloads = {k: v for k, v in self._downloads.items() if v[0] != it.id}

    def _path_of(self, it):
        parts = []
        node = it
        while node and not node.is_root:
            parts.append(node.name)
            node = self._items.get(node.parent_id)
        return "/" + "/".join(reversed(parts))

    def _is_descendant(self, node, ancestor_id):
        while node is not None:
            if node.id == ancestor_id:
                return True
            node = self._items.get(node.parent_id)
        return False

    def _unique_name(self, parent_id, name):
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        n = 1
        while True:
            candidate = "%s %d%s%s" % (stem, n, dot, ext)
            if self._child_named(parent_id, candidate) is None:
                return candidate
            n += 1

    def _item_json(self, it, link_base, with_path=True):
        drive = self._drives[it.drive_id]
        data = {"id": it.id, "name": it.name,
                "createdDateTime": _iso(it.created), "lastModifiedDateTime": _iso(it.modified),
                "eTag": '"{%s},%d"' % (it.id, it.version),
                "cTag": '"c:{%s},%d"' % (it.id, it.cversion),
                "size": self._size(it),
                "webUrl": drive.web_url + quote(self._path_of(it) if not it.is_root else ""),
                "createdBy": {"user": {"displayName": self.user["displayName"],
                                       "id": self.user["id"]}},
                "lastModifiedBy": {"user": {"displayName": self.user["displayName"],
                                            "id": self.user["id"]}},
                "fileSystemInfo": {"createdDateTime": _iso(it.created),
                                   "lastModifiedDateTime": _iso(it.modified)}}
        parent_ref = {"driveId": drive.id, "driveType": drive.drive_type}
        if not it.is_root:
            parent_ref["id"] = it.parent_id
            if with_path and not it.deleted:
                parent = self._items[it.parent_id]
                parent_path = self._path_of(parent)
                parent_ref["path"] = "/drive/root:" + ("" if parent_path == "/"
                                                        else parent_path)
        data["parentReference"] = parent_ref
        if it.is_root:
            data["root"] = {}
            data["name"] = "root"
        if it.is_folder:
            data["folder"] = {"childCount": len(self._children(it.id))}
        else:
            data["file"] = {"mimeType": _mime_of(it.name), "hashes": self._hashes(it)}
        if it.deleted:
            data["deleted"] = {}
            data.pop("webUrl", None)
        return data

    def _full_path_length(self, drive, parent, name):
        """Length of the decoded server-relative path ``name`` gets in ``parent``."""
        drive_path = unquote(urlsplit(drive.web_url).path).rstrip("/")
        parent_path = "" if parent.is_root else self._path_of(parent)
        return len(drive_path) + len(parent_path) + 1 + len(name)

    def _deepest_below(self, it):
        """How much longer than ``it``'s own path the longest path below it is."""
        deepest, todo = 0, [(it, 0)]
        while todo:
            node, extra = todo.pop()
            deepest = max(deepest, extra)
            if node.is_folder:
                todo.extend((child, extra + 1 + len(child.name))
                            for child in self._children(node.id))
        return deepest

    def _check_path(self, drive, parent, name, below=0):
        if self._full_path_length(drive, parent, name) + below > MAX_PATH:
            raise GraphHTTPError(400, "invalidRequest", "The specified file or folder name is "
                                 "too long. The URL path for all files and folders must be "
                                 "%d characters or less." % MAX_PATH)

    def _hashes(self, it):
        key = (it.id, it.cversion, len(it.content))
        cached = self._hash_cache.get(key)
        if cached is None:
            cached = {"quickXorHash": quickxorhash(it.content),
                      "sha256Hash": hashlib.sha256(it.content).hexdigest().upper()}
            self._hash_cache[key] = cached
        return dict(cached)

    def _size(self, it):
        if not it.is_folder:
            return len(it.content)
        total = 0
        for child in self._children(it.id):
            total += self._size(child)
        return total

    # -- routing ---------------------------------------------------------------------------
    def route_of(self, request):
        path = request.path
        if path.startswith("/_upload/"):
            return "upload_chunk"
        if path.startswith("/_download/"):
            return "download_url"
        if path.startswith(LOGIN_PREFIX + "/"):
            tail = path[len(LOGIN_PREFIX):]
            if tail.endswith("/.well-known/openid-configuration"):
                return "openid_config"
            if tail.endswith("/discovery/instance"):
                return "instance_discovery"
            if tail.endswith("/oauth2/v2.0/authorize"):
                return "authorize"
            if tail.endswith("/oauth2/v2.0/token"):
                return "token"
            return "login"
        tail = self._graph_tail(path)
        if tail is None:
            return "unknown"
        method = request.method
        if tail in ("/me", "/me/"):
            return "me"
        if tail.startswith("/sites/") and "/drive" not in tail.split(":")[-1]:
            return "site"
        if tail.endswith("/drives"):
            return "drives"
        if tail.endswith("/delta") or "/delta(" in tail:
            return "delta"
        last = tail.rstrip("/").rsplit("/", 1)[-1]
        if last == "children":
            return "create_folder" if method == "POST" else "children"
        if last == "content":
            return "content" if method == "PUT" else "download"
        if last == "createUploadSession":
            return "upload_session"
        if last == "createLink":
            return "create_link"
        if last == "permissions":
            return "permissions"
        if tail.rstrip("/").rsplit("/", 2)[-2:-1] == ["permissions"]:
            return "delete_permission" if method == "DELETE" else "permission"
        if tail.endswith("/drive") or (tail.startswith("/drives/") and tail.count("/") == 2):
            return "drive"
        if method == "PATCH":
            return "update"
        if method == "DELETE":
            return "delete"
        return "item"

    @staticmethod
    def _graph_tail(path):
        if path.startswith(GRAPH_PREFIX + "/"):
            path = path[len(GRAPH_PREFIX):]
        for version in ("/v1.0", "/beta"):
            if path.startswith(version + "/") or path == version:
                return path[len(version):]
        return None

    def _link_base(self, request):
        if request.path.startswith(GRAPH_PREFIX + "/"):
            return GRAPH_ROOT
        return "http://%s/v1.0" % request.header("host", "%s:%d" % (self.host, self.port))

    def _self_base(self, request):
        return "http://%s" % request.header("host", "%s:%d" % (self.host, self.port))

    def handle(self, request):
        try:
            with self.lock:
                route = request.route
                if route in ("openid_config", "instance_discovery", "authorize", "token",
                             "login"):
                    return self._handle_login(request)
                if route == "upload_chunk":
                    return self._handle_upload_chunk(request)
                if route == "download_url":
                    return self._handle_download_url(request)
                if route == "unknown":
                    return graph_error(400, "BadRequest", "Invalid version.")
                denied = self._check_bearer(request)
                if denied:
                    return denied
                return self._handle_graph(request)
        except GraphHTTPError as exc:
            return exc.response

    # -- identity platform -----------------------------------------------------------------
    def _openid_config(self, tenant):
        base = "%s/%s" % (LOGIN_HOST, tenant)
        issuer_tenant = "{tenantid}" if tenant in ("common", "organizations") else tenant
        return {
            "token_endpoint": base + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": base + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token",
                                         "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "%s/%s/v2.0" % (LOGIN_HOST, issuer_tenant),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": GRAPH_HOST + "/oidc/userinfo",
            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": base + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce",
                                 "preferred_username", "name", "tid", "ver", "oid"],
            "kerberos_endpoint": base + "/kerberos",
            "tenant_region_scope": None,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def _handle_login(self, request):
        tail = request.path[len(LOGIN_PREFIX):]
        tenant = tail.strip("/").split("/")[0]
        route = request.route
        if route == "openid_config" and request.method == "GET":
            return Response.json(self._openid_config(tenant))
        if route == "instance_discovery":
            aliases = ["login.microsoftonline.com", "login.windows.net",
                       "login.microsoft.com", "sts.windows.net"]
            return Response.json({
                "tenant_discovery_endpoint": LOGIN_HOST +
                "/common/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": "login.microsoftonline.com",
                              "preferred_cache": "login.windows.net",
                              "aliases": aliases}]})
        if route == "authorize" and request.method == "GET":
            return self._authorize(request)
        if route == "token" and request.method == "POST":
            return self._token(request)
        return _aad_error(404, "invalid_request", "AADSTS900561: Endpoint not found.",
                          [900561])

    def _authorize(self, request):
        q = request.query
        redirect_uri = q.get("redirect_uri")
        if q.get("client_id") != self.client_id:
            return _aad_error(400, "unauthorized_client", "AADSTS700016: Application with "
                              "identifier '%s' was not found." % q.get("client_id"), [700016])
        if not redirect_uri:
            return _aad_error(400, "invalid_request", "AADSTS900144: The request body must "
                              "contain the following parameter: 'redirect_uri'.", [900144])
        sep = "&" if "?" in redirect_uri else "?"
        if not self.approve:
            params = {"error": "access_denied",
                      "error_description": "AADSTS65004: User declined to consent to access "
                      "the app."}
            if "state" in q:
                params["state"] = q["state"]
            return Response(302, b"", {"Location": redirect_uri + sep + urlencode(params)})
        if q.get("response_type") != "code":
            return _aad_error(400, "unsupported_response_type",
                              "AADSTS700054: response_type is not enabled.", [700054])
        code = "0.A" + _b64url(secrets.token_bytes(48))
        self._codes[code] = {"redirect_uri": redirect_uri, "scope": q.get("scope", ""),
                             "challenge": q.get("code_challenge"),
                             "method": q.get("code_challenge_method", "plain"),
                             "nonce": q.get("nonce"), "expires": time.time() + 600,
                             "used": False, "user": self.signing_in or self.user["id"]}
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        params["session_state"] = str(uuid.uuid4())
        return Response(302, b"", {"Location": redirect_uri + sep + urlencode(params)})

    def _client_credentials(self, request, form):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.header("authorization", "")
        if auth.lower().startswith("basic "):
            raw = base64.b64decode(auth.split(None, 1)[1]).decode()
            client_id, _, secret = raw.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        return client_id, secret

    def _token(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body.decode(),
                                              keep_blank_values=True).items()}
        client_id, secret = self._client_credentials(request, form)
        if client_id != self.client_id:
            return _aad_error(400, "unauthorized_client", "AADSTS700016: Application with "
                              "identifier '%s' was not found in the directory." % client_id,
                              [700016])
        if secret != self.client_secret:
            return _aad_error(401, "invalid_client", "AADSTS7000215: Invalid client secret "
                              "provided. Ensure the secret being sent in the request is the "
                              "client secret value, not the client secret ID.", [7000215])
        grant = form.get("grant_type")
        if grant == "authorization_code":
            info = self._codes.get(form.get("code", ""))
            if info is None or info["expires"] < time.time():
                return _aad_error(400, "invalid_grant", "AADSTS70008: The provided "
                                  "authorization code or refresh token has expired due to "
                                  "inactivity.", [70008])
            if info["used"]:
                return _aad_error(400, "invalid_grant", "AADSTS54005: OAuth2 Authorization "
                                  "code was already redeemed, please retry with a new valid "
                                  "code or use an existing refresh token.", [54005])
            if form.get("redirect_uri") != info["redirect_uri"]:
                return _aad_error(400, "invalid_grant", "AADSTS50011: The redirect URI "
                                  "specified in the request does not match the redirect URIs "
                                  "configured for the application.", [50011])
            if info["challenge"]:
                verifier = form.get("code_verifier", "")
                if info["method"] == "S256":
                    computed = _b64url(hashlib.sha256(verifier.encode()).digest())
                else:
                    computed = verifier
                if computed != info["challenge"]:
                    return _aad_error(400, "invalid_grant", "AADSTS501481: The Code_Verifier "
                                      "does not match the code_challenge supplied in the "
                                      "authorization request.", [501481])
            info["used"] = True
            scope = form.get("scope") or info["scope"]
            return Response.json(self._mint_tokens(scope, nonce=info["nonce"],
                                                   id_token=True, user_id=info["user"]))
        if grant == "refresh_token":
            info = self._refresh_tokens.get(form.get("refresh_token", ""))
            if info is None:
                return _aad_error(400, "invalid_grant", "AADSTS9002313: Invalid request. "
                                  "Request is malformed or invalid.", [9002313])
            if info["revoked"]:
                return _aad_error(400, "invalid_grant", "AADSTS50173: The provided grant has "
                                  "expired due to it being revoked, a fresh auth token is "
                                  "needed. The user might have changed or reset their "
                                  "password.", [50173], suberror="bad_token")
            scope = form.get("scope") or info["scope"]
            return Response.json(self._mint_tokens(scope, id_token=True,
                                                   user_id=info["user"]))
        return _aad_error(400, "unsupported_grant_type", "AADSTS70003: The app requested an "
                          "unsupported grant type '%s'." % grant, [70003])

    def _mint_tokens(self, scope, nonce=None, id_token=False, user_id=None):
        now = int(time.time())
        user_id = user_id or self.user["id"]
        user = self.users[user_id][0]
        access = "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + _b64url(secrets.token_bytes(32))
        refresh = "1.A" + _b64url(secrets.token_bytes(48))
        granted = " ".join(s for s in scope.split() if s not in MSAL_RESERVED_SCOPES) or scope
        self._access_tokens[access] = {"expires": now + self.access_token_lifetime,
                                       "scope": granted, "user": user_id}
        self._refresh_tokens[refresh] = {"scope": scope, "revoked": False, "user": user_id}
        result = {"token_type": "Bearer", "scope": granted,
                  "expires_in": self.access_token_lifetime,
                  "ext_expires_in": self.access_token_lifetime,
                  "access_token": access, "refresh_token": refresh}
        if id_token:
            claims = {"aud": self.client_id,
                      "iss": "%s/%s/v2.0" % (LOGIN_HOST, self.tenant_id),
                      "iat": now, "nbf": now, "exp": now + 3600,
                      "name": user["displayName"], "oid": user["id"],
                      "preferred_username": user["userPrincipalName"],
                      "sub": _b64url(hashlib.sha256(user["id"].encode()).digest()),
                      "tid": self.tenant_id, "ver": "2.0",
                      "uti": _b64url(secrets.token_bytes(16))}
            if nonce:
                claims["nonce"] = nonce
            header = {"typ": "JWT", "alg": "none"}
            result["id_token"] = "%s.%s." % (_b64url(json.dumps(header).encode()),
                                             _b64url(json.dumps(claims).encode()))
            result["client_info"] = _b64url(json.dumps(
                {"uid": user["id"], "utid": self.tenant_id}).encode())
        return result

    def _check_bearer(self, request):
        auth = request.header("authorization", "")
        headers = {"WWW-Authenticate": 'Bearer realm="", authorization_uri="%s/common/oauth2/'
                   'authorize", client_id="00000003-0000-0000-c000-000000000000"' % LOGIN_HOST}
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.",
                               headers)
        info = self._access_tokens.get(auth[7:].strip())
        if info is None:
            return graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well "
                               "formed, there are no dots (.).", headers)
        if info["expires"] <= time.time():
            return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, "
                               "the token is expired.", headers)
        request.graph_user = info["user"]  # /me is the account the token belongs to
        return None

    # -- Graph routes ----------------------------------------------------------------------
    def _handle_graph(self, request):
        tail = self._graph_tail(request.path)
        me = getattr(request, "graph_user", None) or self.user["id"]
        if tail in ("/me", "/me/"):
            return Response.json(dict(self.users[me][0], **{
                "@odata.context": GRAPH_ROOT + "/$metadata#users/$entity"}))
        if tail.startswith("/sites/"):
            site, rest = self._resolve_site(tail[len("/sites/"):])
            if rest in ("", "/"):
                return Response.json(self._site_json(site))
            if rest == "/drives":
                return Response.json({"value": [self._drive_json(self._drives[d])
                                                for d in site.drive_ids]})
            if rest == "/drive" or rest.startswith("/drive/"):
                drive = self._drives[site.drive_ids[0]]
                return self._drive_route(request, drive, rest[len("/drive"):])
            raise GraphHTTPError(400, "invalidRequest", "Invalid request")
        if tail == "/me/drives":
            return Response.json({"value": [self._drive_json(
                self._drives[self.user_drive_id(me)])]})
        if tail == "/me/drive" or tail.startswith("/me/drive/"):
            return self._drive_route(request, self._drives[self.user_drive_id(me)],
                                     tail[len("/me/drive"):])
        if tail.startswith("/drives/"):
            drive_id, _, rest = tail[len("/drives/"):].partition("/")
            drive = self._drives.get(unquote(drive_id))
            if drive is None:
                raise GraphHTTPError(404, "itemNotFound", "The resource could not be found.")
            return self._drive_route(request, drive, "/" + rest if rest else "")
        raise GraphHTTPError(400, "BadRequest", "Resource not found for the segment '%s'."
                             % tail.strip("/").split("/")[0])

    def _resolve_site(self, spec):
        """``spec`` is what follows /sites/: ``root``, ``{id}``, ``{host}:/{path}[:]``."""
        if spec.startswith("root"):
            return self._sites[self.default_site_id], spec[4:]
        if ":" in spec.split("/")[0] and ":/" in spec:
            host, _, rest = spec.partition(":")
            path, colon, after = rest.partition(":")
            path = unquote(path).rstrip("/")
            for site in self._sites.values():
                if site.hostname.lower() == unquote(host).lower() and \
                        site.path.lower() == path.lower():
                    return site, after if colon else ""
            raise GraphHTTPError(404, "itemNotFound", "Requested site could not be found")
        site_id, _, rest = spec.partition("/")
        site_id = unquote(site_id)
        if site_id in self._sites:
            return self._sites[site_id], "/" + rest if rest else ""
        for site in self._sites.values():
            if site_id.lower() == site.hostname.lower() and site.path in ("", "/"):
                return site, "/" + rest if rest else ""
        raise GraphHTTPError(404, "itemNotFound", "Requested site could not be found")

    def _site_json(self, site):
        return {"id": site.id, "name": site.path.rstrip("/").rsplit("/", 1)[-1],
                "displayName": site.display_name, "webUrl": site.web_url,
                "createdDateTime": _iso(self._drives[site.drive_ids[0]].created),
                "siteCollection": {"hostname": site.hostname}}

    def _drive_json(self, drive):
        used = self.used(drive.id)
        return {"id": drive.id, "driveType": drive.drive_type, "name": drive.name,
                "webUrl": drive.web_url, "owner": drive.owner,
                "createdDateTime": _iso(drive.created),
                "quota": {"total": drive.quota_total, "used": used, "deleted": 0,
                          "remaining": max(0, drive.quota_total - used),
                          "state": "normal" if used < drive.quota_total * 0.9 else "nearing"}}

    def _drive_route(self, request, drive, rest):
        if rest in ("", "/"):
            if request.method != "GET":
                raise GraphHTTPError(405, "invalidRequest", "Method not allowed")
            return Response.json(self._drive_json(drive))
        # item addressing: /root | /items/{id}, then optional :/rel/path[:], then /action
        if rest.startswith("/root"):
            base = self._items[drive.root_id]
            rest = rest[len("/root"):]
        elif rest.startswith("/items/"):
            raw = rest[len("/items/"):]
            cut = min([i for i in (raw.find("/"), raw.find(":")) if i >= 0] or [len(raw)])
            item_id = unquote(raw[:cut])
            rest = raw[cut:]
            base = self._items.get(item_id)
            if item_id == "root":
                base = self._items[drive.root_id]
            if base is None or base.deleted or base.drive_id != drive.id:
                raise GraphHTTPError(404, "itemNotFound", "Item does not exist")
        else:
            raise GraphHTTPError(400, "BadRequest", "Resource not found for the segment '%s'."
                                 % rest.strip("/").split("/")[0])
        rel = None
        if rest.startswith(":"):
            end = rest.find(":", 1)
            if end < 0:
                rel, rest = rest[1:], ""
            else:
                rel, rest = rest[1:end], rest[end + 1:]
            rel = unquote(rel)
        action = rest.strip("/")
        if action.startswith("delta"):
            return self._delta(request, drive, base)
        target = self._walk(base, rel) if rel is not None else base
        method = request.method
        if action == "" and method == "GET":
            return self._found(target, request)
        if action == "" and method == "PATCH":
            return self._update(request, self._found_item(target))
        if action == "" and method == "DELETE":
            return self._delete_route(request, self._found_item(target))
        if action == "children" and method == "GET":
            return self._list_children(request, self._found_item(target))
        if action == "children" and method == "POST":
            return self._create_folder(request, self._found_item(target))
        if action == "content" and method == "PUT":
            if target is None:
                parent_path, _, name = rel.rstrip("/").rpartition("/")
                parent = self._walk(base, parent_path)
                if parent is None or not parent.is_folder:
                    raise GraphHTTPError(404, "itemNotFound", "Item does not exist")
                return self._simple_upload(request, drive, parent, name, None)
            if target.is_folder:
                raise GraphHTTPError(409, "nameAlreadyExists",
                                     "The specified item name already exists. Folder.")
            return self._simple_upload(request, drive, self._items[target.parent_id],
                                       target.name, target)
        if action == "content" and method == "GET":
            return self._download(request, self._found_item(target))
        if action == "createUploadSession" and method == "POST":
            if rel is None:
                if target.is_folder:
                    raise GraphHTTPError(400, "invalidRequest", "Cannot upload to a folder")
                parent, name = self._items[target.parent_id], target.name
            else:
                parent_path, _, name = rel.rstrip("/").rpartition("/")
                parent = self._walk(base, parent_path)
                if parent is None or not parent.is_folder:
                    raise GraphHTTPError(404, "itemNotFound", "Item does not exist")
            return self._create_upload_session(request, drive, parent, name)
        if action == "createLink" and method == "POST":
            return self._create_link(request, self._found_item(target))
        if action == "permissions" and method == "GET":
            return self._list_permissions(request, self._found_item(target))
        if action.startswith("permissions/") and method in ("GET", "DELETE"):
            return self._permission_route(request, self._found_item(target),
                                          unquote(action[len("permissions/"):]))
        raise GraphHTTPError(400, "BadRequest", "Unsupported request %s %s" % (method, action))

    @staticmethod
    def _found_item(target):
        if target is None or target.deleted:
            raise GraphHTTPError(404, "itemNotFound", "Item does not exist")
        return target

    def _select(self, data, request):
        select = request.query.get("$select")
        if not select:
            return data
        keys = {k.strip() for k in select.split(",")}
        return {k: v for k, v in data.items() if k in keys or k.startswith("@")}

    def _found(self, target, request):
        it = self._found_item(target)
        return Response.json(self._select(self._item_json(it, self._link_base(request)),
                                          request))

    def _check_if_match(self, request, it):
        expected = request.header("if-match")
        if expected and expected not in ("*", '"{%s},%d"' % (it.id, it.version),
                                         '"c:{%s},%d"' % (it.id, it.cversion)):
            raise GraphHTTPError(412, "preconditionFailed",
                                 "ETag does not match current item's value")

    def _list_children(self, request, folder):
        if not folder.is_folder:
            return Response.json({"value": []})
        # SharePoint's paging token names the sort key of the last row returned
        # ("Paged=TRUE&p_FileLeafRef=<name>&p_ID=<id>"), not an offset: rows added or removed
        # between two pages shift nothing
        children = sorted(self._children(folder.id), key=lambda i: (i.name.lower(), i.id))
        top = int(request.query.get("$top") or self.default_page_size)
        token = request.query.get("$skiptoken")
        if token:
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(
                    token + "=" * (-len(token) % 4))))
                assert len(after) == 2
            except Exception:
                raise GraphHTTPError(400, "invalidRequest", "Invalid $skiptoken")
            children = [c for c in children if (c.name.lower(), c.id) > after]
        page = children[:top]
        base = self._link_base(request)
        body = {"@odata.context": GRAPH_ROOT + "/$metadata#drives('%s')/items('%s')/children"
                % (folder.drive_id, folder.id),
                "value": [self._select(self._item_json(c, base), request) for c in page]}
        if len(children) > top:
            last = page[-1]
            params = {"$top": top, "$skiptoken": _b64url(json.dumps(
                [last.name.lower(), last.id]).encode())}
            if "$select" in request.query:
                params["$select"] = request.query["$select"]
            body["@odata.nextLink"] = "%s/drives/%s/items/%s/children?%s" % (
                base, folder.drive_id, folder.id, urlencode(params, safe="$,"))
        return Response.json(body)

    def _conflict_target(self, parent, name, behavior):
        """Apply @microsoft.graph.conflictBehavior; return (name, existing-to-replace)."""
        existing = self._child_named(parent.id, name)
        if existing is None:
            return name, None
        if behavior == "fail":
            raise GraphHTTPError(409, "nameAlreadyExists",
                                 "The specified item name already exists.")
        if behavior == "rename":
            return self._unique_name(parent.id, name), None
        return name, existing

    def _create_folder(self, request, parent):
        body = request.json() or {}
        name = body.get("name")
        if not name or any(c in name for c in '"*:<>?/\\|'):
            raise GraphHTTPError(400, "invalidRequest", "Invalid name")
        behavior = body.get("@microsoft.graph.conflictBehavior") or \
            request.query.get("@microsoft.graph.conflictBehavior") or "fail"
        if "folder" not in body:
            raise GraphHTTPError(400, "invalidRequest", "Either 'folder' or 'file' must be "
                                 "provided, but not both.")
        name, existing = self._conflict_target(parent, name, behavior)
        if existing is not None:
            if existing.is_folder:
                return Response.json(self._item_json(existing, self._link_base(request)), 200)
            self._delete(existing)
        self._check_path(self._drives[parent.drive_id], parent, name)
        it = self._new_item(parent.drive_id, name, parent.id, True)
        return Response.json(self._item_json(it, self._link_base(request)), 201)

    def _check_quota(self, drive, extra, replacing=None):
        used = self.used(drive.id) - (len(replacing.content) if replacing else 0)
        if used + extra > drive.quota_total:
            raise GraphHTTPError(507, "quotaLimitReached", "Insufficient Space Available")

    def _simple_upload(self, request, drive, parent, name, existing):
        data = request.body
        self.simple_upload_sizes.append(len(data))
        if self.simple_upload_limit is not None and len(data) > self.simple_upload_limit:
            raise GraphHTTPError(413, "requestTooLarge",
                                 "The request is too large for a simple upload.")
        behavior = request.query.get("@microsoft.graph.conflictBehavior", "replace")
        if existing is not None:
            self._check_if_match(request, existing)
            if behavior == "fail":
                raise GraphHTTPError(409, "nameAlreadyExists",
                                     "The specified item name already exists.")
            if behavior == "rename":
                name, existing = self._unique_name(parent.id, name), None
        self._check_quota(drive, len(data), existing)
        if existing is not None:
            self._set_content(existing, data)
            return Response.json(self._item_json(existing, self._link_base(request)), 200)
        self._check_path(drive, parent, name)
        it = self._new_item(drive.id, name, parent.id, False, data)
        return Response.json(self._item_json(it, self._link_base(request)), 201)

    def _download(self, request, it):
        if it.is_folder:
            raise GraphHTTPError(400, "invalidRequest", "Cannot download a folder")
        token = _b64url(secrets.token_bytes(24))
        self._downloads[token] = (it.id, bytes(it.content))
        return Response(302, b"", {"Location": "%s/_download/%s" % (self._self_base(request),
                                                                      token)})

    def _handle_download_url(self, request):
        token = request.path[len("/_download/"):]
        entry = self._downloads.get(token)
        if entry is None:
            return graph_error(404, "itemNotFound", "The download URL is no longer valid")
        data = entry[1]
        rng = request.header("range")
        if rng and rng.startswith("bytes="):
            start_s, _, end_s = rng[6:].partition("-")
            start = int(start_s or 0)
            end = min(int(end_s), len(data) - 1) if end_s else len(data) - 1
            return Response(206, data[start:end + 1], {
                "Content-Type": "application/octet-stream",
                "Content-Range": "bytes %d-%d/%d" % (start, end, len(data))})
        return Response(200, data, {"Content-Type": "application/octet-stream"})

    def _create_upload_session(self, request, drive, parent, name):
        body = request.json() or {}
        item = body.get("item") or {}
        behavior = item.get("@microsoft.graph.conflictBehavior") or \
            request.query.get("@microsoft.graph.conflictBehavior") or "replace"
        name = item.get("name") or name
        existing = self._child_named(parent.id, name)
        if existing is not None:
            self._check_if_match(request, existing)
            if existing.is_folder:
                raise GraphHTTPError(409, "nameAlreadyExists",
                                     "The specified item name already exists.")
            if behavior == "fail":
                raise GraphHTTPError(409, "nameAlreadyExists",
                                     "The specified item name already exists.")
        if existing is None:
            self._check_path(drive, parent, name)
        if item.get("fileSize") is not None:
            self._check_quota(drive, int(item["fileSize"]),
                              existing if behavior == "replace" else None)
        sid = _b64url(secrets.token_bytes(24))
        session = UploadSession(sid, drive.id, parent.id, name, behavior,
                                existing.id if existing else None)
        self._sessions[sid] = session
        return Response.json({
            "@odata.context": GRAPH_ROOT + "/$metadata#microsoft.graph.uploadSession",
            "uploadUrl": "%s/_upload/%s" % (self._self_base(request), sid),
            "expirationDateTime": _iso(session.expires), "nextExpectedRanges": ["0-"]})

    def _handle_upload_chunk(self, request):
        sid = request.path[len("/_upload/"):]
        session = self._sessions.get(sid)
        if session is None or session.expires < time.time():
            return graph_error(404, "itemNotFound", "The upload session was not found")
        if request.header("authorization"):
            return graph_error(401, "unauthenticated", "The uploadUrl is pre-authenticated: "
                               "the request must not carry an Authorization header")
        status_body = {"expirationDateTime": _iso(session.expires),
                       "nextExpectedRanges": ["%d-" % len(session.data)]}
        if request.method == "GET":
            return Response.json(status_body)
        if request.method == "DELETE":
            del self._sessions[sid]
            return Response(204)
        if request.method != "PUT":
            return graph_error(405, "invalidRequest", "Method not allowed")
        crange = request.header("content-range", "")
        try:
            unit, _, spec = crange.partition(" ")
            span, _, total = spec.partition("/")
            start_s, _, end_s = span.partition("-")
            start, end, total = int(start_s), int(end_s), int(total)
            assert unit == "bytes"
        except (ValueError, AssertionError):
            return graph_error(400, "invalidRequest", "Invalid Content-Range header: %r"
                               % crange)
        data = request.body
        size = end - start + 1
        if len(data) != size or end >= total or start > end:
            return graph_error(400, "invalidRequest", "The Content-Range header does not "
                               "match the request body length")
        if session.total is not None and total != session.total:
            return graph_error(400, "invalidRequest", "The total size changed")
        if start != len(session.data):
            return graph_error(416, "invalidRange", "The uploaded fragment overlaps with data "
                               "that has already been received or is not contiguous",
                               )
        last = end == total - 1
        if size >= MAX_CHUNK or (not last and size % CHUNK_UNIT):
            return graph_error(400, "invalidRequest", "The fragment size must be a multiple of "
                               "320 KiB and less than 60 MiB (except the last fragment)")
        session.total = total
        session.data.extend(data)
        session.chunk_sizes.append(size)
        self.upload_chunk_sizes.append(size)
        if not last:
            return Response.json({"expirationDateTime": _iso(session.expires),
                                  "nextExpectedRanges": ["%d-" % len(session.data)]}, 202)
        # commit
        del self._sessions[sid]
        drive = self._drives[session.drive_id]
        parent = self._items.get(session.parent_id)
        if parent is None or parent.deleted:
            return graph_error(404, "itemNotFound", "The parent folder no longer exists")
        content = bytes(session.data)
        existing = self._child_named(parent.id, session.name)
        name = session.name
        if existing is not None:
            if session.conflict == "fail" or existing.is_folder:
                return graph_error(409, "nameAlreadyExists",
                                   "The specified item name already exists.")
            if session.conflict == "rename":
                name, existing = self._unique_name(parent.id, name), None
        try:
            self._check_quota(drive, len(content), existing)
        except GraphHTTPError as exc:
            return exc.response
        base = self._link_base(request)
        if existing is not None:
            self._set_content(existing, content)
            return Response.json(self._item_json(existing, base), 200)
        it = self._new_item(drive.id, name, parent.id, False, content)
        return Response.json(self._item_json(it, base), 201)

    def _update(self, request, it):
        self._check_if_match(request, it)
        body = request.json() or {}
        if it.is_root:
            raise GraphHTTPError(400, "invalidRequest", "Cannot update the root")
        new_name = body.get("name", it.name)
        parent_ref = body.get("parentReference") or {}
        new_parent_id = parent_ref.get("id") or it.parent_id
        new_parent = self._items.get(new_parent_id)
        if "path" in parent_ref and not parent_ref.get("id"):
            path = parent_ref["path"].split(":", 1)[-1]
            new_parent = self._walk(self._items[self._drives[it.drive_id].root_id], path)
        if new_parent is None or new_parent.deleted or not new_parent.is_folder:
            raise GraphHTTPError(404, "itemNotFound", "The parent item does not exist")
        if new_parent.drive_id != it.drive_id:
            raise GraphHTTPError(400, "invalidRequest",
                                 "Moving items between drives is not supported")
        if it.is_folder and self._is_descendant(new_parent, it.id):
            raise GraphHTTPError(400, "invalidRequest",
                                 "Cannot move a folder into itself or its descendants")
        if (new_name, new_parent.id) != (it.name, it.parent_id):
            self._check_path(self._drives[it.drive_id], new_parent, new_name,
                             self._deepest_below(it))
        clash = self._child_named(new_parent.id, new_name)
        if clash is not None and clash is not it:
            behavior = request.query.get("@microsoft.graph.conflictBehavior") or \
                body.get("@microsoft.graph.conflictBehavior") or "fail"
            if behavior == "replace":
                self._delete(clash)
            elif behavior == "rename":
                new_name = self._unique_name(new_parent.id, new_name)
            else:
                raise GraphHTTPError(409, "nameAlreadyExists",
                                     "The specified item name already exists.")
        it.name = new_name
        self._set_parent(it, new_parent.id)
        self._modified(it)
        return Response.json(self._item_json(it, self._link_base(request)))

    def _delete_route(self, request, it):
        if it.is_root:
            raise GraphHTTPError(403, "accessDenied", "Cannot delete the root")
        self._check_if_match(request, it)
        self._delete(it)
        return Response(204)

    def _create_link(self, request, it):
        body = request.json() or {}
        link_type = body.get("type")
        scope = body.get("scope") or ("anonymous" if self.allow_anonymous_links
                                      else "organization")
        if link_type not in ("view", "edit", "embed"):
            raise GraphHTTPError(400, "invalidRequest", "Invalid link type")
        if scope not in ("anonymous", "organization", "users"):
            raise GraphHTTPError(400, "invalidRequest", "Invalid link scope")
        if scope == "anonymous" and not self.allow_anonymous_links:
            raise GraphHTTPError(403, "accessDenied", "Anonymous sharing links are disabled "
                                 "by the organization's policy")
        key = (link_type, scope)
        if key in it.links:
            return Response.json(it.links[key], 200)  # the link of that kind already there
        return Response.json(self._new_link(it, link_type, scope, {
            "id": self.client_id, "displayName": "Odoo"}), 201)

    def _new_link(self, it, link_type, scope, application):
        perm = {
            "id": _b64url(secrets.token_bytes(12)),
            "roles": ["write" if link_type == "edit" else "read"],
            "shareId": "u!" + _b64url(secrets.token_bytes(18)),
            "hasPassword": False,
            "link": {"type": link_type, "scope": scope,
                     "webUrl": "https://contoso-my.sharepoint.com/:%s:/g/personal/"
                     "test_user/%s" % ("f" if it.is_folder else "u",
                                       _b64url(secrets.token_bytes(18))),
                     "preventsDownload": False, "application": application}}
        it.links[(link_type, scope)] = perm
        return perm

    def _owner_permission(self, it):
        drive = self._drives[it.drive_id]
        owner = (drive.owner or {}).get("user") or {
            "displayName": self.user["displayName"], "id": self.user["id"],
            "email": self.user["mail"]}
        return {"id": "aTowIy5mfG1lbWJlcnNoaXB8" + owner["id"][:8], "roles": ["owner"],
                "shareId": "", "hasPassword": False,
                "grantedToV2": {"user": {"id": owner["id"],
                                         "displayName": owner.get("displayName")}},
                "grantedTo": {"user": {"id": owner["id"],
                                       "displayName": owner.get("displayName")}}}

    def _permissions_of(self, it):
        """The permissions of an item: the owner's, its own sharing links, then the links of
        its folders (``inheritedFrom``)."""
        out = [self._owner_permission(it)] + [dict(p) for p in it.links.values()]
        node = self._items.get(it.parent_id)
        while node is not None:
            for perm in node.links.values():
                out.append(dict(perm, inheritedFrom={
                    "driveId": node.drive_id, "id": node.id,
                    "path": "/drive/root:" + ("" if node.is_root else self._path_of(node))}))
            node = self._items.get(node.parent_id)
        return out

    def _list_permissions(self, request, it):
        return Response.json({
            "@odata.context": GRAPH_ROOT + "/$metadata#drives('%s')/items('%s')/permissions"
            % (it.drive_id, it.id), "value": self._permissions_of(it)})

    def _permission_route(self, request, it, perm_id):
        perm = next((p for p in self._permissions_of(it) if p["id"] == perm_id), None)
        if perm is None:
            raise GraphHTTPError(404, "itemNotFound", "The permission does not exist")
        if request.method == "GET":
            return Response.json(perm)
        if "inheritedFrom" in perm:
            raise GraphHTTPError(400, "invalidRequest", "Inherited permissions cannot be "
                                 "removed from the item: remove them where they are defined")
        if "owner" in perm.get("roles", ()):
            raise GraphHTTPError(403, "accessDenied", "The owner's permission cannot be "
                                 "removed")
        it.links = {k: v for k, v in it.links.items() if v["id"] != perm_id}
        return Response(204)

    # -- delta -----------------------------------------------------------------------------
    def _delta_token(self, drive, mode, value, snapshot=0, scope=None):
        raw = json.dumps([drive.id, mode, value, snapshot, self._delta_epoch,
                          scope]).encode()
        return _b64url(raw)

    def _preorder(self, drive, start=None):
        out = []

        def walk(node):
            out.append(node)
            for child in sorted(self._children(node.id), key=lambda i: i.name.lower()):
                if child.is_folder:
                    walk(child)
                else:
                    out.append(child)

        walk(start or self._items[drive.root_id])
        return out

    def _delta(self, request, drive, base):
        """The drive's changes; on a personal OneDrive also those below one folder
        (``/items/{id}/delta``): then an item moved out of it since the token comes
        as deleted. OneDrive for Business and SharePoint only track the whole drive."""
        if not base.is_root and drive.drive_type != "personal":
            raise GraphHTTPError(400, "invalidRequest", "Delta is only supported on the root")
        scope = None if base.is_root else base.id
        token = request.query.get("token")
        if scope is None:
            link_base = "%s/drives/%s/root/delta" % (self._link_base(request), drive.id)
        else:
            link_base = "%s/drives/%s/items/%s/delta" % (self._link_base(request), drive.id,
                                                         scope)
        # query options of the request ($top, $select) are kept in the links handed out, as
        # Graph keeps them in its tokens
        options = "".join("&%s=%s" % (key, quote(request.query[key], safe=","))
                          for key in ("$top", "$select") if key in request.query)
        if token == "latest":
            return Response.json({"value": [], "@odata.deltaLink": link_base + "?token=" +
                                  self._delta_token(drive, "s", self._last_seq,
                                                    scope=scope) + options})
        mode, value, snapshot = "i", 0, self._last_seq
        if token:
            try:
                drive_id, mode, value, snapshot, epoch, token_scope = json.loads(
                    base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
                assert drive_id == drive.id and mode in ("i", "s") and token_scope == scope
            except Exception:
                raise GraphHTTPError(400, "invalidRequest", "Invalid delta token")
            if epoch != self._delta_epoch:
                raise GraphHTTPError(410, "resyncRequired", "Resync required. Replace any "
                                     "local items with the server's version (including "
                                     "deletes) if you're sure that the service was up to "
                                     "date with your local changes when you last sync'd. "
                                     "Upload any local changes that the server doesn't "
                                     "know about.")
        top = int(request.query.get("$top") or self.delta_page_size)
        moved_out = set()
        if mode == "i":  # initial enumeration: parents before children, live items only
            items = self._preorder(drive, base)
            page = items[value:value + top]
            more = value + top < len(items)
            next_token = self._delta_token(drive, "i", value + top, snapshot, scope)
            final_token = self._delta_token(drive, "s", snapshot, scope=scope)
        else:  # changes after a sequence number, latest state, in change order
            items = sorted((i for i in self._items.values()
                            if i.drive_id == drive.id and i.seq > value),
                           key=lambda i: i.seq)
            if scope is not None:
                below = {i.id for i in items if self._is_descendant(i, scope)}
                moved_out = {i.id for i in items if i.id not in below and
                             self._was_below(i, scope, value)}
                items = [i for i in items if i.id in below or i.id in moved_out]
            page = items[:top]
            more = len(items) > top
            next_token = self._delta_token(drive, "s", page[-1].seq, scope=scope) \
                if more else None
            final_token = self._delta_token(drive, "s", self._last_seq, scope=scope)
        values = []
        for it in page:
            data = self._item_json(it, link_base, with_path=False)
            if it.id in moved_out:  # out of the tracked folder: gone, as far as it knows
                data["deleted"] = {}
                data.pop("webUrl", None)
            values.append(data)
        body = {"@odata.context": GRAPH_ROOT + "/$metadata#Collection(driveItem)",
                "value": values}
        if more:
            body["@odata.nextLink"] = link_base + "?token=" + next_token + options
        else:
            body["@odata.deltaLink"] = link_base + "?token=" + final_token + options
        return Response.json(body)


_MIME = {"txt": "text/plain", "pdf": "application/pdf", "png": "image/png",
         "jpg": "image/jpeg", "jpeg": "image/jpeg", "json": "application/json",
         "xml": "application/xml", "zip": "application/zip", "csv": "text/csv",
         "html": "text/html",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _mime_of(name):
    return _MIME.get(name.rpartition(".")[2].lower(), "application/octet-stream")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Microsoft Graph + identity platform emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="graph-client-id")
    parser.add_argument("--client-secret", default="graph-client-secret")
    args = parser.parse_args(argv)
    emu = GraphEmulator(args.host, args.port, client_id=args.client_id,
                        client_secret=args.client_secret)
    emu.start()
    print("graph emulator on %s (rewrite https://graph.microsoft.com -> %s%s, "
          "https://login.microsoftonline.com -> %s%s)" % (
              emu.base_url, emu.base_url, GRAPH_PREFIX, emu.base_url, LOGIN_PREFIX),
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    main()
