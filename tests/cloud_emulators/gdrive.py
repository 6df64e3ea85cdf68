"""Loopback emulator of Google Drive v3 and of Google's OAuth 2.0 endpoints.

The real, unmodified SDKs talk to it through :func:`make_http`, an ``httplib2.Http`` whose
``request()`` rewrites ``https://www.googleapis.com`` to ``<emulator>/www``,
``https://oauth2.googleapis.com`` to ``<emulator>/oauth2`` and ``https://accounts.google.com``
to ``<emulator>/accounts`` (paths kept), with 308 removed from its redirect codes::

    emu = DriveEmulator().start()
    creds = Credentials(token, refresh_token=rt, token_uri="https://oauth2.googleapis.com/token",
                        client_id=emu.client_id, client_secret=emu.client_secret)
    http = google_auth_httplib2.AuthorizedHttp(creds, http=make_http(emu.base_url))
    drive = build("drive", "v3", http=http, static_discovery=True, cache_discovery=False)

``AuthorizedHttp`` refreshes the credentials through the same wrapped ``Http``, so the token
refresh reaches the emulator too. For ``google_auth_oauthlib.flow.Flow`` (requests-based) either
use :meth:`DriveEmulator.client_config` (the emulator's own http URLs; needs
``OAUTHLIB_INSECURE_TRANSPORT=1``) or keep the production URLs and call
:func:`mount_rewrites` on ``flow.oauth2session``.

Route names (for :meth:`inject`, the fault helpers and ``counters``): ``authorize``, ``token``,
``revoke``, ``about.get``, ``files.create`` (metadata only), ``files.upload`` (POST/PATCH on
``/upload/…``: multipart, media, or the start of a resumable session), ``upload_chunk`` (PUT on a
resumable session URI), ``files.get``, ``files.download`` (``alt=media``), ``files.export``,
``files.list``, ``files.update``, ``files.delete``, ``files.emptyTrash``,
``changes.getStartPageToken``, ``changes.list``, ``drives.list``, ``drives.get``,
``drives.create``, ``permissions.create``, ``permissions.list``, ``permissions.get``,
``permissions.update``, ``permissions.delete``, ``batch`` (``POST /batch/drive/v3``: each part
is also counted, and takes faults, under its own route).

Accounts: the emulator starts with one account (``default_user``, a consumer account unless
``workspace_domain`` is given); :meth:`DriveEmulator.add_user` makes more, each with its own My
Drive. Tokens belong to the account that consented (``issue_tokens(user=...)``, or the
``signed_in`` account / ``login_hint`` on the consent page). An account reaches its own items,
the shared drives it is a member of and what is shared with it (a ``user`` permission lists the
item; an ``anyone``/``domain`` permission only opens it by id); anything else answers 404.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import itertools
import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote, urlencode

import httplib2
import requests
import requests.adapters

from .common import DropConnection, Emulator, Fault, Request, Response  # noqa: F401

WWW = "https://www.googleapis.com"
OAUTH2 = "https://oauth2.googleapis.com"
ACCOUNTS = "https://accounts.google.com"
PREFIXES = {WWW: "/www", OAUTH2: "/oauth2", ACCOUNTS: "/accounts"}

FOLDER = "application/vnd.google-apps.folder"
GOOGLE_DOC = "application/vnd.google-apps.document"
GOOGLE_SHEET = "application/vnd.google-apps.spreadsheet"
CHUNK_UNIT = 256 * 1024
SESSION_LIFETIME = 7 * 24 * 3600
EXPORTS = {
    GOOGLE_DOC: {"text/plain", "application/pdf", "text/html", "application/rtf",
                 "application/vnd.oasis.opendocument.text",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    GOOGLE_SHEET: {"text/csv", "application/pdf",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"


# -- transport -------------------------------------------------------------------------------
def _rewrite(url, base):
    for src, prefix in PREFIXES.items():
        if url == src or url.startswith(src + "/") or url.startswith(src + "?"):
            return base + prefix + url[len(src):]
    return url


class RewritingHttp(httplib2.Http):
    """``httplib2.Http`` sending Google API/OAuth calls to the emulator (no 308 redirects)."""

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.redirect_codes = set(self.redirect_codes) - {308}

    def request(self, uri, *args, **kwargs):
        return super().request(_rewrite(uri, self.base_url), *args, **kwargs)


def make_http(base_url, **kwargs):
    return RewritingHttp(base_url, **kwargs)


class RewritingSession(requests.Session):
    """``requests.Session`` rewriting the Google hosts (e.g. for ``Flow.oauth2session``)."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, _rewrite(url, self.base_url), *args, **kwargs)


def make_requests_session(base_url):
    return RewritingSession(base_url)


class _RewritingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request, **kwargs):
        request.url = _rewrite(request.url, self.base_url)
        return super().send(request, **kwargs)


def mount_rewrites(session, base_url):
    """Mount adapters on an existing ``requests.Session`` (e.g. ``Flow.oauth2session``) that
    send the Google hosts to the emulator: URLs stay https for oauthlib, no
    ``OAUTHLIB_INSECURE_TRANSPORT`` needed."""
    for host in PREFIXES:
        session.mount(host, _RewritingAdapter(base_url))
    return session


# -- helpers ---------------------------------------------------------------------------------
def _rfc3339(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (int(ts * 1000) % 1000)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_id(prefix="1"):
    return prefix + _b64url(secrets.token_bytes(24))[:32]


def drive_error(status, reason, message, domain="global", location=None, location_type=None,
                headers=None):
    """A Drive error ``{"error": {"code", "message", "errors": [{reason, domain, message}]}}``."""
    detail = {"message": message, "domain": domain, "reason": reason}
    if location:
        detail["location"] = location
        detail["locationType"] = location_type or "parameter"
    body = {"error": {"code": status, "message": message, "errors": [detail]}}
    return Response.json(body, status, headers=headers)


class DriveHTTPError(Exception):
    def __init__(self, status, reason, message, **kwargs):
        super().__init__(message)
        self.response = drive_error(status, reason, message, **kwargs)


def _not_found(file_id):
    return DriveHTTPError(404, "notFound", "File not found: %s." % file_id,
                          location="fileId")


def _invalid(location, message="Invalid Value"):
    return DriveHTTPError(400, "invalid", message, location=location)


# -- field masks -----------------------------------------------------------------------------
def parse_fields(spec):
    """``"nextPageToken, files(id, name)"`` -> ``{"nextPageToken": {}, "files": {...}}``.

    An empty dict means "the whole value"; ``"*"`` maps to ``{"*": {}}``."""
    pos = 0
    spec = spec or ""

    def parse_list(end_char=None):
        nonlocal pos
        out = {}
        while pos < len(spec):
            ch = spec[pos]
            if ch in " ,":
                pos += 1
                continue
            if ch == ")":
                pos += 1
                return out
            match = re.match(r"[A-Za-z0-9_*/.@-]+", spec[pos:])
            if not match:
                raise _invalid("fields", "Invalid field selection %s" % spec)
            name = match.group(0)
            pos += len(name)
            sub = {}
            if pos < len(spec) and spec[pos] == "(":
                pos += 1
                sub = parse_list(")")
            node = out
            parts = name.split("/")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node.setdefault(parts[-1], {}).update(sub)
        return out

    return parse_list()


def apply_fields(data, mask):
    if not mask or "*" in mask:
        return data
    if isinstance(data, list):
        return [apply_fields(d, mask) for d in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, sub in mask.items():
        if key in data:
            out[key] = apply_fields(data[key], sub) if sub else data[key]
    return out


# -- q parsing -------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|"
                    r"(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")


def _tokenize(q):
    pos, out = 0, []
    q = q.strip()
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            raise _invalid("q", "Invalid Value")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        elif m.group("paren"):
            out.append(("paren", m.group("paren")))
        else:
            out.append(("word", m.group("word")))
        while pos < len(q) and q[pos].isspace():
            pos += 1
    return out


def parse_q(q):
    """Parse a Drive ``q`` into a predicate over file dicts (see ``_compare``)."""
    tokens = _tokenize(q)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else (None, None)

    def take():
        nonlocal pos
        tok = peek()
        if tok[0] is None:
            raise _invalid("q")
        pos += 1
        return tok

    def expr():
        terms = [term()]
        while peek() == ("word", "or"):
            take()
            terms.append(term())
        return lambda f: any(t(f) for t in terms)

    def term():
        factors = [factor()]
        while peek() == ("word", "and"):
            take()
            factors.append(factor())
        return lambda f: all(x(f) for x in factors)

    def factor():
        kind, value = peek()
        if (kind, value) == ("word", "not"):
            take()
            inner = factor()
            return lambda f: not inner(f)
        if (kind, value) == ("paren", "("):
            take()
            inner = expr()
            if take() != ("paren", ")"):
                raise _invalid("q")
            return inner
        if kind == "str":
            take()
            if take() != ("word", "in"):
                raise _invalid("q")
            field = take()
            if field not in (("word", "parents"), ("word", "owners"), ("word", "writers"),
                             ("word", "readers")):
                raise _invalid("q")
            if field[1] != "parents":
                return lambda f: True
            return lambda f, v=value: v in f["_parents_q"]
        if kind == "word":
            take()
            field = value
            op_kind, op = take()
            if op_kind == "word" and op == "contains":
                op = "contains"
            elif op_kind != "op":
                raise _invalid("q")
            vkind, operand = take()
            if vkind == "word" and operand in ("true", "false"):
                operand = operand == "true"
            elif vkind != "str":
                raise _invalid("q")
            if field not in ("name", "mimeType", "trashed", "starred", "modifiedTime",
                             "createdTime", "fullText", "sharedWithMe", "viewedByMeTime"):
                raise _invalid("q")
            return lambda f: _compare(f, field, op, operand)
        raise _invalid("q")

    predicate = expr()
    if pos != len(tokens):
        raise _invalid("q")
    return predicate


def _compare(f, field, op, operand):
    if field == "fullText":
        return str(operand).lower() in (f["name"] + " " + f.get("_text", "")).lower()
    value = {"starred": False, "sharedWithMe": False}.get(field, f.get(field))
    if op == "contains":
        return isinstance(value, str) and str(operand).lower() in value.lower()
    if op == "=":
        return value == operand
    if op == "!=":
        return value != operand
    if value is None:
        return False
    return {"<": value < operand, "<=": value <= operand, ">": value > operand,
            ">=": value >= operand}[op]


# -- state -----------------------------------------------------------------------------------
class DUser:
    """A Google account: its My Drive (``root_id``) and, for a Google Workspace account, its
    ``domain`` (None: a consumer account such as ...@gmail.com)."""

    def __init__(self, email, display_name, root_id, domain=None):
        self.email = email
        self.display_name = display_name
        self.id = "%020d" % secrets.randbelow(10 ** 20)  # the permissionId
        self.root_id = root_id
        self.domain = domain

    def json(self, me=False):
        return {"kind": "drive#user", "displayName": self.display_name,
                "emailAddress": self.email, "me": me, "permissionId": self.id}


class DFile:
    def __init__(self, file_id, name, mime_type, parents, content=b"", drive_id=None,
                 owner=None):
        self.id = file_id
        #: the owning DUser's id (My Drive items; None on a shared drive)
        self.owner = owner
        #: permission id -> permission resource, besides the owner's
        self.permissions = {}
        self.name = name
        self.mime_type = mime_type
        self.parents = list(parents)
        self.content = content
        self.drive_id = drive_id
        self.created = self.modified = time.time()
        self.version = 1
        self.trashed = False
        self.explicitly_trashed = False
        self.removed = False
        self.seq = 0
        self.description = None
        self.properties = {}
        self.app_properties = {}
        self.text = ""  # content of Google-native documents (for export)

    @property
    def is_folder(self):
        return self.mime_type == FOLDER

    @property
    def is_native(self):
        return self.mime_type.startswith("application/vnd.google-apps.")


class ResumableSession:
    def __init__(self, sid, metadata, query, file_id, content_type, total, user):
        self.id = sid
        self.user = user  # the account that started it
        self.metadata = metadata
        self.query = query
        self.file_id = file_id  # files.update with media
        self.content_type = content_type
        self.total = total
        self.data = bytearray()
        self.done = None
        # Drive keeps a resumable session URI for about a week
        self.expires = time.time() + SESSION_LIFETIME


class DriveEmulator(Emulator):
    """In-memory Google Drive v3 (files, shared drives, changes) + Google OAuth 2.0."""

    name = "gdrive"

    def __init__(self, host="127.0.0.1", port=0, latency=0.0,
                 client_id="gdrive-client-id.apps.googleusercontent.com",
                 client_secret="gdrive-client-secret", access_token_lifetime=3599,
                 email=None, display_name="Test User", workspace_domain=None):
        super().__init__(host, port, latency)
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_lifetime = access_token_lifetime
        self.approve = True
        #: False: the code exchange gives no refresh token, as Google does for an account
        #: that consented before when the consent screen was not shown again
        self.issue_refresh_tokens = True
        self.quota_limit = 15 * 1024 ** 3  # bytes, My Drive (None: unlimited)
        self.default_page_size = 100
        self.upload_chunk_sizes = []
        self._chunk_requests = 0
        self._chunk_faults = {}  # chunk request number -> (status, reason, message)
        self.report_deleted_descendants = True
        self._codes = {}
        self._access_tokens = {}
        self._refresh_tokens = {}
        self._files = {}
        self._drives = {}  # shared drives: id -> {"id", "name", "created"}
        self._sessions = {}
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._min_page_token = 1
        self._list_epoch = 1
        self._users = {}  # permissionId -> DUser
        #: the account the emulator's first consent is given by (``signed_in``: the account
        #: the browser is logged in to, for the consent page)
        self.default_user = self.signed_in = self.add_user(
            email, display_name, workspace_domain=workspace_domain)
        self.root_id = self.default_user.root_id
        self._me = self.default_user  # the account of the request being handled

    # -- setup / inspection helpers --------------------------------------------------------
    @property
    def user(self):
        """The ``drive#user`` resource of the default account."""
        return self.default_user.json(me=True)

    def add_user(self, email=None, display_name=None, workspace_domain=None):
        """Another Google account with its own, empty My Drive. ``workspace_domain``: a
        Google Workspace account of that domain (its e-mail is in it); None: a consumer
        account (...@gmail.com)."""
        with self.lock:
            tag = secrets.token_hex(3)
            if email is None:
                email = "user.%s@%s" % (tag, workspace_domain or "gmail.com")
            elif workspace_domain and not email.endswith("@" + workspace_domain):
                raise ValueError("a Workspace account's e-mail is in its domain")
            root = DFile(_new_id("0A") + "Uk9PVA", "My Drive", FOLDER, [])
            user = DUser(email, display_name or "User %s" % tag, root.id,
                         domain=workspace_domain)
            root.owner = user.id
            self._files[root.id] = root
            self._users[user.id] = user
            return user

    def user_of(self, email):
        with self.lock:
            return next((u for u in self._users.values() if u.email == email), None)

    def add_shared_drive(self, name, members=None):
        """Create a shared drive (members: DUsers, the default account if None); its id is
        also the id of its root folder."""
        with self.lock:
            drive_id = _new_id("0A") + "Uk9PVA"
            self._drives[drive_id] = {"id": drive_id, "name": name, "created": time.time(),
                                      "members": {u.id for u in members or
                                                  [self.default_user]}}
            root = DFile(drive_id, name, FOLDER, [], drive_id=drive_id)
            self._files[drive_id] = root
            return drive_id

    def add_folder(self, name, parent=None):
        with self.lock:
            return self._create(name, FOLDER, parent or self.root_id).id

    def add_file(self, name, data=b"", parent=None, mime_type="application/octet-stream"):
        with self.lock:
            return self._create(name, mime_type, parent or self.root_id, bytes(data)).id

    def add_google_doc(self, name, text="", parent=None, mime_type=GOOGLE_DOC):
        """A Google-native document (downloadable only through files.export)."""
        with self.lock:
            f = self._create(name, mime_type, parent or self.root_id)
            f.text = text
            return f.id

    def item(self, file_id):
        """Full resource (``fields=*``) of a file, or None if permanently deleted/unknown."""
        with self.lock:
            f = self._files.get(file_id)
            return None if f is None or f.removed else self._file_json(f)

    def content(self, file_id):
        with self.lock:
            return bytes(self._files[file_id].content)

    def tree(self, root=None, include_trashed=False):
        """``{"/path": bytes | None}`` below ``root`` (My Drive by default; None: folders).

        Drive allows duplicate names: duplicates get a `` [id]`` suffix."""
        with self.lock:
            out = {}

            def walk(folder_id, prefix):
                kids = sorted(self._children(folder_id, include_trashed),
                              key=lambda f: (f.name, f.created))
                names = [k.name for k in kids]
                for kid in kids:
                    name = kid.name if names.count(kid.name) == 1 else \
                        "%s [%s]" % (kid.name, kid.id)
                    path = prefix + "/" + name
                    if kid.is_folder:
                        out[path] = None
                        walk(kid.id, path)
                    else:
                        out[path] = kid.text.encode() if kid.is_native else bytes(kid.content)

            walk(root or self.root_id, "")
            return out

    def find(self, name, parent=None):
        """Ids of the live files named ``name`` in ``parent`` (several: Drive allows it)."""
        with self.lock:
            return [f.id for f in self._children(parent or self.root_id) if f.name == name]

    def rename(self, file_id, name):
        with self.lock:
            f = self._files[file_id]
            f.name = name
            self._changed(f)

    def move(self, file_id, new_parent):
        with self.lock:
            f = self._files[file_id]
            f.parents = [new_parent]
            self._changed(f)

    def trash(self, file_id):
        with self.lock:
            self._trash(self._files[file_id], True)

    def delete(self, file_id):
        with self.lock:
            self._delete(self._files[file_id])

    def used(self, user=None):
        """Bytes of the My Drive files ``user`` (the default account) owns."""
        owner = (user or self.default_user).id
        with self.lock:
            return sum(len(f.content) for f in self._files.values()
                       if not f.removed and f.drive_id is None and f.owner == owner)

    def share(self, file_id, kind, role="reader", domain=None, email=None,
              discoverable=False):
        """What a person does in Drive's Share dialog: a ``kind`` (anyone, domain, user)
        permission on the file; returns its id."""
        with self.lock:
            f = self._files[file_id]
            perm = {"kind": "drive#permission", "type": kind, "role": role}
            if kind == "anyone":
                perm.update(id="anyone" if discoverable else "anyoneWithLink",
                            allowFileDiscovery=discoverable)
            elif kind == "domain":
                perm.update(id=_domain_permission_id(domain), domain=domain,
                            displayName=domain, allowFileDiscovery=discoverable)
            else:
                grantee = self.user_of(email)
                perm.update(id=grantee.id if grantee else _new_id("0"), emailAddress=email)
            f.permissions[perm["id"]] = perm
            self._shared_changed(f)
            return perm["id"]

    def can_open(self, file_id, user):
        """Does the link of the file open for ``user`` (a DUser)?"""
        with self.lock:
            f = self._files.get(file_id)
            return bool(f and not f.removed and not f.trashed and self._access(f, user))

    def permissions(self, file_id):
        """The sharing permissions of a file (the owner's left out)."""
        with self.lock:
            return [dict(p) for p in self._files[file_id].permissions.values()]

    # -- token helpers ---------------------------------------------------------------------
    def issue_tokens(self, scope="https://www.googleapis.com/auth/drive", user=None):
        """Tokens of a consent given by ``user`` (the default account)."""
        with self.lock:
            return self._mint(scope, offline=True, user=user or self.default_user)

    def expire_access_tokens(self):
        with self.lock:
            for info in self._access_tokens.values():
                info["expires"] = 0

    def expire_upload_sessions(self):
        """Every resumable session opened so far is past its lifetime (404 from now on)."""
        with self.lock:
            for session in self._sessions.values():
                session.expires = 0

    def revoke_refresh_tokens(self, token=None):
        with self.lock:
            for rt, info in self._refresh_tokens.items():
                if token is None or rt == token:
                    info["revoked"] = True

    def invalidate_page_tokens(self):
        """Change and list page tokens issued so far answer 400 invalid (pageToken)."""
        with self.lock:
            # skip one sequence number: every token handed out so far (at most
            # ``_last_seq + 1``) falls below the new minimum, new ones start at it
            self._last_seq = next(self._seq)
            self._min_page_token = self._last_seq + 1
            self._list_epoch += 1

    # -- fault helpers ---------------------------------------------------------------------
    def fail(self, route, status, reason, message=None, count=1, domain="global",
             headers=None):
        resp = drive_error(status, reason, message or reason, domain=domain, headers=headers)
        self.inject(route, Fault("status", count=count, status=status, body=resp.body,
                                 headers=resp.headers))

    def rate_limit(self, route, status=429, count=1, reason=None, retry_after=None):
        """429 userRateLimitExceeded (default) or 403 rateLimitExceeded/userRateLimitExceeded."""
        reason = reason or ("userRateLimitExceeded" if status == 429 else "rateLimitExceeded")
        message = {"userRateLimitExceeded": "User rate limit exceeded.",
                   "rateLimitExceeded": "Rate limit exceeded."}.get(reason, reason)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        self.fail(route, status, reason, message, count, domain="usageLimits",
                  headers=headers)

    def server_error(self, route, status=503, count=1):
        reason = "backendError" if status != 500 else "internalError"
        self.fail(route, status, reason, "Backend Error" if status != 500
                  else "Internal Error", count)

    def storage_quota_exceeded(self, route="files.upload", count=1):
        self.fail(route, 403, "storageQuotaExceeded", "The user's Drive storage quota has "
                  "been exceeded.", count, domain="usageLimits")

    def not_found(self, route, file_id="unknown", count=1):
        self.fail(route, 404, "notFound", "File not found: %s." % file_id, count)

    def fail_chunk(self, number, status, reason, message=None):
        """The ``number``-th resumable chunk request from now (1: the next one; status
        queries count too) is answered with that error instead of being stored."""
        with self.lock:
            self._chunk_faults[self._chunk_requests + number] = (status, reason,
                                                                 message or reason)

    def _take_fault(self, route):
        if route == "upload_chunk":
            with self.lock:
                self._chunk_requests += 1
                planned = self._chunk_faults.pop(self._chunk_requests, None)
            if planned:
                status, reason, message = planned
                response = drive_error(status, reason, message, domain="usageLimits"
                                       if status in (403, 429) else "global")
                return Fault("status", status=status, body=response.body,
                             headers=response.headers)
        return super()._take_fault(route)

    def drop_after_apply(self, route, count=1):
        self.inject(route, Fault("drop_after_apply", count=count))

    def timeout(self, route, delay=1.0, count=1):
        self.inject(route, Fault("timeout", count=count, delay=delay))

    def client_config(self, redirect_uri="http://localhost/callback"):
        """A ``{"web": {...}}`` client config pointing at this emulator's own http URLs."""
        return {"web": {"client_id": self.client_id, "client_secret": self.client_secret,
                        "auth_uri": self.base_url + "/accounts/o/oauth2/auth",
                        "token_uri": self.base_url + "/oauth2/token",
                        "redirect_uris": [redirect_uri]}}

    # -- internals -------------------------------------------------------------------------
    def _changed(self, f, content=False):
        f.modified = time.time()
        f.version += 1
        f.seq = next(self._seq)
        self._last_seq = f.seq

    def _create(self, name, mime_type, parent_id, content=b"", file_id=None, owner=None):
        """A new item; on My Drive owned by ``owner`` (a person's own: the parent's owner)."""
        parent = self._files.get(parent_id)
        drive_id = parent.drive_id if parent else None
        if drive_id:
            owner = None
        elif owner is None:
            owner = parent.owner if parent else self.default_user.id
        f = DFile(file_id or _new_id(), name, mime_type, [parent_id], content, drive_id,
                  owner=owner)
        self._files[f.id] = f
        f.seq = next(self._seq)
        self._last_seq = f.seq
        return f

    def _children(self, folder_id, include_trashed=False):
        return [f for f in self._files.values() if folder_id in f.parents and not f.removed
                and (include_trashed or not f.trashed)]

    def _descendants(self, f):
        out, todo = [], [f]
        while todo:
            node = todo.pop()
            for kid in self._children(node.id, include_trashed=True):
                out.append(kid)
                todo.append(kid)
        return out

    def _trash(self, f, trashed):
        f.trashed = trashed
        f.explicitly_trashed = trashed
        for kid in self._descendants(f):
            if not kid.explicitly_trashed:
                kid.trashed = trashed
        self._changed(f)

    def _delete(self, f):
        for kid in self._descendants(f):
            kid.removed = True
            if self.report_deleted_descendants:
                self._changed(kid)
        f.removed = True
        self._changed(f)

    def _is_root(self, f):
        return f.id in self._drives or (not f.parents and f.owner in self._users
                                        and self._users[f.owner].root_id == f.id)

    def _grants(self, f, user):
        """Does a permission of ``f`` or of a folder above it reach ``user``? ``"listed"``
        when it is shared with the account itself, ``"link"`` when only through a link
        (anyone, or the account's domain), None otherwise."""
        best, node, seen = None, f, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            for perm in node.permissions.values():
                if perm["type"] == "user" and perm.get("emailAddress") == user.email:
                    return "listed"
                if perm["type"] == "anyone" or (perm["type"] == "domain" and user.domain
                                                and perm.get("domain") == user.domain):
                    best = "link"
            node = self._files.get(node.parents[0]) if node.parents else None
        return best

    def _access(self, f, user=None):
        """How ``user`` (the request's account) reaches ``f``: ``"owner"``, ``"member"`` (of
        its shared drive), ``"listed"``, ``"link"`` or None (Drive answers 404)."""
        user = user or self._me
        if f.drive_id:
            drive = self._drives.get(f.drive_id)
            if drive and user.id in drive["members"]:
                return "member"
        elif f.owner == user.id:
            return "owner"
        return self._grants(f, user)

    def _is_descendant(self, f, ancestor_id):
        todo, seen = [f], set()
        while todo:
            node = todo.pop()
            if node.id == ancestor_id:
                return True
            seen.add(node.id)
            todo.extend(self._files[p] for p in node.parents
                        if p in self._files and p not in seen)
        return False

    def _get(self, file_id, query, allow_trashed=True):
        if file_id == "root":
            file_id = self._me.root_id
        f = self._files.get(file_id)
        if f is None or f.removed or self._access(f) is None:
            raise _not_found(file_id)
        if f.drive_id and not _flag(query, "supportsAllDrives", "supportsTeamDrives"):
            raise _not_found(file_id)
        return f

    def _file_json(self, f):
        data = {"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime_type,
                "starred": False, "trashed": f.trashed,
                "explicitlyTrashed": f.explicitly_trashed,
                "parents": list(f.parents), "version": str(f.version),
                "createdTime": _rfc3339(f.created), "modifiedTime": _rfc3339(f.modified),
                "viewedByMeTime": _rfc3339(f.modified),
                "webViewLink": self._web_view_link(f),
                "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/" +
                f.mime_type,
                "spaces": ["drive"],
                "capabilities": {"canEdit": True, "canDelete": True, "canTrash": True,
                                 "canRename": True, "canAddChildren": f.is_folder,
                                 "canDownload": True},
                "properties": dict(f.properties), "appProperties": dict(f.app_properties)}
        if f.description is not None:
            data["description"] = f.description
        if not f.parents:
            del data["parents"]
        if f.drive_id:
            data["driveId"] = f.drive_id
        else:
            owner = self._users[f.owner]
            data["owners"] = [owner.json(me=owner is self._me)]
            data["ownedByMe"] = owner is self._me
        data["shared"] = bool(f.permissions)
        data["permissionIds"] = ([f.owner] if f.owner else []) + list(f.permissions)
        if not f.is_folder and not f.is_native:
            data.update({"size": str(len(f.content)),
                         "quotaBytesUsed": str(len(f.content)),
                         "md5Checksum": hashlib.md5(f.content).hexdigest(),
                         "sha1Checksum": hashlib.sha1(f.content).hexdigest(),
                         "sha256Checksum": hashlib.sha256(f.content).hexdigest(),
                         "headRevisionId": "0B%s%d" % (f.id[:8], f.version),
                         "webContentLink": "https://drive.google.com/uc?id=%s&export=download"
                         % f.id,
                         "originalFilename": f.name,
                         "fileExtension": f.name.rpartition(".")[2] if "." in f.name else "",
                         "fullFileExtension": f.name.partition(".")[2]})
        else:
            data["quotaBytesUsed"] = "0"
        return data

    @staticmethod
    def _web_view_link(f):
        if f.is_folder:
            return "https://drive.google.com/drive/folders/%s" % f.id
        if f.mime_type == GOOGLE_DOC:
            return "https://docs.google.com/document/d/%s/edit?usp=drivesdk" % f.id
        if f.mime_type == GOOGLE_SHEET:
            return "https://docs.google.com/spreadsheets/d/%s/edit?usp=drivesdk" % f.id
        return "https://drive.google.com/file/d/%s/view?usp=drivesdk" % f.id

    def _render_file(self, f, query, default=DEFAULT_FILE_FIELDS):
        return apply_fields(self._file_json(f), parse_fields(query.get("fields") or default))

    def _check_quota(self, f_drive_id, extra, replacing=None, owner=None):
        if f_drive_id or self.quota_limit is None:
            return
        user = self._users.get(replacing.owner if replacing else owner) or self._me
        used = self.used(user) - (len(replacing.content) if replacing else 0)
        if used + extra > self.quota_limit:
            raise DriveHTTPError(403, "storageQuotaExceeded", "The user's Drive storage "
                                 "quota has been exceeded.", domain="usageLimits")

    # -- routing ---------------------------------------------------------------------------
    @staticmethod
    def _split(path):
        """(host-prefix, rest) with the /www, /oauth2, /accounts prefix removed."""
        for prefix in ("/www", "/oauth2", "/accounts"):
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, path[len(prefix):]
        return "", path

    def route_of(self, request):
        _, path = self._split(request.path)
        method = request.method
        if path in ("/o/oauth2/auth", "/o/oauth2/v2/auth"):
            return "authorize"
        if path in ("/token", "/o/oauth2/token"):
            return "token"
        if path in ("/revoke", "/o/oauth2/revoke"):
            return "revoke"
        if path.startswith("/upload/drive/v3/files"):
            if "upload_id" in request.query:
                return "upload_chunk"
            return "files.upload"
        if path == "/batch/drive/v3":
            return "batch" if method == "POST" else "unknown"
        if not path.startswith("/drive/v3/"):
            return "unknown"
        rest = path[len("/drive/v3/"):].strip("/")
        parts = rest.split("/")
        if parts[0] == "about":
            return "about.get"
        if parts[0] == "changes":
            return "changes.getStartPageToken" if rest == "changes/startPageToken" \
                else "changes.list"
        if parts[0] == "drives":
            if len(parts) == 1:
                return "drives.create" if method == "POST" else "drives.list"
            return "drives.get"
        if parts[0] == "files":
            if len(parts) == 1:
                return "files.create" if method == "POST" else "files.list"
            if parts[1] == "trash":
                return "files.emptyTrash"
            if len(parts) >= 3 and parts[2] == "permissions":
                if len(parts) == 3:
                    return "permissions.create" if method == "POST" else "permissions.list"
                return {"GET": "permissions.get", "DELETE": "permissions.delete",
                        "PATCH": "permissions.update"}.get(method, "unknown")
            if len(parts) == 3 and parts[2] == "export":
                return "files.export"
            if method == "GET":
                return "files.download" if request.query.get("alt") == "media" \
                    else "files.get"
            if method == "PATCH":
                return "files.update"
            if method == "DELETE":
                return "files.delete"
        return "unknown"

    def handle(self, request):
        with self.lock:
            try:
                route = request.route
                if route == "authorize":
                    return self._authorize(request)
                if route == "token":
                    return self._token(request)
                if route == "revoke":
                    return self._revoke(request)
                if route == "unknown":
                    return drive_error(404, "notFound", "Not Found")
                if route == "batch":  # each call is authorized on its own
                    return self._batch(request)
                denied = self._check_bearer(request)
                if denied:
                    return denied
                return self._route(request)
            except DriveHTTPError as exc:
                return exc.response
            finally:
                self._me = self.default_user

    def _route(self, request):
        try:
            return getattr(self, "_r_" + request.route.replace(".", "_"))(request)
        except DriveHTTPError as exc:
            return exc.response

    # -- OAuth -----------------------------------------------------------------------------
    def _authorize(self, request):
        q = request.query
        redirect_uri = q.get("redirect_uri")
        if q.get("client_id") != self.client_id or not redirect_uri:
            return Response(400, b"Error 401: invalid_client", {"Content-Type": "text/html"})
        sep = "&" if "?" in redirect_uri else "?"
        params = {}
        if not self.approve:
            params["error"] = "access_denied"
        elif q.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        else:
            code = "4/0A" + _b64url(secrets.token_bytes(32))
            self._codes[code] = {"redirect_uri": redirect_uri, "scope": q.get("scope", ""),
                                 "challenge": q.get("code_challenge"),
                                 "method": q.get("code_challenge_method", "plain"),
                                 "offline": q.get("access_type") == "offline",
                                 # the account signed in to the browser gives the consent
                                 "user": (self.user_of(q.get("login_hint") or "")
                                          or self.signed_in),
                                 "expires": time.time() + 600}
            params["code"] = code
            params["scope"] = q.get("scope", "")
        if "state" in q:
            params = dict({"state": q["state"]}, **params)
        return Response(302, b"", {"Location": redirect_uri + sep + urlencode(params)})

    @staticmethod
    def _token_error(error, description, status=400):
        return Response.json({"error": error, "error_description": description}, status)

    def _token(self, request):
        if request.method != "POST":
            return self._token_error("invalid_request", "Bad Request")
        form = {k: v[0] for k, v in parse_qs(request.body.decode(),
                                              keep_blank_values=True).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.header("authorization", "")
        if auth.lower().startswith("basic "):
            raw = base64.b64decode(auth.split(None, 1)[1]).decode()
            client_id, _, secret = raw.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        if client_id != self.client_id or secret != self.client_secret:
            return self._token_error("invalid_client", "Unauthorized", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            info = self._codes.pop(form.get("code", ""), None)
            if info is None or info["expires"] < time.time():
                return self._token_error("invalid_grant", "Malformed auth code.")
            if form.get("redirect_uri") != info["redirect_uri"]:
                return self._token_error("redirect_uri_mismatch", "Bad Request")
            if info["challenge"]:
                verifier = form.get("code_verifier")
                if not verifier:
                    return self._token_error("invalid_request", "code_verifier or verifier "
                                             "is not needed.")
                computed = _b64url(hashlib.sha256(verifier.encode()).digest()) \
                    if info["method"] == "S256" else verifier
                if computed != info["challenge"]:
                    return self._token_error("invalid_grant", "Invalid code verifier.")
            return Response.json(self._mint(info["scope"], offline=info["offline"]
                                            and self.issue_refresh_tokens, user=info["user"]))
        if grant == "refresh_token":
            info = self._refresh_tokens.get(form.get("refresh_token", ""))
            if info is None or info["revoked"]:
                return self._token_error("invalid_grant", "Token has been expired or "
                                         "revoked.")
            result = self._mint(info["scope"], offline=False, user=info["user"])
            return Response.json(result)
        return self._token_error("unsupported_grant_type", "Invalid grant_type: %s" % grant)

    def _mint(self, scope, offline, user):
        access = "ya29." + _b64url(secrets.token_bytes(48))
        self._access_tokens[access] = {"expires": time.time() + self.access_token_lifetime,
                                       "scope": scope, "user": user}
        result = {"access_token": access, "expires_in": self.access_token_lifetime,
                  "scope": scope, "token_type": "Bearer"}
        if offline:
            refresh = "1//0" + _b64url(secrets.token_bytes(48))
            self._refresh_tokens[refresh] = {"scope": scope, "revoked": False, "user": user}
            result["refresh_token"] = refresh
        return result

    def _revoke(self, request):
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        token = request.query.get("token") or form.get("token")
        if token in self._refresh_tokens:
            self._refresh_tokens[token]["revoked"] = True
        elif token in self._access_tokens:
            self._access_tokens[token]["expires"] = 0
        else:
            return self._token_error("invalid_token", "Token expired or revoked")
        return Response.json({})

    def _check_bearer(self, request):
        auth = request.header("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        info = self._access_tokens.get(token) if token else None
        if info is None or info["expires"] <= time.time():
            if token is None:
                message = ("Request is missing required authentication credential. Expected "
                           "OAuth 2 access token, login cookie or other valid authentication "
                           "credential.")
                reason = "required"
            else:
                message = ("Request had invalid authentication credentials. Expected OAuth 2 "
                           "access token, login cookie or other valid authentication "
                           "credential.")
                reason = "authError"
            resp = drive_error(401, reason, message, location="Authorization",
                               location_type="header",
                               headers={"WWW-Authenticate": 'Bearer realm="https://accounts.'
                                        'google.com/", error="invalid_token"'})
            body = json.loads(resp.body)
            body["error"]["status"] = "UNAUTHENTICATED"
            resp.body = json.dumps(body).encode()
            return resp
        self._me = info["user"]
        return None

    # -- Drive routes ----------------------------------------------------------------------
    def _file_id_of(self, request):
        _, path = self._split(request.path)
        for base in ("/upload/drive/v3/files/", "/drive/v3/files/"):
            if path.startswith(base):
                return unquote(path[len(base):].split("/")[0])
        return None

    def _r_about_get(self, request):
        used = self.used(self._me)
        data = {"kind": "drive#about", "user": self._me.json(me=True),
                "storageQuota": {"usage": str(used), "usageInDrive": str(used),
                                 "usageInDriveTrash": "0"}}
        if self.quota_limit is not None:
            data["storageQuota"]["limit"] = str(self.quota_limit)
        if not request.query.get("fields"):
            raise DriveHTTPError(400, "required", "The 'fields' parameter is required for "
                                 "this method.", location="fields")
        return Response.json(apply_fields(data, parse_fields(request.query["fields"])))

    def _parent_for_create(self, metadata, query):
        parents = metadata.get("parents") or [self._me.root_id]
        if len(parents) != 1:
            raise DriveHTTPError(403, "cannotAddParent", "A shared drive item must have "
                                 "exactly one parent.")
        parent_id = self._me.root_id if parents[0] == "root" else parents[0]
        parent = self._get(parent_id, query)
        if not parent.is_folder:
            raise DriveHTTPError(400, "invalid", "The specified parent is not a folder.",
                                 location="parents")
        self._check_writer(parent)
        return parent

    def _apply_metadata(self, f, metadata):
        if "description" in metadata:
            f.description = metadata["description"]
        for key, attr in (("properties", "properties"), ("appProperties", "app_properties")):
            for k, v in (metadata.get(key) or {}).items():
                if v is None:
                    getattr(f, attr).pop(k, None)
                else:
                    getattr(f, attr)[k] = str(v)

    def _new_file(self, metadata, query, content=None, content_type=None):
        parent = self._parent_for_create(metadata, query)
        mime = metadata.get("mimeType") or content_type or (
            "application/octet-stream" if content is not None else
            "application/octet-stream")
        if content is not None and mime == FOLDER:
            raise DriveHTTPError(400, "badContent", "A folder cannot have content.")
        data = content or b""
        self._check_quota(parent.drive_id, len(data), owner=self._me.id)
        f = self._create(metadata.get("name") or "Untitled", mime, parent.id, data,
                         file_id=metadata.get("id"), owner=self._me.id)
        if f.is_native:
            f.text = data.decode("utf-8", "replace")
            f.content = b""
        self._apply_metadata(f, metadata)
        return f

    def _r_files_create(self, request):
        metadata = request.json() or {}
        f = self._new_file(metadata, request.query)
        return Response.json(self._render_file(f, request.query))

    def _r_files_upload(self, request):
        upload_type = request.query.get("uploadType")
        file_id = self._file_id_of(request)
        existing = self._get(file_id, request.query) if file_id else None
        if request.method == "POST" and existing is not None:
            raise DriveHTTPError(405, "methodNotAllowed", "Method not allowed")
        if upload_type == "resumable":
            metadata = request.json() if request.body else {}
            total = request.header("x-upload-content-length")
            sid = _b64url(secrets.token_bytes(24))
            self._sessions[sid] = ResumableSession(
                sid, metadata or {}, dict(request.query), file_id,
                request.header("x-upload-content-type"), int(total) if total else None,
                self._me)
            prefix, path = self._split(request.path)
            query = dict(request.query, upload_id=sid)
            if prefix == "/www":
                location = WWW + path + "?" + urlencode(query)
            else:
                location = "http://%s%s?%s" % (request.header("host"), request.path,
                                                urlencode(query))
            return Response(200, b"", {"Location": location, "X-GUploader-UploadID": sid})
        if upload_type == "multipart":
            metadata, content, content_type = self._parse_multipart(request)
        elif upload_type == "media":
            metadata, content = {}, request.body
            content_type = request.header("content-type")
        else:
            raise _invalid("uploadType", "Invalid upload type: %s" % upload_type)
        if existing is not None:
            return self._update_file(request, existing, metadata, content, content_type)
        f = self._new_file(metadata, request.query, content, content_type)
        return Response.json(self._render_file(f, request.query))

    @staticmethod
    def _parse_multipart(request):
        ctype = request.header("content-type", "")
        match = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.startswith("multipart/related") or not match:
            raise DriveHTTPError(400, "badContent", "Bad multipart request")
        boundary = b"--" + match.group(1).encode()
        parts = []
        for chunk in request.body.split(boundary)[1:]:
            if chunk.startswith(b"--"):
                break
            if chunk.startswith(b"\r\n"):
                chunk = chunk[2:]
            elif chunk.startswith(b"\n"):
                chunk = chunk[1:]
            crlf, lf = chunk.find(b"\r\n\r\n"), chunk.find(b"\n\n")
            # the line ending the client uses for headers also precedes the next boundary;
            # strip exactly that, or a body ending in a stray \r would lose a byte
            if crlf >= 0 and (lf < 0 or crlf < lf):
                head, body, newline = chunk[:crlf], chunk[crlf + 4:], b"\r\n"
            else:
                head, body, newline = chunk[:lf], chunk[lf + 2:], b"\n"
            if body.endswith(newline):
                body = body[:-len(newline)]
            headers = {}
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            parts.append((headers, body))
        if len(parts) != 2:
            raise DriveHTTPError(400, "badContent", "Multipart upload needs 2 parts")
        metadata = json.loads(parts[0][1] or b"{}")
        return metadata, parts[1][1], parts[1][0].get("content-type")

    def _r_upload_chunk(self, request):
        sid = request.query.get("upload_id")
        session = self._sessions.get(sid)
        if session is None or session.expires < time.time():
            raise DriveHTTPError(404, "notFound", "Upload session not found or expired.")
        if session.done is not None:
            return Response.json(session.done)
        crange = request.header("content-range", "")
        m = re.match(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$", crange.strip()) if crange else None
        body = request.body
        if crange and not m:
            raise DriveHTTPError(400, "badRequest", "Failed to parse Content-Range header.")
        total = session.total
        if m and m.group(3) != "*":
            total = int(m.group(3))
        if not crange:  # whole content in one PUT
            start, end, total = 0, len(body) - 1, len(body)
        elif m.group(1) is None:  # status query: bytes */total
            if total is not None and len(session.data) == total and request.body == b"":
                return self._finish_session(request, session)
            return self._incomplete(session)
        else:
            start, end = int(m.group(1)), int(m.group(2))
        if start != len(session.data) or end - start + 1 != len(body):
            raise DriveHTTPError(400, "badRequest", "Invalid request. The Content-Range does "
                                 "not match the uploaded data.")
        last = total is not None and end + 1 == total
        if not last and len(body) % CHUNK_UNIT:
            raise DriveHTTPError(400, "badRequest", "Invalid request. The number of bytes "
                                 "uploaded is required to be a multiple of 262144 bytes, "
                                 "except for the last request.")
        session.data.extend(body)
        session.total = total
        self.upload_chunk_sizes.append(len(body))
        if not last:
            return self._incomplete(session)
        return self._finish_session(request, session)

    @staticmethod
    def _incomplete(session):
        headers = {"X-GUploader-UploadID": session.id}
        if session.data:
            headers["Range"] = "bytes=0-%d" % (len(session.data) - 1)
        return Response(308, b"", headers)

    def _finish_session(self, request, session):
        content = bytes(session.data)
        self._me = session.user
        if session.file_id:
            existing = self._get(session.file_id, session.query)
            resp = self._update_file(Request("PATCH", request.path, session.query, {}, b""),
                                     existing, session.metadata, content,
                                     session.content_type)
        else:
            f = self._new_file(session.metadata, session.query, content,
                               session.content_type)
            resp = Response.json(self._render_file(f, session.query))
        session.done = json.loads(resp.body)
        return resp

    def _r_files_get(self, request):
        f = self._get(self._file_id_of(request), request.query)
        return Response.json(self._render_file(f, request.query))

    def _r_files_download(self, request):
        f = self._get(self._file_id_of(request), request.query)
        if f.is_folder or f.is_native:
            raise DriveHTTPError(403, "fileNotDownloadable", "Only files with binary content "
                                 "can be downloaded. Use Export with Docs Editors files.",
                                 location="alt")
        data = f.content
        headers = {"Content-Type": f.mime_type}
        rng = request.header("range")
        if rng and rng.startswith("bytes="):
            start_s, _, end_s = rng[6:].partition("-")
            start = int(start_s or 0)
            if start >= len(data):
                return Response(416, b"", {"Content-Range": "bytes */%d" % len(data)})
            end = min(int(end_s), len(data) - 1) if end_s else len(data) - 1
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
            return Response(206, data[start:end + 1], headers)
        return Response(200, data, headers)

    def _r_files_export(self, request):
        f = self._get(self._file_id_of(request), request.query)
        mime = request.query.get("mimeType")
        if not mime:
            raise DriveHTTPError(400, "required", "Required parameter: mimeType",
                                 location="mimeType")
        if not f.is_native:
            raise DriveHTTPError(403, "fileNotExportable", "Export only supports Docs Editors "
                                 "files.")
        if mime not in EXPORTS.get(f.mime_type, ()):
            raise DriveHTTPError(400, "badRequest", "The requested conversion is not "
                                 "supported.", location="convertTo")
        if mime in ("text/plain", "text/csv", "text/html"):
            data = f.text.encode()
        else:
            data = b"EXPORT:" + mime.encode() + b"\n" + f.text.encode()
        return Response(200, data, {"Content-Type": mime})

    def _visible(self, f, query):
        """Is ``f`` in the corpus of a files.list / changes.list call?"""
        if f.removed or self._is_root(f) or self._access(f) in (None, "link"):
            return False  # a link-only grant does not list the file (no file discovery)
        all_drives = _flag(query, "includeItemsFromAllDrives", "includeTeamDriveItems")
        drive_id = query.get("driveId") or query.get("teamDriveId")
        corpora = query.get("corpora", "user")
        if drive_id:
            return f.drive_id == drive_id
        if f.drive_id:
            return all_drives and corpora in ("allDrives",)
        return True

    def _check_corpus(self, query):
        drive_id = query.get("driveId")
        corpora = query.get("corpora")
        if corpora == "drive" and not drive_id:
            raise DriveHTTPError(400, "invalid", "The driveId parameter must be specified "
                                 "if and only if corpora is set to drive.", location="driveId")
        if drive_id:
            if corpora not in (None, "drive"):
                raise DriveHTTPError(400, "invalid", "The driveId parameter must be "
                                     "specified if and only if corpora is set to drive.",
                                     location="driveId")
            if not (_flag(query, "includeItemsFromAllDrives")
                    and _flag(query, "supportsAllDrives")):
                raise DriveHTTPError(403, "teamDriveItemsRequired" if not _flag(
                    query, "includeItemsFromAllDrives") else "invalid",
                    "The includeItemsFromAllDrives and supportsAllDrives parameters must be "
                    "set to true when driveId is specified.",
                    location="includeItemsFromAllDrives")
            if drive_id not in self._drives or \
                    self._me.id not in self._drives[drive_id]["members"]:
                raise DriveHTTPError(404, "notFound", "Shared drive not found: %s" % drive_id,
                                     location="driveId")

    def _r_files_list(self, request):
        query = request.query
        self._check_corpus(query)
        q = query.get("q", "")
        predicate = parse_q(q) if q.strip() else (lambda f: True)
        page_size = int(query.get("pageSize") or self.default_page_size)
        if not 1 <= page_size <= 1000:
            raise _invalid("pageSize")
        offset = 0
        if query.get("pageToken"):
            try:
                epoch, offset, digest = json.loads(base64.urlsafe_b64decode(
                    query["pageToken"] + "=" * (-len(query["pageToken"]) % 4)))
                assert epoch == self._list_epoch and digest == _digest(q)
            except Exception:
                raise _invalid("pageToken")
        matches = []
        for f in self._files.values():
            if not self._visible(f, query):
                continue
            view = self._file_json(f)
            view["_parents_q"] = set(f.parents) | ({"root"} if self._me.root_id in f.parents
                                                   else set())
            view["_text"] = f.text
            if predicate(view):
                matches.append(f)
        matches = _order(matches, query.get("orderBy"))
        page = matches[offset:offset + page_size]
        body = {"kind": "drive#fileList", "incompleteSearch": False,
                "files": [self._file_json(f) for f in page]}
        if offset + page_size < len(matches):
            body["nextPageToken"] = _b64url(json.dumps(
                [self._list_epoch, offset + page_size, _digest(q)]).encode())
        fields = query.get("fields") or \
            "kind,incompleteSearch,nextPageToken,files(%s)" % DEFAULT_FILE_FIELDS
        return Response.json(apply_fields(body, parse_fields(fields)))

    def _r_files_update(self, request):
        f = self._get(self._file_id_of(request), request.query)
        metadata = request.json() if request.body else {}
        return self._update_file(request, f, metadata or {}, None, None)

    def _update_file(self, request, f, metadata, content, content_type):
        query = request.query
        if self._is_root(f):
            raise DriveHTTPError(403, "insufficientFilePermissions", "The user does not have "
                                 "sufficient permissions for this file.")
        self._check_writer(f)
        add = [p for p in (query.get("addParents") or "").split(",") if p]
        remove = [p for p in (query.get("removeParents") or "").split(",") if p]
        add = [self._me.root_id if p == "root" else p for p in add]
        remove = [self._me.root_id if p == "root" else p for p in remove]
        if "parents" in metadata:
            raise DriveHTTPError(403, "fieldNotWritable", "The resource body includes fields "
                                 "which are not directly writable.", location="parents")
        new_parents = [p for p in f.parents if p not in remove] + \
            [p for p in add if p not in f.parents]
        for pid in add:
            parent = self._get(pid, query)
            self._check_writer(parent)
            if not parent.is_folder:
                raise DriveHTTPError(400, "invalid", "The specified parent is not a folder.",
                                     location="addParents")
            if f.is_folder and self._is_descendant(parent, f.id):
                raise DriveHTTPError(400, "invalid", "A folder cannot be moved into itself "
                                     "or a descendant.", location="addParents")
            if parent.drive_id != f.drive_id:
                raise DriveHTTPError(403, "teamDrivesParentLimit" if parent.drive_id else
                                     "cannotMoveTrashedItemOutOfTeamDrive",
                                     "Moving items across drives is not supported here.")
        if f.drive_id and len(new_parents) != 1:
            raise DriveHTTPError(403, "teamDrivesParentLimit", "A shared drive item must "
                                 "have exactly one parent.")
        if not new_parents:
            new_parents = [self._me.root_id] if not f.drive_id else f.parents
        if content is not None:
            self._check_quota(f.drive_id, len(content), f)
        f.parents = new_parents
        if "name" in metadata:
            f.name = metadata["name"]
        if "mimeType" in metadata and not f.is_folder:
            f.mime_type = metadata["mimeType"]
        self._apply_metadata(f, metadata)
        if content is not None:
            if f.is_native:
                f.text = content.decode("utf-8", "replace")
            else:
                f.content = content
                if content_type and "mimeType" not in metadata:
                    f.mime_type = content_type
        if "trashed" in metadata and bool(metadata["trashed"]) != f.trashed:
            self._trash(f, bool(metadata["trashed"]))
        else:
            self._changed(f)
        return Response.json(self._render_file(f, query))

    def _r_files_delete(self, request):
        f = self._get(self._file_id_of(request), request.query)
        if self._is_root(f):
            raise DriveHTTPError(403, "insufficientFilePermissions", "The user does not have "
                                 "sufficient permissions for this file.")
        self._check_writer(f)
        self._delete(f)
        return Response(204)

    def _r_files_emptyTrash(self, request):
        for f in list(self._files.values()):
            if f.explicitly_trashed and not f.removed and f.drive_id is None \
                    and f.owner == self._me.id:
                self._delete(f)
        return Response(204)

    def _r_drives_list(self, request):
        drives = sorted((d for d in self._drives.values() if self._me.id in d["members"]),
                        key=lambda d: d["created"])
        body = {"kind": "drive#driveList",
                "drives": [self._drive_json(d) for d in drives]}
        fields = request.query.get("fields") or "kind,nextPageToken,drives(kind,id,name)"
        return Response.json(apply_fields(body, parse_fields(fields)))

    def _r_drives_get(self, request):
        _, path = self._split(request.path)
        drive_id = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        drive = self._drives.get(drive_id)
        if drive is None or self._me.id not in drive["members"]:
            raise DriveHTTPError(404, "notFound", "Shared drive not found: %s" % drive_id,
                                 location="driveId")
        return Response.json(apply_fields(self._drive_json(drive), parse_fields(
            request.query.get("fields") or "kind,id,name")))

    def _r_drives_create(self, request):
        body = request.json() or {}
        drive_id = self.add_shared_drive(body.get("name") or "Untitled", members=[self._me])
        return Response.json(apply_fields(self._drive_json(self._drives[drive_id]),
                                          parse_fields(request.query.get("fields")
                                                       or "kind,id,name")))

    @staticmethod
    def _drive_json(drive):
        return {"kind": "drive#drive", "id": drive["id"], "name": drive["name"],
                "createdTime": _rfc3339(drive["created"]), "hidden": False,
                "capabilities": {"canAddChildren": True, "canEdit": True}}

    # -- permissions -------------------------------------------------------------------------
    def _permission_file(self, request):
        """The file of a permissions route, which the request's account may share."""
        f = self._get(self._file_id_of(request), request.query)
        self._check_writer(f)
        return f

    def _check_writer(self, f):
        """The request's account may change ``f``: its owner, a member of its shared drive,
        or a writer it is shared with (a reader, or a link, may only read)."""
        access = self._access(f)
        if access in ("owner", "member"):
            return
        node, seen = f, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            if any(p["type"] == "user" and p.get("emailAddress") == self._me.email
                   and p["role"] in ("writer", "fileOrganizer", "organizer")
                   for p in node.permissions.values()):
                return
            node = self._files.get(node.parents[0]) if node.parents else None
        raise DriveHTTPError(403, "insufficientFilePermissions", "The user does not have "
                             "sufficient permissions for this file.")

    def _permission_id_of(self, request):
        _, path = self._split(request.path)
        return unquote(path.rstrip("/").rsplit("/", 1)[-1])

    def _all_permissions(self, f):
        """The owner's (or the shared drive members') permissions, then the file's own."""
        if f.drive_id:
            drive = self._drives[f.drive_id]
            implied = [{"kind": "drive#permission", "id": u.id, "type": "user",
                        "role": "organizer", "emailAddress": u.email,
                        "displayName": u.display_name, "permissionDetails": [
                            {"permissionType": "member", "role": "organizer",
                             "inherited": True, "inheritedFrom": f.drive_id}]}
                       for u in self._users.values() if u.id in drive["members"]]
        else:
            owner = self._users[f.owner]
            implied = [{"kind": "drive#permission", "id": owner.id, "type": "user",
                        "role": "owner", "emailAddress": owner.email,
                        "displayName": owner.display_name}]
        return implied + [dict(p) for p in f.permissions.values()]

    def _r_permissions_create(self, request):
        f = self._permission_file(request)
        body = request.json() or {}
        kind, role = body.get("type"), body.get("role")
        if not kind:
            raise DriveHTTPError(400, "required", "Permission type is required.",
                                 location="permission.type", location_type="other")
        if not role:
            raise DriveHTTPError(400, "required", "Permission role is required.",
                                 location="permission.role", location_type="other")
        if kind not in GRANTEE_TYPES:
            raise _invalid("permission.type", "Invalid permission type.")
        if role not in ROLES:
            raise _invalid("permission.role", "Invalid permission role.")
        if role == "owner" and not _flag(request.query, "transferOwnership"):
            raise DriveHTTPError(403, "forbidden", "The transferOwnership parameter must be "
                                 "enabled when the permission role is 'owner'.")
        if "allowFileDiscovery" in body and kind not in ("domain", "anyone"):
            raise _invalid("permission.allowFileDiscovery")
        perm = {"kind": "drive#permission", "type": kind, "role": role}
        if kind == "domain":
            domain = (body.get("domain") or "").strip().lower()
            if not domain:
                raise DriveHTTPError(400, "required", "Permission domain is required.",
                                     location="permission.domain", location_type="other")
            if domain != self._me.domain:
                # a consumer account has no domain; a Workspace account shares with its own
                raise DriveHTTPError(400, "invalid", "The specified domain is invalid or not "
                                     "applicable for the given permission type.",
                                     location="permission.domain", location_type="other")
            perm.update(id=_domain_permission_id(domain), domain=domain, displayName=domain,
                        allowFileDiscovery=bool(body.get("allowFileDiscovery", False)))
        elif kind == "anyone":
            discover = bool(body.get("allowFileDiscovery", False))
            perm.update(id="anyone" if discover else "anyoneWithLink",
                        allowFileDiscovery=discover)
        else:
            email = (body.get("emailAddress") or "").strip()
            if not email:
                raise DriveHTTPError(400, "required", "Permission emailAddress is required.",
                                     location="permission.emailAddress", location_type="other")
            grantee = self.user_of(email)
            perm.update(id=grantee.id if grantee else "%020d" % (
                int(hashlib.sha1(email.encode()).hexdigest(), 16) % 10 ** 20),
                emailAddress=email)
        if kind in ("domain", "anyone"):
            # one link grant of a kind: a new one replaces the other (Drive keeps one)
            for pid in [pid for pid, p in f.permissions.items()
                        if p["type"] == kind and pid != perm["id"]]:
                del f.permissions[pid]
        f.permissions[perm["id"]] = perm
        self._shared_changed(f)
        return Response.json(apply_fields(perm, parse_fields(
            request.query.get("fields") or DEFAULT_PERMISSION_FIELDS)))

    def _r_permissions_list(self, request):
        f = self._permission_file(request)
        body = {"kind": "drive#permissionList", "permissions": self._all_permissions(f)}
        fields = request.query.get("fields") or \
            "kind,nextPageToken,permissions(%s)" % DEFAULT_PERMISSION_FIELDS
        return Response.json(apply_fields(body, parse_fields(fields)))

    def _find_permission(self, f, request):
        pid = self._permission_id_of(request)
        perm = next((p for p in self._all_permissions(f) if p["id"] == pid), None)
        if perm is None:
            raise DriveHTTPError(404, "notFound", "Permission not found: %s." % pid,
                                 location="permissionId")
        return perm

    def _r_permissions_get(self, request):
        f = self._permission_file(request)
        return Response.json(apply_fields(self._find_permission(f, request), parse_fields(
            request.query.get("fields") or DEFAULT_PERMISSION_FIELDS)))

    def _r_permissions_update(self, request):
        f = self._permission_file(request)
        perm = self._find_permission(f, request)
        if perm["id"] not in f.permissions:
            raise DriveHTTPError(403, "cannotModifyInheritedPermission" if f.drive_id else
                                 "forbidden", "The owner's permission cannot be changed.")
        role = (request.json() or {}).get("role")
        if role:
            if role not in ROLES or role == "owner":
                raise _invalid("permission.role", "Invalid permission role.")
            f.permissions[perm["id"]]["role"] = role
        self._shared_changed(f)
        return Response.json(apply_fields(f.permissions[perm["id"]], parse_fields(
            request.query.get("fields") or DEFAULT_PERMISSION_FIELDS)))

    def _r_permissions_delete(self, request):
        f = self._permission_file(request)
        perm = self._find_permission(f, request)
        if perm["id"] not in f.permissions:
            if f.drive_id:
                raise DriveHTTPError(403, "cannotDeleteInheritedPermission", "The permission "
                                     "is inherited from the shared drive.")
            raise DriveHTTPError(403, "cannotRemoveOwner", "The owner of a file cannot be "
                                 "removed.")
        del f.permissions[perm["id"]]
        self._shared_changed(f)
        return Response(204)

    def _shared_changed(self, f):
        """Sharing is not content: the version moves and the change feed reports the
        file, its modifiedTime stays."""
        f.version += 1
        f.seq = next(self._seq)
        self._last_seq = f.seq

    # -- batch -------------------------------------------------------------------------------
    def _batch(self, request):
        """``multipart/mixed`` of ``application/http`` parts, each a Drive call answered in
        a part of the same ``Content-ID`` (prefixed ``response-``), in order. The outer
        request's Authorization applies to parts that carry none."""
        match = re.search(r'boundary="?([^";]+)"?', request.header("content-type", ""))
        if not request.header("content-type", "").startswith("multipart/mixed") or not match:
            raise DriveHTTPError(400, "badRequest", "Batch requests must be multipart/mixed.")
        delimiter = b"--" + match.group(1).encode()
        parts = []
        for chunk in request.body.split(delimiter)[1:]:
            if chunk.startswith(b"--"):
                break
            parts.append(chunk.strip(b"\r\n"))
        if len(parts) > BATCH_LIMIT:
            raise DriveHTTPError(400, "badRequest", "A batch request cannot contain more "
                                 "than %d calls." % BATCH_LIMIT)
        outer_auth = request.header("authorization")
        boundary = "batch_" + _b64url(secrets.token_bytes(12))
        out = []
        for part in parts:
            head, _, inner = part.replace(b"\r\n", b"\n").partition(b"\n\n")
            headers = _mime_headers(head)
            if headers.get("content-type", "").split(";")[0].strip() != "application/http":
                raise DriveHTTPError(400, "badRequest", "Each batch part must be "
                                     "application/http.")
            response = self._batch_call(inner, outer_auth)
            content_id = headers.get("content-id", "")
            if content_id.startswith("<"):
                content_id = "<response-" + content_id[1:]
            out.append(_http_part(content_id, response))
        body = "".join("--%s\r\n%s" % (boundary, part) for part in out) + \
            "--%s--\r\n" % boundary
        return Response(200, body.encode("utf-8"),
                        {"Content-Type": "multipart/mixed; boundary=%s" % boundary})

    def _batch_call(self, inner, outer_auth):
        """One call of a batch, as if it came alone (its own faults and counter)."""
        line, _, rest = inner.partition(b"\n")
        try:
            method, target, _version = line.decode("latin-1").split(" ", 2)
        except ValueError:
            return drive_error(400, "badRequest", "Malformed batch part.")
        head, _, body = rest.partition(b"\n\n")
        headers = _mime_headers(head)
        path, _, qs = target.partition("?")
        query = {k: v[0] for k, v in parse_qs(qs, keep_blank_values=True).items()}
        if "authorization" not in headers and outer_auth:
            headers["authorization"] = outer_auth
        sub = Request(method, "/www" + path, query, headers, body)
        sub.route = self.route_of(sub)
        self.counters[sub.route] += 1
        self._me = self.default_user
        if sub.route in ("files.upload", "upload_chunk", "files.download",
                         "files.export") or path.startswith("/upload/"):
            return drive_error(400, "badRequest", "Media upload and download are not "
                               "supported in batch requests.")
        if sub.route in ("unknown", "batch", "authorize", "token", "revoke"):
            return drive_error(404, "notFound", "Not Found")
        fault = self._take_fault(sub.route)
        if fault is not None and fault.kind == "status":
            return Response(fault.status, fault.body, dict(fault.headers))
        denied = self._check_bearer(sub)
        if denied:
            return denied
        return self._route(sub)

    # -- changes ---------------------------------------------------------------------------
    def _r_changes_getStartPageToken(self, request):
        drive_id = request.query.get("driveId")
        if drive_id and not _flag(request.query, "supportsAllDrives"):
            raise _not_found(drive_id)
        return Response.json({"kind": "drive#startPageToken",
                              "startPageToken": str(self._last_seq + 1)})

    def _r_changes_list(self, request):
        query = request.query
        token = query.get("pageToken")
        if not token:
            raise DriveHTTPError(400, "required", "Required parameter: pageToken",
                                 location="pageToken")
        try:
            start = int(token)
        except ValueError:
            raise _invalid("pageToken")
        if start < self._min_page_token or start > self._last_seq + 1:
            raise _invalid("pageToken")
        drive_id = query.get("driveId")
        if drive_id:
            if not (_flag(query, "supportsAllDrives")
                    and _flag(query, "includeItemsFromAllDrives")):
                raise DriveHTTPError(403, "teamDriveItemsRequired", "The "
                                     "includeItemsFromAllDrives and supportsAllDrives "
                                     "parameters must be set to true when driveId is "
                                     "specified.", location="includeItemsFromAllDrives")
            if drive_id not in self._drives or \
                    self._me.id not in self._drives[drive_id]["members"]:
                raise DriveHTTPError(404, "notFound", "Shared drive not found: %s" % drive_id,
                                     location="driveId")
        include_removed = query.get("includeRemoved", "true") != "false"
        page_size = int(query.get("pageSize") or self.default_page_size)
        if not 1 <= page_size <= 1000:
            raise _invalid("pageSize")
        changed = []
        for f in self._files.values():
            if f.seq < start or self._is_root(f):
                continue
            if drive_id:
                if f.drive_id != drive_id:
                    continue
            elif f.drive_id and not _flag(query, "includeItemsFromAllDrives"):
                continue
            if f.removed and not include_removed:
                continue
            mine = f.owner == self._me.id if not f.drive_id else \
                self._me.id in self._drives[f.drive_id]["members"]
            if not mine and (f.removed or self._access(f) in (None, "link")):
                continue  # another account's item, not shared with this one
            changed.append(f)
        changed.sort(key=lambda f: f.seq)
        page = changed[:page_size]
        changes = []
        for f in page:
            change = {"kind": "drive#change", "changeType": "file", "time":
                      _rfc3339(f.modified), "removed": f.removed, "fileId": f.id}
            if f.drive_id:
                change["driveId"] = f.drive_id
            if not f.removed:
                change["file"] = self._file_json(f)
            changes.append(change)
        body = {"kind": "drive#changeList", "changes": changes}
        if len(changed) > page_size:
            body["nextPageToken"] = str(page[-1].seq + 1)
        else:
            body["newStartPageToken"] = str(self._last_seq + 1)
        fields = query.get("fields") or (
            "kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,"
            "fileId,driveId,file(%s))" % DEFAULT_FILE_FIELDS)
        return Response.json(apply_fields(body, parse_fields(fields)))


#: permission roles Drive knows, and the grantee types
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
GRANTEE_TYPES = ("user", "group", "domain", "anyone")
DEFAULT_PERMISSION_FIELDS = "kind,id,type,role"
#: Drive answers a batch of more calls than this with an error
BATCH_LIMIT = 100


def _domain_permission_id(domain):
    """Drive's id of a domain grantee: a stable number ending in ``k``."""
    return "%020dk" % (int(hashlib.sha1(domain.encode()).hexdigest(), 16) % 10 ** 20)


def _flag(query, *names):
    return any(query.get(n, "").lower() == "true" for n in names)


def _mime_headers(head):
    headers = {}
    for line in head.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _http_part(content_id, response):
    """A batch answer's part: the call's status line, headers and body."""
    reason = http.client.responses.get(response.status, "")
    lines = ["Content-Type: application/http", "Content-ID: %s" % content_id, "",
             "HTTP/1.1 %d %s" % (response.status, reason)]
    headers = dict(response.headers)
    headers.setdefault("Content-Type", "application/json; charset=UTF-8")
    body = response.body.decode("utf-8", "replace")
    for name, value in headers.items():
        lines.append("%s: %s" % (name, value))
    lines.append("Content-Length: %d" % len(response.body))
    return "\r\n".join(lines) + "\r\n\r\n" + body + "\r\n"


def _digest(q):
    return hashlib.sha1(q.encode()).hexdigest()[:12]


def _order(files, order_by):
    if not order_by:
        return sorted(files, key=lambda f: f.created)
    keys = [k.strip() for k in order_by.split(",") if k.strip()]
    for key in reversed(keys):
        name, _, direction = key.partition(" ")
        getter = {"folder": lambda f: not f.is_folder,
                  "name": lambda f: f.name.lower(), "name_natural": lambda f: f.name.lower(),
                  "modifiedTime": lambda f: f.modified, "createdTime": lambda f: f.created,
                  "quotaBytesUsed": lambda f: len(f.content)}.get(name)
        if getter is None:
            raise _invalid("orderBy")
        files = sorted(files, key=getter, reverse=direction.strip() == "desc")
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description="Google Drive v3 + OAuth emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="gdrive-client-id.apps.googleusercontent.com")
    parser.add_argument("--client-secret", default="gdrive-client-secret")
    args = parser.parse_args(argv)
    emu = DriveEmulator(args.host, args.port, client_id=args.client_id,
                        client_secret=args.client_secret)
    emu.start()
    print("gdrive emulator on %s (rewrite %s -> %s/www, %s -> %s/oauth2, %s -> %s/accounts)"
          % (emu.base_url, WWW, emu.base_url, OAUTH2, emu.base_url, ACCOUNTS, emu.base_url),
          flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    main()
