"""Loopback emulator of the Dropbox HTTP API (v2), good enough for the real ``dropbox`` SDK.

Usage from a test::

    emu = DropboxEmulator().start()
    token = emu.issue_token()["access_token"]
    dbx = dropbox.Dropbox(token, session=make_session(emu.base_url), max_retries_on_rate_limit=0)

The SDK keeps its production URLs (``https://api.dropboxapi.com/2/...``); the session returned
by :func:`make_session` rewrites them to the emulator, prefixing the path with the host's role
(``/api``, ``/content``, ``/notify``, ``/www``) so that the emulator can tell the hosts apart and
refuse an RPC route called on the content host and vice versa, like the real service. Requests
without a prefix (``/2/files/upload``) are accepted too.

State is one in-memory Dropbox (one namespace, case-insensitive paths) shared by the user account
and the team members; a change log feeds ``files/list_folder/continue``.

Team routes (``auth: team`` in the API spec, e.g. ``team/members/get_info_v2``) answer only team
tokens (``issue_token(team=True)``), without ``Dropbox-API-Select-User``; a user token gets the
real service's 400 "This is a DfB team management function". The user account of the emulator is
the team admin; :meth:`DropboxEmulator.add_team_member` adds plain members.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import hashlib
import json
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

try:  # works both as ``cloud_emulators.dropbox`` and via ``python -m``
    from .common import DropConnection, Emulator, Fault, Request, Response
except ImportError:  # pragma: no cover
    from cloud_emulators.common import DropConnection, Emulator, Fault, Request, Response

__all__ = ["DropboxEmulator", "RedirectSession", "make_session", "rewrite_url", "content_hash",
           "DEFAULT_APP_KEY", "DEFAULT_APP_SECRET"]

DEFAULT_APP_KEY = "emu-app-key"
DEFAULT_APP_SECRET = "emu-app-secret"

BLOCK_SIZE = 4 * 1024 * 1024
MAX_SIMPLE_UPLOAD = 150 * 1024 * 1024

# host -> path prefix used on the loopback URL
HOST_PREFIXES = {
    "api.dropboxapi.com": "/api",
    "api.dropbox.com": "/api",
    "content.dropboxapi.com": "/content",
    "notify.dropboxapi.com": "/notify",
    "www.dropbox.com": "/www",
    "dropbox.com": "/www",
}
PREFIX_HOSTS = {"api": "api", "content": "content", "notify": "notify", "www": "www"}

PATH_PATTERN = r"(/(.|[\r\n])*)?|id:.*|(ns:[0-9]+(/.*)?)"
_PATH_RE = re.compile(r"\A(?:%s)\Z" % PATH_PATTERN, re.S)
DEFAULT_SCOPE = ("account_info.read files.content.read files.content.write "
                 "files.metadata.read files.metadata.write sharing.read sharing.write")
DISALLOWED_NAMES = {"desktop.ini", "thumbs.db", ".dropbox", ".dropbox.attr", ".dropbox.cache"}


# ------------------------------------------------------------------------------------------
# redirecting session
# ------------------------------------------------------------------------------------------
def rewrite_url(url, base_url):
    """Map ``https://<dropbox host>/path?q`` to ``<base_url>/<prefix>/path?q``; others unchanged."""
    parts = urlsplit(url)
    prefix = HOST_PREFIXES.get((parts.hostname or "").lower())
    if parts.scheme != "https" or prefix is None:
        return url
    base = urlsplit(base_url.rstrip("/"))
    return urlunsplit((base.scheme, base.netloc, base.path + prefix + parts.path, parts.query,
                       parts.fragment))


class RedirectSession(requests.Session):
    """``requests.Session`` sending the Dropbox hosts' traffic to the emulator at ``base_url``."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.trust_env = False  # no proxies / .netrc between us and the loopback emulator

    def request(self, method, url, *args, **kwargs):
        return super().request(method, rewrite_url(url, self.base_url), *args, **kwargs)


def make_session(base_url):
    """A session for ``dropbox.Dropbox(session=...)`` and ``DropboxOAuth2Flow.requests_session``."""
    return RedirectSession(base_url)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def content_hash(data: bytes) -> str:
    """Dropbox content hash: SHA-256 of the concatenated SHA-256 digests of 4 MiB blocks."""
    overall = hashlib.sha256()
    for start in range(0, len(data), BLOCK_SIZE):
        overall.update(hashlib.sha256(data[start:start + BLOCK_SIZE]).digest())
    return overall.hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _summary(error):
    """Build ``error_summary`` from a route error union (``path/not_found/..``)."""
    parts = []
    node = error
    while isinstance(node, dict) and ".tag" in node:
        tag = node[".tag"]
        parts.append(tag)
        nxt = node.get(tag)
        if not (isinstance(nxt, dict) and ".tag" in nxt):
            nxt = next((v for k, v in node.items()
                        if k != ".tag" and isinstance(v, dict) and ".tag" in v), None)
        node = nxt
    return "/".join(parts) + "/.."


class _Reply(Exception):
    """Raised inside handlers to answer immediately."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class _PathProblem(Exception):
    """A lookup/write problem; ``error`` is the LookupError/WriteError union value."""

    def __init__(self, error):
        super().__init__(error.get(".tag"))
        self.error = error


def _tag(name, **extra):
    value = {".tag": name}
    value.update(extra)
    return value


def _conflict(kind):
    return {".tag": "conflict", "conflict": {".tag": kind}}


@dataclass
class _Node:
    kind: str  # "file" | "folder"
    id: str
    lower: str
    display: str
    data: bytes = b""
    rev: str = ""
    hash: str = ""
    server_modified: str = ""
    client_modified: str = ""

    @property
    def name(self):
        return self.display.rsplit("/", 1)[-1]


@dataclass
class _AccessToken:
    token: str
    account_key: str  # "user" or a team member id, or "team"
    team: bool
    expires_at: Optional[float]
    refresh_token: Optional[str] = None
    revoked: bool = False
    scope: str = ""


@dataclass
class _RefreshToken:
    token: str
    app_key: str
    team: bool
    pkce: bool
    scope: str
    revoked: bool = False


# route name -> (host, style, auth)
ROUTES = {
    "users/get_current_account": ("api", "rpc", "user"),
    "users/get_space_usage": ("api", "rpc", "user"),
    "auth/token/revoke": ("api", "rpc", "user"),
    "files/create_folder_v2": ("api", "rpc", "user"),
    "files/upload": ("content", "upload", "user"),
    "files/upload_session/start": ("content", "upload", "user"),
    "files/upload_session/append_v2": ("content", "upload", "user"),
    "files/upload_session/finish": ("content", "upload", "user"),
    "files/download": ("content", "download", "user"),
    "files/list_folder": ("api", "rpc", "user"),
    "files/list_folder/continue": ("api", "rpc", "user"),
    "files/list_folder/get_latest_cursor": ("api", "rpc", "user"),
    "files/list_folder/longpoll": ("notify", "rpc", "noauth"),
    "files/move_v2": ("api", "rpc", "user"),
    "files/copy_v2": ("api", "rpc", "user"),
    "files/delete_v2": ("api", "rpc", "user"),
    "files/get_metadata": ("api", "rpc", "user"),
    "sharing/create_shared_link_with_settings": ("api", "rpc", "user"),
    "sharing/list_shared_links": ("api", "rpc", "user"),
    "sharing/revoke_shared_link": ("api", "rpc", "user"),
    "team/members/get_info_v2": ("api", "rpc", "team"),
}
#: UserSelectorArg tags -> the account key they are matched against
USER_SELECTOR_TAGS = {"team_member_id": "team_member_id", "email": "email",
                      "external_id": "external_id"}
#: account keys that are team-member data, not part of users/get_current_account
MEMBER_ONLY_KEYS = ("uid", "team_member_id", "external_id", "joined_on", "member_status",
                    "is_admin")
VOID_ARG_ROUTES = {"users/get_current_account", "users/get_space_usage", "auth/token/revoke"}


class DropboxEmulator(Emulator):
    """In-memory Dropbox speaking the HTTP API v2 + OAuth2 endpoints.

    Public helpers (thread-safe): :meth:`issue_token`, :meth:`expire_access_tokens`,
    :meth:`revoke_refresh_tokens`, :meth:`register_app`, :meth:`add_team_member`,
    :meth:`expire_cursors`, :meth:`rate_limit`, :meth:`server_error`, :meth:`drop_after_apply`,
    :meth:`insufficient_space`, :meth:`set_quota`, :meth:`put_file`, :meth:`make_folder`,
    :meth:`move`, :meth:`delete`, :meth:`tree`, :meth:`item`, :meth:`content`,
    :meth:`change_log`, :meth:`advance_clock`.
    """

    name = "dropbox"

    def __init__(self, host="127.0.0.1", port=0, latency=0.0, access_token_lifetime=14400,
                 team_space=False, app_key=DEFAULT_APP_KEY, app_secret=DEFAULT_APP_SECRET,
                 display_name="Emu User", email="emu.user@example.com"):
        super().__init__(host=host, port=port, latency=latency)
        self.access_token_lifetime = access_token_lifetime
        self.team_space = team_space
        self.authorize_behavior = "approve"  # or "deny"
        self.longpoll_max_wait = None  # cap (seconds) on longpoll waits, None = honour timeout
        self._clock_offset = 0.0
        self._changed = threading.Condition(self.lock)

        self.apps = {app_key: app_secret}
        self.team_id = "dbtid:" + _b64(secrets.token_bytes(24))[:30]
        self.team_name = "Emu Team"
        self.root_namespace_id = str(1000000000 + secrets.randbelow(10 ** 9))
        self.home_namespace_id = (str(int(self.root_namespace_id) + 1) if team_space
                                  else self.root_namespace_id)
        self.account = self._new_account(display_name, email)
        self.team_members = {self.account["team_member_id"]: self.account}

        self.nodes = {}  # path_lower -> _Node
        self.by_id = {}  # id -> _Node
        self._log = []  # [(seq, path_lower, entry)]
        self._cursor_epoch = 1
        self._pages = {}
        self._sessions = {}
        self.links = {}  # item id -> link dict
        self._rev_counter = secrets.randbelow(1 << 40) + (1 << 44)

        self._access = {}
        self._refresh = {}
        self._codes = {}
        self.quota_bytes = 2 * 1024 ** 3
        self._force_insufficient = 0
        self.seen_headers = []  # [{"route", "select_user", "select_admin", "path_root"}]
        self.authorize_requests = []  # query dicts of /oauth2/authorize
        self.token_requests = []  # form dicts of /oauth2/token (secrets included)

    def stop(self):
        """Stop without waiting out ``serve_forever``'s 0.5 s poll: wake its select() with a
        dummy connection once the shutdown flag is set."""
        if self._server is not None:
            address = (self.host, self.port)

            def poke():
                time.sleep(0.02)
                try:
                    socket.create_connection(address, timeout=1).close()
                except OSError:
                    pass

            threading.Thread(target=poke, daemon=True).start()
        super().stop()

    # ======================================================================================
    # public helpers
    # ======================================================================================
    def now(self):
        return time.time() + self._clock_offset

    def advance_clock(self, seconds):
        """Move the emulator's clock (token expiry, timestamps) forward."""
        with self.lock:
            self._clock_offset += seconds

    def register_app(self, app_key, app_secret):
        with self.lock:
            self.apps[app_key] = app_secret

    def add_team_member(self, display_name, email=None, external_id=None, status="active"):
        """Add a team member; returns its ``team_member_id`` (for ``as_user``). ``status``
        (``active``, ``invited``, ``suspended``) is what ``team/members/get_info_v2`` reports."""
        with self.lock:
            acc = self._new_account(display_name, email or
                                    display_name.lower().replace(" ", ".") + "@example.com")
            acc["external_id"] = external_id
            acc["member_status"] = status
            acc["is_admin"] = False
            self.team_members[acc["team_member_id"]] = acc
            return acc["team_member_id"]

    def issue_token(self, expires_in=None, refresh=False, team=False, app_key=None,
                    member_id=None, scope="", legacy=False):
        """Mint a token without the OAuth dance; returns the ``/oauth2/token`` style dict.

        ``expires_in`` defaults to ``access_token_lifetime``; ``legacy=True`` gives a token that
        never expires (no ``expires_in``). ``refresh=True`` adds a ``refresh_token`` bound to
        ``app_key`` (default app) usable with the app secret. ``team=True`` gives a team token
        (use ``DropboxTeam(token).as_user(member_id)``).
        """
        with self.lock:
            app_key = app_key or next(iter(self.apps))
            refresh_token = None
            if refresh:
                refresh_token = self._new_refresh(app_key, team, False, scope)
            lifetime = None if legacy else (expires_in if expires_in is not None
                                            else self.access_token_lifetime)
            return self._token_response(refresh_token, team, lifetime, scope,
                                        include_refresh=refresh, member_id=member_id)

    def expire_access_tokens(self):
        """Every access token issued so far is now expired (401 expired_access_token)."""
        with self.lock:
            now = self.now()
            for tok in self._access.values():
                tok.expires_at = now - 1

    def revoke_refresh_tokens(self, revoke_access_tokens=True):
        """Revoke all refresh tokens (400 invalid_grant on refresh) — like the user unlinking
        the app; by default the access tokens die too (401 invalid_access_token)."""
        with self.lock:
            for ref in self._refresh.values():
                ref.revoked = True
            if revoke_access_tokens:
                for tok in self._access.values():
                    tok.revoked = True

    def expire_cursors(self):
        """Every cursor handed out so far answers 409 ``reset`` from now on."""
        with self.lock:
            self._cursor_epoch += 1
            self._pages.clear()

    def rate_limit(self, route="*", retry_after=1, count=1, reason="too_many_requests"):
        """Next ``count`` requests of ``route`` answer 429 with Retry-After."""
        body = json.dumps({"error_summary": "%s/.." % reason,
                           "error": {"reason": {".tag": reason}, "retry_after": retry_after}})
        self.inject(route, Fault("status", count=count, status=429, body=body.encode(),
                                 headers={"Content-Type": "application/json",
                                          "Retry-After": str(retry_after)}))

    def server_error(self, route="*", status=500, count=1):
        self.inject(route, Fault("status", count=count, status=status,
                                 body=b"Internal Server Error" if status == 500
                                 else b"Service Unavailable",
                                 headers={"Content-Type": "text/plain; charset=utf-8"}))

    def drop_after_apply(self, route="*", count=1):
        """Perform the next ``count`` requests of ``route`` but drop the connection."""
        self.inject(route, Fault("drop_after_apply", count=count))

    def insufficient_space(self, count=1):
        """Next ``count`` file writes fail with 409 path/insufficient_space."""
        with self.lock:
            self._force_insufficient += count

    def set_quota(self, allocated_bytes):
        with self.lock:
            self.quota_bytes = allocated_bytes

    def put_file(self, path, data: bytes, client_modified=None):
        """Server-side write (another client): overwrite mode, logs a change. Returns metadata."""
        with self.lock:
            node = self._write_file(path, data, {".tag": "overwrite"}, False, client_modified)
            return self._meta(node)

    def make_folder(self, path):
        with self.lock:
            return self._meta(self._create_folder(path, False))

    def move(self, from_path, to_path):
        with self.lock:
            return self._meta(self._relocate(self._lookup(from_path), to_path, False, False))

    def delete(self, path):
        with self.lock:
            return self._delete(self._lookup(path))

    def tree(self):
        """``{path_display: "folder" | size}`` of everything stored."""
        with self.lock:
            return {n.display: ("folder" if n.kind == "folder" else len(n.data))
                    for n in sorted(self.nodes.values(), key=lambda n: n.lower)}

    def item(self, id_or_path):
        """Metadata dict of an item by ``id:...`` or path, or None."""
        with self.lock:
            try:
                return self._meta(self._lookup(id_or_path))
            except _PathProblem:
                return None

    def content(self, id_or_path) -> bytes:
        with self.lock:
            return self._lookup(id_or_path).data

    def change_log(self):
        """``[(seq, tag, path_display)]`` of every change recorded."""
        with self.lock:
            return [(seq, e[".tag"], e["path_display"]) for seq, _, e in self._log]

    # ======================================================================================
    # accounts / tokens internals
    # ======================================================================================
    def _new_account(self, display_name, email):
        given, _, surname = display_name.partition(" ")
        account = {
            "account_id": "dbid:" + _b64(secrets.token_bytes(27))[:35],
            "name": {"given_name": given, "surname": surname or given,
                     "familiar_name": given, "display_name": display_name,
                     "abbreviated_name": (given[:1] + (surname or given)[:1]).upper()},
            "email": email,
            "email_verified": True,
            "disabled": False,
            "country": "BE",
            "locale": "en",
            "referral_link": "https://www.dropbox.com/referrals/" + _b64(secrets.token_bytes(9)),
            "is_paired": False,
            "uid": str(10 ** 8 + secrets.randbelow(9 * 10 ** 8)),
            "team_member_id": "dbmid:" + _b64(secrets.token_bytes(27))[:35],
            "external_id": None,
            "joined_on": self._stamp(),
            "member_status": "active",
            "is_admin": True,  # the first account is the team admin; see add_team_member
        }
        return account

    def _account_json(self, account, team_token=False):
        data = {k: v for k, v in account.items() if k not in MEMBER_ONLY_KEYS}
        in_team = self.team_space or team_token
        if in_team:
            data["account_type"] = {".tag": "business"}
            data["team"] = {
                "id": self.team_id, "name": self.team_name,
                "sharing_policies": {
                    "shared_folder_member_policy": {".tag": "anyone"},
                    "shared_folder_join_policy": {".tag": "from_anyone"},
                    "shared_link_create_policy": {".tag": "default_public"},
                    "group_creation_policy": {".tag": "admins_only"},
                    "shared_folder_link_restriction_policy": {".tag": "anyone"},
                    "enforce_link_password_policy": {".tag": "optional"},
                    "default_link_expiration_days_policy": {".tag": "none"},
                    "shared_link_default_permissions_policy": {".tag": "default"},
                },
                "office_addin_policy": {".tag": "disabled"},
                "top_level_content_policy": {".tag": "everyone"},
            }
            data["team_member_id"] = account["team_member_id"]
        else:
            data["account_type"] = {".tag": "basic"}
        data["root_info"] = self._root_info(account, team_token)
        return data

    def _root_info(self, account=None, team_token=False):
        account = account or self.account
        if self.team_space or team_token:
            return {".tag": "team", "root_namespace_id": self.root_namespace_id,
                    "home_namespace_id": self.home_namespace_id,
                    "home_path": "/" + account["name"]["display_name"]}
        return {".tag": "user", "root_namespace_id": self.root_namespace_id,
                "home_namespace_id": self.home_namespace_id}

    def _new_refresh(self, app_key, team, pkce, scope):
        token = _b64(secrets.token_bytes(48))
        self._refresh[token] = _RefreshToken(token, app_key, team, pkce, scope)
        return token

    def _token_response(self, refresh_token, team, lifetime, scope, include_refresh,
                        member_id=None, include_identity=True):
        access = "sl." + _b64(secrets.token_bytes(96))
        account_key = "team" if team else (member_id or "user")
        self._access[access] = _AccessToken(
            access, account_key, team,
            None if lifetime is None else self.now() + lifetime, refresh_token, scope=scope)
        body = {"access_token": access, "token_type": "bearer"}
        if lifetime is not None:
            body["expires_in"] = int(lifetime)
        if include_refresh and refresh_token:
            body["refresh_token"] = refresh_token
        if include_identity:
            if team:
                body["team_id"] = self.team_id
            else:
                body["uid"] = self.account["uid"]
                body["account_id"] = self.account["account_id"]
            if team:
                body["uid"] = self.account["uid"]
        if scope:
            body["scope"] = scope
        return body

    # ======================================================================================
    # dispatch
    # ======================================================================================
    @staticmethod
    def _split(path):
        """-> (host or None, rest) where rest is the path without host prefix."""
        parts = path.split("/", 2)
        if len(parts) >= 2 and parts[1] in PREFIX_HOSTS:
            return PREFIX_HOSTS[parts[1]], "/" + (parts[2] if len(parts) > 2 else "")
        return None, path

    def route_of(self, request: Request) -> str:
        _, rest = self._split(request.path)
        if rest.startswith("/2/"):
            return rest[3:]
        if rest.startswith("/oauth2/"):
            return rest[1:].rstrip("/")
        if rest.startswith("/scl/"):
            return "shared_link"
        return rest

    def handle(self, request: Request) -> Response:
        try:
            response = self._handle(request)
        except _Reply as reply:
            response = reply.response
        except DropConnection:
            raise
        except Exception as exc:  # pragma: no cover - emulator bug: make it visible
            import traceback
            response = Response(500, ("emulator error: %r\n%s" % (exc, traceback.format_exc()))
                                .encode(), {"Content-Type": "text/plain; charset=utf-8"})
        response.headers.setdefault("X-Dropbox-Request-Id", uuid.uuid4().hex)
        return response

    def _handle(self, request):
        host, rest = self._split(request.path)
        route = request.route
        if rest.startswith("/oauth2/"):
            if route == "oauth2/authorize" and request.method == "GET":
                return self._oauth_authorize(request)
            if route == "oauth2/token" and request.method == "POST":
                return self._oauth_token(request)
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if route == "shared_link":
            return self._serve_link(request, rest)
        if not rest.startswith("/2/"):
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if request.method != "POST":
            raise self._bad(route, "Request method must be POST")  # real API: 400
        spec = ROUTES.get(route)
        if spec is None:
            raise _Reply(Response(400, ('Unknown API function: "%s"' % route).encode(),
                                  {"Content-Type": "text/plain; charset=utf-8"}))
        want_host, style, auth = spec
        if host is not None and host != want_host:
            raise self._bad(route, "This API function must be called on the %s host "
                                   "(%s.dropboxapi.com)" % (want_host, want_host))
        arg = self._parse_arg(request, route, style)
        if auth == "noauth":
            return getattr(self, "_r_" + route.replace("/", "_"))(request, arg)
        with self.lock:
            ctx = (self._authenticate_team(request, route) if auth == "team"
                   else self._authenticate(request, route))
            result = getattr(self, "_r_" + route.replace("/", "_"))(request, arg, ctx)
        return result

    # -- request parsing ---------------------------------------------------------------------
    @staticmethod
    def _bad(route, message):
        return _Reply(Response(400, ('Error in call to API function "%s": %s' % (route, message))
                               .encode(), {"Content-Type": "text/plain; charset=utf-8"}))

    def _parse_arg(self, request, route, style):
        if style == "rpc":
            ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
            if route in VOID_ARG_ROUTES and not request.body.strip():
                return None
            if ctype not in ("application/json", "text/plain"):
                raise self._bad(route, 'Bad HTTP "Content-Type" header: "%s".  Expecting one of '
                                       '"application/json", "application/json; charset=utf-8", '
                                       '"text/plain; charset=dropbox-cors-hack".'
                                % request.header("content-type", ""))
            raw = request.body
            where = "request body"
        else:
            raw = request.header("dropbox-api-arg")
            if raw is None:
                raw = request.query.get("arg")
            where = 'HTTP header "Dropbox-API-Arg"'
            if raw is not None:
                try:  # http.server decodes headers as latin-1; accept raw UTF-8 too
                    raw = raw.encode("latin-1").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            if raw is None:
                raise self._bad(route, 'Must provide HTTP header "Dropbox-API-Arg" or URL '
                                       'parameter "arg".')
            if style == "upload":
                ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
                if ctype not in ("application/octet-stream", "text/plain"):
                    raise self._bad(route, 'Bad HTTP "Content-Type" header: "%s".  Expecting one '
                                           'of "application/octet-stream", "text/plain; '
                                           'charset=dropbox-cors-hack".'
                                    % request.header("content-type", ""))
        try:
            arg = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise self._bad(route, "%s: could not decode input as JSON" % where)
        if route in VOID_ARG_ROUTES:
            if arg is not None:
                raise self._bad(route, "%s: expected null, got %s" % (where, type(arg).__name__))
            return None
        if not isinstance(arg, dict):
            raise self._bad(route, "%s: expected object, got %s" % (where, type(arg).__name__))
        arg["__where__"] = where
        return arg

    def _field(self, route, arg, name, kind=str, required=True, default=None):
        if name not in arg or arg[name] is None:
            if required:
                raise self._bad(route, "%s: missing required field '%s'"
                                % (arg.get("__where__", "request body"), name))
            return default
        value = arg[name]
        ok = (isinstance(value, kind) and not (kind is int and isinstance(value, bool)))
        if not ok:
            raise self._bad(route, "%s: %s: expected %s, got %s"
                            % (arg.get("__where__"), name, getattr(kind, "__name__", kind),
                               type(value).__name__))
        return value

    def _path_arg(self, route, arg, name="path", root="invalid"):
        """Validate a path argument against the API pattern. ``root``: "ok" (``""`` allowed,
        ``"/"`` refused like list_folder), or "invalid"."""
        value = self._field(route, arg, name)
        if not _PATH_RE.match(value):
            raise self._bad(route, "%s: %s: '%s' did not match pattern '%s'"
                            % (arg["__where__"], name, value, PATH_PATTERN))
        if value == "/" and root == "ok":
            raise self._bad(route, '%s: %s: Specify the root folder as an empty string rather '
                                   'than as "/".' % (arg["__where__"], name))
        if value in ("", "/") and root != "ok":
            raise self._bad(route, "%s: %s: The root folder is unsupported."
                            % (arg["__where__"], name))
        return value

    # -- authentication ----------------------------------------------------------------------
    def _access_token(self, request, route):
        """The valid access token of the request (400 / 401 otherwise)."""
        auth = request.header("authorization")
        if not auth:
            raise self._bad(route, 'Must provide HTTP header "Authorization" or URL parameter '
                                   '"authorization".')
        if not auth.startswith("Bearer "):
            raise self._bad(route, 'Invalid authorization value in HTTP header "Authorization": '
                                   '"%s".  Expecting "Bearer <oauth2-access-token>".' % auth[:20])
        tok = self._access.get(auth[7:].strip())
        if tok is None or tok.revoked:
            raise self._auth_error("invalid_access_token")
        if tok.expires_at is not None and self.now() >= tok.expires_at:
            raise self._auth_error("expired_access_token")
        return tok

    def _authenticate_team(self, request, route):
        """Team routes: team token only, acting as the team (no Select-User)."""
        tok = self._access_token(request, route)
        select_user = request.header("dropbox-api-select-user")
        select_admin = request.header("dropbox-api-select-admin")
        self.seen_headers.append({"route": route, "select_user": select_user,
                                  "select_admin": select_admin,
                                  "path_root": request.header("dropbox-api-path-root")})
        if not tok.team:
            raise self._bad(route, "This is a DfB team management function.  The OAuth 2 access "
                                   "token you provided is for a specific Dropbox user account "
                                   "and does not work with this function.")
        if select_user:
            raise self._bad(route, 'Unexpected select user header. This API function operates '
                                   'on the whole team, not on a team member\'s Dropbox')
        if select_admin and self.team_members.get(select_admin, {}).get("is_admin") is not True:
            raise self._auth_error("invalid_select_admin")
        scopes = tok.scope.split()
        if scopes and "members.read" not in scopes:
            body = {"error_summary": "missing_scope/..",
                    "error": {".tag": "missing_scope", "required_scope": "members.read"}}
            raise _Reply(Response.json(body, status=401))
        return {"token": tok, "account": None, "team": True}

    def _authenticate(self, request, route):
        tok = self._access_token(request, route)
        select_user = request.header("dropbox-api-select-user")
        select_admin = request.header("dropbox-api-select-admin")
        path_root = request.header("dropbox-api-path-root")
        self.seen_headers.append({"route": route, "select_user": select_user,
                                  "select_admin": select_admin, "path_root": path_root})
        if tok.team:
            member = select_user or select_admin
            if not member:
                raise self._bad(route, "This API function operates on a single Dropbox account, "
                                       "but the OAuth 2 access token you provided is for an "
                                       "entire Dropbox Business team.  Since your API app key "
                                       "has team member file access permissions, you can operate "
                                       "on a team member's Dropbox by providing the "
                                       '"Dropbox-API-Select-User" HTTP header or "select_user" '
                                       "URL parameter to specify the exact user "
                                       "<https://www.dropbox.com/developers/documentation/http/"
                                       "teams>.")
            account = self.team_members.get(member)
            if account is None:
                raise self._auth_error("invalid_select_admin" if select_admin and not select_user
                                       else "invalid_select_user")
        else:
            if select_user or select_admin:
                raise self._bad(route, 'Unexpected select user header. Your app does not have '
                                       'permission to use this feature')
            account = (self.team_members.get(tok.account_key) if tok.account_key != "user"
                       else None) or self.account
        if path_root is not None:
            self._check_path_root(route, path_root, account, tok.team)
        return {"token": tok, "account": account, "team": tok.team}

    def _auth_error(self, tag):
        body = {"error_summary": tag + "/..", "error": {".tag": tag}}
        return _Reply(Response.json(body, status=401))

    def _check_path_root(self, route, raw, account, team_token):
        try:
            value = json.loads(raw)
            tag = value[".tag"]
        except (ValueError, TypeError, KeyError):
            raise self._bad(route, 'HTTP header "Dropbox-API-Path-Root": could not decode input '
                                   'as JSON')
        known = {self.root_namespace_id, self.home_namespace_id}
        if tag == "home":
            return
        if tag == "root" and value.get("root") == self.root_namespace_id:
            return
        if tag == "namespace_id" and value.get("namespace_id") in known:
            return
        if tag in ("root", "namespace_id"):
            err = ({".tag": "invalid_root", "invalid_root": self._root_info(account, team_token)}
                   if tag == "root" else {".tag": "no_permission"})
            raise _Reply(Response.json({"error_summary": _summary(err), "error": err},
                                       status=422))
        raise self._bad(route, 'HTTP header "Dropbox-API-Path-Root": unknown tag "%s"' % tag)

    # ======================================================================================
    # tree internals
    # ======================================================================================
    def _stamp(self, ts=None):
        return _dt.datetime.fromtimestamp(int(self.now() if ts is None else ts),
                                          _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _next_rev(self):
        self._rev_counter += 1
        return "%015x" % self._rev_counter

    @staticmethod
    def _parent(lower):
        return lower.rsplit("/", 1)[0]

    def _meta(self, node):
        if node.kind == "folder":
            return {".tag": "folder", "name": node.name, "path_lower": node.lower,
                    "path_display": node.display, "id": node.id}
        return {".tag": "file", "name": node.name, "path_lower": node.lower,
                "path_display": node.display, "id": node.id,
                "client_modified": node.client_modified,
                "server_modified": node.server_modified, "rev": node.rev,
                "size": len(node.data), "is_downloadable": True, "content_hash": node.hash}

    @staticmethod
    def _deleted_meta(lower, display):
        return {".tag": "deleted", "name": display.rsplit("/", 1)[-1], "path_lower": lower,
                "path_display": display}

    def _record(self, entry):
        self._log.append((len(self._log) + 1, entry["path_lower"], entry))
        self._changed.notify_all()

    def _split_path(self, path):
        """Resolve ``id:``/``ns:`` prefixes; returns a display path ("/a/B") or "" (root).
        Raises _PathProblem(not_found / malformed_path)."""
        if path.startswith("id:"):
            ident, sep, rest = path.partition("/")
            node = self.by_id.get(ident)
            if node is None:
                raise _PathProblem(_tag("not_found"))
            path = node.display + (sep + rest if sep else "")
        elif path.startswith("ns:"):
            ns, sep, rest = path[3:].partition("/")
            if ns not in (self.root_namespace_id, self.home_namespace_id):
                raise _PathProblem(_tag("not_found"))
            path = sep + rest if sep else ""
        if path == "":
            return ""
        if not path.startswith("/") or path.endswith("/"):
            raise _PathProblem(_tag("malformed_path"))
        comps = path[1:].split("/")
        if any(c in ("", ".", "..") for c in comps):
            raise _PathProblem(_tag("malformed_path"))
        return path

    def _lookup(self, path):
        display = self._split_path(path)
        if display == "":
            raise _PathProblem(_tag("not_found"))
        node = self.nodes.get(display.lower())
        if node is None:
            raise _PathProblem(_tag("not_found"))
        return node

    def _display_for(self, display):
        """Use the existing casing for existing ancestors; raise conflict/file_ancestor when an
        ancestor is a file."""
        comps = display[1:].split("/")
        out = ""
        for i, comp in enumerate(comps):
            candidate = out + "/" + comp
            node = self.nodes.get(candidate.lower())
            if node is not None and i < len(comps) - 1:
                if node.kind == "file":
                    raise _PathProblem(_conflict("file_ancestor"))
                out = node.display
            else:
                out = candidate
        return out

    def _ensure_parents(self, display):
        parent = display.rsplit("/", 1)[0]
        if not parent:
            return
        comps = parent[1:].split("/")
        current = ""
        for comp in comps:
            current += "/" + comp
            node = self.nodes.get(current.lower())
            if node is None:
                node = _Node("folder", self._new_id(), current.lower(), current)
                self._add(node)
                self._record(self._meta(node))
            elif node.kind == "file":
                raise _PathProblem(_conflict("file_ancestor"))
            current = node.display

    def _new_id(self):
        return "id:" + _b64(secrets.token_bytes(16))[:22]

    def _add(self, node):
        self.nodes[node.lower] = node
        self.by_id[node.id] = node

    def _autorename(self, display):
        parent, _, name = display.rpartition("/")
        base, dot, ext = name.rpartition(".")
        if not dot or not base:
            base, dot, ext = name, "", ""
        n = 1
        while True:
            candidate = "%s/%s (%d)%s%s" % (parent, base, n, dot, ext)
            if candidate.lower() not in self.nodes:
                return candidate
            n += 1

    def _used(self):
        return sum(len(n.data) for n in self.nodes.values() if n.kind == "file")

    def _write_file(self, path, data, mode, autorename, client_modified, strict_conflict=False,
                    expected_hash=None):
        display = self._split_path(path)
        if display == "":
            raise _PathProblem(_tag("malformed_path"))
        if display.rsplit("/", 1)[-1].lower() in DISALLOWED_NAMES:
            raise _PathProblem(_tag("disallowed_name"))
        display = self._display_for(display)
        lower = display.lower()
        new_hash = content_hash(data)
        mode_tag = mode.get(".tag") if isinstance(mode, dict) else mode
        existing = self.nodes.get(lower)
        if existing is not None:
            replace = False
            if existing.kind == "folder":
                conflict = "folder"
            elif mode_tag == "overwrite":
                replace, conflict = True, None
            elif mode_tag == "update":
                if existing.rev == mode.get("update"):
                    replace, conflict = True, None
                else:
                    conflict = "file"
            else:  # add
                conflict = "file"
            if conflict and existing.hash == new_hash and existing.kind == "file" and \
                    not strict_conflict:
                # same content: Dropbox answers the existing file, unless strict_conflict,
                # which "also forces a conflict even when the target path refers to a file
                # with identical contents" (UploadArg docs)
                return existing
            if replace and existing.hash == new_hash:
                return existing
            if conflict:
                if not autorename:
                    raise _PathProblem(_conflict(conflict))
                display = self._autorename(display)
                lower = display.lower()
                existing = None
        elif mode_tag == "update":
            if not autorename:
                raise _PathProblem(_conflict("file"))
        self._check_space(len(data) - (len(existing.data) if existing else 0))
        self._ensure_parents(display)
        stamp = self._stamp()
        if existing is None:
            node = _Node("file", self._new_id(), lower, display)
            self._add(node)
        else:
            node = existing
        node.data = data
        node.hash = new_hash
        node.rev = self._next_rev()
        node.server_modified = stamp
        node.client_modified = client_modified or stamp
        self._record(self._meta(node))
        return node

    def _check_space(self, growth):
        if self._force_insufficient > 0:
            self._force_insufficient -= 1
            raise _PathProblem(_tag("insufficient_space"))
        if self.quota_bytes is not None and growth > 0 and \
                self._used() + growth > self.quota_bytes:
            raise _PathProblem(_tag("insufficient_space"))

    def _create_folder(self, path, autorename):
        display = self._split_path(path)
        if display == "":
            raise _PathProblem(_tag("malformed_path"))
        if display.rsplit("/", 1)[-1].lower() in DISALLOWED_NAMES:
            raise _PathProblem(_tag("disallowed_name"))
        display = self._display_for(display)
        existing = self.nodes.get(display.lower())
        if existing is not None:
            if not autorename:
                raise _PathProblem(_conflict(existing.kind))
            display = self._autorename(display)
        self._ensure_parents(display)
        node = _Node("folder", self._new_id(), display.lower(), display)
        self._add(node)
        self._record(self._meta(node))
        return node

    def _subtree(self, node):
        """The node and its descendants, parents first."""
        if node.kind == "file":
            return [node]
        prefix = node.lower + "/"
        found = [n for n in self.nodes.values() if n.lower.startswith(prefix)]
        found.sort(key=lambda n: n.lower.split("/"))
        return [node] + found

    def _relocate(self, node, to_path, autorename, copy):
        """Move/copy ``node`` to ``to_path``. Raises _PathProblem with a ("to", error) tag."""
        try:
            display = self._split_path(to_path)
            if display == "":
                raise _PathProblem(_tag("malformed_path"))
            display = self._display_for(display)
        except _PathProblem as exc:
            exc.error = {"__where__": "to", **exc.error}
            raise
        lower = display.lower()
        if node.kind == "folder" and lower.startswith(node.lower + "/"):
            raise _PathProblem({"__where__": "top", ".tag": "cant_move_folder_into_itself"})
        existing = self.nodes.get(lower)
        if existing is not None and not (existing is node and not copy
                                         and display != node.display):
            if not autorename:
                raise _PathProblem({"__where__": "to", **_conflict(existing.kind)})
            display = self._autorename(display)
            lower = display.lower()
        if copy:
            self._check_space(sum(len(n.data) for n in self._subtree(node)))
        self._ensure_parents(display)
        old_lower, old_display = node.lower, node.display
        subtree = self._subtree(node)
        if not copy:
            self._record(self._deleted_meta(old_lower, old_display))
        result = None
        for item in subtree:
            new_display = display + item.display[len(old_display):]
            if copy:
                clone = _Node(item.kind, self._new_id(), new_display.lower(), new_display,
                              item.data, self._next_rev() if item.kind == "file" else "",
                              item.hash, self._stamp(), item.client_modified)
                self._add(clone)
                target = clone
            else:
                del self.nodes[item.lower]
                item.lower, item.display = new_display.lower(), new_display
                self.nodes[item.lower] = item
                target = item
            self._record(self._meta(target))
            result = result or target
        return result

    def _delete(self, node):
        meta = self._meta(node)
        for item in self._subtree(node):
            del self.nodes[item.lower]
            del self.by_id[item.id]
            self.links.pop(item.id, None)
        self._record(self._deleted_meta(node.lower, node.display))
        return meta

    # -- change feed -------------------------------------------------------------------------
    @staticmethod
    def _in_scope(lower, prefix, recursive):
        if recursive:
            return prefix == "" or lower == prefix or lower.startswith(prefix + "/")
        return lower.rsplit("/", 1)[0] == prefix and lower != prefix

    def _listing(self, prefix, recursive):
        if recursive:
            found = [n for n in self.nodes.values() if self._in_scope(n.lower, prefix, True)]
        else:
            found = [n for n in self.nodes.values() if self._in_scope(n.lower, prefix, False)]
        found.sort(key=lambda n: n.lower.split("/"))
        return [self._meta(n) for n in found]

    def _changes_since(self, pos, end, prefix, recursive):
        out = []  # [path_lower, entry, alive]
        for _seq, lower, entry in self._log[pos:end]:
            if not self._in_scope(lower, prefix, recursive):
                continue
            if entry[".tag"] == "deleted":
                for rec in out:
                    if rec[2] and (rec[0] == lower or rec[0].startswith(lower + "/")):
                        rec[2] = False
            else:
                for rec in out:
                    if rec[2] and rec[0] == lower and not (
                            rec[1][".tag"] == "deleted" and entry[".tag"] == "folder"):
                        rec[2] = False
            out.append([lower, entry, True])
        return [rec[1] for rec in out if rec[2]]

    def _encode_cursor(self, **fields):
        fields["e"] = self._cursor_epoch
        return "AAE" + _b64(json.dumps(fields, separators=(",", ":")).encode())

    def _decode_cursor(self, route, cursor):
        try:
            if not cursor.startswith("AAE"):
                raise ValueError(cursor)
            data = json.loads(_unb64(cursor[3:]))
            assert isinstance(data, dict) and "p" in data
        except (ValueError, AssertionError, binascii.Error, UnicodeDecodeError):
            raise self._bad(route, 'Invalid "cursor" parameter: %r' % cursor[:60])
        if data["e"] != self._cursor_epoch:
            raise _Reply(Response.json({"error_summary": "reset/..", "error": {".tag": "reset"}},
                                       status=409))
        return data

    def _page(self, entries, prefix, recursive, limit, end_seq):
        """Answer the first page of ``entries`` and keep the rest for continue."""
        if limit and len(entries) > limit:
            key = uuid.uuid4().hex
            self._pages[key] = entries
            cursor = self._encode_cursor(p=prefix, r=recursive, s=end_seq, l=limit, k=key,
                                         o=limit)
            return {"entries": entries[:limit], "cursor": cursor, "has_more": True}
        return {"entries": entries, "has_more": False,
                "cursor": self._encode_cursor(p=prefix, r=recursive, s=end_seq, l=limit)}

    # ======================================================================================
    # routes
    # ======================================================================================
    def _route_error(self, error, summary=None):
        return _Reply(Response.json({"error_summary": summary or _summary(error),
                                     "error": error}, status=409))

    def _r_users_get_current_account(self, request, arg, ctx):
        return Response.json(self._account_json(ctx["account"], ctx["team"]))

    def _r_users_get_space_usage(self, request, arg, ctx):
        allocation = ({".tag": "individual", "allocated": self.quota_bytes}
                      if self.quota_bytes is not None
                      else {".tag": "individual", "allocated": 2 ** 50})
        return Response.json({"used": self._used(), "allocation": allocation})

    def _r_auth_token_revoke(self, request, arg, ctx):
        tok = ctx["token"]
        tok.revoked = True
        if tok.refresh_token:
            ref = self._refresh.get(tok.refresh_token)
            if ref:
                ref.revoked = True
            for other in self._access.values():
                if other.refresh_token == tok.refresh_token:
                    other.revoked = True
        return Response.json(None)

    def _r_files_create_folder_v2(self, request, arg, ctx):
        route = request.route
        path = self._path_arg(route, arg)
        autorename = self._field(route, arg, "autorename", bool, False, False)
        try:
            node = self._create_folder(path, autorename)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path", "path": exc.error})
        return Response.json({"metadata": {k: v for k, v in self._meta(node).items()
                                           if k != ".tag"}})

    def _upload_common(self, route, arg, body):
        expected = self._field(route, arg, "content_hash", str, False)
        if expected is not None and expected != content_hash(body):
            raise self._route_error(_tag("content_hash_mismatch"))

    def _commit(self, route, commit, data, session_id, finish):
        path = self._path_arg(route, commit)
        mode = commit.get("mode") or {".tag": "add"}
        if isinstance(mode, str):
            mode = {".tag": mode}
        if not isinstance(mode, dict) or mode.get(".tag") not in ("add", "overwrite", "update"):
            raise self._bad(route, "%s: mode: unknown tag" % commit["__where__"])
        autorename = self._field(route, commit, "autorename", bool, False, False)
        strict = self._field(route, commit, "strict_conflict", bool, False, False)
        client_modified = self._field(route, commit, "client_modified", str, False)
        try:
            node = self._write_file(path, data, mode, autorename, client_modified, strict)
        except _PathProblem as exc:
            if finish:
                raise self._route_error({".tag": "path", "path": exc.error})
            raise self._route_error({".tag": "path", "reason": exc.error,
                                     "upload_session_id": session_id})
        return {k: v for k, v in self._meta(node).items() if k != ".tag"}

    def _r_files_upload(self, request, arg, ctx):
        route = request.route
        self._upload_common(route, arg, request.body)
        if len(request.body) > MAX_SIMPLE_UPLOAD:
            raise self._route_error(_tag("payload_too_large"))
        sid = "pid_upload_session:" + _b64(secrets.token_bytes(24))
        return Response.json(self._commit(route, arg, request.body, sid, finish=False))

    def _r_files_upload_session_start(self, request, arg, ctx):
        route = request.route
        self._upload_common(route, arg, request.body)
        close = self._field(route, arg, "close", bool, False, False)
        session_type = arg.get("session_type")
        if session_type and (session_type.get(".tag") if isinstance(session_type, dict)
                             else session_type) == "concurrent":
            raise self._bad(route, "concurrent upload sessions are not supported by the "
                                   "emulator")
        sid = "pid_upload_session:" + _b64(secrets.token_bytes(24))
        self._sessions[sid] = {"data": bytearray(request.body), "closed": close,
                               "created": self.now()}
        return Response.json({"session_id": sid})

    def _session_cursor(self, route, arg, field):
        cursor = self._field(route, arg, "cursor", dict)
        cursor["__where__"] = arg["__where__"] + ": cursor"
        sid = self._field(route, cursor, "session_id")
        offset = self._field(route, cursor, "offset", int)
        session = self._sessions.get(sid)
        if session is None:
            return sid, None, _tag("not_found")
        if offset != len(session["data"]):
            return sid, session, _tag("incorrect_offset", correct_offset=len(session["data"]))
        return sid, session, None

    def _r_files_upload_session_append_v2(self, request, arg, ctx):
        route = request.route
        self._upload_common(route, arg, request.body)
        _sid, session, problem = self._session_cursor(route, arg, "cursor")
        if problem is None and session["closed"]:
            problem = _tag("closed")
        if problem is not None:
            raise self._route_error(problem)
        session["data"].extend(request.body)
        if self._field(route, arg, "close", bool, False, False):
            session["closed"] = True
        return Response.json(None)

    def _r_files_upload_session_finish(self, request, arg, ctx):
        route = request.route
        self._upload_common(route, arg, request.body)
        sid, session, problem = self._session_cursor(route, arg, "cursor")
        if problem is not None:
            raise self._route_error({".tag": "lookup_failed", "lookup_failed": problem})
        commit = self._field(route, arg, "commit", dict)
        commit["__where__"] = arg["__where__"] + ": commit"
        data = bytes(session["data"]) + request.body
        result = self._commit(route, commit, data, sid, finish=True)
        del self._sessions[sid]
        return Response.json(result)

    def _r_files_download(self, request, arg, ctx):
        route = request.route
        path = self._path_arg(route, arg)
        try:
            node = self._lookup(path)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path", "path": exc.error})
        if node.kind != "file":
            raise self._route_error({".tag": "path", "path": _tag("not_file")})
        rev = self._field(route, arg, "rev", str, False)
        if rev is not None and rev != node.rev:
            raise self._route_error({".tag": "path", "path": _tag("not_found")})
        meta = {k: v for k, v in self._meta(node).items() if k != ".tag"}
        return Response(200, node.data, {"Content-Type": "application/octet-stream",
                                         "Dropbox-API-Result": json.dumps(meta),
                                         "ETag": 'W/"%s"' % node.rev})

    def _folder_prefix(self, route, arg):
        path = self._path_arg(route, arg, root="ok")
        try:
            display = self._split_path(path)
            if display == "":
                return ""
            node = self._lookup(display)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path", "path": exc.error})
        if node.kind != "folder":
            raise self._route_error({".tag": "path", "path": _tag("not_folder")})
        return node.lower

    def _r_files_list_folder(self, request, arg, ctx):
        route = request.route
        prefix = self._folder_prefix(route, arg)
        recursive = self._field(route, arg, "recursive", bool, False, False)
        limit = self._field(route, arg, "limit", int, False)
        if limit is not None and not 1 <= limit <= 2000:
            raise self._bad(route, "request body: limit: %d is not within range [1, 2000]" % limit)
        if arg.get("shared_link"):
            raise self._bad(route, "shared_link listing is not supported by the emulator")
        entries = self._listing(prefix, recursive)
        return Response.json(self._page(entries, prefix, recursive, limit, len(self._log)))

    def _r_files_list_folder_continue(self, request, arg, ctx):
        route = request.route
        cursor = self._decode_cursor(route, self._field(route, arg, "cursor"))
        prefix, recursive, limit = cursor["p"], cursor["r"], cursor.get("l")
        if "k" in cursor:
            entries = self._pages.get(cursor["k"])
            if entries is None:
                raise _Reply(Response.json({"error_summary": "reset/..",
                                            "error": {".tag": "reset"}}, status=409))
            offset = cursor["o"]
            chunk = entries[offset:offset + limit]
            if offset + limit < len(entries):
                nxt = self._encode_cursor(p=prefix, r=recursive, s=cursor["s"], l=limit,
                                          k=cursor["k"], o=offset + limit)
                return Response.json({"entries": chunk, "cursor": nxt, "has_more": True})
            return Response.json({"entries": chunk, "has_more": False,
                                  "cursor": self._encode_cursor(p=prefix, r=recursive,
                                                                s=cursor["s"], l=limit)})
        if prefix and prefix not in self.nodes:
            raise self._route_error({".tag": "path", "path": _tag("not_found")})
        end = len(self._log)
        entries = self._changes_since(cursor["s"], end, prefix, recursive)
        return Response.json(self._page(entries, prefix, recursive, limit, end))

    def _r_files_list_folder_get_latest_cursor(self, request, arg, ctx):
        route = request.route
        prefix = self._folder_prefix(route, arg)
        recursive = self._field(route, arg, "recursive", bool, False, False)
        limit = self._field(route, arg, "limit", int, False)
        return Response.json({"cursor": self._encode_cursor(p=prefix, r=recursive,
                                                            s=len(self._log), l=limit)})

    def _r_files_list_folder_longpoll(self, request, arg):
        route = request.route
        timeout = self._field(route, arg, "timeout", int, False, 30)
        if not 30 <= timeout <= 480:
            raise self._bad(route, "request body: timeout: %d is not within range [30, 480]"
                            % timeout)
        if self.longpoll_max_wait is not None:
            timeout = min(timeout, self.longpoll_max_wait)
        deadline = time.monotonic() + timeout
        with self.lock:
            cursor = self._decode_cursor(route, self._field(route, arg, "cursor"))
            while True:
                if "k" in cursor or self._changes_since(cursor["s"], len(self._log),
                                                        cursor["p"], cursor["r"]):
                    return Response.json({"changes": True})
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return Response.json({"changes": False})
                self._changed.wait(min(remaining, 0.5))

    def _relocation_route(self, request, arg, copy):
        route = request.route
        from_path = self._path_arg(route, arg, "from_path")
        to_path = self._path_arg(route, arg, "to_path")
        autorename = self._field(route, arg, "autorename", bool, False, False)
        try:
            node = self._lookup(from_path)
        except _PathProblem as exc:
            raise self._route_error({".tag": "from_lookup", "from_lookup": exc.error})
        try:
            result = self._relocate(node, to_path, autorename, copy)
        except _PathProblem as exc:
            err = dict(exc.error)
            where = err.pop("__where__", "to")
            if where == "top":
                raise self._route_error(err)
            raise self._route_error({".tag": "to", "to": err})
        return Response.json({"metadata": self._meta(result)})

    def _r_files_move_v2(self, request, arg, ctx):
        return self._relocation_route(request, arg, copy=False)

    def _r_files_copy_v2(self, request, arg, ctx):
        return self._relocation_route(request, arg, copy=True)

    def _r_files_delete_v2(self, request, arg, ctx):
        route = request.route
        path = self._path_arg(route, arg)
        try:
            node = self._lookup(path)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path_lookup", "path_lookup": exc.error})
        parent_rev = self._field(route, arg, "parent_rev", str, False)
        if parent_rev is not None and (node.kind != "file" or node.rev != parent_rev):
            raise self._route_error({".tag": "path_write", "path_write": _conflict("file")})
        return Response.json({"metadata": self._delete(node)})

    def _r_files_get_metadata(self, request, arg, ctx):
        route = request.route
        path = self._path_arg(route, arg)
        try:
            node = self._lookup(path)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path", "path": exc.error})
        return Response.json(self._meta(node))

    # -- team --------------------------------------------------------------------------------
    def _member_info(self, account):
        """TeamMemberInfoV2 of a team member (profile + roles)."""
        profile = {
            "team_member_id": account["team_member_id"],
            "account_id": account["account_id"],
            "email": account["email"],
            "email_verified": account["email_verified"],
            "secondary_emails": [],
            "status": {".tag": account.get("member_status") or "active"},
            "name": dict(account["name"]),
            "membership_type": {".tag": "full"},
            "joined_on": account["joined_on"],
            "is_directory_restricted": False,
            "groups": [],
            "member_folder_id": self.home_namespace_id,
            "root_folder_id": self.root_namespace_id,
        }
        if account.get("external_id"):
            profile["external_id"] = account["external_id"]
        roles = []
        if account.get("is_admin"):
            roles.append({"role_id": "pid_dbtmr:" + _b64(hashlib.sha256(
                self.team_id.encode()).digest())[:20], "name": "Team",
                "description": "Manage everything and access all permissions"})
        return {"profile": profile, "roles": roles}

    def _r_team_members_get_info_v2(self, request, arg, ctx):
        route = request.route
        members = self._field(route, arg, "members", list)
        infos = []
        for index, selector in enumerate(members):
            where = "%s: members: [%d]" % (arg["__where__"], index)
            tag = selector.get(".tag") if isinstance(selector, dict) else None
            if tag is None:
                raise self._bad(route, "%s: expected union with a \".tag\", got %s"
                                % (where, type(selector).__name__))
            if tag not in USER_SELECTOR_TAGS:
                raise self._bad(route, "%s: unknown tag '%s'" % (where, tag))
            value = selector.get(tag)
            if not isinstance(value, str):
                raise self._bad(route, "%s: %s: expected string, got %s"
                                % (where, tag, type(value).__name__))
            key = USER_SELECTOR_TAGS[tag]
            if tag == "email":  # e-mail addresses match case-insensitively
                found = [a for a in self.team_members.values()
                         if (a.get(key) or "").lower() == value.lower()]
            else:
                found = [a for a in self.team_members.values() if a.get(key) == value]
            if found:
                infos.append({".tag": "member_info", **self._member_info(found[0])})
            else:
                infos.append({".tag": "id_not_found", "id_not_found": value})
        return Response.json({"members_info": infos})

    # -- sharing -----------------------------------------------------------------------------
    def _link_meta(self, link):
        node = self.by_id[link["item"]]
        visibility = link["visibility"]
        meta = {
            ".tag": node.kind,
            "url": link["url"],
            "id": node.id,
            "name": node.name,
            "path_lower": node.lower,
            "link_permissions": {
                "resolved_visibility": {".tag": visibility},
                "requested_visibility": {".tag": visibility},
                "can_revoke": True,
                "visibility_policies": [],
                "can_set_expiry": False,
                "can_remove_expiry": False,
                "allow_download": link["allow_download"],
                "can_allow_download": True,
                "can_disallow_download": False,
                "allow_comments": True,
                "team_restricts_comments": False,
                "link_access_level": {".tag": "viewer"},
                "effective_audience": {".tag": "public" if visibility == "public" else "team"},
            },
            "preview_type": "folder" if node.kind == "folder" else "file",
        }
        if link.get("expires"):
            meta["expires"] = link["expires"]
        if node.kind == "file":
            meta.update(client_modified=node.client_modified,
                        server_modified=node.server_modified, rev=node.rev,
                        size=len(node.data))
        return meta

    def _r_sharing_create_shared_link_with_settings(self, request, arg, ctx):
        route = request.route
        path = self._path_arg(route, arg)
        settings = self._field(route, arg, "settings", dict, False, {}) or {}
        try:
            node = self._lookup(path)
        except _PathProblem as exc:
            raise self._route_error({".tag": "path", "path": exc.error})
        existing = self.links.get(node.id)
        if existing is not None:
            raise self._route_error(
                {".tag": "shared_link_already_exists",
                 "shared_link_already_exists": {".tag": "metadata",
                                                "metadata": self._link_meta(existing)}},
                summary="shared_link_already_exists/metadata/..")
        visibility = settings.get("requested_visibility") or settings.get("audience") \
            or {".tag": "public"}
        visibility = visibility.get(".tag") if isinstance(visibility, dict) else visibility
        if visibility not in ("public", "team_only", "password", "team", "no_one"):
            visibility = "public"
        visibility = {"team": "team_only", "no_one": "no_one"}.get(visibility, visibility)
        if visibility in ("team_only", "password") and not (self.team_space or ctx["team"]):
            # Dropbox: "basic users can only set RequestedVisibility.public"
            raise self._route_error(
                {".tag": "settings_error", "settings_error": {".tag": "not_authorized"}},
                summary="settings_error/not_authorized/..")
        key = _b64(secrets.token_bytes(12)).lower().replace("-", "x").replace("_", "y")
        rlkey = _b64(secrets.token_bytes(18)).lower().replace("-", "x").replace("_", "y")
        url = "https://www.dropbox.com/scl/%s/%s/%s?rlkey=%s&dl=0" % (
            "fo" if node.kind == "folder" else "fi", key, requests.utils.quote(node.name),
            rlkey)
        link = {"url": url, "key": key, "item": node.id, "visibility": visibility,
                "allow_download": settings.get("allow_download", True) is not False,
                "expires": settings.get("expires")}
        self.links[node.id] = link
        return Response.json(self._link_meta(link))

    def _r_sharing_list_shared_links(self, request, arg, ctx):
        route = request.route
        path = arg.get("path")
        direct_only = self._field(route, arg, "direct_only", bool, False, False)
        if path is not None:
            path = self._path_arg(route, arg)
            try:
                node = self._lookup(path)
            except _PathProblem as exc:
                raise self._route_error({".tag": "path", "path": exc.error})
            wanted = {node.id}
            if not direct_only:
                parent = self._parent(node.lower)
                while parent:
                    wanted.add(self.nodes[parent].id)
                    parent = self._parent(parent)
            links = [link for link in self.links.values() if link["item"] in wanted]
        else:
            links = list(self.links.values())
        return Response.json({"links": [self._link_meta(link) for link in links],
                              "has_more": False})

    def _r_sharing_revoke_shared_link(self, request, arg, ctx):
        url = self._field(request.route, arg, "url")
        for item, link in list(self.links.items()):
            if link["url"] == url:
                del self.links[item]
                return Response.json(None)
        raise self._route_error(_tag("shared_link_not_found"))

    def _serve_link(self, request, rest):
        """GET https://www.dropbox.com/scl/fi/<key>/<name>?dl=1 -> the file's bytes."""
        parts = rest.split("/")
        key = parts[3] if len(parts) > 3 else ""
        with self.lock:
            for link in self.links.values():
                if link["key"] == key:
                    node = self.by_id[link["item"]]
                    if node.kind == "file" and request.query.get("dl") == "1":
                        return Response(200, node.data,
                                        {"Content-Type": "application/octet-stream"})
                    return Response(200, ("<html><body>%s</body></html>" % node.name).encode(),
                                    {"Content-Type": "text/html; charset=utf-8"})
        return Response(404, b"Not Found", {"Content-Type": "text/plain"})

    # ======================================================================================
    # OAuth2
    # ======================================================================================
    def _oauth_authorize(self, request):
        q = dict(request.query)
        with self.lock:
            self.authorize_requests.append(q)
            html = {"Content-Type": "text/html; charset=utf-8"}
            if q.get("client_id") not in self.apps:
                return Response(400, b"<html><body>Invalid client_id</body></html>", html)
            if q.get("response_type") != "code":
                return Response(400, b"<html><body>Only response_type=code is supported"
                                     b"</body></html>", html)
            access_type = q.get("token_access_type")
            if access_type not in (None, "offline", "online", "legacy"):
                return Response(400, b"<html><body>Invalid token_access_type</body></html>",
                                html)
            method = q.get("code_challenge_method")
            if q.get("code_challenge") and method not in (None, "S256", "plain"):
                return Response(400, b"<html><body>Invalid code_challenge_method</body></html>",
                                html)
            redirect_uri = q.get("redirect_uri")
            if self.authorize_behavior == "deny":
                params = {"error": "access_denied",
                          "error_description": "The user chose not to give your app access to "
                                               "their Dropbox account."}
            else:
                code = _b64(secrets.token_bytes(32))
                self._codes[code] = {
                    "client_id": q["client_id"], "redirect_uri": redirect_uri,
                    "challenge": q.get("code_challenge"), "method": method or "plain",
                    "access_type": access_type, "scope": q.get("scope", ""),
                    "expires": self.now() + 600,
                }
                params = {"code": code}
            if "state" in q:
                params["state"] = q["state"]
            if not redirect_uri:
                if "code" not in params:
                    return Response(403, b"<html><body>Access denied</body></html>", html)
                return Response(200, ("<html><body>Your access code: <code id='code'>%s</code>"
                                      "</body></html>" % params["code"]).encode(), html)
            sep = "&" if "?" in redirect_uri else "?"
            return Response(302, b"", {"Location": redirect_uri + sep + urlencode(params)})

    def _oauth_error(self, error, description, status=400):
        return Response.json({"error": error, "error_description": description}, status=status)

    def _oauth_token(self, request):
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded" and request.body:
            return self._oauth_error("invalid_request", "expected a form-encoded body")
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        form.update({k: v for k, v in request.query.items() if k not in form})
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.header("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                user, _, pwd = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return self._oauth_error("invalid_client", "bad basic authorization header")
            client_id, client_secret = user, pwd
        with self.lock:
            self.token_requests.append(dict(form))
            grant = form.get("grant_type")
            if client_id not in self.apps:
                return self._oauth_error("invalid_client", "Invalid client_id or client_secret")
            if client_secret is not None and client_secret != self.apps[client_id]:
                return self._oauth_error("invalid_client", "Invalid client_id or client_secret")
            if grant == "authorization_code":
                code = self._codes.pop(form.get("code", ""), None)
                if code is None or code["expires"] < self.now():
                    return self._oauth_error("invalid_grant", "code doesn't exist or has expired")
                if code["client_id"] != client_id:
                    return self._oauth_error("invalid_grant", "code was issued to another app")
                if code["redirect_uri"] and form.get("redirect_uri") != code["redirect_uri"]:
                    return self._oauth_error("invalid_grant", "redirect_uri mismatch")
                pkce = False
                if code["challenge"]:
                    verifier = form.get("code_verifier")
                    if verifier is None and client_secret is None:
                        return self._oauth_error("invalid_request", "missing code_verifier")
                    if verifier is not None:
                        if code["method"] == "S256":
                            computed = _b64(hashlib.sha256(verifier.encode()).digest())
                        else:
                            computed = verifier
                        if computed != code["challenge"]:
                            return self._oauth_error("invalid_grant", "invalid code verifier")
                        pkce = client_secret is None
                elif client_secret is None:
                    return self._oauth_error("invalid_request",
                                             "No auth function available for given request")
                access_type = code["access_type"]
                scope = code["scope"] or DEFAULT_SCOPE
                refresh = None
                if access_type == "offline":
                    refresh = self._new_refresh(client_id, False, pkce, scope)
                lifetime = None if access_type == "legacy" else self.access_token_lifetime
                body = self._token_response(refresh, False, lifetime, scope,
                                            include_refresh=True)
                return Response.json(body)
            if grant == "refresh_token":
                ref = self._refresh.get(form.get("refresh_token", ""))
                if ref is None or ref.revoked:
                    return self._oauth_error("invalid_grant",
                                             "refresh token is invalid or revoked")
                if ref.app_key != client_id:
                    return self._oauth_error("invalid_grant",
                                             "refresh token was issued to another app")
                if client_secret is None and not ref.pkce:
                    return self._oauth_error("invalid_request",
                                             "No auth function available for given request")
                scope = form.get("scope") or ref.scope
                body = self._token_response(ref.token, ref.team, self.access_token_lifetime,
                                            scope if form.get("scope") else "",
                                            include_refresh=False, include_identity=False)
                return Response.json(body)
            return self._oauth_error("unsupported_grant_type",
                                     "grant_type must be authorization_code or refresh_token")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Loopback Dropbox API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--team-space", action="store_true")
    parser.add_argument("--token-lifetime", type=int, default=14400)
    args = parser.parse_args(argv)
    emu = DropboxEmulator(host=args.host, port=args.port, team_space=args.team_space,
                          access_token_lifetime=args.token_lifetime)
    emu.start()
    grant = emu.issue_token(legacy=True)
    print("Dropbox emulator on %s (app key %s, secret %s)" % (
        emu.base_url, DEFAULT_APP_KEY, DEFAULT_APP_SECRET))
    print("long-lived access token: %s" % grant["access_token"], flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    main()
