"""Google Drive storage adapter (Drive API v3), on ``google-api-python-client`` and
``google-auth`` (plain Python, no ORM).

Drive addresses items by id already: a file keeps its id across renames and moves. What makes
Drive different from the other providers:

* **Several items may carry the same name in one folder.** Every create and upload looks the
  name up first (an escaped ``q``); a retry after an ambiguous failure finds its own earlier
  item instead of making a second one. Items people made with the same name are all listed;
  :meth:`find_child` gives the oldest of them.
* **Every call says ``supportsAllDrives=True``** and names its ``fields`` (Drive's default is
  only ``kind,id,name,mimeType``). On a shared drive, listings add ``corpora=drive``,
  ``driveId`` and ``includeItemsFromAllDrives=True``.
* **Deletion moves to the trash** (recoverable by a person for 30 days); a trashed item counts
  as gone everywhere in this adapter.
* **Uploads**: multipart up to ``chunk_threshold`` (5 MiB), else a resumable session sent in
  chunks of ``chunk_size`` (a multiple of 256 KiB, 8 MiB by default), read from the stream one
  chunk at a time. A chunk that fails is resumed from the offset the session reports; the
  session URI is kept in the ``session_store`` (the client's is crash-safe) so that a later
  upload of the same file (folder, name, size and content), in any process, asks the session
  where it stands (``Content-Range: bytes */size``) and sends only the rest; a session Drive
  no longer knows (404, 410: they last about a week) is started again. The result is verified
  (size and ``md5Checksum``) before it is returned.
* **Google-native documents** (Docs, Sheets, Slides, Drawings) have no bytes:
  :meth:`download` exports them (:data:`EXPORT_FORMATS`); those without an export (Forms,
  Sites, ...) raise :class:`NotExportable`.
* **Change feed**: ``changes.list`` from a page token (the cursor holds only that token).
  Changes arrive for the whole drive: only those under the watched root are kept, ancestry
  resolved through the page itself and the merge base (never one request per change);
  ``removed`` and ``trashed`` are deletions; an item moved out of the root is a deletion; a
  folder moved *into* the root is listed once (Drive does not report its descendants).
* **Rate limits**: 429 and 403 ``userRateLimitExceeded``/``rateLimitExceeded`` are retried a
  few times with exponential back-off and jitter (Drive sends no Retry-After), then raised as
  :class:`RateLimited` with the next delay for the queue.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import logging
import mimetypes
import random
import socket
import threading
import time
from urllib.parse import urlencode

from odoo.addons.cloud_base.lib import http as cloud_http
from odoo.addons.cloud_base.lib.adapter import (
    FILE, FOLDER, AuthExpired, Change, ChangePage, CloudError, CloudItem, Conflict,
    InvalidRequest, NotFound, QuotaExceeded, RateLimited, ResetNeeded, StorageAdapter,
    Transient, check_item_name, is_plain_name,
)
from odoo.addons.cloud_base.lib.merge_base import BaseEntry
from odoo.addons.cloud_base.lib.streams import read_exact
from odoo.addons.cloud_base.lib.upload_sessions import (
    MemoryUploadSessions, content_fingerprint, session_key,
)

try:
    import google.auth.exceptions as gauth_exc
    import google_auth_httplib2
    import httplib2
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError
    from googleapiclient.http import MediaIoBaseDownload, MediaIoBaseUpload
except ImportError:  # pragma: no cover - the manifest declares the dependencies
    build = None

_logger = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/drive"
TOKEN_URI = "https://oauth2.googleapis.com/token"
UPLOAD_URL = "https://www.googleapis.com/upload/drive/v3/files"
HOST_PREFIXES = {"www.googleapis.com": "/www", "oauth2.googleapis.com": "/oauth2",
                 "accounts.google.com": "/accounts"}
FOLDER_MIME = "application/vnd.google-apps.folder"
NATIVE_PREFIX = "application/vnd.google-apps."
KiB = 1024
MiB = 1024 * KiB
#: resumable chunks must be multiples of this (except the last one)
CHUNK_UNIT = 256 * KiB
CURSOR_PREFIX = "gd1:"
#: how long Drive keeps a resumable session (seconds): about a week
SESSION_LIFETIME = 7 * 24 * 3600
#: what every item lookup asks for
FILE_FIELDS = ("id, name, mimeType, parents, size, md5Checksum, modifiedTime, createdTime, "
               "version, trashed, webViewLink, driveId")
LIST_FIELDS = "nextPageToken, incompleteSearch, files(%s)" % FILE_FIELDS
CHANGE_FIELDS = ("nextPageToken, newStartPageToken, changes(fileId, removed, changeType, "
                 "file(%s))" % FILE_FIELDS)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF = "application/pdf"
#: Google-native type -> (export MIME type, file extension) used when its bytes are needed
EXPORT_FORMATS = {
    NATIVE_PREFIX + "document": (DOCX, ".docx"),
    NATIVE_PREFIX + "spreadsheet": (XLSX, ".xlsx"),
    NATIVE_PREFIX + "presentation": (PPTX, ".pptx"),
    NATIVE_PREFIX + "drawing": (PDF, ".pdf"),
}
#: Drive refuses exports above this size (exportSizeLimitExceeded)
EXPORT_LIMIT = 10 * MiB

#: requests httplib2 may send again after a lost answer
SAFE_METHODS = ("GET", "HEAD")
RATE_REASONS = {"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"}
#: R-SEC-5: no sharing / anyone in the Google Workspace domain / anyone with the link
LINK_POLICIES = ("none", "domain", "anyone")
#: Drive takes at most this many calls in one batch request (and no media)
BATCH_LIMIT = 100
#: roles that let a grantee at least read the item
READER_OR_MORE = ("reader", "commenter", "writer", "fileOrganizer", "organizer", "owner")


class NotExportable(InvalidRequest):
    """A Google-native document without any export format (Forms, Sites, My Maps, ...) or
    over Drive's export limit: it exists only as a link."""


# ------------------------------------------------------------------------------------------
# Transport: production URLs stay in the SDK; only the transport is swapped for an emulator
# ------------------------------------------------------------------------------------------
class RedirectHttp(httplib2.Http if build else object):
    """``httplib2.Http`` sending Google's API and OAuth hosts to ``base_url`` (a loopback
    emulator) when it is set. 308 is never followed: it means "resume incomplete" to
    resumable uploads (as in googleapiclient's own ``build_http``)."""

    def __init__(self, base_url=None, timeout=60):
        if base_url:
            super().__init__(timeout=timeout, proxy_info=None)
        else:
            super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.redirect_codes = set(self.redirect_codes) - {308}

    def request(self, uri, *args, **kwargs):
        return super().request(cloud_http.rewrite_url(uri, self.base_url, HOST_PREFIXES),
                               *args, **kwargs)

    def _conn_request(self, conn, request_uri, method, body, headers):
        """httplib2 sends a request again when its answer is lost (it takes that for a
        stale keep-alive connection): for a create, an upload or an update that would apply
        it twice, and Drive would keep two files. Requests that change something go out
        once, on a fresh connection; a lost answer is the caller's ambiguous failure."""
        if method in SAFE_METHODS:
            return super()._conn_request(conn, request_uri, method, body, headers)
        if conn.sock is not None:
            conn.close()
        try:
            conn.connect()
            conn.request(method, request_uri, body, headers)
            response = conn.getresponse()
            content = response.read()
        except Exception:
            conn.close()
            raise
        response = httplib2.Response(response)
        content = httplib2._decompressContent(response, content, self.limit_kwargs)
        return response, content


def escape_q(value):
    """A string literal for Drive's ``q``: backslash and quote escaped."""
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def backoff_delay(attempt, base=1.0, cap=64.0, rng=random.random):
    """Exponential back-off with jitter: about ``base * 2**attempt`` seconds (between half
    and the whole of it), never above ``cap``."""
    full = min(cap, base * (2 ** attempt))
    return round(full / 2 + rng() * full / 2, 3)


# ------------------------------------------------------------------------------------------
# Error translation
# ------------------------------------------------------------------------------------------
def _error_details(status, content):
    """``(reason, message, location)`` of a Drive error body."""
    try:
        body = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)
        error = body.get("error") or {}
        if isinstance(error, str):  # OAuth-style errors
            return error, body.get("error_description") or error, None
        first = (error.get("errors") or [{}])[0]
        reason = first.get("reason") or error.get("status") or str(status)
        details = error.get("details") or []
        for detail in details:  # newer error format: ErrorInfo with reason SERVICE_DISABLED
            if detail.get("reason") in ("SERVICE_DISABLED", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
                reason = detail["reason"]
        return reason, error.get("message") or first.get("message") or "", \
            first.get("location")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return str(status), "", None


def translate_status(status, content, headers=None, path=None, attempt=0):
    """The :class:`CloudError` for a Drive error answer."""
    reason, message, location = _error_details(status, content)
    message = (message or "")[:300]
    if status == 429 or (status == 403 and reason in RATE_REASONS):
        retry_after = cloud_http.parse_retry_after(
            (headers or {}).get("retry-after") or (headers or {}).get("Retry-After"))
        if retry_after is None:
            retry_after = backoff_delay(attempt + 1)
        return RateLimited("Google Drive rate limit: %s" % (message or reason), code=reason,
                           path=path, retry_after=retry_after)
    if status == 401:
        return AuthExpired("Google refused the credentials: %s" % (message or reason),
                           code=reason or "authError", path=path)
    if status == 403:
        if reason == "dailyLimitExceeded":
            return RateLimited("The Google Cloud project's daily Drive quota is used up",
                               code=reason, path=path, retry_after=3600)
        if reason == "storageQuotaExceeded":
            return QuotaExceeded("The Google Drive storage of the account is full: free "
                                 "space or buy more storage", code=reason, path=path)
        if reason in ("teamDriveFileLimitExceeded", "numChildrenInNonRootLimitExceeded",
                      "teamDriveHierarchyTooDeep"):
            return QuotaExceeded("The shared drive (or folder) holds the most items Google "
                                 "Drive allows: %s" % message, code=reason, path=path)
        if reason in ("accessNotConfigured", "SERVICE_DISABLED"):
            return InvalidRequest("The Google Drive API is not enabled in the Google Cloud "
                                  "project of this OAuth client: enable it in the Google "
                                  "Cloud console (APIs & Services > Library > Google Drive "
                                  "API), then try again", code="accessNotConfigured",
                                  path=path)
        if reason in ("insufficientFilePermissions", "insufficientPermissions",
                      "ACCESS_TOKEN_SCOPE_INSUFFICIENT"):
            return InvalidRequest("The connected Google account may not change this item "
                                  "(on a shared drive it needs the Content manager role): "
                                  "%s" % message, code=reason, path=path)
        return InvalidRequest("Google Drive refused the request: %s" % (message or reason),
                              code=reason, path=path)
    if status == 404:
        if location == "driveId":
            return InvalidRequest("The shared drive was not found, or the connected account "
                                  "is not a member of it: choose another shared drive",
                                  code="sharedDriveNotFound", path=path)
        return NotFound("Item not found", code=reason or "notFound", path=path)
    if status >= 500 or status == 408:
        return Transient("Google Drive unavailable (%s)" % status, code=reason or str(status),
                         path=path)
    return InvalidRequest("Google Drive refused the request: %s" % (message or reason),
                          code=reason or str(status), path=path)


def translate(exc, path=None, attempt=0):
    """A :class:`CloudError` for an SDK or transport exception."""
    if isinstance(exc, CloudError):
        return exc
    if build is not None:
        if isinstance(exc, HttpError):
            return translate_status(exc.resp.status, exc.content, exc.resp, path, attempt)
        if isinstance(exc, gauth_exc.RefreshError):
            if getattr(exc, "retryable", False):
                return Transient("Google's token endpoint is unavailable", code="refresh",
                                 path=path)
            return AuthExpired("Google refused to refresh the access (revoked or expired "
                               "authorization): reconnect the client", code="invalid_grant",
                               path=path)
        if isinstance(exc, gauth_exc.TransportError):
            return Transient("Connection to Google lost while refreshing the access",
                             code="connection_error", path=path)
        if isinstance(exc, httplib2.HttpLib2Error):
            return Transient("Connection to Google Drive failed: %s" % type(exc).__name__,
                             code="connection_error", path=path)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return Transient("Google Drive did not answer in time", code="timeout", path=path)
    if isinstance(exc, (OSError, http.client.HTTPException)):
        return Transient("Connection to Google Drive lost: %s" % type(exc).__name__,
                         code="connection_error", path=path)
    return Transient("Unexpected answer from Google Drive: %s" % type(exc).__name__,
                     code="unexpected", path=path)


# ------------------------------------------------------------------------------------------
# The adapter
# ------------------------------------------------------------------------------------------
class GoogleDriveAdapter(StorageAdapter):
    """:class:`StorageAdapter` on Google Drive: My Drive, or a shared drive (``drive_id``).

    Credentials: ``refresh_token`` with the OAuth client's ``client_id``/``client_secret``
    (optionally a current ``access_token``); google-auth refreshes the access token itself.
    ``base_url`` sends the SDK's traffic to an emulator. ``link_policy`` (R-SEC-5): ``none``
    (the item's Drive link: a Google login with access is needed), ``domain`` (readable by
    the ``link_domain`` Workspace domain) or ``anyone`` (anyone with the link).
    """

    hash_kind = "md5"
    #: shared by the runner's transfer threads and Odoo's HTTP workers:
    #: httplib2 and the Drive service are made per thread; token refresh serialized
    thread_safe = True
    max_name_length = 255
    chunk_threshold = 5 * MiB
    chunk_size = 8 * MiB

    def __init__(self, refresh_token=None, client_id=None, client_secret=None,
                 access_token=None, drive_id=None, base_url=None, link_policy="none",
                 link_domain=None, page_size=1000, chunk_threshold=None, chunk_size=None,
                 download_chunk_size=8 * MiB, timeout=60, rate_limit_retries=3,
                 chunk_retries=3, max_sleep=30.0, session_store=None, credentials=None,
                 sleep=time.sleep):
        if build is None:  # pragma: no cover
            raise CloudError("The Python package 'google-api-python-client' is not "
                             "installed", code="sdk")
        self.drive_id = drive_id or None
        self.base_url = base_url or None
        if link_policy not in LINK_POLICIES:
            raise InvalidRequest("Unknown link policy %r" % link_policy, code="link_policy")
        if link_policy == "domain" and not link_domain:
            raise InvalidRequest("The domain link policy needs a domain", code="link_policy")
        self.link_policy = link_policy
        self.link_domain = link_domain
        self.page_size = max(1, min(int(page_size or 1000), 1000))
        if chunk_threshold:
            self.chunk_threshold = int(chunk_threshold)
        if chunk_size:
            self.chunk_size = int(chunk_size)
        if self.chunk_size % CHUNK_UNIT:
            raise InvalidRequest("Resumable chunks must be a multiple of 256 KiB",
                                 code="chunk_size")
        self.download_chunk_size = int(download_chunk_size)
        self.timeout = timeout
        self.rate_limit_retries = int(rate_limit_retries)
        self.chunk_retries = int(chunk_retries)
        self.max_sleep = max_sleep
        self.sleep = sleep
        self.sessions = session_store if session_store is not None else \
            MemoryUploadSessions(SESSION_LIFETIME)
        self.credentials = credentials or Credentials(
            access_token, refresh_token=refresh_token, token_uri=TOKEN_URI,
            client_id=client_id, client_secret=client_secret, scopes=[SCOPE])
        self._local = threading.local()
        self._cred_lock = threading.Lock()
        self._top_id = drive_id or None

    # -- SDK objects (httplib2 is not thread-safe: one per thread) --------------------------
    def _http(self):
        authed = getattr(self._local, "http", None)
        if authed is None:
            authed = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=RedirectHttp(self.base_url, timeout=self.timeout))
            self._local.http = authed
        return authed

    @property
    def service(self):
        service = getattr(self._local, "service", None)
        if service is None:
            service = build("drive", "v3", http=self._http(), static_discovery=True,
                            cache_discovery=False)
            self._local.service = service
        return service

    def _execute(self, make_request, path=None):
        """Run a request (``make_request(service)`` -> HttpRequest), retrying rate limits
        with back-off; every failure becomes a :class:`CloudError`."""
        attempt = 0
        while True:
            try:
                with self._refresh_guard():
                    return make_request(self.service).execute(num_retries=0)
            except Exception as exc:  # noqa: BLE001 - translated below
                error = translate(exc, path=path, attempt=attempt)
            if isinstance(error, RateLimited) and attempt < self.rate_limit_retries:
                delay = backoff_delay(attempt)
                _logger.info("Google Drive rate limit (%s): retrying in %.1f s", error.code,
                             delay)
                self.sleep(min(delay, self.max_sleep))
                attempt += 1
                continue
            raise error

    def _refresh_guard(self):
        """Refreshing the shared credentials is serialized (threads share one token)."""
        creds = self.credentials
        if creds.valid:
            return _NullContext()
        return self._cred_lock

    def _files(self):
        return self.service.files()

    # -- helpers -----------------------------------------------------------------------------
    def _list_params(self):
        if self.drive_id:
            return {"corpora": "drive", "driveId": self.drive_id,
                    "includeItemsFromAllDrives": True, "supportsAllDrives": True}
        return {"corpora": "user", "supportsAllDrives": True,
                "includeItemsFromAllDrives": False}

    def _item(self, data):
        mime = data.get("mimeType") or ""
        parents = data.get("parents") or []
        kind = FOLDER if mime == FOLDER_MIME else FILE
        return CloudItem(
            id=data["id"], name=data.get("name") or "", kind=kind,
            parent_id=parents[0] if parents else None,
            size=int(data.get("size") or 0) if kind == FILE else 0,
            hash=data.get("md5Checksum") if kind == FILE else None,
            etag=str(data["version"]) if data.get("version") is not None else None,
            modified=data.get("modifiedTime"), mimetype=mime or None)

    def _check_name(self, name):
        return check_item_name(name, max_length=self.max_name_length, reject_blank=True,
                               reject_control=True, code="invalidName", path=name)

    def _get_raw(self, item_id, fields=FILE_FIELDS):
        data = self._execute(lambda s: s.files().get(fileId=item_id, fields=fields,
                                                     supportsAllDrives=True), path=item_id)
        if data.get("trashed"):
            raise NotFound("Item is in the trash", code="trashed", path=item_id)
        return data

    def _folder(self, item_id):
        """The live folder ``item_id`` (NotFound, or InvalidRequest for a file)."""
        data = self._get_raw(item_id)
        if data.get("mimeType") != FOLDER_MIME:
            raise InvalidRequest("Not a folder", code="notAFolder", path=item_id)
        return data

    def _named(self, parent_id, name):
        """Live children of ``parent_id`` named exactly ``name``, oldest first."""
        q = "%s in parents and name = %s and trashed = false" % (escape_q(parent_id),
                                                                  escape_q(name))
        found, token = [], None
        while True:
            result = self._execute(lambda s, token=token: s.files().list(
                q=q, fields=LIST_FIELDS, pageSize=100, pageToken=token,
                orderBy="createdTime", **self._list_params()), path=name)
            found += [f for f in result.get("files", []) if f.get("name") == name
                      and not f.get("trashed")]
            token = result.get("nextPageToken")
            if not token:
                break
        return sorted(found, key=lambda f: (f.get("createdTime") or "", f["id"]))

    @property
    def top_id(self):
        """The top of the storage: My Drive's root folder id, or the shared drive's id."""
        if self._top_id is None:
            self._top_id = self._execute(lambda s: s.files().get(
                fileId="root", fields="id", supportsAllDrives=True), path="root")["id"]
        return self._top_id

    # -- account -----------------------------------------------------------------------------
    def check_connection(self):
        about = self._execute(lambda s: s.about().get(
            fields="user(displayName, emailAddress, permissionId), storageQuota(limit, "
                   "usage)"), path="about")
        user = about.get("user") or {}
        quota = about.get("storageQuota") or {}
        facts = {"account": user.get("emailAddress") or user.get("displayName"),
                 "account_id": user.get("permissionId") or user.get("emailAddress"),
                 "display_name": user.get("displayName"),
                 "quota_used": int(quota.get("usage") or 0),
                 "quota_total": int(quota["limit"]) if quota.get("limit") else None}
        if self.drive_id:
            drive = self.get_shared_drive(self.drive_id)
            facts.update(drive_id=drive["id"], drive_name=drive.get("name"))
        return facts

    def get_shared_drive(self, drive_id):
        try:
            return self._execute(lambda s: s.drives().get(
                driveId=drive_id, fields="id, name, capabilities(canAddChildren)"),
                path=drive_id)
        except NotFound as exc:
            raise InvalidRequest("The shared drive was not found, or the connected account "
                                 "is not a member of it: choose another shared drive",
                                 code="sharedDriveNotFound", path=drive_id) from exc

    def list_shared_drives(self):
        """``[{"id", "name"}]`` of the shared drives the account is a member of."""
        drives, token = [], None
        while True:
            result = self._execute(lambda s, token=token: s.drives().list(
                pageSize=100, pageToken=token, fields="nextPageToken, drives(id, name)"),
                path="drives")
            drives += result.get("drives", [])
            token = result.get("nextPageToken")
            if not token:
                return drives

    def ensure_root(self, name):
        self._check_name(name)
        top = self.top_id
        for data in self._named(top, name):
            if data.get("mimeType") == FOLDER_MIME:
                return self._item(data)
            raise Conflict("A file holds the root folder's name", existing_id=data["id"],
                           code="nameTaken", path=name)
        return self._create_folder(top, name)

    # -- items -------------------------------------------------------------------------------
    def get_item(self, item_id):
        return self._item(self._get_raw(item_id))

    def find_child(self, parent_id, name):
        if not is_plain_name(name):
            return None
        found = self._named(parent_id, name)
        if not found:
            self._folder(parent_id)  # NotFound when the parent is gone
            return None
        return self._item(found[0])

    def list_children(self, parent_id, page_token=None):
        """Pages ordered by creation time, cut after the last creation time listed (a key,
        not an offset: children added or removed between pages shift nothing)."""
        page = _ChildrenPage(self, parent_id, page_token)
        items, next_token = page.read(self._execute(page.request, path=parent_id))
        if not items and not page_token:
            self._folder(parent_id)  # an empty answer: is it a folder at all?
        return items, next_token

    def _create_folder(self, parent_id, name):
        body = {"name": name, "mimeType": FOLDER_MIME, "parents": [parent_id]}
        return self._item(self._execute(lambda s: s.files().create(
            body=body, fields=FILE_FIELDS, supportsAllDrives=True), path=name))

    def create_folder(self, parent_id, name):
        self._check_name(name)
        found = self._named(parent_id, name)
        for data in found:
            if data.get("mimeType") == FOLDER_MIME:
                return self._item(data)  # retry-safe: the folder is there
        if found:
            raise Conflict("A file with that name exists", existing_id=found[0]["id"],
                           code="nameTaken", path=name)
        self._folder(parent_id)
        return self._create_folder(parent_id, name)

    def _name_free(self, parent_id, name, item_id):
        others = [f for f in self._named(parent_id, name) if f["id"] != item_id]
        if others:
            raise Conflict("An item with that name exists", existing_id=others[0]["id"],
                           code="nameTaken", path=name)

    def rename(self, item_id, new_name):
        self._check_name(new_name)
        data = self._get_raw(item_id)
        if data.get("name") == new_name:
            return self._item(data)
        parent = (data.get("parents") or [None])[0]
        if parent:
            self._name_free(parent, new_name, item_id)
        return self._item(self._execute(lambda s: s.files().update(
            fileId=item_id, body={"name": new_name}, fields=FILE_FIELDS,
            supportsAllDrives=True), path=new_name))

    def move(self, item_id, new_parent_id, new_name=None):
        if new_name is not None:
            self._check_name(new_name)
        if new_parent_id == item_id:
            raise InvalidRequest("Cannot move a folder into itself", code="cannotMoveIntoSelf",
                                 path=item_id)
        data = self._get_raw(item_id)
        self._folder(new_parent_id)
        name = new_name or data.get("name")
        old_parents = data.get("parents") or []
        if old_parents == [new_parent_id] and name == data.get("name"):
            return self._item(data)
        self._name_free(new_parent_id, name, item_id)
        kwargs = {}
        if old_parents != [new_parent_id]:
            kwargs = {"addParents": new_parent_id,
                      "removeParents": ",".join(p for p in old_parents if p != new_parent_id)}
        body = {"name": name} if name != data.get("name") else {}
        return self._item(self._execute(lambda s: s.files().update(
            fileId=item_id, body=body, fields=FILE_FIELDS, supportsAllDrives=True,
            **kwargs), path=name))

    def delete(self, item_id):
        """Move to the trash (a person may restore it for 30 days)."""
        self._get_raw(item_id, fields="id, trashed")
        self._execute(lambda s: s.files().update(
            fileId=item_id, body={"trashed": True}, fields="id, trashed",
            supportsAllDrives=True), path=item_id)

    # -- content -----------------------------------------------------------------------------
    @staticmethod
    def _mimetype(name):
        return mimetypes.guess_type(name)[0] or "application/octet-stream"

    def upload(self, parent_id, name, stream, size):
        self._check_name(name)
        found = self._named(parent_id, name)
        if found:
            raise Conflict("An item with that name exists", existing_id=found[0]["id"],
                           code="nameTaken", path=name)
        self._folder(parent_id)
        metadata = {"name": name, "parents": [parent_id], "mimeType": self._mimetype(name)}
        if size <= self.chunk_threshold:
            data = b"".join(read_exact(stream, size, max(size, 1), path=name))
            local_md5 = hashlib.md5(data).hexdigest()
            media = MediaIoBaseUpload(io.BytesIO(data), mimetype=metadata["mimeType"],
                                      resumable=False)
            result = self._execute(lambda s: s.files().create(
                body=metadata, media_body=media, fields=FILE_FIELDS,
                supportsAllDrives=True), path=name)
        else:
            result, local_md5 = self._resumable(parent_id, name, metadata, stream, size)
        return self._verified(result, size, local_md5, name)

    def _verified(self, result, size, local_md5, name):
        """R-DIR-2: never hand back a copy that differs from what was sent."""
        item = self._item(result)
        if item.size != size or (item.hash and item.hash != local_md5):
            try:
                self._execute(lambda s: s.files().update(
                    fileId=item.id, body={"trashed": True}, fields="id",
                    supportsAllDrives=True), path=name)
            except CloudError:
                _logger.warning("Could not trash the mismatching upload %s", item.id)
            raise Transient("The uploaded copy does not match the local file",
                            code="md5_mismatch", path=name)
        return item

    # resumable protocol -----------------------------------------------------------------
    def _raw(self, uri, method, body=None, headers=None, path=None):
        """One request through the authorized transport: ``(status, headers, content)``."""
        try:
            with self._refresh_guard():
                resp, content = self._http().request(uri, method, body=body,
                                                     headers=headers or {})
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate(exc, path=path) from exc
        return resp.status, resp, content

    def _start_session(self, metadata, size, path):
        query = urlencode({"uploadType": "resumable", "supportsAllDrives": "true",
                           "fields": FILE_FIELDS})
        attempt = 0
        while True:
            status, headers, content = self._raw(
                UPLOAD_URL + "?" + query, "POST", body=json.dumps(metadata),
                headers={"Content-Type": "application/json; charset=UTF-8",
                         "X-Upload-Content-Type": metadata["mimeType"],
                         "X-Upload-Content-Length": str(size)}, path=path)
            if status == 200 and headers.get("location"):
                return headers["location"]
            error = translate_status(status, content, headers, path, attempt)
            if isinstance(error, RateLimited) and attempt < self.rate_limit_retries:
                self.sleep(min(backoff_delay(attempt), self.max_sleep))
                attempt += 1
                continue
            raise error

    @staticmethod
    def _acknowledged(headers):
        """Bytes the session holds, from a 308's ``Range: bytes=0-N`` (none: 0)."""
        rng = headers.get("range")
        if not rng:
            return 0
        return int(rng.rpartition("-")[2]) + 1

    def _session_status(self, uri, size, path):
        """``(offset, result)``: the bytes the session holds, or the finished file."""
        status, headers, content = self._raw(uri, "PUT", body=b"", headers={
            "Content-Range": "bytes */%d" % size, "Content-Length": "0"}, path=path)
        if status in (200, 201):
            return size, json.loads(content)
        if status == 308:
            return self._acknowledged(headers), None
        if status in (404, 410):
            raise Transient("The upload session expired", code="sessionExpired", path=path)
        raise translate_status(status, content, headers, path)

    def _resumable(self, parent_id, name, metadata, stream, size):
        """A resumable upload in chunks of ``chunk_size``: at most one chunk in memory; a
        failed chunk is sent again from the offset the session acknowledges."""
        key = self._session_key(parent_id, name, stream, size)
        uri = self.sessions.get(key) if key else None
        offset = 0
        if uri:
            try:
                offset, done = self._session_status(uri, size, name)
            except (Transient, RateLimited, AuthExpired) as exc:
                if exc.code != "sessionExpired":
                    raise  # Drive could not tell just now: the task retries, session kept
                uri, offset, done = None, 0, None
            except CloudError:  # refused: this session cannot be continued
                uri, offset, done = None, 0, None
            if uri is None:
                self.sessions.drop(key)
            if done is not None:
                # the earlier attempt finished: the caller verifies it against the stream
                hasher = hashlib.md5()
                for piece in read_exact(stream, size, self.chunk_size, path=name):
                    hasher.update(piece)
                self.sessions.drop(key)
                return done, hasher.hexdigest()
            if uri:
                _logger.info("Resuming the upload of %s at byte %d", name, offset)
        if not uri:
            uri = self._start_session(metadata, size, name)
            if key:
                self.sessions.put(key, uri, size=size)
        hasher = hashlib.md5()
        position = 0
        result = None
        try:
            for piece in read_exact(stream, size, self.chunk_size, path=name):
                hasher.update(piece)
                start, end = position, position + len(piece)
                position = end
                while offset < end and result is None:
                    result, offset = self._send_chunk(uri, piece[offset - start:], offset,
                                                      size, name)
            if result is None:
                offset, result = self._session_status(uri, size, name)
                if result is None:
                    raise Transient("The upload session did not finish", code="incomplete",
                                    path=name)
        except InvalidRequest:
            if key:
                self.sessions.drop(key)  # the stream itself is wrong: start afresh next time
            raise
        if key:
            self.sessions.drop(key)
        return result, hasher.hexdigest()

    @staticmethod
    def _session_key(parent_id, name, stream, size):
        """The key of this upload's session: folder, name, size and a digest of the content,
        so another file of the same name and size never continues it; None when the stream
        cannot seek (the session is then not kept)."""
        fingerprint = content_fingerprint(stream, size)
        if fingerprint is None:
            return None
        return session_key("gdrive", parent_id, name, size, fingerprint)

    def _send_chunk(self, uri, data, offset, size, path):
        """PUT ``data`` at ``offset``; ``(finished file or None, new offset)``. Failures of
        the chunk are retried ``chunk_retries`` times from the acknowledged offset."""
        attempt = 0
        while True:
            end = offset + len(data) - 1
            try:
                status, headers, content = self._raw(uri, "PUT", body=data, headers={
                    "Content-Range": "bytes %d-%d/%d" % (offset, end, size),
                    "Content-Length": str(len(data))}, path=path)
                if status in (200, 201):
                    return json.loads(content), size
                if status == 308:
                    return None, self._acknowledged(headers)
                if status in (404, 410):
                    raise Transient("The upload session expired", code="sessionExpired",
                                    path=path)
                raise translate_status(status, content, headers, path, attempt)
            except (Transient, RateLimited) as error:
                if error.code == "sessionExpired" or attempt >= self.chunk_retries:
                    raise
                delay = backoff_delay(attempt) if isinstance(error, RateLimited) else 0.2
                self.sleep(min(delay, self.max_sleep))
                attempt += 1
                acked, result = self._session_status(uri, size, path)
                if result is not None:
                    return result, size
                if acked < offset:
                    raise Transient("The upload session lost data", code="sessionRewound",
                                    path=path) from error
                data = data[acked - offset:]
                offset = acked
                if not data:
                    return None, offset

    def download(self, item_id):
        """The file's bytes, ``download_chunk_size`` at a time (ranged ``get_media``); a
        Google-native document is exported (:data:`EXPORT_FORMATS`). The metadata is read
        first: a trashed file counts as gone, a folder has no content."""
        data = self._get_raw(item_id, fields="id, name, mimeType, trashed, webViewLink")
        mime = data.get("mimeType") or ""
        if mime == FOLDER_MIME:
            raise InvalidRequest("A folder has no content", code="notAFile", path=item_id)
        if mime.startswith(NATIVE_PREFIX):
            return self._export(item_id, data)
        return self._media(item_id)

    def _media(self, item_id):
        request = self._files().get_media(fileId=item_id, supportsAllDrives=True)
        buffer = io.BytesIO()
        downloader = MediaIoBaseDownload(buffer, request, chunksize=self.download_chunk_size)
        done = False
        while not done:
            try:
                with self._refresh_guard():
                    _status, done = downloader.next_chunk(num_retries=0)
            except Exception as exc:  # noqa: BLE001 - translated
                raise translate(exc, path=item_id) from exc
            piece = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if piece:
                yield piece

    def export_format(self, mimetype):
        """``(export MIME type, extension)`` of a Google-native type, or None."""
        return EXPORT_FORMATS.get(mimetype or "")

    def _export(self, item_id, data):
        mime = data.get("mimeType") or ""
        target = self.export_format(mime)
        if target is None:
            raise NotExportable("This Google document type (%s) cannot be exported; it "
                                "stays a link: %s" % (mime, data.get("webViewLink") or ""),
                                code="fileNotExportable", path=item_id)
        try:
            content = self._execute(lambda s: s.files().export(fileId=item_id,
                                                               mimeType=target[0]),
                                    path=item_id)
        except InvalidRequest as exc:
            if exc.code in ("exportSizeLimitExceeded", "fileNotExportable",
                            "cannotExportFile"):
                raise NotExportable("Google Drive cannot export this document (%s): it "
                                    "stays a link: %s" % (exc.code, data.get("webViewLink")
                                                          or ""),
                                    code=exc.code, path=item_id) from exc
            raise
        return iter([content])

    # -- change feed -------------------------------------------------------------------------
    def _feed_params(self):
        if self.drive_id:
            return {"driveId": self.drive_id, "includeItemsFromAllDrives": True,
                    "supportsAllDrives": True}
        return {"supportsAllDrives": True, "includeItemsFromAllDrives": False}

    def latest_cursor(self, root_id, base=None):
        """A start page token taken *before* the watched tree is listed once into ``base``
        (what changes meanwhile is read again from the token)."""
        params = {"supportsAllDrives": True}
        if self.drive_id:
            params["driveId"] = self.drive_id
        token = self._execute(lambda s: s.changes().getStartPageToken(**params),
                              path=root_id)["startPageToken"]
        if base is not None:
            root = self.get_item(root_id)
            known = base.get(root_id)
            entries = [BaseEntry.of(item) for item in self._walk(root_id)]
            base.replace_below(BaseEntry.of(root, known.parent_id if known else None),
                               entries)
        return CURSOR_PREFIX + token

    def _walk(self, folder_id):
        """Everything below ``folder_id`` (NotFound if it is gone). The listings of up to
        :data:`BATCH_LIMIT` folders (or next pages) go out in one batch request."""
        todo = [(folder_id, None)]
        first = True
        while todo:
            pending, todo = todo[:BATCH_LIMIT], todo[BATCH_LIMIT:]
            pages = [_ChildrenPage(self, parent, token) for parent, token in pending]
            answers = self._execute_batch([page.request for page in pages],
                                          path=folder_id)
            for page, answer in zip(pages, answers, strict=True):
                if isinstance(answer, CloudError):
                    if isinstance(answer, NotFound) and not first:
                        continue  # a folder trashed meanwhile: its content went with it
                    raise answer
                items, next_token = page.read(answer)
                if first and not items and not page.token:
                    self._folder(folder_id)
                for item in items:
                    yield item
                    if item.is_folder:
                        todo.append((item.id, None))
                if next_token:
                    todo.append((page.parent_id, next_token))
            first = False

    def _execute_batch(self, make_requests, path=None):
        """Run metadata requests (``make_request(service)`` each, no media) in batch
        requests of at most :data:`BATCH_LIMIT`: one answer (result or
        :class:`CloudError`) per request, in order. Parts refused by a rate limit go again
        after a back-off; a single request goes alone."""
        if len(make_requests) == 1:
            try:
                return [self._execute(make_requests[0], path=path)]
            except CloudError as exc:
                return [exc]
        answers = [None] * len(make_requests)
        todo = list(range(len(make_requests)))
        attempt = 0
        while todo:
            retry = []
            for start in range(0, len(todo), BATCH_LIMIT):
                group = todo[start:start + BATCH_LIMIT]
                outcomes = self._send_batch([make_requests[i] for i in group], path, attempt)
                for index, outcome in zip(group, outcomes, strict=True):
                    if isinstance(outcome, RateLimited) and \
                            attempt < self.rate_limit_retries:
                        retry.append(index)
                    answers[index] = outcome
            if retry:
                self.sleep(min(backoff_delay(attempt), self.max_sleep))
                attempt += 1
            todo = retry
        return answers

    def _send_batch(self, make_requests, path, attempt):
        service = self.service
        outcomes = {}

        def collect(request_id, response, exception):
            outcomes[request_id] = translate(exception, path=path, attempt=attempt) \
                if exception is not None else response

        batch = service.new_batch_http_request(callback=collect)
        for number, make_request in enumerate(make_requests):
            batch.add(make_request(service), request_id=str(number))
        while True:
            try:
                with self._refresh_guard():
                    batch.execute()
                break
            except Exception as exc:  # noqa: BLE001 - translated
                error = translate(exc, path=path, attempt=attempt)
            if isinstance(error, RateLimited) and attempt < self.rate_limit_retries:
                self.sleep(min(backoff_delay(attempt), self.max_sleep))
                attempt += 1
                continue
            raise error
        return [outcomes.get(str(number), Transient("No answer in the batch",
                                                    code="batch", path=path))
                for number in range(len(make_requests))]

    def _decode_cursor(self, cursor):
        if not isinstance(cursor, str) or not cursor.startswith(CURSOR_PREFIX) \
                or len(cursor) == len(CURSOR_PREFIX):
            raise InvalidRequest("Malformed change cursor", code="bad_cursor")
        return cursor[len(CURSOR_PREFIX):]

    def changes(self, root_id, cursor, base=None):
        token = self._decode_cursor(cursor)
        try:
            result = self._execute(lambda s: s.changes().list(
                pageToken=token, pageSize=self.page_size, includeRemoved=True,
                spaces="drive", fields=CHANGE_FIELDS, **self._feed_params()), path=root_id)
        except InvalidRequest as exc:
            if exc.code in ("invalid", "badRequest", "invalidPageToken") or \
                    "pageToken" in str(exc):
                raise ResetNeeded("Google Drive refused the page token", code="reset",
                                  path=root_id) from exc
            raise
        changes = self._resolve(root_id, result.get("changes") or [], base)
        new_token = result.get("nextPageToken") or result.get("newStartPageToken")
        if not new_token:
            raise Transient("Google Drive gave no next page token", code="no_token",
                            path=root_id)
        return ChangePage(changes, CURSOR_PREFIX + new_token,
                          has_more=bool(result.get("nextPageToken")))

    def _resolve(self, root_id, raw_changes, base):
        """Keep the changes of one page that concern the watched tree."""
        latest = {}
        for raw in raw_changes:
            file_id = raw.get("fileId") or (raw.get("file") or {}).get("id")
            if file_id and raw.get("changeType", "file") == "file":
                latest.pop(file_id, None)
                latest[file_id] = raw
        live = {fid: raw["file"] for fid, raw in latest.items()
                if not raw.get("removed") and raw.get("file")
                and not raw["file"].get("trashed")}
        known = base.get_many(list(latest)) if base is not None else {}
        parents_of = {}

        def parent_of(item_id):
            if item_id in live:
                return (live[item_id].get("parents") or [None])[0]
            if item_id in latest:  # removed or trashed in this page
                return None
            if item_id not in parents_of:
                entry = base.get(item_id) if base is not None else None
                parents_of[item_id] = entry.parent_id if entry else None
            return parents_of[item_id]

        under = {root_id: True}

        def is_under(item_id):
            chain, node = [], item_id
            while node is not None and node not in under and len(chain) < 200:
                chain.append(node)
                node = parent_of(node)
            verdict = under.get(node, False) if node is not None else False
            for step in chain:
                under[step] = verdict
            return verdict

        out = {}
        arriving = []
        for file_id in latest:
            if file_id in live:
                data = live[file_id]
                if file_id == root_id or is_under((data.get("parents") or [None])[0]):
                    item = self._item(data)
                    out[file_id] = Change(file_id, item=item)
                    if item.is_folder and file_id not in known and file_id != root_id:
                        arriving.append(file_id)
                elif file_id in known:
                    out[file_id] = Change(file_id, deleted=True)  # moved out of the tree
            elif file_id in known:
                out[file_id] = Change(file_id, deleted=True)
        # a folder trashed, removed or moved out takes its content along, which Drive does
        # not report item by item: what the merge base knows below it is gone too
        if base is not None:
            for file_id in [i for i, c in out.items() if c.deleted and known.get(i)
                            and known[i].is_folder]:
                for entry in base.descendants(file_id):
                    if entry.id not in out:
                        out[entry.id] = Change(entry.id, deleted=True)
        # a folder new to the tree may have been moved in with its content, which Drive
        # does not report: list it once
        for folder_id in arriving:
            try:
                for item in self._walk(folder_id):
                    if item.id not in out:
                        out[item.id] = Change(item.id, item=item)
            except NotFound:
                out[folder_id] = Change(folder_id, deleted=True)
        return list(out.values())

    # -- links -------------------------------------------------------------------------------
    def web_url(self, item):
        if item.is_folder:
            return "https://drive.google.com/drive/folders/%s" % item.id
        mime = item.mimetype or ""
        if mime == NATIVE_PREFIX + "document":
            return "https://docs.google.com/document/d/%s/edit" % item.id
        if mime == NATIVE_PREFIX + "spreadsheet":
            return "https://docs.google.com/spreadsheets/d/%s/edit" % item.id
        if mime == NATIVE_PREFIX + "presentation":
            return "https://docs.google.com/presentation/d/%s/edit" % item.id
        if mime == NATIVE_PREFIX + "drawing":
            return "https://docs.google.com/drawings/d/%s/edit" % item.id
        return "https://drive.google.com/file/d/%s/view" % item.id

    def share_link(self, item_id):
        """The item's ``webViewLink``, readable per the link policy (see :meth:`share`)."""
        return self.share(item_id)[0]

    def _link_grant(self):
        """The permission body the link policy asks for (None: no sharing)."""
        if self.link_policy == "none":
            return None
        body = {"type": self.link_policy, "role": "reader", "allowFileDiscovery": False}
        if self.link_policy == "domain":
            body["domain"] = self.link_domain
        return body

    def share(self, item_id):
        """``(webViewLink, permission id or None)``. Under the ``domain``/``anyone``
        policies the item gets a reader permission of that kind, unless it already has one
        (a person's, which is left alone); the id is that of the permission created here,
        the one :meth:`revoke_link` may remove later."""
        data = self._get_raw(item_id, fields="id, mimeType, webViewLink, trashed")
        url = data.get("webViewLink") or self.web_url(self._item(data))
        grant = self._link_grant()
        if grant is None:
            return url, None
        existing = self._execute(lambda s: s.permissions().list(
            fileId=item_id, fields="permissions(id, type, role, domain)",
            supportsAllDrives=True), path=item_id).get("permissions") or []
        if any(p.get("type") == grant["type"] and p.get("role") in READER_OR_MORE
               and (grant["type"] != "domain" or p.get("domain") == grant["domain"])
               for p in existing):
            return url, None
        created = self._execute(lambda s: s.permissions().create(
            fileId=item_id, body=grant, fields="id", supportsAllDrives=True),
            path=item_id)
        return url, created["id"]

    def revoke_link(self, link_id, item_id):
        """Remove the permission ``link_id`` of ``item_id`` that :meth:`share` created; one
        already gone (or the item) is fine."""
        try:
            self._execute(lambda s: s.permissions().delete(
                fileId=item_id, permissionId=link_id, supportsAllDrives=True),
                path=item_id)
        except NotFound:
            _logger.debug("Permission %s of %s was already gone", link_id, item_id)
        return True


class _ChildrenPage:
    """One page of a folder's live children: the request, then what it means (the key after
    the last creation time listed, see :meth:`GoogleDriveAdapter.list_children`)."""

    def __init__(self, adapter, parent_id, token=None):
        self.adapter, self.parent_id, self.token = adapter, parent_id, token
        self.after, self.seen = None, []
        if token:
            try:
                state = json.loads(token)
                self.after, self.seen = state["t"], list(state["x"])
                if not isinstance(self.after, str) or \
                        not all(isinstance(i, str) for i in self.seen):
                    raise ValueError(token)
            except (TypeError, ValueError, KeyError):
                raise InvalidRequest("Malformed page token", code="bad_token",
                                     path=parent_id) from None
        q = "%s in parents and trashed = false" % escape_q(parent_id)
        if self.after:
            q += " and createdTime >= %s" % escape_q(self.after)
        self.q = q
        self.want = min(1000, adapter.page_size + len(self.seen) + 1)

    def request(self, service):
        return service.files().list(q=self.q, fields=LIST_FIELDS, pageSize=self.want,
                                    orderBy="createdTime", **self.adapter._list_params())

    def read(self, result):  # pylint: disable=method-required-super
        """``(items, next page token or None)`` of the answer."""
        size = self.adapter.page_size
        files = [f for f in result.get("files", []) if f["id"] not in self.seen
                 and not f.get("trashed")]
        page = files[:size]
        more = len(files) > size or bool(result.get("nextPageToken"))
        next_token = None
        if more and page:
            last = page[-1].get("createdTime") or ""
            same = [f["id"] for f in page if f.get("createdTime") == last]
            if last == self.after:
                same = self.seen + same
            next_token = json.dumps({"t": last, "x": same})
        return [self.adapter._item(f) for f in page], next_token


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
