"""OneDrive / SharePoint storage adapter: Microsoft Graph over ``requests``, tokens from
``msal`` (plain Python, no ORM).

Graph addresses items by id, like the core, so nothing here maps paths to ids:

* one drive per adapter: the signed-in user's OneDrive (``/me/drive``, personal or business)
  or a SharePoint document library (``/drives/{id}``, chosen from the site's libraries);
* folders are created with ``conflictBehavior: fail``; a 409 adopts the folder already there;
  renames and moves are one ``PATCH``;
* uploads: one ``PUT`` up to ``chunk_threshold`` (4 MiB), above it an upload session whose
  chunks are multiples of 320 KiB (about 10 MiB), read from the stream one chunk at a time; a
  chunk that fails is resent from where the service says it stands; the session's
  ``uploadUrl`` is kept in the ``session_store`` (the client's is crash-safe) so that a later
  upload of the same file (same folder, name, size and content), in any process, continues it
  from the session's ``nextExpectedRanges``; a session the service no longer knows (404, 410)
  is started again; every upload is verified (size, quickXorHash, else SHA-256/SHA-1) before
  it is reported;
* downloads follow the 302 to the pre-authenticated URL without the token, streamed;
* the change feed is the root folder's delta on a personal OneDrive
  (``/drives/{d}/items/{root}/delta``), else the drive root's (``/drives/{d}/root/delta``:
  OneDrive for Business and SharePoint track whole drives only); the cursor is the delta (or
  next) link and nothing else. Delta items carry their parent's id but no path: whether an
  item is below the watched root is resolved through the delta page itself and the merge
  base (``base``); a folder that arrives from outside the root is listed once (its content
  is not re-emitted); ``410 Gone`` is :class:`ResetNeeded` (the core lists the tree once
  and logs it).

Paths: Graph limits an item's decoded server path (the drive's own included) to 400
characters; :attr:`GraphAdapter.max_path_length` is what the drive leaves, and the core cuts
names to fit it. Sharing links this application made are recorded (:meth:`share_link`,
:meth:`pop_created_link`) so that the provider can delete their permission
(:meth:`revoke_link`, R-SEC-5).

Throttling: 429, and 503/509 with ``Retry-After`` or a throttling code, are
:class:`RateLimited` (``retry_after`` from the header, None when Graph sent none: the queue
backs off by itself); listings ask for small pages and few properties (``$select``).
"""
from __future__ import annotations

import collections
import datetime
import logging
import threading
import time
from urllib.parse import quote, unquote, urlsplit


from odoo.addons.cloud_base.lib import http
from odoo.addons.cloud_base.lib.adapter import (
    FILE, FOLDER, AuthExpired, Change, ChangePage, CloudError, CloudItem, Conflict,
    InvalidRequest, NotFound, QuotaExceeded, RateLimited, ResetNeeded, StorageAdapter,
    Transient, is_plain_name,
)
from odoo.addons.cloud_base.lib.hashes import new_hasher
from odoo.addons.cloud_base.lib.streams import STREAM_CHUNK, as_stream, iter_response, read_exact
from odoo.addons.cloud_base.lib.upload_sessions import (
    MemoryUploadSessions, content_fingerprint, session_key,
)

from .names import GRAPH_MAX_NAME, GRAPH_MAX_PATH, check_graph_name

try:
    import msal
except ImportError:  # pragma: no cover - the manifest declares the dependency
    msal = None

_logger = logging.getLogger(__name__)

GRAPH = "https://graph.microsoft.com/v1.0"
AUTHORITY = "https://login.microsoftonline.com/common"
HOST_PREFIXES = {"graph.microsoft.com": "/graph", "login.microsoftonline.com": "/login"}
KiB = 1024
MiB = 1024 * KiB
#: upload session fragments must be multiples of this (except the last one)
CHUNK_UNIT = 320 * KiB
#: and smaller than 60 MiB
MAX_CHUNK = 60 * MiB - CHUNK_UNIT
#: delegated permissions asked for; msal adds openid/profile/offline_access by itself
ONEDRIVE_SCOPES = ("Files.ReadWrite.All", "User.Read")
SHAREPOINT_SCOPES = ("Files.ReadWrite.All", "Sites.ReadWrite.All", "User.Read")
#: the properties every item request asks for
SELECT = ("id,name,size,parentReference,file,folder,package,root,deleted,eTag,cTag,"
          "lastModifiedDateTime,webUrl")
CURSOR_PREFIX = "graph1:"
#: how long an upload session is kept when Graph gives no expirationDateTime (seconds)
SESSION_LIFETIME = 24 * 3600
#: Graph's alias of a drive's root folder (``/drives/{d}/items/root``)
ROOT_ALIAS = "root"
#: R-SEC-5: no sharing links / organization-only view links / anonymous view links
LINK_POLICIES = ("none", "organization", "anonymous")
#: Graph error codes that mean "throttled" whatever the status
THROTTLE_CODES = {"activityLimitReached", "throttledRequest", "TooManyRequests",
                  "serviceNotAvailable"}
#: msal errors that need a new consent
CONSENT_ERRORS = {"invalid_grant", "interaction_required", "invalid_client",
                  "unauthorized_client", "consent_required", "login_required"}


# ------------------------------------------------------------------------------------------
# Transport
# ------------------------------------------------------------------------------------------
def make_session(base_url=None, timeout=60):
    """The ``requests`` session of the adapter and of msal: production hosts, or (with an
    "API base URL") the loopback emulator."""
    return http.ProviderSession(timeout=timeout, base_url=base_url or None,
                                host_prefixes=HOST_PREFIXES if base_url else None)


def rewrite_url(url, base_url):
    return http.rewrite_url(url, base_url, HOST_PREFIXES)


def drive_path_of(web_url):
    """The decoded server-relative path of a drive's ``webUrl`` (what Graph's path limit
    counts before the item's own path)."""
    return unquote(urlsplit(web_url or "").path).rstrip("/")


class DiscoveryCache(dict):
    """msal's ``http_cache`` shared by the adapters of one process: it keeps the answers of
    the discovery GETs (the authority's OpenID configuration, valid a day) so that an adapter
    built for a task does not fetch them again; the throttled or refused token answers msal
    also caches stay with each adapter's own application (they are not kept here)."""

    INDEX = "_index_"  # where msal's expiring mapping keeps its bookkeeping

    def __setitem__(self, key, value):
        if isinstance(key, str) and (key.startswith("GET ") or key == self.INDEX):
            return super().__setitem__(key, value)
        return None

    def get(self, key, default=None):
        value = super().get(key, default)
        if key == self.INDEX and value is not None:
            # a copy: the applications of several threads (each with its own lock) never
            # change one bookkeeping in place; the last one written back wins (at worst a
            # discovery is fetched again)
            sequence, timestamps = value
            return list(sequence), dict(timestamps)
        return value


_DISCOVERY_CACHES = {}
_DISCOVERY_LOCK = threading.Lock()


def discovery_cache(base_url, authority):
    """The shared :class:`DiscoveryCache` of an authority (per emulator in tests)."""
    with _DISCOVERY_LOCK:
        return _DISCOVERY_CACHES.setdefault((base_url or "", authority), DiscoveryCache())


# ------------------------------------------------------------------------------------------
# Error translation
# ------------------------------------------------------------------------------------------
def _error_code(response):
    try:
        body = response.json()
    except ValueError:
        return None, ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    inner = error.get("innerError") or error.get("innererror") or {}
    # the most specific code (e.g. "nameAlreadyExists" under "conflict")
    while isinstance(inner, dict) and inner.get("code"):
        code = inner["code"]
        inner = inner.get("innerError") or inner.get("innererror") or {}
    return code, str(error.get("message") or "")[:300]


def translate_response(response, path=None):
    """The :class:`CloudError` of a Graph error answer (actionable messages, no secrets)."""
    status = response.status_code
    code, message = _error_code(response)
    label = code or str(status)
    retry_after = http.retry_after_of(response.headers)
    if status == 429 or status == 509 or (status == 503 and (
            retry_after is not None or code in THROTTLE_CODES)):
        return RateLimited("Microsoft Graph throttled the request (%s); the task waits %s"
                           % (label, "%ss" % retry_after if retry_after is not None
                              else "and retries later"),
                           code=label, path=path, retry_after=retry_after)
    if status == 401:
        return AuthExpired("Microsoft refused the access token: reconnect the client",
                           code=label, path=path)
    if status == 403:
        if code == "quotaLimitReached":
            return QuotaExceeded("The OneDrive/SharePoint storage is full", code=label,
                                 path=path)
        return InvalidRequest("Access denied by Microsoft Graph (%s): check that the app has "
                              "the delegated permissions Files.ReadWrite.All and "
                              "Sites.ReadWrite.All and that the account may write there"
                              % message or label, code=label, path=path)
    if status == 404:
        return NotFound("Item not found", code=label, path=path)
    if status == 409:
        return Conflict("An item with that name already exists", code=label, path=path)
    if status == 410:
        return ResetNeeded("The change feed must be read again from the start", code=label,
                           path=path)
    if status == 412:
        return Conflict("The item changed meanwhile", code=label, path=path)
    if status == 416:
        return Transient("The upload session is out of step", code=label, path=path)
    if status == 507 or code in ("quotaLimitReached", "insufficientStorage"):
        return QuotaExceeded("The OneDrive/SharePoint storage is full", code=label, path=path)
    if status >= 500:
        return Transient("Microsoft Graph is unavailable (%s)" % status, code=label,
                         path=path)
    return InvalidRequest("Microsoft Graph refused the request: %s" % (message or label),
                          code=label, path=path)


def translate_exception(exc, path=None):
    if isinstance(exc, CloudError):
        return exc
    transport = http.transport_error(exc, path, timeout="Microsoft Graph did not answer in time",
                                     connection="Connection to Microsoft Graph lost",
                                     other="Request to Microsoft Graph failed: %s")
    if transport is not None:
        return transport
    return Transient("Unexpected answer from Microsoft Graph: %s" % type(exc).__name__,
                     code="unexpected", path=path)


# ------------------------------------------------------------------------------------------
# The adapter
# ------------------------------------------------------------------------------------------
class GraphAdapter(StorageAdapter):
    """:class:`StorageAdapter` on one OneDrive drive or SharePoint document library.

    :param client_id, client_secret: the Entra ID application (confidential client)
    :param token_cache: msal's serialized token cache (what the consent produced)
    :param token_saver: called with the serialized cache each time msal changed it
        (refreshed or rotated tokens): the caller keeps it
    :param drive_id: the library (SharePoint); None: the signed-in user's drive
    :param sharepoint: the client is a SharePoint one (scopes; no drive without a library)
    :param link_policy: R-SEC-5: ``none`` (the item's webUrl, nothing shared),
        ``organization`` or ``anonymous`` view links
    :param base_url: the emulator the production hosts go to (tests, demo)
    :param session_store: where upload sessions are kept between attempts
        (``lib.upload_sessions``); None: in this process only
    """

    hash_kind = "quickxor"
    #: shared by the runner's transfer threads and Odoo's HTTP workers:
    #: requests session and msal's token cache; its own state behind a lock
    thread_safe = True
    max_name_length = GRAPH_MAX_NAME
    chunk_threshold = 4 * MiB
    chunk_size = 32 * CHUNK_UNIT  # 10 MiB

    def __init__(self, client_id, client_secret, token_cache=None, token_saver=None,
                 drive_id=None, sharepoint=False, link_policy="none", base_url=None,
                 page_size=200, chunk_threshold=None, chunk_size=None, timeout=60,
                 authority=AUTHORITY, chunk_retries=2, max_wait=10.0, session=None,
                 session_store=None, drive_path=None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_cache = token_cache
        self.token_saver = token_saver
        self.sharepoint = bool(sharepoint)
        self.scopes = list(SHAREPOINT_SCOPES if sharepoint else ONEDRIVE_SCOPES)
        self.link_policy = link_policy if link_policy in LINK_POLICIES else "none"
        self.base_url = base_url
        self.page_size = max(1, int(page_size))
        if chunk_threshold:
            self.chunk_threshold = int(chunk_threshold)
        if chunk_size:
            self.chunk_size = int(chunk_size)
        if self.chunk_size % CHUNK_UNIT or not 0 < self.chunk_size <= MAX_CHUNK:
            raise ValueError("Graph upload chunks are multiples of 320 KiB below 60 MiB")
        self.authority = authority
        self.chunk_retries = chunk_retries
        self.max_wait = max_wait
        self.session = session or make_session(base_url, timeout)
        self._drive_id = drive_id
        self._drive = None
        #: the drive's own server-relative path (what the provider kept from the last
        #: connection; else read from the drive)
        self._drive_path = drive_path
        self._top_id = None
        self._app = None
        self._cache = None
        self._token = None
        self._lock = threading.RLock()
        #: upload urls of sessions the service may still hold (see :func:`_session_key`)
        self.sessions = session_store if session_store is not None else \
            MemoryUploadSessions(SESSION_LIFETIME)
        #: item id -> webUrl, from every item seen (links without an extra request)
        self._web_urls = collections.OrderedDict()
        #: ids seen as folders (an item id never changes kind): an empty listing of one of
        #: them needs no request to tell it from a file
        self._folder_ids = collections.OrderedDict()
        #: R-SEC-5: item id -> (permission id, url) of the sharing links this application
        #: made, until the caller takes them (:meth:`pop_created_link`)
        self.created_links = {}

    # -- tokens ----------------------------------------------------------------------------
    def _msal_app(self):
        if self._app is None:
            if msal is None:
                raise InvalidRequest("The Python package msal is not installed",
                                     code="msal_missing")
            cache = msal.SerializableTokenCache()
            if self.token_cache:
                try:
                    cache.deserialize(self.token_cache)
                except ValueError as exc:
                    raise AuthExpired("The stored Microsoft token cache is unreadable: "
                                      "reconnect the client", code="token_cache") from exc
            try:
                # its constructor reads the authority's OpenID configuration: built lazily
                self._app = msal.ConfidentialClientApplication(
                    self.client_id, client_credential=self.client_secret,
                    authority=self.authority, token_cache=cache, http_client=self.session,
                    http_cache=discovery_cache(self.base_url, self.authority))
            except ValueError as exc:
                raise InvalidRequest("Microsoft refused the application settings: %s" % exc,
                                     code="msal_config") from exc
            except Exception as exc:  # noqa: BLE001 - network errors of the discovery
                raise translate_exception(exc) from exc
            self._cache = cache
        return self._app

    def _access_token(self, force=False):
        with self._lock:
            if self._token and not force:
                token, expires = self._token
                if expires > time.time() + 120:
                    return token
            app = self._msal_app()
            accounts = app.get_accounts()
            if not accounts:
                raise AuthExpired("No Microsoft account is authorized yet: press Connect",
                                  code="no_account")
            try:
                result = app.acquire_token_silent_with_error(
                    self.scopes, account=accounts[0], force_refresh=force)
            except Exception as exc:  # noqa: BLE001 - token endpoint unreachable
                raise translate_exception(exc, path="token") from exc
            self._persist_cache()
            if not result:
                raise AuthExpired("The Microsoft authorization expired: reconnect the client",
                                  code="no_token")
            if "error" in result:
                error = result.get("error")
                description = (result.get("error_description") or "").split(" Trace ID")[0]
                if error in CONSENT_ERRORS:
                    raise AuthExpired("Microsoft refused to refresh the authorization (%s): "
                                      "reconnect the client" % description[:200],
                                      code=error)
                raise Transient("Microsoft could not refresh the token (%s)" % error,
                                code=error or "token")
            self._token = (result["access_token"],
                           time.time() + float(result.get("expires_in") or 300))
            return self._token[0]

    def _persist_cache(self):
        cache = self._cache
        if cache is not None and cache.has_state_changed:
            serialized = cache.serialize()
            cache.has_state_changed = False
            self.token_cache = serialized
            if self.token_saver is not None:
                try:
                    self.token_saver(serialized)
                except Exception:  # noqa: BLE001 - never fail a sync for the token cache
                    _logger.exception("Could not keep the refreshed Microsoft token cache")

    # -- requests --------------------------------------------------------------------------
    def _send(self, method, url, path=None, auth=True, **kwargs):
        """One request; on 401 the token is refreshed once and the request sent again."""
        for attempt in (0, 1):
            headers = dict(kwargs.pop("headers", None) or {})
            if auth:
                headers["Authorization"] = "Bearer " + self._access_token(force=attempt == 1)
            try:
                response = self.session.request(method, url, headers=headers, **kwargs)
            except Exception as exc:  # noqa: BLE001 - only CloudError leaves the adapter
                raise translate_exception(exc, path) from exc
            if response.status_code == 401 and auth and attempt == 0:
                response.close()
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            return response
        return response

    def _call(self, method, url, path=None, ok=(200, 201, 202, 204), **kwargs):
        response = self._send(method, url, path=path, **kwargs)
        if response.status_code not in ok:
            raise translate_response(response, path)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise Transient("Unreadable answer from Microsoft Graph", code="bad_json",
                            path=path) from exc

    def _graph_link(self, link, what):
        """A link Graph handed out (next/delta link) or read back from the database: only
        Graph's own address gets the token."""
        if not isinstance(link, str) or not link.startswith(GRAPH + "/"):
            raise InvalidRequest("Malformed %s" % what, code="bad_link")
        return link

    # -- drive -----------------------------------------------------------------------------
    @property
    def drive_url(self):
        if self._drive_id is None:
            if self.sharepoint:
                raise InvalidRequest("No SharePoint document library is chosen",
                                     code="no_library")
            self._load_drive()
        return "%s/drives/%s" % (GRAPH, quote(self._drive_id, safe="!"))

    def _load_drive(self):
        if self._drive_id is None:
            drive = self._call("GET", GRAPH + "/me/drive", path="/me/drive")
        else:
            drive = self._call("GET", "%s/drives/%s" % (GRAPH, quote(self._drive_id, safe="!")),
                               path=self._drive_id)
        self._drive = drive
        self._drive_id = drive["id"]
        return drive

    @property
    def max_path_length(self):
        """Graph limits the decoded server-relative path of an item to 400 characters, the
        drive's own path included (``/personal/<user>/Documents``, ``/sites/<site>/<library>``):
        what is left for the path below the drive's root."""
        if self._drive_path is None:
            drive = self._drive or self._load_drive()
            self._drive_path = drive_path_of(drive.get("webUrl"))
        return GRAPH_MAX_PATH - len(self._drive_path)

    def _item_url(self, item_id):
        return "%s/items/%s" % (self.drive_url, quote(item_id, safe="!"))

    def _child_url(self, parent_id, name):
        return "%s:/%s:" % (self._item_url(parent_id), quote(name, safe=""))

    @property
    def top_id(self):
        """The id of the drive's root folder."""
        if self._top_id is None:
            self._top_id = self._call("GET", self.drive_url + "/root",
                                      params={"$select": "id"}, path="/")["id"]
        return self._top_id

    # -- items -----------------------------------------------------------------------------
    def _item(self, data, parent_id=None):
        """CloudItem of a driveItem."""
        ref = data.get("parentReference") or {}
        if parent_id is None:
            parent_id = ref.get("id")
        web_url = data.get("webUrl")
        if web_url:
            with self._lock:
                self._web_urls[data["id"]] = web_url
                self._web_urls.move_to_end(data["id"])
                while len(self._web_urls) > 5000:
                    self._web_urls.popitem(last=False)
        path = None
        if ref.get("path") and data.get("name"):
            parent_path = ref["path"].split(":", 1)[-1]
            path = parent_path.rstrip("/") + "/" + data["name"]
        if "folder" in data or "root" in data:
            with self._lock:
                self._folder_ids[data["id"]] = True
                self._folder_ids.move_to_end(data["id"])
                while len(self._folder_ids) > 5000:
                    self._folder_ids.popitem(last=False)
            return CloudItem(data["id"], data.get("name", ""), FOLDER, parent_id,
                             etag=data.get("eTag"), modified=data.get("lastModifiedDateTime"),
                             path=path)
        file = data.get("file") or {}
        hashes = file.get("hashes") or {}
        return CloudItem(data["id"], data.get("name", ""), FILE, parent_id,
                         size=int(data.get("size") or 0), hash=hashes.get("quickXorHash"),
                         etag=data.get("cTag") or data.get("eTag"),
                         modified=data.get("lastModifiedDateTime"),
                         mimetype=file.get("mimeType"), path=path)

    @staticmethod
    def _real_id(parent_id):
        """The parent id an item gets (None: read from its parentReference)."""
        return None if parent_id == ROOT_ALIAS else parent_id

    def _get(self, item_id):
        return self._call("GET", self._item_url(item_id), params={"$select": SELECT},
                          path=item_id)

    def _check_name(self, name):
        check_graph_name(name, path=name if isinstance(name, str) and name else "(empty)")

    # -- account ---------------------------------------------------------------------------
    def check_connection(self):
        me = self._call("GET", GRAPH + "/me", path="/me",
                        params={"$select": "id,displayName,userPrincipalName,mail"})
        drive = self._load_drive()
        quota = drive.get("quota") or {}
        login = me.get("userPrincipalName") or me.get("mail") or me.get("id")
        return {"account": "%s <%s>" % (me.get("displayName") or login, login),
                "account_id": drive["id"], "user_id": me.get("id"), "login": login,
                "drive_type": drive.get("driveType"), "drive_name": drive.get("name"),
                "web_url": drive.get("webUrl"), "quota_used": quota.get("used"),
                "quota_total": quota.get("total")}

    def me_drive_type(self):
        """driveType of the signed-in user's own drive ("personal" for a Microsoft account)."""
        return self._call("GET", GRAPH + "/me/drive", path="/me/drive",
                          params={"$select": "id,driveType"}).get("driveType")

    def find_site(self, hostname, site_path):
        """The SharePoint site at ``https://<hostname>/<site_path>`` (``{"id", "displayName",
        "webUrl"}``); NotFound when there is none."""
        path = "/" + site_path.strip("/") if site_path.strip("/") else ""
        if path:
            url = "%s/sites/%s:%s" % (GRAPH, quote(hostname), quote(path))
        else:
            url = "%s/sites/%s" % (GRAPH, quote(hostname))
        return self._call("GET", url, path=hostname + path,
                          params={"$select": "id,displayName,webUrl,name"})

    def site_libraries(self, site_id):
        """The document libraries of a site: ``[{"id", "name", "webUrl", "driveType"}]``."""
        url = "%s/sites/%s/drives" % (GRAPH, quote(site_id, safe=","))
        out, params = [], {"$select": "id,name,webUrl,driveType"}
        while url:
            body = self._call("GET", url, path=site_id, params=params)
            out += [d for d in body.get("value", [])
                    if d.get("driveType", "documentLibrary") == "documentLibrary"]
            url, params = body.get("@odata.nextLink"), None
            if url:
                self._graph_link(url, "page link")
        return out

    def ensure_root(self, name):
        self._check_name(name)
        # the drive's root by its alias: its id is not needed (one request less)
        existing = self.find_child(ROOT_ALIAS, name)
        if existing is None:
            return self.create_folder(ROOT_ALIAS, name)
        if not existing.is_folder:
            raise Conflict("A file is in the way of the root folder", existing_id=existing.id,
                           code="nameAlreadyExists", path=name)
        return existing

    def get_item(self, item_id):
        return self._item(self._get(item_id))

    def find_child(self, parent_id, name):
        if not is_plain_name(name):
            return None
        try:
            data = self._call("GET", self._child_url(parent_id, name),
                              params={"$select": SELECT}, path=name)
        except NotFound:
            if parent_id != ROOT_ALIAS:  # the drive's root is always there
                self._get(parent_id)  # NotFound when the folder itself is gone
            return None
        return self._item(data, self._real_id(parent_id))

    def list_children(self, parent_id, page_token=None):
        if page_token:
            url, params = self._graph_link(page_token, "page token"), None
        else:
            url = self._item_url(parent_id) + "/children"
            params = {"$top": self.page_size, "$select": SELECT}
        body = self._call("GET", url, params=params, path=parent_id)
        if not page_token and not body.get("value") and "@odata.nextLink" not in body \
                and parent_id not in self._folder_ids:
            # Graph lists a file's children as empty: tell a file from an empty folder
            if not self.get_item(parent_id).is_folder:
                raise InvalidRequest("Not a folder", code="notFolder", path=parent_id)
        items = [self._item(d, parent_id) for d in body.get("value", [])
                 if "deleted" not in d]
        return items, body.get("@odata.nextLink") or None

    def create_folder(self, parent_id, name):
        self._check_name(name)
        body = {"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
        try:
            data = self._call("POST", self._item_url(parent_id) + "/children", json=body,
                              path=name)
        except Conflict as exc:
            existing = self.find_child(parent_id, name)
            if existing is None:
                raise
            if existing.is_folder:
                return existing  # retry-safe: the folder is there (adopted)
            raise Conflict("A file with that name exists", existing_id=existing.id,
                           code=exc.code, path=name) from exc
        return self._item(data, self._real_id(parent_id))

    def _patch(self, item_id, body, name=None):
        try:
            data = self._call("PATCH", self._item_url(item_id), json=body,
                              path=name or item_id)
        except Conflict as exc:
            current = self.get_item(item_id)
            parent = (body.get("parentReference") or {}).get("id") or current.parent_id
            name = name or current.name
            existing = self.find_child(parent, name)
            raise Conflict("An item with that name exists", code=exc.code, path=name,
                           existing_id=existing.id if existing else None) from exc
        return self._item(data)

    def rename(self, item_id, new_name):
        self._check_name(new_name)
        return self._patch(item_id, {"name": new_name}, new_name)

    def move(self, item_id, new_parent_id, new_name=None):
        if new_name is not None:
            self._check_name(new_name)
        if new_parent_id == item_id:
            raise InvalidRequest("Cannot move a folder into itself", code="invalidRequest",
                                 path=item_id)
        target = self.get_item(new_parent_id)
        if not target.is_folder:
            raise InvalidRequest("Cannot move into a file", code="notFolder",
                                 path=target.name)
        body = {"parentReference": {"id": new_parent_id}}
        if new_name is not None:
            body["name"] = new_name
        return self._patch(item_id, body, new_name)

    def delete(self, item_id):
        self._call("DELETE", self._item_url(item_id), path=item_id)

    # -- uploads ---------------------------------------------------------------------------
    def upload(self, parent_id, name, stream, size):
        self._check_name(name)
        stream = as_stream(stream)
        if size <= self.chunk_threshold:
            data = b"".join(read_exact(stream, size, STREAM_CHUNK, path=name))
            hashers = self._hashers()
            for hasher in hashers.values():
                hasher.update(data)
            try:
                result = self._call(
                    "PUT", self._child_url(parent_id, name) + "/content", data=data,
                    params={"@microsoft.graph.conflictBehavior": "fail"},
                    headers={"Content-Type": "application/octet-stream"}, path=name)
            except Conflict as exc:
                raise self._name_taken(parent_id, name, exc) from exc
        else:
            result, hashers = self._upload_session(parent_id, name, stream, size)
        self._verify(result, size, hashers, name)
        return self._item(result, parent_id)

    @staticmethod
    def _hashers():
        return {kind: new_hasher(kind) for kind in ("quickxor", "sha1", "sha256")}

    def _name_taken(self, parent_id, name, exc):
        existing = self.find_child(parent_id, name)
        return Conflict("An item with that name exists", code=exc.code or "nameAlreadyExists",
                        path=name, existing_id=existing.id if existing else None)

    def _verify(self, result, size, hashers, name):
        """R-DIR-2: the service's copy has the local size and hash, or it is removed."""
        hashes = (result.get("file") or {}).get("hashes") or {}
        checks = [("quickXorHash", "quickxor", str), ("sha256Hash", "sha256", str.upper),
                  ("sha1Hash", "sha1", str.upper)]
        mismatch = int(result.get("size") or 0) != size
        for key, kind, norm in checks:
            if not mismatch and hashes.get(key):
                local = hashers[kind].hexdigest()
                mismatch = norm(hashes[key]) != norm(local)
                break
        if mismatch:
            try:
                self.delete(result["id"])
            except CloudError:
                _logger.warning("Could not remove the mismatching upload %s", name)
            raise Transient("The uploaded copy does not match the local file",
                            code="hash_mismatch", path=name)

    def _upload_session(self, parent_id, name, stream, size):
        key = self._session_key(parent_id, name, stream, size)
        hashers = self._hashers()
        upload_url, offset = self._resume(key, stream, size, hashers, name)
        if upload_url is None:
            body = {"item": {"@microsoft.graph.conflictBehavior": "fail", "name": name,
                             "fileSize": size}}
            try:
                session = self._call("POST", self._child_url(parent_id, name)
                                     + "/createUploadSession", json=body, path=name)
            except Conflict as exc:
                raise self._name_taken(parent_id, name, exc) from exc
            upload_url, offset = session["uploadUrl"], 0
            if key:
                self.sessions.put(key, upload_url, size=size,
                                  expires_at=_timestamp(session.get("expirationDateTime")))
        remaining = size - offset
        result = None
        for piece in read_exact(stream, remaining, self.chunk_size, path=name):
            for hasher in hashers.values():
                hasher.update(piece)
            result = self._send_chunk(upload_url, piece, offset, size, name)
            offset += len(piece)
        if key:
            self.sessions.drop(key)
        if not result or "id" not in result:
            raise Transient("The upload session ended without the file", code="no_item",
                            path=name)
        return result, hashers

    @staticmethod
    def _session_key(parent_id, name, stream, size):
        """The key of this upload's session: folder, name, size and a digest of the content,
        so another file of the same name and size never continues it; None when the stream
        cannot seek (nothing to resume from)."""
        fingerprint = content_fingerprint(stream, size)
        if fingerprint is None:
            return None
        return session_key("graph", parent_id, name, size, fingerprint)

    def _resume(self, key, stream, size, hashers, name):
        """``(upload url, offset)`` of a session of an earlier attempt the service still
        holds, the stream advanced (and hashed) to that offset; ``(None, 0)`` otherwise."""
        upload_url = self.sessions.get(key) if key else None
        if upload_url is None:
            return None, 0
        status = self._session_status(upload_url, name)
        if status is None or status[0] > size:
            self.sessions.drop(key)  # gone (expired, finished or cancelled): start again
            return None, 0
        offset, expires = status
        try:
            start = stream.tell()
        except (OSError, ValueError):
            return None, 0
        done = 0
        for piece in read_exact(_Prefix(stream, offset), offset, STREAM_CHUNK, path=name):
            for hasher in hashers.values():
                hasher.update(piece)
            done += len(piece)
        if done != offset:
            stream.seek(start)
            return None, 0
        if expires:  # each fragment the service received pushed the expiry back
            self.sessions.put(key, upload_url, expires_at=expires, size=size)
        _logger.info("Resuming the upload of %s at byte %d", name, offset)
        return upload_url, offset

    def _session_status(self, upload_url, name):
        """``(next expected byte, expiry as POSIX time or None)`` of an upload session, or
        None when the service no longer has it; a service that cannot tell just now raises
        (the task retries later, the session kept)."""
        response = self._send("GET", upload_url, path=name, auth=False)
        if response.status_code == 429 or response.status_code >= 500:
            raise translate_response(response, name)
        if response.status_code != 200:
            return None  # 404/410: expired, finished or cancelled
        try:
            status = response.json() or {}
        except ValueError:
            return None
        offset = _range_start(status.get("nextExpectedRanges"))
        if offset is None:
            return None
        return offset, _timestamp(status.get("expirationDateTime"))

    def _next_expected(self, upload_url, name, unknown=None):
        """Where the service stands in an upload session; None when it is gone, ``unknown``
        when the service could not tell just now."""
        try:
            status = self._session_status(upload_url, name)
        except CloudError:
            return unknown
        return status[0] if status else None

    def _send_chunk(self, upload_url, piece, offset, size, name):
        """PUT one fragment (no Authorization header: the URL is pre-authenticated); a
        throttled or failed fragment is resent from where the service says it stands."""
        attempts = 0
        while True:
            end = offset + len(piece) - 1
            headers = {"Content-Range": "bytes %d-%d/%d" % (offset, end, size),
                       "Content-Length": str(len(piece))}
            try:
                response = self._send("PUT", upload_url, path=name, auth=False, data=piece,
                                      headers=headers)
                if response.status_code in (200, 201, 202):
                    return response.json() if response.content else {}
                error = translate_response(response, name)
                if response.status_code == 409:
                    raise error
            except (Transient, RateLimited) as exc:
                error = exc
            if response_is_final(error) or attempts >= self.chunk_retries:
                raise error
            attempts += 1
            wait = error.retry_after if error.retry_after is not None else attempts
            if wait > self.max_wait:
                raise error  # the task backs off; the session is resumed by the retry
            time.sleep(wait)
            stands = self._next_expected(upload_url, name, unknown=offset)
            if stands is None:
                raise Transient("The upload session was lost", code="session_lost",
                                path=name)
            if stands > end:
                return {}  # the service had it after all
            if stands < offset:
                raise Transient("The upload session lost data", code="session_behind",
                                path=name)
            piece, offset = piece[stands - offset:], stands

    # -- downloads -------------------------------------------------------------------------
    def download(self, item_id):
        response = self._send("GET", self._item_url(item_id) + "/content", path=item_id,
                              allow_redirects=False, stream=True)
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            response.close()
            # pre-authenticated: the token is never sent there
            response = self._send("GET", location, path=item_id, auth=False, stream=True)
        if response.status_code != 200:
            error = translate_response(response, item_id)
            response.close()
            raise error
        return iter_response(response, STREAM_CHUNK,
                             translate=lambda exc: translate_exception(exc, item_id))

    # -- change feed -----------------------------------------------------------------------
    def _decode_cursor(self, cursor):
        if not isinstance(cursor, str) or not cursor.startswith(CURSOR_PREFIX):
            raise InvalidRequest("Malformed change cursor", code="bad_cursor")
        link = cursor[len(CURSOR_PREFIX):]
        try:
            self._graph_link(link, "change cursor")
        except InvalidRequest:
            raise InvalidRequest("Malformed change cursor", code="bad_cursor") from None
        if "/drives/%s/" % quote(self._drive_id or self._load_drive()["id"], safe="!") \
                not in urlsplit(link).path.replace("/v1.0", ""):
            raise ResetNeeded("The change cursor belongs to another drive", code="other_drive")
        return link

    def folder_delta(self):
        """Can the feed follow the watched folder alone? A personal OneDrive answers delta
        on any folder; OneDrive for Business and SharePoint only on the drive's root (then
        the feed reads the changes of the whole drive and keeps those below the folder)."""
        if self.sharepoint:
            return False
        drive = self._drive or self._load_drive()
        return drive.get("driveType") == "personal"

    def _delta_url(self, root_id):
        if self.folder_delta():
            return self._item_url(root_id) + "/delta"
        return self.drive_url + "/root/delta"

    def latest_cursor(self, root_id, base=None):
        body = self._call("GET", self._delta_url(root_id),
                          params={"token": "latest", "$top": self.page_size,
                                  "$select": SELECT}, path=root_id)
        link = body.get("@odata.deltaLink")
        if not link:
            raise Transient("Graph gave no delta link", code="no_delta_link", path=root_id)
        return CURSOR_PREFIX + self._graph_link(link, "delta link")

    def changes(self, root_id, cursor, base=None):
        link = self._decode_cursor(cursor)
        try:
            body = self._call("GET", link, path=root_id)
        except NotFound:
            if "/root/delta" in urlsplit(link).path:
                raise
            return self._folder_feed_lost(root_id, base)
        entries = body.get("value") or []
        next_link = body.get("@odata.nextLink")
        new_link = next_link or body.get("@odata.deltaLink")
        if not new_link:
            raise Transient("Graph gave neither a next nor a delta link", code="no_delta_link",
                            path=root_id)
        resolver = _Ancestry(root_id, base, entries)
        out = collections.OrderedDict()

        def put(change):
            out.pop(change.id, None)
            out[change.id] = change

        for data in entries:
            item_id = data.get("id")
            if not item_id:
                continue
            if "deleted" in data or not resolver.inside(item_id):
                if resolver.was_known_inside(item_id):
                    for gone in resolver.gone_with(item_id):
                        put(Change(gone, deleted=True))
                continue
            item = self._item(data)
            put(Change(item_id, item=item))
            if item.is_folder and item_id != root_id and resolver.arrived(item_id) and \
                    ((data.get("folder") or {}).get("childCount") or 0):
                # a folder moved in from outside the root: Graph does not emit its content
                for child in self._walk(item_id):
                    if child.id not in out:
                        put(Change(child.id, item=child))
        self._graph_link(new_link, "delta link")
        return ChangePage(list(out.values()), CURSOR_PREFIX + new_link,
                          has_more=bool(next_link))

    def _folder_feed_lost(self, root_id, base):
        """The watched folder of a folder delta is gone (404): it and what the base knows
        below it are deleted; the feed goes on from the drive's root (a root made again has
        another id)."""
        try:
            self.get_item(root_id)
        except NotFound:
            resolver = _Ancestry(root_id, base, [])
            link = self._call("GET", self.drive_url + "/root/delta",
                              params={"token": "latest", "$top": self.page_size,
                                      "$select": SELECT}, path=root_id).get("@odata.deltaLink")
            if not link:
                raise Transient("Graph gave no delta link", code="no_delta_link",
                                path=root_id) from None
            return ChangePage([Change(i, deleted=True) for i in resolver.gone_with(root_id)],
                              CURSOR_PREFIX + self._graph_link(link, "delta link"))
        raise Transient("The change feed of the folder is not available just now",
                        code="itemNotFound", path=root_id)

    def _walk(self, folder_id):
        todo = collections.deque([folder_id])
        while todo:
            for child in self.iter_children(todo.popleft()):
                yield child
                if child.is_folder:
                    todo.append(child.id)

    # -- links -----------------------------------------------------------------------------
    def web_url(self, item):
        """The item's page in OneDrive/SharePoint (``webUrl``): Office documents open in
        Office for the web, folders in the library's view; sharing links are
        :meth:`share_link`'s business."""
        with self._lock:
            url = self._web_urls.get(item.id)
        return url or self._get(item.id)["webUrl"]

    def share_link(self, item_id):
        if self.link_policy == "none":
            return self._get(item_id)["webUrl"]
        try:
            response = self._send("POST", self._item_url(item_id) + "/createLink",
                                  json={"type": "view", "scope": self.link_policy},
                                  path=item_id)
            if response.status_code not in (200, 201):
                raise translate_response(response, item_id)
            data = response.json()
        except ValueError as exc:
            raise Transient("Unreadable answer from Microsoft Graph", code="bad_json",
                            path=item_id) from exc
        except InvalidRequest as exc:
            if self.link_policy == "organization" and exc.code in ("invalidRequest",
                                                                   "notSupported"):
                raise InvalidRequest("Organization-only links need a work or school account "
                                     "(OneDrive for Business or SharePoint): choose another "
                                     "link policy", code=exc.code, path=item_id) from exc
            raise
        url = data["link"]["webUrl"]
        # 201: a new link; 200: the link already there, ours when this application made it
        # (an earlier attempt whose record was lost)
        made_by = ((data["link"].get("application") or {}).get("id"))
        if response.status_code == 201 or made_by == self.client_id:
            with self._lock:
                self.created_links[item_id] = (data["id"], url)
        return url

    def pop_created_link(self, item_id, url=None):
        """``(permission id, url)`` of the link this adapter made for ``item_id`` (then
        forgotten), or None."""
        with self._lock:
            created = self.created_links.get(item_id)
            if created is not None and (url is None or url == created[1]):
                return self.created_links.pop(item_id)
        return None

    def revoke_link(self, link_id, item_id):
        """Delete the sharing link's permission ``link_id`` of ``item_id``; True when deleted
        or already gone (with its item, or by hand)."""
        try:
            self._call("DELETE", "%s/permissions/%s" % (self._item_url(item_id),
                                                        quote(link_id, safe="")),
                       path=item_id)
        except NotFound:
            return True
        return True


def _range_start(ranges):
    """The first byte of the first of ``nextExpectedRanges`` (``["12345-"]``), or None."""
    if not ranges:
        return None
    try:
        return int(str(ranges[0]).split("-")[0])
    except ValueError:
        return None


def _timestamp(value):
    """POSIX time of an ISO 8601 ``expirationDateTime``, or None."""
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def response_is_final(error):
    """Errors a resent fragment cannot fix."""
    return not isinstance(error, (Transient, RateLimited))


class _Prefix:
    """The first ``size`` bytes of a stream (to hash what a resumed session already has)."""

    def __init__(self, stream, size):
        self.stream, self.left = stream, size

    def read(self, n=-1):  # pylint: disable=method-required-super
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.stream.read(n)
        self.left -= len(data)
        return data


class _Ancestry:
    """Is an item of one delta page below the watched root? Resolved through the page itself
    (the latest state wins) and the merge base, never by asking Graph for parents."""

    def __init__(self, root_id, base, entries):
        self.root_id, self.base = root_id, base
        self.page = {}
        for data in entries:
            if data.get("id"):
                parent = (data.get("parentReference") or {}).get("id")
                self.page[data["id"]] = (parent, "deleted" in data)
        self._inside = {root_id: True}
        self._known = {}

    def _known_entry(self, item_id):
        if self.base is None:
            return None
        if item_id not in self._known:
            self._known[item_id] = self.base.get(item_id)
        return self._known[item_id]

    def inside(self, item_id):
        chain, node, result = [], item_id, False
        while True:
            if node in self._inside:
                result = self._inside[node]
                break
            if node in chain:  # a cycle while the tree moves: not ours
                break
            chain.append(node)
            if node in self.page:
                parent, deleted = self.page[node]
                if deleted:
                    break
            else:
                entry = self._known_entry(node)
                if entry is None:
                    break
                parent = entry.parent_id
            if not parent:
                break
            node = parent
        for seen in chain:
            self._inside[seen] = result
        return result

    def was_known_inside(self, item_id):
        """Did the base know ``item_id`` below the root (its last known state)?"""
        if item_id == self.root_id:
            return True
        node, seen = item_id, set()
        while node and node not in seen:
            if node == self.root_id:
                return True
            seen.add(node)
            entry = self._known_entry(node)
            if entry is None:
                return False
            node = entry.parent_id
        return False

    def gone_with(self, item_id):
        """``item_id`` and what the base knows below it, except what the page shows alive
        below the root."""
        gone = [item_id]
        if self.base is not None:
            gone += [e.id for e in self.base.descendants(item_id)]
        return [i for i in gone if i == item_id or not (i in self.page and self.inside(i))]

    def arrived(self, item_id):
        """A folder the base did not know below the root (new, or moved in)."""
        return not self.was_known_inside(item_id)
