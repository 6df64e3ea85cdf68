"""Loopback emulator of an ownCloud / Nextcloud server (WebDAV + OCS), for ``pyocclient``.

Speaks enough of the real protocol for the unmodified ``pyocclient`` 0.6 SDK (and plain
``requests``) to work against it:

* ``GET /status.php`` (no auth).
* OCS: ``/ocs/v1.php/cloud/capabilities`` and ``/ocs/v2.php/...`` (XML, or JSON with
  ``?format=json``), the sharing API ``/ocs/v{1,2}.php/apps/files_sharing/api/v1/shares``
  (``POST`` shareType=3 public link / 0 user / 1 group, ``GET`` list (``?path=``,
  ``?subfiles=true``), ``GET|PUT|DELETE shares/<id>``). v1 answers HTTP 200 with the OCS status
  code inside (100 = ok), v2 mirrors it in the HTTP status.
* WebDAV on ``/remote.php/webdav/<path>`` and ``/remote.php/dav/files/<user>/<path>``:
  PROPFIND (Depth 0/1; ``infinity`` refused with 403 unless ``allow_depth_infinity``), MKCOL,
  PUT (``OC-Checksum`` verified, ``X-OC-MTime`` honoured), GET/HEAD (``Range`` supported),
  DELETE, MOVE, COPY (``Destination`` + ``Overwrite``), OPTIONS, PROPPATCH (accepted, ignored).
* Legacy chunking v1 (``OC-Chunked: 1`` + ``<name>-chunking-<transfer>-<count>-<index>``,
  only on ``remote.php/webdav``) and Nextcloud chunking v2 (``MKCOL
  /remote.php/dav/uploads/<user>/<id>``, ``PUT <id>/<n>``, ``MOVE <id>/.file`` with
  ``Destination`` and optional ``OC-Total-Length``; ``DELETE <id>`` aborts).
* Servers without one or both chunking protocols (``chunking_v2=False``,
  ``chunking_v1=False``), still advertising them (a proxy in front that does not pass them on,
  an old or stripped-down server). Without v2, by default, the DAV tree has no ``uploads``
  collection and answers like Sabre does: MKCOL below it 409 ("Parent node does not exist"),
  any other method 404 (``NotFound``). Without v1, by default, ``OC-Chunked`` is ignored, as
  by a server that does not know it: the piece is stored as a plain file under its chunk name
  (``<name>-chunking-<transfer>-<count>-<index>``). With ``chunking_refusal`` (404, 405, 501...)
  the missing protocol's requests answer that status instead (a front web server or proxy
  refusing them: unknown path, method not allowed, not implemented).
* Public links: ``GET /index.php/s/<token>/download`` (also ``/s/<token>/download``) returns the
  file without authentication.

Semantics kept like the real servers: integer ``oc:fileid`` that survives MOVE/rename (COPY
makes new ids), ETags that change on every content change and propagate to every ancestor folder
up to the root (siblings untouched), ``oc:size`` of a folder = total size below it, quota per
user (507), locked items (423), Sabre-style XML error bodies, 401 on a wrong password.

Storage: in memory by default; with ``root_dir`` the files are real files under
``root_dir/<user>/...`` and the metadata (fileids, etags, mtimes, checksums, shares) is kept in
the sidecar ``root_dir/.owncloud-emulator.json`` so it survives restarts. In that mode the disk is
rescanned before every WebDAV request: a file a person edits, adds or removes by hand appears
with a new ETag (same fileid when edited in place), like Nextcloud's ``files:scan``.

Route names (for ``inject()``, ``counters`` and the request log):

=====================  =========================================================================
``status.php``         GET /status.php
``ocs/capabilities``   OCS cloud/capabilities (v1 and v2)
``ocs/shares``         OCS files_sharing shares API (every method)
``ocs``                any other OCS path
``PROPFIND`` ``PUT``   WebDAV methods on remote.php/webdav and remote.php/dav/files/<user>
``GET`` ``HEAD``       (legacy v1 chunk PUTs are ``PUT`` as well)
``MKCOL`` ``MOVE``
``COPY`` ``DELETE``
``OPTIONS``
``PROPPATCH``
``uploads/MKCOL``      chunking v2: create the upload folder
``uploads/PUT``        chunking v2: one chunk
``uploads/MOVE``       chunking v2: assemble ``.file`` into the destination
``uploads/DELETE``     chunking v2: abort; ``uploads/PROPFIND`` lists the chunks
``public``             public-link download
``other``              anything else (404)
=====================  =========================================================================

Standalone: ``python -m cloud_emulators.owncloud --port 8081 --root /tmp/cloud --user admin
--password secret``.
"""
from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import itertools
import json
import mimetypes
import os
import re
import secrets
import shutil
import string
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

try:  # package import (tests) or ``python -m cloud_emulators.owncloud``
    from .common import DropConnection, Emulator, Fault, Request, Response  # noqa: F401
except ImportError:  # pragma: no cover - executed as a plain script
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from cloud_emulators.common import DropConnection, Emulator, Fault, Request, Response  # noqa

DAV_NS = "DAV:"
OC_NS = "http://owncloud.org/ns"
NC_NS = "http://nextcloud.org/ns"
SABRE_NS = "http://sabredav.org/ns"
PREFIXES = {DAV_NS: "d", OC_NS: "oc", NC_NS: "nc", SABRE_NS: "s"}

XML_TYPE = "application/xml; charset=utf-8"
SIDECAR = ".owncloud-emulator.json"
TMPDIR = ".owncloud-emulator-tmp"

FILE_PERMISSIONS = "RGDNVW"
FOLDER_PERMISSIONS = "RGDNVCK"

# Properties answered for PROPFIND <allprop/> (or an empty body), like Sabre.
ALLPROP = ["{DAV:}getlastmodified", "{DAV:}resourcetype", "{DAV:}getcontentlength",
           "{DAV:}getcontenttype", "{DAV:}getetag", "{DAV:}quota-used-bytes",
           "{DAV:}quota-available-bytes"]

_CHUNK_V1 = re.compile(r"^(?P<name>.+)-chunking-(?P<transfer>\w+)-(?P<count>\d+)-(?P<index>\d+)$")

_STATUS_TEXT = {200: "OK", 403: "Forbidden", 404: "Not Found"}


class DavError(Exception):
    """A WebDAV error, rendered as a Sabre XML error body."""

    def __init__(self, status, exception, message, headers=None):
        super().__init__(message)
        self.status = status
        self.exception = exception
        self.message = message
        self.headers = headers or {}


class OcsError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def _not_found(path):
    return DavError(404, "Sabre\\DAV\\Exception\\NotFound",
                    "File with name %s could not be located" % path)


def _locked(path):
    return DavError(423, "OCA\\DAV\\Connector\\Sabre\\Exception\\FileLocked",
                    '"%s" is locked' % path.lstrip("/"))


@dataclass
class _Node:
    kind: str  # "file" | "folder"
    fileid: int
    etag: str
    mtime: float
    size: int = 0
    checksum: Optional[str] = None  # "SHA1:.. MD5:.. ADLER32:.." (None: compute lazily)
    disk_mtime_ns: int = 0
    data: Optional[bytes] = None  # memory mode only

    def meta(self):
        meta = asdict(self)
        meta.pop("data")
        return meta


def _parent(path):
    if path == "/":
        return None
    head = path.rsplit("/", 1)[0]
    return head or "/"


def _basename(path):
    return path.rsplit("/", 1)[-1]


def _join(folder, name):
    return folder.rstrip("/") + "/" + name


def _below(path, root):
    """True if ``path`` is ``root`` or inside it."""
    return root == "/" or path == root or path.startswith(root + "/")


def _norm(path):
    """Decoded URL path -> canonical ``/a/b`` (``/`` for the root)."""
    parts = [p for p in path.split("/") if p]
    for part in parts:
        if part in (".", ".."):
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest", "Invalid path")
    return "/" + "/".join(parts)


#: ownCloud and Nextcloud refuse a file or folder name longer than 255 bytes (PHP strlen)
MAX_NAME_BYTES = 255


def _check_new_name(path):
    """A name being created (PUT, MKCOL, MOVE/COPY destination): the servers' own length
    check, counted in bytes of UTF-8."""
    if len(_basename(path).encode("utf-8")) > MAX_NAME_BYTES:
        raise DavError(400, "OCA\\DAV\\Connector\\Sabre\\Exception\\InvalidPath",
                       "File name is too long")


def _checksums(data):
    return "SHA1:%s MD5:%s ADLER32:%08x" % (hashlib.sha1(data).hexdigest(),
                                             hashlib.md5(data).hexdigest(),
                                             zlib.adler32(data) & 0xFFFFFFFF)


def _httpdate(ts):
    return email.utils.formatdate(ts, usegmt=True)


def _qname(clark):
    """``{ns}name`` -> (prefixed name, extra xmlns declaration or "")."""
    if clark.startswith("{"):
        ns, name = clark[1:].split("}", 1)
    else:
        ns, name = "", clark
    if ns in PREFIXES:
        return "%s:%s" % (PREFIXES[ns], name), ""
    if not ns:
        return name, ""
    return "x:%s" % name, ' xmlns:x="%s"' % escape(ns, {'"': "&quot;"})


def _sabre_error(status, exception, message, headers=None):
    body = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n'
            '  <s:exception>%s</s:exception>\n'
            '  <s:message>%s</s:message>\n'
            '</d:error>\n' % (escape(exception), escape(message)))
    hdrs = {"Content-Type": XML_TYPE}
    hdrs.update(headers or {})
    return Response(status, body.encode(), hdrs)


def _ocs_xml_value(value, indent="  "):
    if isinstance(value, dict):
        out = []
        for key, val in value.items():
            out.append(_ocs_xml_element(key, val, indent))
        return "".join(out)
    if isinstance(value, list):
        return "".join(_ocs_xml_element("element", v, indent) for v in value)
    return None


def _ocs_xml_element(tag, value, indent):
    if isinstance(value, (dict, list)):
        inner = _ocs_xml_value(value, indent + " ")
        if not inner:
            return "%s<%s/>\n" % (indent, tag)
        return "%s<%s>\n%s%s</%s>\n" % (indent, tag, inner, indent, tag)
    if value is None or value is False or value == "":
        return "%s<%s/>\n" % (indent, tag)
    if value is True:
        value = 1
    return "%s<%s>%s</%s>\n" % (indent, tag, escape(str(value)), tag)


class OwnCloudEmulator(Emulator):
    """ownCloud / Nextcloud stand-in. See the module docstring for routes and semantics.

    :param users: ``{login: password}`` (default ``{"admin": "admin"}``)
    :param root_dir: keep files on disk under ``root_dir/<user>/`` (None: in memory)
    :param quotas: ``{login: bytes}`` (missing/None: unlimited)
    :param dav_chunking: value of the ``dav.chunking`` capability. With a value (the default
        ``"1.0"``, like real servers) pyocclient talks to ``remote.php/webdav``; with None the
        capability is omitted and pyocclient uses ``remote.php/dav/files/<user>``.
    :param allow_depth_infinity: accept ``PROPFIND Depth: infinity`` (real default: refused).
    :param rescan: in disk mode, pick up changes made by hand on disk before each request.
    :param chunking_v2: serve chunking v2 (``remote.php/dav/uploads``); False: a server whose
        DAV tree lacks it (see the module docstring), whatever the capabilities say.
    :param chunking_v1: honour legacy ``OC-Chunked`` PUTs; False: the header is ignored and
        the piece stored as a plain file of its chunk name.
    :param chunking_refusal: with a protocol off, answer its requests with this HTTP status
        (e.g. 404, 405, 501) instead of the server behaviour above.
    """

    name = "owncloud"

    def __init__(self, users=None, root_dir=None, quotas=None, host="127.0.0.1", port=0,
                 latency=0.0, product="Nextcloud", version="28.0.1.1",
                 dav_chunking="1.0", allow_depth_infinity=False, rescan=True,
                 chunking_v2=True, chunking_v1=True, chunking_refusal=None):
        super().__init__(host=host, port=port, latency=latency)
        self.product = product
        self.version = version
        self.dav_chunking = dav_chunking
        self.chunking_v2 = chunking_v2
        self.chunking_v1 = chunking_v1
        self.chunking_refusal = chunking_refusal
        self.allow_depth_infinity = allow_depth_infinity
        self.root_dir = os.path.abspath(root_dir) if root_dir else None
        self.rescan_on_request = rescan
        self.passwords = {}  # login -> set of accepted passwords (login + app passwords)
        self.display_names = {}
        self.quotas = dict(quotas or {})
        self.locks = set()  # (user, path)
        self.instance_id = "oc" + secrets.token_hex(5)
        self._fs = {}  # user -> {path: _Node}
        self._shares = {}  # id -> dict(owner, fileid, share_type, token, ...)
        self._uploads = {}  # (user, upload id) -> {"chunks": {name: bytes}, ...}
        self._chunks_v1 = {}  # (user, final path, transfer id) -> {"count": n, "chunks": {}}
        self._next_fileid = 1
        self._share_ids = itertools.count(1)
        self._etag_counter = itertools.count(1)
        self._persist_lock = threading.RLock()
        if self.root_dir:
            os.makedirs(self.root_dir, exist_ok=True)
            self._load_sidecar()
        for login, password in (users if users is not None else {"admin": "admin"}).items():
            self.add_user(login, password)

    # =====================================================================================
    # public helpers (tests, demo)
    # =====================================================================================
    def add_user(self, login, password, quota=None, display_name=None):
        """Create a user (or add a password to an existing one); returns the login."""
        with self.lock:
            self.passwords.setdefault(login, set()).add(password)
            self.display_names[login] = display_name or self.display_names.get(login) or login
            if quota is not None:
                self.quotas[login] = quota
            if login not in self._fs:
                self._fs[login] = {"/": self._new_node("folder")}
                if self.root_dir:
                    os.makedirs(os.path.join(self.root_dir, login), exist_ok=True)
            if self.root_dir:
                self._rescan_user(login)
                self._save()
        return login

    def add_app_password(self, login, password=None):
        """Add an app password (any accepted password works for Basic auth); returns it."""
        password = password or "-".join(
            "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))
            for _ in range(5))
        with self.lock:
            if login not in self.passwords:
                raise KeyError(login)
            self.passwords[login].add(password)
        return password

    def set_quota(self, login, quota):
        """Quota in bytes (None: unlimited). Uploads beyond it answer 507."""
        with self.lock:
            self.quotas[login] = quota

    def lock_item(self, path, user=None):
        """Mark ``path`` (and everything below it) locked: writes answer 423 Locked."""
        with self.lock:
            self.locks.add((self._user(user), _norm(path)))

    lock_path = lock_item

    def unlock(self, path, user=None):
        with self.lock:
            self.locks.discard((self._user(user), _norm(path)))

    def tree(self, user=None):
        """``{path: ("folder"|"file", size)}`` of everything but the root (folder size = total)."""
        with self.lock:
            self._maybe_rescan(self._user(user))
            fs = self._fs[self._user(user)]
            return {path: (node.kind, self._size(fs, path)) for path, node in sorted(fs.items())
                    if path != "/"}

    def info(self, user, path):
        """Metadata dict of ``path`` (None if absent): path, kind, fileid, etag, size, mtime..."""
        with self.lock:
            self._maybe_rescan(user)
            fs = self._fs[user]
            path = _norm(path)
            node = fs.get(path)
            return self._describe(user, path, node) if node else None

    def item_by_fileid(self, user, fileid):
        """Metadata dict (as :meth:`info`) of the item with that fileid, or None."""
        fileid = int(fileid)
        with self.lock:
            self._maybe_rescan(user)
            for path, node in self._fs[user].items():
                if node.fileid == fileid:
                    return self._describe(user, path, node)
        return None

    def get(self, user, path):
        """Content of a file (bytes)."""
        with self.lock:
            fs = self._fs[user]
            path = _norm(path)
            node = fs.get(path)
            if not node or node.kind != "file":
                raise FileNotFoundError(path)
            return self._read(user, path, node)

    def put(self, user, path, data, mtime=None):
        """Write a file as a person in the web UI would (parents created); returns info()."""
        with self.lock:
            path = _norm(path)
            self._makedirs(user, _parent(path))
            self._write_file(user, path, bytes(data), mtime=mtime)
            self._save()
            return self.info(user, path)

    def mkdir(self, user, path):
        """Create a folder (and missing parents); returns info()."""
        with self.lock:
            path = _norm(path)
            self._makedirs(user, path)
            self._save()
            return self.info(user, path)

    def move(self, user, src, dst):
        """Move/rename (fileids kept, parents' etags changed); overwrites ``dst``."""
        with self.lock:
            src, dst = _norm(src), _norm(dst)
            if src not in self._fs[user]:
                raise FileNotFoundError(src)
            self._makedirs(user, _parent(dst))
            self._move(user, src, dst, overwrite=True)
            self._save()
            return self.info(user, dst)

    def copy(self, user, src, dst):
        with self.lock:
            src, dst = _norm(src), _norm(dst)
            if src not in self._fs[user]:
                raise FileNotFoundError(src)
            self._makedirs(user, _parent(dst))
            self._copy(user, src, dst, overwrite=True)
            self._save()
            return self.info(user, dst)

    def delete(self, user, path):
        with self.lock:
            path = _norm(path)
            if path == "/" or path not in self._fs[user]:
                raise FileNotFoundError(path)
            self._delete(user, path)
            self._save()

    def exists(self, user, path):
        return self.info(user, path) is not None

    def shares(self, user=None):
        """List of the user's shares (OCS dicts, as the API returns them)."""
        with self.lock:
            user = self._user(user)
            return [self._share_data(s) for s in self._shares.values()
                    if s["owner"] == user and self._share_path(s)]

    def public_url(self, token):
        return "%s/index.php/s/%s" % (self.base_url, token)

    def rescan(self, user=None):
        """Disk mode: pick up changes a person made directly on disk."""
        with self.lock:
            for login in ([user] if user else list(self._fs)):
                self._rescan_user(login)
            self._save()

    # =====================================================================================
    # routing
    # =====================================================================================
    def route_of(self, request: Request) -> str:
        path = unquote(request.path)
        if path.endswith("/status.php"):
            return "status.php"
        if path.startswith(("/ocs/v1.php/", "/ocs/v2.php/")):
            if "/cloud/capabilities" in path:
                return "ocs/capabilities"
            if "/apps/files_sharing/api/v1/shares" in path:
                return "ocs/shares"
            return "ocs"
        if path.startswith("/remote.php/dav/uploads/"):
            return "uploads/" + request.method
        if path.startswith(("/remote.php/webdav", "/remote.php/dav/files/")):
            return request.method
        if re.match(r"^(/index\.php)?/s/[^/]+", path):
            return "public"
        return "other"

    def handle(self, request: Request) -> Response:
        with self.lock:
            try:
                route = request.route or self.route_of(request)
                if route == "status.php":
                    return self._status()
                if route.startswith("ocs"):
                    return self._handle_ocs(request, route)
                if route == "public":
                    return self._handle_public(request)
                if route == "other":
                    raise _not_found(unquote(request.path))
                user = self._authenticate(request)
                if route.startswith("uploads/"):
                    if not self.chunking_v2:
                        raise self._no_uploads_collection(request)
                    return self._handle_uploads(request, user)
                return self._handle_dav(request, user)
            except DavError as exc:
                return _sabre_error(exc.status, exc.exception, exc.message, exc.headers)

    # =====================================================================================
    # auth
    # =====================================================================================
    def _credentials(self, request):
        auth = request.header("authorization") or ""
        if not auth.lower().startswith("basic "):
            return None
        try:
            login, _, password = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except Exception:  # noqa: BLE001 - malformed header
            return ("", "")
        return login, password

    def _check(self, creds):
        return bool(creds) and creds[1] in self.passwords.get(creds[0], ())

    def _authenticate(self, request):
        creds = self._credentials(request)
        if creds is None:
            raise DavError(401, "Sabre\\DAV\\Exception\\NotAuthenticated",
                           "No public access to this resource., No 'Authorization: Basic' "
                           "header found. Either the client didn't send one, or the server is "
                           "misconfigured",
                           {"WWW-Authenticate": 'Basic realm="%s", charset="UTF-8"'
                            % self.product})
        if not self._check(creds):
            raise DavError(401, "Sabre\\DAV\\Exception\\NotAuthenticated",
                           "Username or password was incorrect, No 'Authorization: Bearer' "
                           "header found. Either the client didn't send one, or the server is "
                           "mis-configured",
                           {"WWW-Authenticate": 'Basic realm="%s", charset="UTF-8"'
                            % self.product})
        self._maybe_rescan(creds[0])
        return creds[0]

    def _user(self, user):
        if user:
            return user
        return next(iter(self._fs))

    # =====================================================================================
    # status.php and OCS
    # =====================================================================================
    def _status(self):
        parts = self.version.split(".")
        return Response.json({
            "installed": True, "maintenance": False, "needsDbUpgrade": False,
            "version": self.version, "versionstring": ".".join(parts[:3]), "edition": "",
            "productname": self.product, "extendedSupport": False})

    def _capabilities(self):
        parts = (self.version.split(".") + ["0", "0", "0"])[:3]
        dav = {"bulkupload": "1.0"}
        if self.dav_chunking:
            dav["chunking"] = self.dav_chunking
        return {
            "version": {"major": int(parts[0]), "minor": int(parts[1]), "micro": int(parts[2]),
                        "string": ".".join(parts), "edition": "", "extendedSupport": False},
            "capabilities": {
                "core": {"pollinterval": 60, "webdav-root": "remote.php/webdav",
                         "reference-api": True},
                "dav": dav,
                "files": {"bigfilechunking": True, "blacklisted_files": [".htaccess"],
                          "versioning": True, "undelete": True},
                "checksums": {"supportedTypes": ["SHA1", "MD5", "ADLER32"],
                              "preferredUploadType": "SHA1"},
                "files_sharing": {
                    "api_enabled": True, "resharing": True, "group_sharing": True,
                    "public": {"enabled": True, "upload": True, "password":
                               {"enforced": False}, "expire_date": {"enabled": False}},
                    "user": {"send_mail": False},
                },
            },
        }

    def _handle_ocs(self, request, route):
        path = unquote(request.path)
        version = 2 if path.startswith("/ocs/v2.php/") else 1
        fmt = request.query.get("format") or (
            "json" if "application/json" in (request.header("accept") or "") else "xml")
        try:
            creds = self._credentials(request)
            if creds is not None and not self._check(creds):
                raise OcsError(997, "Current user is not logged in")
            if route == "ocs/capabilities":
                return self._ocs(version, fmt, self._capabilities())
            if creds is None:
                raise OcsError(997, "Current user is not logged in")
            user = creds[0]
            if route == "ocs/shares":
                return self._handle_shares(request, user, path, version, fmt)
            raise OcsError(998, "Invalid query, please check the syntax. API specifications "
                                "are here: http://www.freedesktop.org/wiki/Specifications/"
                                "open-collaboration-services.")
        except OcsError as exc:
            return self._ocs(version, fmt, [], code=exc.code, message=exc.message)

    def _ocs(self, version, fmt, data, code=None, message="OK"):
        if code is None:
            status, statuscode, http = "ok", (100 if version == 1 else 200), 200
        else:
            status, statuscode = "failure", code
            if code == 997:
                http = 401
            elif version == 1:
                http = 200
            else:
                http = 404 if code == 998 else code
        meta = {"status": status, "statuscode": statuscode, "message": message,
                "totalitems": "", "itemsperpage": ""}
        if fmt == "json":
            return Response.json({"ocs": {"meta": meta, "data": data}}, status=http,
                                 content_type="application/json; charset=utf-8")
        body = ('<?xml version="1.0"?>\n<ocs>\n <meta>\n%s </meta>\n' %
                "".join(_ocs_xml_element(k, v, "  ") for k, v in meta.items()))
        body += _ocs_xml_element("data", data, " ") + "</ocs>\n"
        return Response(http, body.encode(), {"Content-Type": XML_TYPE})

    # -- shares ------------------------------------------------------------------------------
    def _form(self, request):
        ctype = request.header("content-type") or ""
        if "json" in ctype:
            try:
                return {k: str(v) for k, v in (request.json() or {}).items()}
            except ValueError:
                return {}
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace"),
                                               keep_blank_values=True).items()}
        return form

    def _handle_shares(self, request, user, path, version, fmt):
        tail = path.split("/apps/files_sharing/api/v1/shares", 1)[1].strip("/")
        if not tail:
            if request.method == "GET":
                return self._ocs(version, fmt, self._list_shares(request, user))
            if request.method == "POST":
                return self._ocs(version, fmt, self._create_share(request, user))
            raise OcsError(405, "Method not allowed")
        if not tail.isdigit() or int(tail) not in self._shares \
                or self._shares[int(tail)]["owner"] != user \
                or not self._share_path(self._shares[int(tail)]):
            raise OcsError(404, "Wrong share ID, share doesn't exist")
        share = self._shares[int(tail)]
        if request.method == "GET":
            return self._ocs(version, fmt, [self._share_data(share)])
        if request.method == "DELETE":
            del self._shares[share["id"]]
            self._save()
            return self._ocs(version, fmt, [])
        if request.method == "PUT":
            form = self._form(request)
            if "permissions" in form:
                share["permissions"] = int(form["permissions"])
            if form.get("publicUpload") == "true":
                share["permissions"] = 15
            elif form.get("publicUpload") == "false":
                share["permissions"] = 1
            if "password" in form:
                share["password"] = form["password"] or None
            if "expireDate" in form:
                share["expiration"] = form["expireDate"] or None
            for key in ("label", "note", "name"):
                if key in form:
                    share[key] = form[key]
            self._save()
            return self._ocs(version, fmt, self._share_data(share))
        raise OcsError(405, "Method not allowed")

    def _list_shares(self, request, user):
        fs = self._fs[user]
        if request.query.get("shared_with_me") == "true":
            return []
        path = request.query.get("path")
        mine = [s for s in self._shares.values() if s["owner"] == user and self._share_path(s)]
        if path is None:
            return [self._share_data(s) for s in mine]
        path = _norm(path)
        if path not in fs:
            raise OcsError(404, "Wrong path, file/folder doesn't exist")
        if request.query.get("subfiles") == "true":
            if fs[path].kind != "folder":
                raise OcsError(400, "Not a directory")
            return [self._share_data(s) for s in mine
                    if _parent(self._share_path(s)) == path]
        return [self._share_data(s) for s in mine if self._share_path(s) == path]

    def _create_share(self, request, user):
        form = self._form(request)
        fs = self._fs[user]
        if "path" not in form:
            raise OcsError(404, "Please specify a file or folder path")
        path = _norm(form["path"])
        node = fs.get(path)
        if node is None or path == "/":
            raise OcsError(404, "Wrong path, file/folder doesn't exist")
        try:
            share_type = int(form.get("shareType", ""))
        except ValueError:
            raise OcsError(400, "Unknown share type") from None
        share = {"id": next(self._share_ids), "owner": user, "fileid": node.fileid,
                 "share_type": share_type, "stime": int(time.time()), "token": None,
                 "share_with": None, "password": form.get("password") or None,
                 "expiration": form.get("expireDate") or None, "label": form.get("label", ""),
                 "note": form.get("note", ""), "name": form.get("name") or None}
        if share_type == 3:
            share["token"] = "".join(secrets.choice(string.ascii_letters + string.digits)
                                     for _ in range(15))
            perms = int(form.get("permissions") or 1)
            if form.get("publicUpload") == "true" and node.kind == "folder":
                perms = 15
            share["permissions"] = perms
        elif share_type in (0, 1):
            target = form.get("shareWith")
            if share_type == 0 and target not in self.passwords:
                raise OcsError(404, "Please specify a valid user")
            if share_type == 0 and target == user:
                raise OcsError(400, "You cannot share to yourself")
            share["share_with"] = target
            share["permissions"] = int(form.get("permissions") or 31)
        else:
            raise OcsError(400, "Unknown share type")
        self._shares[share["id"]] = share
        self._save()
        return self._share_data(share)

    def _share_path(self, share):
        fs = self._fs.get(share["owner"], {})
        for path, node in fs.items():
            if node.fileid == share["fileid"]:
                return path
        return None

    def _share_data(self, share):
        owner = share["owner"]
        fs = self._fs[owner]
        path = self._share_path(share)
        node = fs[path]
        parent = fs[_parent(path)]
        link = share["share_type"] == 3
        return {
            "id": str(share["id"]), "share_type": share["share_type"], "uid_owner": owner,
            "displayname_owner": self.display_names.get(owner, owner),
            "permissions": share["permissions"], "can_edit": True, "can_delete": True,
            "stime": share["stime"], "parent": None, "expiration": share["expiration"],
            "token": share["token"], "uid_file_owner": owner, "note": share["note"],
            "label": share["label"],
            "displayname_file_owner": self.display_names.get(owner, owner), "path": path,
            "item_type": node.kind, "mimetype": self._mimetype(path, node),
            "has_preview": False, "storage_id": "home::" + owner, "storage": 1,
            "item_source": node.fileid, "file_source": node.fileid,
            "file_parent": parent.fileid, "file_target": "/" + _basename(path),
            "share_with": share["share_with"] if not link else None,
            "share_with_displayname": (self.display_names.get(share["share_with"],
                                                              share["share_with"])
                                       if not link else "(Shared link)"),
            "password": None if not share.get("password") else "***",
            "send_password_by_talk": False,
            "url": self.public_url(share["token"]) if link else None,
            "mail_send": 0, "hide_download": 0, "attributes": None,
            "name": share.get("name"),
        }

    def _handle_public(self, request):
        path = unquote(request.path)
        match = re.match(r"^(?:/index\.php)?/s/([^/]+)(/download)?/?$", path)
        share = None
        if match:
            share = next((s for s in self._shares.values()
                          if s["token"] == match.group(1) and self._share_path(s)), None)
        if share is None or request.method not in ("GET", "HEAD"):
            return Response(404, b"Share not found", {"Content-Type": "text/plain"})
        owner = share["owner"]
        spath = self._share_path(share)
        node = self._fs[owner][spath]
        if node.kind == "file" and match.group(2):
            data = self._read(owner, spath, node)
            return Response(200, data, {
                "Content-Type": self._mimetype(spath, node),
                "Content-Disposition": 'attachment; filename="%s"' % _basename(spath),
                "ETag": '"%s"' % node.etag})
        html = ("<html><body><h1>%s</h1><p>Shared by %s</p>%s</body></html>" % (
            escape(_basename(spath)), escape(owner),
            '<a href="%s/download">Download</a>' % escape(path.rstrip("/"))
            if node.kind == "file" else ""))
        return Response(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})

    # =====================================================================================
    # WebDAV
    # =====================================================================================
    def _dav_target(self, path, user):
        """Decoded request path -> (href base, item path), checking the URL's user."""
        if path.startswith("/remote.php/webdav"):
            rest = path[len("/remote.php/webdav"):]
            if rest and not rest.startswith("/"):
                raise _not_found(path)
            return "/remote.php/webdav", _norm(rest), "webdav"
        rest = path[len("/remote.php/dav/files/"):]
        url_user, _, rest = rest.partition("/")
        if url_user != user:
            raise DavError(404, "Sabre\\DAV\\Exception\\NotFound",
                           "Principal with name %s not found" % url_user)
        return "/remote.php/dav/files/" + quote(user), _norm(rest), "files"

    def _handle_dav(self, request, user):
        base, path, endpoint = self._dav_target(unquote(request.path), user)
        method = request.method
        if method == "OPTIONS":
            return Response(200, b"", {
                "DAV": "1, 3, extended-mkcol", "MS-Author-Via": "DAV",
                "Allow": "OPTIONS, GET, HEAD, DELETE, PROPFIND, PUT, PROPPATCH, COPY, MOVE, "
                         "REPORT, MKCOL"})
        if method == "PROPFIND":
            return self._propfind(request, user, base, path)
        if method in ("GET", "HEAD"):
            return self._get(request, user, path)
        if request.header("if-none-match") == "*" and path in self._fs[user] \
                and not request.header("oc-chunked"):
            # Sabre's checkPreconditions, before any method: "*" matches whatever exists
            raise DavError(412, "Sabre\\DAV\\Exception\\PreconditionFailed",
                           "An If-None-Match header was specified, but the ETag matched (or "
                           "* was specified).")
        if method == "PUT":
            return self._put(request, user, path, endpoint)
        if method == "MKCOL":
            return self._mkcol(request, user, path)
        if method == "DELETE":
            return self._dav_delete(user, path)
        if method in ("MOVE", "COPY"):
            return self._move_copy(request, user, path, method)
        if method == "PROPPATCH":
            return self._proppatch(request, user, base, path)
        raise DavError(501, "Sabre\\DAV\\Exception\\NotImplemented",
                       "There was no plugin in the system that was willing to handle this "
                       "%s method." % method)

    # -- PROPFIND ----------------------------------------------------------------------------
    def _requested_props(self, body):
        if not body.strip():
            return None
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest", str(exc)) from None
        if root.tag != "{DAV:}propfind":
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "The root element must be {DAV:}propfind")
        prop = root.find("{DAV:}prop")
        if prop is None:
            return None  # allprop / propname
        return [child.tag for child in prop]

    def _depth(self, request, default="1"):
        depth = (request.header("depth") or default).strip().lower()
        if depth not in ("0", "1", "infinity"):
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "The HTTP Depth header may only be \"0\", \"1\" or \"infinity\"")
        return depth

    def _propfind(self, request, user, base, path):
        fs = self._fs[user]
        depth = self._depth(request)
        if depth == "infinity" and not self.allow_depth_infinity:
            raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden",
                           "PROPFIND with Depth: infinity is not allowed")
        props = self._requested_props(request.body)
        node = fs.get(path)
        if node is None:
            raise _not_found(path)
        paths = [path]
        if node.kind == "folder" and depth != "0":
            below = sorted(p for p in fs if p != path and _below(p, path))
            if depth == "1":
                below = [p for p in below if _parent(p) == path]
            paths += below
        responses = []
        for item in paths:
            href = base + quote(item if item != "/" else "/")
            if fs[item].kind == "folder" and not href.endswith("/"):
                href += "/"
            responses.append(self._prop_response(user, fs, item, href, props))
        return self._multistatus(responses)

    def _multistatus(self, responses):
        body = ('<?xml version="1.0"?>\n<d:multistatus xmlns:d="DAV:" '
                'xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns" '
                'xmlns:nc="http://nextcloud.org/ns">' + "".join(responses) +
                "</d:multistatus>\n")
        return Response(207, body.encode("utf-8"), {"Content-Type": XML_TYPE,
                                                    "Vary": "Brief,Prefer", "DAV": "1, 3"})

    def _prop_response(self, user, fs, path, href, props):
        node = fs[path]
        allprop = props is None
        wanted = ALLPROP if allprop else props
        found, missing = [], []
        for clark in wanted:
            value = self._prop_value(user, fs, path, node, clark)
            qname, decl = _qname(clark)
            if value is None:
                if not allprop:
                    missing.append("<%s%s/>" % (qname, decl))
            elif value == "":
                found.append("<%s%s/>" % (qname, decl))
            else:
                found.append("<%s%s>%s</%s>" % (qname, decl, value, qname))
        out = ["<d:response><d:href>%s</d:href>" % escape(href)]
        if found:
            out.append("<d:propstat><d:prop>%s</d:prop><d:status>HTTP/1.1 200 OK</d:status>"
                       "</d:propstat>" % "".join(found))
        if missing:
            out.append("<d:propstat><d:prop>%s</d:prop><d:status>HTTP/1.1 404 Not Found"
                       "</d:status></d:propstat>" % "".join(missing))
        out.append("</d:response>")
        return "".join(out)

    def _prop_value(self, user, fs, path, node, clark):
        """Escaped XML content of a property, "" for an empty element, None if absent."""
        folder = node.kind == "folder"
        if clark == "{DAV:}getetag":
            return escape('"%s"' % node.etag)
        if clark == "{DAV:}getlastmodified":
            return _httpdate(node.mtime)
        if clark == "{DAV:}resourcetype":
            return "<d:collection/>" if folder else ""
        if clark == "{DAV:}getcontentlength":
            return None if folder else str(node.size)
        if clark == "{DAV:}getcontenttype":
            return None if folder else escape(self._mimetype(path, node))
        if clark == "{DAV:}displayname":
            return escape(_basename(path))
        if clark == "{DAV:}quota-used-bytes":
            return str(self._size(fs, path)) if folder else None
        if clark == "{DAV:}quota-available-bytes":
            if not folder:
                return None
            quota = self.quotas.get(user)
            return "-3" if quota is None else str(max(0, quota - self._size(fs, "/")))
        if clark == "{%s}fileid" % OC_NS:
            return str(node.fileid)
        if clark == "{%s}id" % OC_NS:
            return self._oc_id(node)
        if clark == "{%s}size" % OC_NS:
            return str(self._size(fs, path))
        if clark == "{%s}permissions" % OC_NS:
            return FOLDER_PERMISSIONS if folder else FILE_PERMISSIONS
        if clark == "{%s}checksums" % OC_NS:
            if folder:
                return None
            return "<oc:checksum>%s</oc:checksum>" % self._checksum(user, path, node)
        if clark == "{%s}favorite" % OC_NS:
            return "0"
        if clark == "{%s}owner-id" % OC_NS:
            return escape(user)
        if clark == "{%s}owner-display-name" % OC_NS:
            return escape(self.display_names.get(user, user))
        if clark == "{%s}share-types" % OC_NS:
            types = sorted({s["share_type"] for s in self._shares.values()
                            if s["owner"] == user and s["fileid"] == node.fileid})
            return "".join("<oc:share-type>%d</oc:share-type>" % t for t in types)
        if clark == "{%s}has-preview" % NC_NS:
            return "false"
        if clark == "{%s}is-encrypted" % NC_NS:
            return "0"
        if clark == "{%s}mount-type" % NC_NS:
            return ""
        if clark == "{%s}data-fingerprint" % OC_NS:
            return ""
        return None

    def _proppatch(self, request, user, base, path):
        fs = self._fs[user]
        if path not in fs:
            raise _not_found(path)
        self._check_lock(user, path)
        names = []
        try:
            root = ET.fromstring(request.body or b"<x/>")
            for prop in root.iter("{DAV:}prop"):
                names += [child.tag for child in prop]
        except ET.ParseError as exc:
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest", str(exc)) from None
        href = base + quote(path) + ("/" if fs[path].kind == "folder" and path != "/" else "")
        items = "".join("<%s%s/>" % _qname(n) for n in names)
        resp = ("<d:response><d:href>%s</d:href><d:propstat><d:prop>%s</d:prop>"
                "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                % (escape(href), items))
        return self._multistatus([resp])

    # -- GET ---------------------------------------------------------------------------------
    def _get(self, request, user, path):
        fs = self._fs[user]
        node = fs.get(path)
        if node is None:
            raise _not_found(path)
        if node.kind == "folder":
            raise DavError(501, "Sabre\\DAV\\Exception\\NotImplemented",
                           "GET is only allowed on files")
        data = self._read(user, path, node)
        headers = {"Content-Type": self._mimetype(path, node), "ETag": '"%s"' % node.etag,
                   "OC-ETag": '"%s"' % node.etag, "OC-FileId": self._oc_id(node),
                   "Last-Modified": _httpdate(node.mtime), "Accept-Ranges": "bytes",
                   "Content-Disposition": "attachment; filename*=UTF-8''%s; filename=\"%s\""
                   % (quote(_basename(path)), _basename(path))}
        rng = request.header("range")
        match = re.match(r"^bytes=(\d*)-(\d*)$", (rng or "").strip())
        if match and (match.group(1) or match.group(2)):
            size = len(data)
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:
                start, end = max(0, size - int(match.group(2))), size - 1
            if start >= size or start > end:
                return Response(416, b"", {"Content-Range": "bytes */%d" % size})
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
            return Response(206, data[start:end + 1], headers)
        return Response(200, data, headers)

    # -- PUT ---------------------------------------------------------------------------------
    def _put(self, request, user, path, endpoint):
        fs = self._fs[user]
        if request.header("oc-chunked") and not self.chunking_v1 \
                and self.chunking_refusal is not None:
            raise self._refusal(self.chunking_refusal, request.method)
        if request.header("oc-chunked") and self.chunking_v1:
            if endpoint != "webdav":
                raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                               "Chunking v1 is not supported on the new DAV endpoint")
            return self._put_chunk_v1(request, user, path)
        if path == "/":
            raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                           "PUT is not allowed on non-files.")
        _check_new_name(path)
        parent = fs.get(_parent(path))
        if parent is None or parent.kind != "folder":
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                           "Files cannot be created in non-existent collections")
        existing = fs.get(path)
        if existing is not None and existing.kind == "folder":
            raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                           "PUT is not allowed on non-files.")
        self._check_lock(user, path)
        expected = request.header("content-length")
        if expected is not None and expected.isdigit() and int(expected) != len(request.body):
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "Expected filesize of %s bytes but read (from Nextcloud client) "
                           "and wrote (to Nextcloud storage) %d bytes. Could either be a "
                           "network problem on the sending side or a problem writing to the "
                           "storage on the server side." % (expected, len(request.body)))
        return self._store_upload(request, user, path, request.body)

    def _store_upload(self, request, user, path, data, checksum_header=None):
        """Final write of an upload (plain PUT, v1 last chunk, v2 assembly)."""
        fs = self._fs[user]
        self._verify_checksum(checksum_header or request.header("oc-checksum"), data)
        existing = fs.get(path)
        self._check_quota(user, path, len(data) - (existing.size if existing else 0))
        mtime = request.header("x-oc-mtime")
        try:
            mtime = float(mtime) if mtime else None
        except ValueError:
            mtime = None
        node = self._write_file(user, path, data, mtime=mtime)
        self._save()
        headers = {"ETag": '"%s"' % node.etag, "OC-ETag": '"%s"' % node.etag,
                   "OC-FileId": self._oc_id(node), "Content-Type": "text/html; charset=UTF-8"}
        if mtime is not None:
            headers["X-OC-MTime"] = "accepted"
        return Response(204 if existing else 201, b"", headers)

    def _verify_checksum(self, header, data):
        if not header:
            return
        algos = {"SHA1": hashlib.sha1, "MD5": hashlib.md5, "SHA256": hashlib.sha256,
                 "ADLER32": None}
        for item in header.split():
            algo, _, value = item.partition(":")
            algo = algo.upper()
            if algo not in algos:
                continue
            if algo == "ADLER32":
                computed = "%08x" % (zlib.adler32(data) & 0xFFFFFFFF)
            else:
                computed = algos[algo](data).hexdigest()
            if computed.lower() != value.strip().lower():
                raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                               "The computed checksum does not match the one received from "
                               "the client.")

    def _check_quota(self, user, path, delta):
        quota = self.quotas.get(user)
        if quota is None or delta <= 0:
            return
        used = self._size(self._fs[user], "/")
        if used + delta > quota:
            raise DavError(507, "Sabre\\DAV\\Exception\\InsufficientStorage",
                           "Insufficient space in %s, %d required, %d available"
                           % (path, delta, max(0, quota - used)))

    def _put_chunk_v1(self, request, user, path):
        fs = self._fs[user]
        match = _CHUNK_V1.match(_basename(path))
        if not match:
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest", "Invalid chunk name")
        final = _join(_parent(path), match.group("name"))
        _check_new_name(final)
        count, index = int(match.group("count")), int(match.group("index"))
        if count < 1 or index >= count:
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest", "Invalid chunk name")
        parent = fs.get(_parent(final))
        if parent is None or parent.kind != "folder":
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                           "Files cannot be created in non-existent collections")
        if fs.get(final) is not None and fs[final].kind == "folder":
            raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                           "PUT is not allowed on non-files.")
        self._check_lock(user, final)
        key = (user, final, match.group("transfer"))
        transfer = self._chunks_v1.setdefault(key, {"count": count, "chunks": {}})
        transfer["chunks"][index] = request.body
        if len(transfer["chunks"]) < transfer["count"]:
            return Response(201, b"", {"Content-Type": "text/html; charset=UTF-8"})
        del self._chunks_v1[key]
        data = b"".join(transfer["chunks"][i] for i in range(transfer["count"]))
        return self._store_upload(request, user, final, data)

    # -- MKCOL / DELETE ------------------------------------------------------------------------
    def _mkcol(self, request, user, path):
        fs = self._fs[user]
        _check_new_name(path)
        if request.body:
            raise DavError(415, "Sabre\\DAV\\Exception\\UnsupportedMediaType",
                           "The request body for the MKCOL request must be empty")
        if path in fs:
            raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                           "The resource you tried to create already exists")
        parent = fs.get(_parent(path))
        if parent is None or parent.kind != "folder":
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict", "Parent node does not exist")
        self._check_lock(user, path)
        node = self._create_folder(user, path)
        self._save()
        return Response(201, b"", {"OC-FileId": self._oc_id(node),
                                   "Content-Type": "text/html; charset=UTF-8"})

    def _dav_delete(self, user, path):
        fs = self._fs[user]
        if path not in fs:
            raise _not_found(path)
        if path == "/":
            raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden", "Cannot delete the root")
        self._check_lock(user, path, subtree=True)
        self._delete(user, path)
        self._save()
        return Response(204, b"", {"Content-Type": "text/html; charset=UTF-8"})

    # -- MOVE / COPY ---------------------------------------------------------------------------
    def _destination(self, request, user, allow_webdav=True):
        dest = request.header("destination")
        if not dest:
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "The destination header was not supplied")
        dpath = unquote(urlsplit(dest).path)
        if dpath.startswith("/remote.php/webdav") and allow_webdav:
            return self._dav_target(dpath, user)[1]
        if dpath.startswith("/remote.php/dav/files/"):
            return self._dav_target(dpath, user)[1]
        raise DavError(502, "Sabre\\DAV\\Exception\\BadGateway",
                       "The destination node is not on this server")

    def _overwrite(self, request):
        value = (request.header("overwrite") or "T").strip().upper()
        if value not in ("T", "F"):
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "The HTTP Overwrite header should be either T or F")
        return value == "T"

    def _move_copy(self, request, user, src, method):
        fs = self._fs[user]
        dst = self._destination(request, user)
        overwrite = self._overwrite(request)
        if src not in fs:
            raise _not_found(src)
        _check_new_name(dst)
        if src == "/":
            raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden", "Cannot move the root")
        if src == dst:
            raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden",
                           "Source and destination uri are identical.")
        if _below(dst, src):
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                           "Cannot %s a node into its own subtree" % method.lower())
        parent = fs.get(_parent(dst))
        if parent is None or parent.kind != "folder":
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                           "The destination node is not found")
        existed = dst in fs
        if existed and not overwrite:
            raise DavError(412, "Sabre\\DAV\\Exception\\PreconditionFailed",
                           "The destination node already exists, and the overwrite header is "
                           "set to false", {})
        if method == "MOVE":
            self._check_lock(user, src, subtree=True)
        self._check_lock(user, dst, subtree=True)
        if method == "COPY":
            self._check_quota(user, dst, self._size(fs, src)
                              - (self._size(fs, dst) if existed else 0))
            self._copy(user, src, dst, overwrite=True)
        else:
            self._move(user, src, dst, overwrite=True)
        self._save()
        node = fs[dst]
        return Response(204 if existed else 201, b"", {
            "ETag": '"%s"' % node.etag, "OC-ETag": '"%s"' % node.etag,
            "OC-FileId": self._oc_id(node), "Content-Type": "text/html; charset=UTF-8"})

    # -- servers without a chunking protocol ---------------------------------------------------
    @staticmethod
    def _refusal(status, method):
        """What a front web server or proxy answers to a request it does not pass on."""
        if status == 405:
            return DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                            "Method %s is not allowed" % method)
        if status == 501:
            return DavError(501, "Sabre\\DAV\\Exception\\NotImplemented",
                            "There was no plugin in the system that was willing to handle "
                            "this %s method." % method)
        if status == 404:
            return _not_found("uploads")
        return DavError(status, "Sabre\\DAV\\Exception", "Refused")

    def _no_uploads_collection(self, request):
        """The answer of a DAV tree without ``uploads`` (chunking v2 off)."""
        if self.chunking_refusal is not None:
            return self._refusal(self.chunking_refusal, request.method)
        if request.method == "MKCOL":  # Sabre: the parent of the new collection is not found
            return DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                            "Parent node does not exist")
        return DavError(404, "Sabre\\DAV\\Exception\\NotFound",
                        "File with name uploads could not be located")

    # -- chunking v2 -------------------------------------------------------------------------
    def _handle_uploads(self, request, user):
        path = unquote(request.path)[len("/remote.php/dav/uploads/"):]
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != user:
            raise DavError(404, "Sabre\\DAV\\Exception\\NotFound",
                           "Principal with name %s not found" % (parts[0] if parts else ""))
        parts = parts[1:]
        method = request.method
        if len(parts) > 2 or not parts:
            if method == "PROPFIND" and not parts:
                return self._multistatus([
                    "<d:response><d:href>/remote.php/dav/uploads/%s/</d:href><d:propstat>"
                    "<d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop>"
                    "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
                    % quote(user)])
            raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden", "Not allowed")
        upload_id = parts[0]
        key = (user, upload_id)
        upload = self._uploads.get(key)
        if len(parts) == 1:
            if method == "MKCOL":
                if upload is not None:
                    raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                                   "The resource you tried to create already exists")
                total = request.header("oc-total-length")
                if total and total.isdigit():
                    self._check_quota(user, "/", int(total))
                self._uploads[key] = {"chunks": {}, "created": time.time(),
                                      "destination": request.header("destination")}
                return Response(201, b"", {"Content-Type": "text/html; charset=UTF-8"})
            if upload is None:
                raise _not_found("uploads/%s" % upload_id)
            if method == "DELETE":
                del self._uploads[key]
                return Response(204, b"", {})
            if method == "PROPFIND":
                if self._depth(request) == "infinity":
                    raise DavError(403, "Sabre\\DAV\\Exception\\Forbidden",
                                   "PROPFIND with Depth: infinity is not allowed")
                base = "/remote.php/dav/uploads/%s/%s" % (quote(user), quote(upload_id))
                out = ["<d:response><d:href>%s/</d:href><d:propstat><d:prop><d:resourcetype>"
                       "<d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK"
                       "</d:status></d:propstat></d:response>" % base]
                if self._depth(request) == "1":
                    for name in self._chunk_order(upload["chunks"]):
                        out.append("<d:response><d:href>%s/%s</d:href><d:propstat><d:prop>"
                                   "<d:getcontentlength>%d</d:getcontentlength><d:resourcetype/>"
                                   "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>"
                                   "</d:response>" % (base, quote(name),
                                                      len(upload["chunks"][name])))
                return self._multistatus(out)
            raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed",
                           "Method not allowed on the upload folder")
        name = parts[1]
        if upload is None:
            if method == "PUT":
                raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                               "Files cannot be created in non-existent collections")
            raise _not_found("uploads/%s/%s" % (upload_id, name))
        if method == "PUT":
            upload["chunks"][name] = request.body
            return Response(201, b"", {"Content-Type": "text/html; charset=UTF-8"})
        if method == "DELETE":
            if upload["chunks"].pop(name, None) is None:
                raise _not_found(name)
            return Response(204, b"", {})
        if method == "MOVE" and name == ".file":
            return self._assemble_v2(request, user, key, upload)
        raise DavError(405, "Sabre\\DAV\\Exception\\MethodNotAllowed", "Method not allowed")

    @staticmethod
    def _chunk_order(chunks):
        return sorted(chunks, key=lambda n: (0, int(n), n) if n.isdigit() else (1, 0, n))

    def _assemble_v2(self, request, user, key, upload):
        fs = self._fs[user]
        dst = self._destination(request, user, allow_webdav=False)
        _check_new_name(dst)
        parent = fs.get(_parent(dst))
        if dst == "/" or parent is None or parent.kind != "folder":
            raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                           "The destination node is not found")
        existing = fs.get(dst)
        if existing is not None:
            if existing.kind == "folder":
                raise DavError(409, "Sabre\\DAV\\Exception\\Conflict",
                               "The destination is a folder")
            if not self._overwrite(request):
                raise DavError(412, "Sabre\\DAV\\Exception\\PreconditionFailed",
                               "The destination node already exists, and the overwrite header "
                               "is set to false")
        self._check_lock(user, dst)
        data = b"".join(upload["chunks"][n] for n in self._chunk_order(upload["chunks"]))
        total = request.header("oc-total-length")
        if total is not None and total.isdigit() and int(total) != len(data):
            raise DavError(400, "Sabre\\DAV\\Exception\\BadRequest",
                           "Chunks on server do not sum up to %s but to %d bytes"
                           % (total, len(data)))
        response = self._store_upload(request, user, dst, data)
        del self._uploads[key]
        return response

    # =====================================================================================
    # storage core
    # =====================================================================================
    def _new_etag(self):
        return "%08x%05x" % (int(time.time()) & 0xFFFFFFFF, next(self._etag_counter) & 0xFFFFF)

    def _new_node(self, kind, **kw):
        fileid, self._next_fileid = self._next_fileid, self._next_fileid + 1
        return _Node(kind=kind, fileid=fileid, etag=self._new_etag(),
                     mtime=kw.pop("mtime", None) or time.time(), **kw)

    def _oc_id(self, node):
        return "%08d%s" % (node.fileid, self.instance_id)

    @staticmethod
    def _mimetype(path, node):
        if node.kind == "folder":
            return "httpd/unix-directory"
        return mimetypes.guess_type(_basename(path))[0] or "application/octet-stream"

    @staticmethod
    def _size(fs, path):
        node = fs[path]
        if node.kind == "file":
            return node.size
        return sum(n.size for p, n in fs.items() if n.kind == "file" and _below(p, path))

    def _describe(self, user, path, node):
        return {"path": path, "kind": node.kind, "fileid": node.fileid,
                "oc_id": self._oc_id(node), "etag": node.etag, "mtime": node.mtime,
                "size": self._size(self._fs[user], path),
                "checksum": self._checksum(user, path, node) if node.kind == "file" else None,
                "locked": self._is_locked(user, path)}

    def _checksum(self, user, path, node):
        if node.checksum is None:
            node.checksum = _checksums(self._read(user, path, node))
        return node.checksum

    def _is_locked(self, user, path, subtree=False):
        for luser, lpath in self.locks:
            if luser != user:
                continue
            if _below(path, lpath) or (subtree and _below(lpath, path)):
                return True
        return False

    def _check_lock(self, user, path, subtree=False):
        if self._is_locked(user, path, subtree):
            raise _locked(path)

    def _touch(self, fs, path, when=None, mtime=True):
        """New etag for ``path`` and every ancestor up to the root; folders' mtime moves
        forward (like Nextcloud's propagator). Files keep the mtime they were given."""
        when = when or time.time()
        current = path
        while current is not None:
            node = fs.get(current)
            if node is not None:
                node.etag = self._new_etag()
                if mtime and node.kind == "folder":
                    node.mtime = max(node.mtime, when)
            current = _parent(current)

    # -- disk helpers --------------------------------------------------------------------------
    def _disk(self, user, path):
        return os.path.join(self.root_dir, user, *[p for p in path.split("/") if p])

    def _read(self, user, path, node):
        if not self.root_dir:
            return node.data or b""
        with open(self._disk(user, path), "rb") as handle:
            return handle.read()

    def _write_file(self, user, path, data, mtime=None):
        fs = self._fs[user]
        node = fs.get(path)
        if node is not None and node.kind == "folder":
            raise IsADirectoryError(path)
        now = time.time()
        if node is None:
            node = self._new_node("file")
            fs[path] = node
        node.size = len(data)
        node.mtime = mtime if mtime is not None else now
        node.checksum = _checksums(data)
        if self.root_dir:
            tmpdir = os.path.join(self.root_dir, TMPDIR)
            os.makedirs(tmpdir, exist_ok=True)
            tmp = os.path.join(tmpdir, "%d.part" % node.fileid)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.utime(tmp, (node.mtime, node.mtime))
            os.replace(tmp, self._disk(user, path))
            node.disk_mtime_ns = os.stat(self._disk(user, path)).st_mtime_ns
        else:
            node.data = data
        self._touch(fs, path, now)
        return node

    def _create_folder(self, user, path):
        fs = self._fs[user]
        node = self._new_node("folder")
        fs[path] = node
        if self.root_dir:
            os.makedirs(self._disk(user, path), exist_ok=True)
        self._touch(fs, path)
        return node

    def _makedirs(self, user, path):
        fs = self._fs[user]
        if path in fs:
            if fs[path].kind != "folder":
                raise NotADirectoryError(path)
            return
        self._makedirs(user, _parent(path))
        self._create_folder(user, path)

    def _subtree(self, fs, path):
        return sorted(p for p in fs if _below(p, path))

    def _delete(self, user, path):
        fs = self._fs[user]
        for item in self._subtree(fs, path):
            del fs[item]
        if self.root_dir:
            target = self._disk(user, path)
            if os.path.isdir(target):
                shutil.rmtree(target)
            elif os.path.exists(target):
                os.remove(target)
        self._touch(fs, _parent(path))

    def _move(self, user, src, dst, overwrite=True):
        fs = self._fs[user]
        if dst in fs:
            self._delete(user, dst)
        items = self._subtree(fs, src)
        moved = {item: fs.pop(item) for item in items}
        for item, node in moved.items():
            fs[dst + item[len(src):]] = node
        if self.root_dir:
            os.rename(self._disk(user, src), self._disk(user, dst))
        self._touch(fs, _parent(src))
        self._touch(fs, _parent(dst))

    def _copy(self, user, src, dst, overwrite=True):
        fs = self._fs[user]
        if dst in fs:
            self._delete(user, dst)
        now = time.time()
        for item in self._subtree(fs, src):
            node = fs[item]
            new = self._new_node(node.kind, mtime=node.mtime if node.kind == "file" else now)
            new.size, new.checksum, new.data = node.size, node.checksum, node.data
            fs[dst + item[len(src):]] = new
        if self.root_dir:
            if os.path.isdir(self._disk(user, src)):
                shutil.copytree(self._disk(user, src), self._disk(user, dst))
            else:
                shutil.copy2(self._disk(user, src), self._disk(user, dst))
            for item in self._subtree(fs, dst):
                if fs[item].kind == "file":
                    fs[item].disk_mtime_ns = os.stat(self._disk(user, item)).st_mtime_ns
        self._touch(fs, dst, now)

    # -- persistence (disk mode) ---------------------------------------------------------------
    def _sidecar(self):
        return os.path.join(self.root_dir, SIDECAR)

    def _load_sidecar(self):
        try:
            with open(self._sidecar(), encoding="utf-8") as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            return
        self.instance_id = meta.get("instance_id", self.instance_id)
        self._next_fileid = meta.get("next_fileid", 1)
        self._share_ids = itertools.count(meta.get("next_share_id", 1))
        for login, nodes in meta.get("users", {}).items():
            self._fs[login] = {path: _Node(**node) for path, node in nodes.items()}
        for share in meta.get("shares", []):
            self._shares[share["id"]] = share
        for login, quota in meta.get("quotas", {}).items():
            self.quotas.setdefault(login, quota)

    def _save(self):
        if not self.root_dir:
            return
        with self._persist_lock:
            meta = {"instance_id": self.instance_id, "next_fileid": self._next_fileid,
                    "next_share_id": max(list(self._shares) + [0]) + 1,
                    "users": {login: {p: n.meta() for p, n in fs.items()}
                              for login, fs in self._fs.items()},
                    "shares": list(self._shares.values()),
                    "quotas": {k: v for k, v in self.quotas.items() if v is not None}}
            tmp = self._sidecar() + ".tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(meta, handle, indent=1, sort_keys=True)
            os.replace(tmp, self._sidecar())

    def _maybe_rescan(self, user):
        if self.root_dir and self.rescan_on_request and user in self._fs:
            if self._rescan_user(user):
                self._save()

    def _rescan_user(self, user):
        """Reconcile the metadata with the disk; returns True if anything changed."""
        if not self.root_dir:
            return False
        fs = self._fs.setdefault(user, {"/": self._new_node("folder")})
        top = os.path.join(self.root_dir, user)
        os.makedirs(top, exist_ok=True)
        seen = {"/": ("folder", None)}
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            base = "/" if rel == "." else "/" + rel.replace(os.sep, "/")
            for name in dirnames:
                seen[_join(base, name)] = ("folder", None)
            for name in filenames:
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                seen[_join(base, name)] = ("file", st)
        changed = []
        for path in sorted(fs, reverse=True):
            if path not in seen or seen[path][0] != fs[path].kind:
                del fs[path]
                changed.append(_parent(path))
        for path in sorted(seen):
            kind, st = seen[path]
            node = fs.get(path)
            if node is None:
                node = self._new_node(kind, mtime=st.st_mtime if st else None)
                fs[path] = node
                changed.append(path)
            if kind == "file" and (node.size != st.st_size
                                   or node.disk_mtime_ns != st.st_mtime_ns):
                node.size = st.st_size
                node.mtime = st.st_mtime
                node.disk_mtime_ns = st.st_mtime_ns
                node.checksum = None
                changed.append(path)
        for path in changed:
            if path is not None and path in fs:
                self._touch(fs, path)
        return bool(changed)


def main(argv=None):
    parser = argparse.ArgumentParser(description="ownCloud/Nextcloud emulator (WebDAV + OCS)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--root", help="keep files on disk under ROOT/<user>/ (default: memory)")
    parser.add_argument("--user", action="append", help="login (repeatable)")
    parser.add_argument("--password", action="append", help="password (one per --user)")
    parser.add_argument("--quota", type=int, default=None, help="quota in bytes for every user")
    parser.add_argument("--product", default="Nextcloud")
    parser.add_argument("--no-chunking-v2", action="store_true",
                        help="no remote.php/dav/uploads (chunking v2), still advertised")
    parser.add_argument("--no-chunking-v1", action="store_true",
                        help="ignore OC-Chunked (legacy chunking v1): pieces become files")
    parser.add_argument("--chunking-refusal", type=int, default=None, metavar="STATUS",
                        help="answer the requests of a protocol turned off with STATUS "
                             "(e.g. 404, 405, 501)")
    args = parser.parse_args(argv)
    logins = args.user or ["admin"]
    passwords = args.password or ["admin"]
    if len(passwords) < len(logins):
        passwords += [passwords[-1]] * (len(logins) - len(passwords))
    users = dict(zip(logins, passwords, strict=True))
    emulator = OwnCloudEmulator(users=users, root_dir=args.root, host=args.host, port=args.port,
                                product=args.product,
                                quotas={u: args.quota for u in users} if args.quota else None,
                                chunking_v2=not args.no_chunking_v2,
                                chunking_v1=not args.no_chunking_v1,
                                chunking_refusal=args.chunking_refusal)
    emulator.start()
    print("%s emulator on %s (users: %s, storage: %s)" % (
        args.product, emulator.base_url, ", ".join(users), args.root or "memory"), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
