"""ownCloud / Nextcloud storage adapter (WebDAV + OCS).

Plain Python, no ORM. Talks to the server through one ``requests`` session with a timeout on
every request. ``pyocclient`` is used for what it does well (capabilities at login, OCS public
share links); the WebDAV calls go through the small client below, because pyocclient cannot
stream, has no timeouts, only reads the first ``propstat`` of a PROPFIND answer (the nested
``oc:checksums`` value is lost), never sends ``Overwrite: F`` / ``If-None-Match`` (a MOVE or a
PUT would silently replace an existing item) and only knows legacy chunking from a local path.
The addon README has the details.

Ids are ``oc:fileid`` values (strings). WebDAV addresses items by path, so the adapter keeps a
``fileid -> path`` map of hints. A hint is always checked (the PROPFIND that uses it returns the
``oc:fileid`` of what is there); when it is missing or wrong, the adapter walks the tree with
PROPFIND Depth 1 (never ``infinity``) to find the id again.

Lookups by id are bounded to the managed tree (R-SEC-8): once the adapter knows its root (from
``ensure_root``, a change cursor or ``seed_hints``), an id is found only at or below a managed
root (read-only uses also reach the folders on the way to a root, the top of the account
included, whose listings show nothing else), the walk lists only the managed roots, and one
lookup makes at most ``lookup_limit`` requests: a walk cut there raises ``Transient`` (try
again), never ``NotFound``, so that nothing is dropped or deleted on a truncated walk. A root
that moved is found again by id with one capped walk of the account. Only an adapter that
manages no root yet (before ``ensure_root``) walks the account, capped as well.

Change feed (no native one in WebDAV): the core's snapshot-diff feed
(``cloud_base/lib/snapshot_feed.py``) compares Depth-1 listings with the merge base the core
keeps (``cloud_base/lib/merge_base.py``): ``changes`` lists the watched root and descends only
into the folders whose ETag differs from the base's (a folder's ETag changes when anything below
it changes), so its cost follows the number of changes; the cursor holds only the root's id and
path and the server's data fingerprint.
"""
from __future__ import annotations

import collections
import email.utils
import logging
import re
import threading
import time
import uuid
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree as ET

import requests

from odoo.addons.cloud_base.lib import snapshot_feed
from odoo.addons.cloud_base.lib.adapter import (
    FILE, FOLDER, AuthExpired, CloudError, CloudItem, Conflict, InvalidRequest, NotFound,
    QuotaExceeded, RateLimited, StorageAdapter, Transient, check_item_name,
    is_plain_name, page_after,
)
from odoo.addons.cloud_base.lib.hashes import new_hasher, sha1_hex
from odoo.addons.cloud_base.lib.http import ProviderSession, retry_after_of, transport_error
from odoo.addons.cloud_base.lib.path_cache import PathCache
from odoo.addons.cloud_base.lib.path_cache import is_below as _below
from odoo.addons.cloud_base.lib.path_cache import join_path as _join
from odoo.addons.cloud_base.lib.path_cache import parent_path as _parent_path
from odoo.addons.cloud_base.lib.streams import STREAM_CHUNK, as_stream, iter_response, read_exact

try:  # pyocclient: login/capabilities and OCS shares
    import owncloud as pyocclient
except ImportError:  # pragma: no cover - declared in the manifest's external dependencies
    pyocclient = None

_logger = logging.getLogger(__name__)

DAV = "{DAV:}"
OC = "{http://owncloud.org/ns}"
NC = "{http://nextcloud.org/ns}"

PROPS = [
    "d:getetag", "d:getlastmodified", "d:getcontentlength", "d:getcontenttype",
    "d:resourcetype", "oc:fileid", "oc:size", "oc:checksums", "oc:data-fingerprint",
]
QUOTA_PROPS = ["d:quota-used-bytes", "d:quota-available-bytes", "oc:fileid"]

CURSOR_PREFIX = "oc2:"  # 1: the whole snapshot travelled in the cursor
#: most PROPFIND requests one lookup by id may make (R-SEC-8)
LOOKUP_LIMIT = 200
#: how long a verified folder is trusted without asking the server again (``_folder_entry``)
FOLDER_CHECK_SECONDS = 2.0
#: how long a locked item (423) is expected to stay locked, when the server does not say
LOCKED_RETRY_AFTER = 60

#: chunked-upload protocols, best first; ``"none"`` is one single streamed PUT
CHUNKING_ORDER = ("v2", "v1", "none")
#: answers of a chunked-upload endpoint that mean "no such endpoint here" (a server or a proxy
#: in front of it that lacks it), once the target folder is known to be there: 404/405 on an
#: unknown DAV collection or method, 501 Not Implemented (and 409 on the MKCOL of a v2 upload
#: folder: Sabre's answer when its parent, the ``uploads`` collection, does not exist)
CHUNKING_REFUSED = frozenset({404, 405, 501})
#: how long the other adapters of a server skip a chunking protocol it refused (the adapter
#: that saw the refusal skips it for its whole life)
CHUNKING_MEMORY = 6 * 3600

_refused_chunking = {}  # server URL -> {protocol: time.monotonic() of the refusal}
_refused_chunking_lock = threading.Lock()


def refused_chunking(server_url):
    """The chunking protocols the server at ``server_url`` refused lately (any adapter)."""
    now = time.monotonic()
    with _refused_chunking_lock:
        known = _refused_chunking.get(server_url) or {}
        return {p for p, when in known.items() if now - when < CHUNKING_MEMORY}


def forget_refused_chunking(server_url=None):
    """Forget what servers refused (one server, or all of them): the next adapters try the
    advertised protocol again."""
    with _refused_chunking_lock:
        if server_url is None:
            _refused_chunking.clear()
        else:
            _refused_chunking.pop(server_url, None)


class _ChunkingRefused(Exception):
    """Internal: the chunked-upload endpoint is not there (``status``: the server's answer,
    or ``"ignored"`` when a legacy chunk was stored as a plain file)."""

    def __init__(self, status, error=None):
        super().__init__(status)
        self.status = status
        self.error = error


def _refusal(exc, statuses=CHUNKING_REFUSED):
    """The HTTP status of ``exc`` if it is one of ``statuses``, else None."""
    code = getattr(exc, "code", None)
    return code if code in statuses else None


class _Rewindable:
    """The stream of a large upload, which may have to start again with the next chunking
    protocol when the server refuses one: a seekable stream seeks back; any other keeps the
    first ``keep`` bytes read (what a refusal costs at most: the chunks read before the
    server said no), so that the content is never held whole in memory."""

    def __init__(self, stream, keep):
        self._stream = as_stream(stream)
        self._start = None
        try:
            if self._stream.seekable():
                self._start = self._stream.tell()
        except (AttributeError, OSError, ValueError):
            self._start = None
        self._keep = keep
        self._kept = bytearray()
        self._pos = 0  # read position inside ``_kept`` (replay after a rewind)
        self._overflow = False

    def read(self, size=-1):  # pylint: disable=method-required-super
        if self._pos < len(self._kept):
            end = len(self._kept) if size is None or size < 0 else min(len(self._kept),
                                                                        self._pos + size)
            data = bytes(self._kept[self._pos:end])
            self._pos = end
            return data
        data = self._stream.read(size)
        if self._start is None and not self._overflow and data:
            if len(self._kept) + len(data) > self._keep:
                self._overflow = True
                self._kept = bytearray()
                self._pos = 0
            else:
                self._kept += data
                self._pos = len(self._kept)
        return data

    def rewind(self):
        """Back to the start; False when that is no longer possible."""
        if self._start is not None:
            self._stream.seek(self._start)
            return True
        if self._overflow:
            return False
        self._pos = 0
        return True


class _PutBody:
    """The body of one streamed PUT: the pieces of ``pieces`` read on demand, their SHA-1
    computed on the way; ``len()`` gives the Content-Length (no chunked transfer encoding,
    which some servers refuse for WebDAV PUTs)."""

    def __init__(self, pieces, size, digest):
        self._pieces = pieces
        self._size = size
        self._digest = digest
        self._buffer = memoryview(b"")

    def __len__(self):
        return self._size

    def __iter__(self):  # requests streams an iterable body; http.client uses ``read``
        while True:
            data = self.read(STREAM_CHUNK)
            if not data:
                return
            yield data

    def read(self, size=-1):  # pylint: disable=method-required-super
        if not self._buffer:
            piece = next(self._pieces, None)
            if piece is None:
                return b""
            self._digest.update(piece)
            self._buffer = memoryview(piece)
        if size is None or size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return bytes(data)


def _propfind_body(props):
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" '
            'xmlns:nc="http://nextcloud.org/ns"><d:prop>%s</d:prop></d:propfind>'
            % "".join("<%s/>" % p for p in props)).encode()


class _Entry:
    """One ``d:response`` of a PROPFIND answer."""

    __slots__ = ("path", "fileid", "etag", "is_folder", "size", "modified", "mimetype",
                 "checksums", "fingerprint", "quota_used", "quota_available")

    def __init__(self, path):
        self.path = path
        self.fileid = None
        self.etag = None
        self.is_folder = False
        self.size = 0
        self.modified = None
        self.mimetype = None
        self.checksums = {}
        self.fingerprint = None
        self.quota_used = None
        self.quota_available = None

    @property
    def id(self):  # the snapshot feed's name of the item's id
        return self.fileid

    @property
    def name(self):
        return self.path.rsplit("/", 1)[-1]

    def item(self, parent_id):
        return CloudItem(
            id=self.fileid, name=self.name, kind=FOLDER if self.is_folder else FILE,
            parent_id=parent_id, size=self.size,
            hash=None if self.is_folder else self.checksums.get("sha1"),
            etag=self.etag, modified=self.modified,
            mimetype=None if self.is_folder else self.mimetype, path=self.path)


class _Budget:
    """The requests one lookup by id may still make; Transient when they are spent."""

    __slots__ = ("left", "limit", "item_id")

    def __init__(self, limit, item_id):
        self.left = self.limit = limit
        self.item_id = item_id

    def spend(self):
        if self.left <= 0:
            raise Transient("The item was not found within %d requests; the search stopped "
                            "there (try again later)" % self.limit, code="lookup_limit",
                            path=self.item_id)
        self.left -= 1


if pyocclient is not None:
    class _OcClient(pyocclient.Client):
        """pyocclient on our session (timeouts) and our choice of DAV endpoint."""

        def __init__(self, url, session, dav_url, dav_path, **kwargs):
            super().__init__(url, **kwargs)
            self._our_session = session
            self._our_dav = (dav_url, dav_path)

        def login(self, user_id, password):
            self._session = self._our_session
            self._session.auth = (user_id, password)
            self._update_capabilities()
            self._webdav_url, self._davpath = self._our_dav
else:  # pragma: no cover
    _OcClient = None


class OwnCloudAdapter(StorageAdapter):
    """StorageAdapter over an ownCloud (10+) or Nextcloud server.

    :param server_url: e.g. ``https://cloud.example.com`` (a sub-path install works too)
    :param login: user name
    :param password: app password (or the account password)
    :param endpoint: ``"auto"`` (``remote.php/dav/files/<user>`` when the server advertises
        the new DAV API, else ``remote.php/webdav``), ``"files"`` or ``"webdav"``
    :param chunking: ``"auto"`` (v2 when advertised, else v1 when advertised, else a single
        PUT), ``"v2"``, ``"v1"`` or ``"none"``
    :param public_links: ``share_link`` creates public (anonymous) links; otherwise it gives
        the internal web UI link
    :param lookup_limit: most requests one lookup by id may make before it gives up with a
        ``Transient`` error (R-SEC-8)
    """

    hash_kind = "sha1"
    #: shared by the runner's transfer threads and Odoo's HTTP workers:
    #: one requests session (urllib3's pool) and the path cache behind a lock
    thread_safe = True
    max_name_length = 250

    def __init__(self, server_url, login, password, timeout=60, page_size=500,
                 chunk_threshold=None, chunk_size=None, endpoint="auto", chunking="auto",
                 public_links=True, verify=True, download_piece=STREAM_CHUNK,
                 lookup_limit=LOOKUP_LIMIT):
        self.server_url = (server_url or "").strip().rstrip("/")
        if not re.match(r"^https?://[^/]+", self.server_url):
            # no ``path``: the message of an error may reach users, the URL stays in the
            # settings (R-SEC-3)
            raise InvalidRequest("The server URL must start with http:// or https://",
                                 code="bad_url")
        self.login = login
        self._password = password
        self.timeout = timeout
        self.page_size = page_size
        self.endpoint = endpoint
        self.chunking_option = chunking
        self.public_links = public_links
        self.download_piece = download_piece
        self.lookup_limit = lookup_limit or LOOKUP_LIMIT
        if chunk_threshold:
            self.chunk_threshold = chunk_threshold
        if chunk_size:
            self.chunk_size = chunk_size
        self.session = ProviderSession(timeout)  # a timeout on every request
        self.session.verify = verify
        self.session.auth = (login, password)
        self.session.headers.update({"OCS-APIREQUEST": "true",
                                     "User-Agent": "Odoo cloud sync (cloud_owncloud)"})
        self._lock = threading.RLock()
        #: item id -> (share id, url) of public links made here, until the caller records
        #: them (``pop_created_share``) for their revocation (R-SEC-5)
        self.created_shares = {}
        self._paths = PathCache()  # fileid -> path (hints, always verified)
        #: folder id -> (entry, when verified): see ``_folder_entry``
        self._checked_folders = {}
        self._parents = {}  # file id -> parent folder id, from the merge base and the feed
        #: managed roots: path -> fileid (None once the folder is known to be gone); lookups by
        #: id stay at or below them (R-SEC-8)
        self._roots = collections.OrderedDict()
        self._gone_roots = set()  # ids of managed roots found gone: not searched for again
        self._oc = None
        self._capabilities = None
        self.dav_url = None
        self.chunking = None
        #: chunking protocols the server refused to this adapter: skipped from then on
        self._refused_chunking = set()
        self.calls = collections.Counter()

    def __repr__(self):
        return "<OwnCloudAdapter %s@%s>" % (self.login, self.server_url)

    # =====================================================================================
    # HTTP plumbing
    # =====================================================================================
    def _setup(self):
        """Log in once (capabilities) and choose the DAV endpoint and chunking protocol."""
        if self._oc is not None:
            return
        with self._lock:
            if self._oc is not None:
                return
            files_url = "%s/remote.php/dav/files/%s" % (self.server_url, quote(self.login))
            webdav_url = "%s/remote.php/webdav" % self.server_url
            client = _OcClient(self.server_url, self.session, webdav_url,
                               urlsplit(webdav_url).path)
            self._call_oc(client.login, self.login, self._password, path="capabilities")
            caps = client.get_capabilities() or {}
            dav_chunking = (caps.get("dav") or {}).get("chunking")
            big_chunking = (caps.get("files") or {}).get("bigfilechunking")
            endpoint = self.endpoint
            if endpoint == "auto":
                endpoint = "files" if dav_chunking else "webdav"
            self.dav_url = files_url if endpoint == "files" else webdav_url
            client._webdav_url = self.dav_url
            client._davpath = urlsplit(self.dav_url).path
            chunking = self.chunking_option
            if chunking == "auto":
                try:
                    v2 = bool(dav_chunking) and float(dav_chunking) >= 1.0
                except ValueError:
                    v2 = False
                if v2:
                    chunking = "v2"
                elif big_chunking in ("1", "true", "True") and endpoint == "webdav":
                    chunking = "v1"
                else:
                    chunking = "none"
            self.chunking = chunking
            self._capabilities = caps
            self._oc = client

    def _url(self, path):
        return self.dav_url + quote(path, safe="/")

    def _error(self, status, message, path, headers=None):
        headers = headers or {}
        if status == 401:
            return AuthExpired("Wrong login or app password, or access revoked", code=401,
                               path=path)
        if status == 404:
            return NotFound("Item not found", code=404, path=path)
        if status == 423:
            return Transient("Item locked on the server: %s" % message, code=423, path=path,
                             retry_after=retry_after_of(headers) or LOCKED_RETRY_AFTER)
        if status == 429:
            return RateLimited("Too many requests", code=429, path=path,
                               retry_after=retry_after_of(headers) or 60)
        if status == 507:
            return QuotaExceeded("Not enough space on the server: %s" % message, code=507,
                                 path=path)
        if status in (409, 412):
            return Conflict(message or "Conflict", code=status, path=path)
        if status >= 500:
            return Transient("Server error: %s" % (message or status), code=status,
                             path=path, retry_after=retry_after_of(headers))
        return InvalidRequest(message or "Request refused", code=status, path=path)

    @staticmethod
    def _sabre_message(response):
        try:
            root = ET.fromstring(response.content)
            node = root.find("{http://sabredav.org/ns}message")
            return node.text if node is not None else ""
        except ET.ParseError:
            return ""

    def _request(self, method, path, ok=(200, 201, 204, 207), url=None, **kwargs):
        """One WebDAV request; HTTP errors become CloudErrors (statuses in ``ok`` do not)."""
        self._setup()
        self.calls[method] += 1
        try:
            response = self.session.request(method, url or self._url(path), **kwargs)
        except requests.RequestException as exc:
            raise transport_error(exc, path) from exc
        if response.status_code not in ok:
            message = self._sabre_message(response)
            response.close()
            raise self._error(response.status_code, message, path, response.headers)
        return response

    def _call_oc(self, func, *args, path=None, **kwargs):
        """A pyocclient call, with its errors mapped."""
        try:
            return func(*args, **kwargs)
        except requests.RequestException as exc:
            raise transport_error(exc, path, connection="Cannot reach the server") from exc
        except pyocclient.OCSResponseError as exc:
            code = exc.status_code
            if code == 997:
                raise AuthExpired("Wrong login or app password", code=997, path=path) from exc
            if code in (404, 998):
                raise NotFound("Not found", code=code, path=path) from exc
            raise InvalidRequest("The server refused the request (OCS %s)" % code, code=code,
                                 path=path) from exc
        except pyocclient.HTTPResponseError as exc:
            headers = exc.res.headers if getattr(exc, "res", None) is not None else {}
            raise self._error(exc.status_code, "", path, headers) from exc
        except ET.ParseError as exc:
            raise InvalidRequest("Unexpected answer: is this an ownCloud/Nextcloud server?",
                                 code="bad_answer", path=path) from exc

    # -- PROPFIND ------------------------------------------------------------------------
    def _propfind(self, path, depth, props=PROPS):
        """Entries of ``path`` (first) and, with depth 1, of its children."""
        if depth not in (0, 1):
            raise ValueError("only Depth 0 or 1")  # never "infinity": real servers refuse it
        response = self._request("PROPFIND", path, ok=(207,), data=_propfind_body(props),
                                 headers={"Depth": str(depth),
                                          "Content-Type": "application/xml; charset=utf-8"})
        try:
            entries = self._parse_multistatus(response.content)
        except ET.ParseError as exc:
            raise Transient("Malformed PROPFIND answer", code="bad_xml", path=path) from exc
        if not entries:
            raise NotFound("Item not found", code=404, path=path)
        # the folder itself comes first on every server; be tolerant anyway
        entries.sort(key=lambda e: (e.path != path, e.path))
        for entry in entries:
            if entry.fileid:
                self._remember(entry.fileid, entry.path)
        return entries

    def _parse_multistatus(self, content):
        root = ET.fromstring(content)
        base = urlsplit(self.dav_url).path.rstrip("/")
        entries = []
        for resp in root.findall(DAV + "response"):
            href = unquote(resp.findtext(DAV + "href") or "")
            if href.startswith(("http://", "https://")):
                href = unquote(urlsplit(href).path)
            if href.startswith(base):
                href = href[len(base):]
            path = "/" + href.strip("/")
            entry = _Entry(path)
            for propstat in resp.findall(DAV + "propstat"):
                status = propstat.findtext(DAV + "status") or ""
                if " 200 " not in status + " ":
                    continue
                prop = propstat.find(DAV + "prop")
                if prop is None:
                    continue
                for node in prop:
                    self._read_prop(entry, node)
            entries.append(entry)
        return entries

    @staticmethod
    def _read_prop(entry, node):
        tag, text = node.tag, (node.text or "").strip()
        if tag == OC + "fileid":
            entry.fileid = text or None
        elif tag == DAV + "getetag":
            entry.etag = text.strip('"') or None
        elif tag == DAV + "resourcetype":
            entry.is_folder = node.find(DAV + "collection") is not None
        elif tag == OC + "size":
            entry.size = int(text or 0)
        elif tag == DAV + "getcontentlength" and text:
            entry.size = int(text)
        elif tag == DAV + "getlastmodified" and text:
            try:
                entry.modified = email.utils.parsedate_to_datetime(text).isoformat()
            except (TypeError, ValueError):
                entry.modified = None
        elif tag == DAV + "getcontenttype":
            entry.mimetype = text or None
        elif tag == OC + "checksums":
            values = [c.text or "" for c in node] or [text]
            for value in values:
                for part in value.split():
                    algo, _, digest = part.partition(":")
                    if digest:
                        entry.checksums[algo.lower()] = digest.lower()
        elif tag == OC + "data-fingerprint":
            entry.fingerprint = text
        elif tag == DAV + "quota-used-bytes" and text:
            entry.quota_used = int(text)
        elif tag == DAV + "quota-available-bytes" and text:
            entry.quota_available = int(text)

    def _stat(self, path):
        """The entry at ``path``, or None if nothing is there."""
        try:
            return self._propfind(path, 0)[0]
        except NotFound:
            return None

    # =====================================================================================
    # fileid -> path
    # =====================================================================================
    def _remember(self, fileid, path):
        self._paths.remember(fileid, path)

    def _forget_below(self, path):
        with self._lock:
            self._checked_folders.clear()
            self._paths.forget_below(path)
            for root, root_id in self._roots.items():
                if _below(root, path):
                    self._root_gone(root, root_id)

    def _rebase(self, old, new):
        """After a move: hints (and managed roots) below ``old`` now live below ``new``."""
        with self._lock:
            self._checked_folders.clear()
            self._paths.rebase(old, new)
            if any(_below(root, old) for root in self._roots):
                self._roots = collections.OrderedDict(
                    (new + root[len(old):] if _below(root, old) else root, root_id)
                    for root, root_id in self._roots.items())

    def _add_root(self, path, fileid, first=False, replace=True):
        """``path`` is a managed root (the folder ``fileid``): lookups by id stay below it.
        Without ``replace`` (what a change cursor tells), a root already known at ``path``
        keeps its id, and a root known elsewhere (moved since) keeps its new path."""
        fileid = str(fileid) if fileid else None
        with self._lock:
            if fileid in self._gone_roots:
                fileid = None
            if not replace and fileid and self._roots.get(path) != fileid \
                    and fileid in self._roots.values():
                return
            if replace or self._roots.get(path) is None:
                self._roots[path] = fileid
            if first:
                self._roots.move_to_end(path, last=False)

    def _root_gone(self, path, root_id):
        """The managed root ``root_id`` is gone: its path stays the bound of the lookups, its
        id is not searched for again."""
        with self._lock:
            if root_id:
                self._gone_roots.add(root_id)
            if path in self._roots and self._roots[path] == root_id:
                self._roots[path] = None

    def _note_parents(self, changes):
        """A later lookup of a file the feed reported goes straight to its folder."""
        with self._lock:
            for change in changes:
                if change.item is not None and not change.item.is_folder:
                    self._parents[change.id] = change.item.parent_id
                elif change.deleted:
                    self._parents.pop(change.id, None)

    def _reachable(self, path, ancestors=False):
        """May an item at ``path`` be used by id? Yes at or below a managed root, or, for
        read-only uses (``ancestors``), a folder on the way to one. An adapter that manages no
        root yet (before ``ensure_root``) reaches the whole account."""
        with self._lock:
            roots = list(self._roots)
        if not roots:
            return True
        return any(_below(path, root) or (ancestors and _below(root, path)) for root in roots)

    def seed_hints(self, entries, root_id=None):
        """Take the folder paths and file parents the merge base knows (its entries) as hints,
        and the managed root ``root_id`` among them as the bound of lookups by id (R-SEC-8);
        no request is made. The number of folder paths taken."""
        taken = 0
        with self._lock:
            for entry in entries:
                if root_id and entry.id == str(root_id) and entry.path:
                    self._add_root(entry.path, entry.id, replace=False)
                if entry.is_folder and entry.path:
                    self._paths.setdefault(entry.id, entry.path)
                    taken += 1
                elif not entry.is_folder and entry.parent_id:
                    self._parents.setdefault(entry.id, entry.parent_id)
        return taken

    @staticmethod
    def _check_id(item_id):
        if not item_id or not str(item_id).isdigit():
            raise NotFound("Item not found (malformed id)", code=404, path=str(item_id))
        return str(item_id)

    def _entry(self, item_id, ancestors=False):
        """The verified entry of ``item_id``; NotFound when it is not in the managed tree (with
        ``ancestors``, read-only uses: or on the way to a managed root)."""
        item_id = self._check_id(item_id)
        hint = self._paths.get(item_id)
        if hint is not None:
            if not self._reachable(hint, ancestors):
                raise NotFound("Item not found", code=404, path=item_id)
            entry = self._stat(hint)
            if entry is not None and entry.fileid == item_id:
                return entry
        return self._search(item_id, ancestors)

    def _lookup_listing(self, path, budget):
        """A Depth-1 PROPFIND paid from ``budget``; None if nothing is at ``path``."""
        budget.spend()
        try:
            return self._propfind(path, 1)
        except NotFound:
            return None

    def _walk_from(self, listing, item_id, budget, listed):
        """Breadth-first below ``listing`` (Depth 1 per folder) until ``item_id`` shows up;
        None if it is not there. Every listing refreshes the hints."""
        pending = collections.deque()
        while listing is not None or pending:
            if listing is None:
                path = pending.popleft()
                if path in listed:
                    continue
                listed.add(path)
                listing = self._lookup_listing(path, budget)
                if listing is None:  # gone meanwhile
                    continue
            for entry in listing:
                if entry.fileid == item_id:
                    return entry
            pending.extend(e.path for e in listing[1:] if e.is_folder)
            listing = None
        return None

    def _search(self, item_id, ancestors=False):
        """Find ``item_id`` in the managed tree (R-SEC-8), at most ``lookup_limit`` requests.

        1. a file whose folder the merge base or the change feed told: that folder;
        2. each managed root, checked to be still there (its id at its path), and the tree
           below it;
        3. a root no longer at its path: found again by id with one walk of the account (the
           hints below it follow), then the tree below it;
        4. with ``ancestors``: the folders on the way to a root (Depth 0).

        NotFound when it is in none of them; Transient when the requests ran out first. An
        adapter that manages no root yet walks the account from the top.
        """
        budget = _Budget(self.lookup_limit, item_id)
        with self._lock:
            roots = list(self._roots.items())
            parent = self._parents.get(item_id)
            parent_path = self._paths.get(parent) if parent else None
        if not roots:
            top = self._lookup_listing("/", budget)
            found = self._walk_from(top, item_id, budget, {"/"}) if top else None
            if found is None:
                raise NotFound("Item not found", code=404, path=item_id)
            return found
        listed = set()
        if parent_path and parent_path not in dict(roots) and self._reachable(parent_path):
            listed.add(parent_path)
            for entry in self._lookup_listing(parent_path, budget) or ():
                if entry.fileid == item_id:
                    return entry
        missing = []
        for path, root_id in roots:
            if path in listed:
                continue
            listed.add(path)
            listing = self._lookup_listing(path, budget)
            if listing is None or (root_id and listing[0].fileid != root_id):
                if root_id:
                    missing.append((path, root_id))
                continue
            found = self._walk_from(listing, item_id, budget, listed)
            if found is not None:
                return found
        for path, root_id in missing:
            root = self._find_moved_root(path, root_id, budget, item_id)
            if root is None:
                continue
            if root.fileid == item_id:
                return root
            listed.add(root.path)
            found = self._walk_from(self._lookup_listing(root.path, budget), item_id, budget,
                                    listed)
            if found is not None:
                return found
        if ancestors:
            with self._lock:
                roots = list(self._roots)
            for root in roots:
                path = _parent_path(root)
                while path is not None:
                    if path not in listed:
                        listed.add(path)
                        budget.spend()
                        entry = self._stat(path)
                        if entry is not None and entry.fileid == item_id:
                            return entry
                    path = _parent_path(path)
        raise NotFound("Item not found", code=404, path=item_id)

    def _find_moved_root(self, path, root_id, budget, item_id):
        """The managed root ``root_id`` is no longer at ``path``: its entry where it is now
        (hints and roots rebased), or None if it is gone."""
        top = self._lookup_listing("/", budget)
        if top is None:  # the top of the account cannot be read: nothing can be told
            raise NotFound("Item not found", code=404, path=item_id)
        found = self._walk_from(top, root_id, budget, {"/"})
        if found is None or not found.is_folder:
            self._root_gone(path, root_id)
            return None
        if found.path != path:
            _logger.info("The managed folder %s moved to %s", path, found.path)
            self._rebase(path, found.path)
        return found

    def _parent_id(self, path):
        parent = _parent_path(path)
        if parent is None:
            return None
        entry = self._stat(parent)
        return entry.fileid if entry else None

    def _folder_entry(self, item_id, ancestors=False):
        """The verified entry of a folder. A folder verified less than
        ``FOLDER_CHECK_SECONDS`` ago is not asked for again (a lookup and the upload after it,
        or the files of one folder, share one check); any move, rename or deletion the
        adapter makes forgets these checks. A folder moved by someone in that moment makes
        the request fail (409: the old path is gone) and the task is retried."""
        item_id = self._check_id(item_id)
        now = time.monotonic()
        with self._lock:
            checked = self._checked_folders.get(item_id)
        if checked is not None and now - checked[1] < FOLDER_CHECK_SECONDS \
                and self._paths.get(item_id) == checked[0].path \
                and self._reachable(checked[0].path, ancestors):
            return checked[0]
        entry = self._entry(item_id, ancestors)
        if not entry.is_folder:
            raise InvalidRequest("Not a folder", code="not_folder", path=entry.path)
        with self._lock:
            self._checked_folders[item_id] = (entry, now)
        return entry

    def _check_name(self, name):
        check_item_name(name, self.max_name_length, max_bytes=255, reject_control=True,
                        code="invalid_name", path=repr(name))

    # =====================================================================================
    # account
    # =====================================================================================
    def check_connection(self):
        """Facts of the account, or a CloudError whose message names neither the server URL
        nor the login (they may reach users, R-SEC-3); the server log has them."""
        self._oc = None  # fresh login: wrong password or server down show up now
        status_url = self.server_url + "/status.php"
        try:
            response = self.session.get(status_url, auth=None)
        except requests.Timeout as exc:
            _logger.info("%r: no answer from %s in time", self, status_url)
            raise Transient("The server did not answer in time", code="timeout") from exc
        except requests.ConnectionError as exc:
            _logger.info("%r: cannot reach %s: %s", self, status_url, exc)
            raise Transient("Cannot reach the server", code="connection_error") from exc
        except requests.RequestException as exc:
            _logger.info("%r: invalid server URL %s: %s", self, status_url, exc)
            raise InvalidRequest("Invalid server URL", code="bad_url") from exc
        try:
            status = response.json() if response.status_code == 200 else None
        except ValueError:
            status = None
        if not isinstance(status, dict) or "installed" not in status:
            _logger.info("%r: %s answered %s, not an ownCloud/Nextcloud status", self,
                         status_url, response.status_code)
            if response.status_code >= 500:
                raise Transient("The server answered with an error", code=response.status_code)
            raise InvalidRequest("No ownCloud/Nextcloud server answers at this URL",
                                 code="not_owncloud")
        if status.get("maintenance"):
            raise Transient("The server is in maintenance mode", code="maintenance",
                            retry_after=300)
        self._setup()
        top = self._propfind("/", 0, QUOTA_PROPS)[0]
        total = None
        if top.quota_available is not None and top.quota_available >= 0:
            total = (top.quota_used or 0) + top.quota_available
        return {"account": "%s@%s" % (self.login, urlsplit(self.server_url).netloc),
                "product": status.get("productname") or "ownCloud",
                "version": status.get("versionstring") or status.get("version"),
                "quota_used": top.quota_used, "quota_total": total,
                "chunking": self.chunking_protocols()[0], "endpoint": self.dav_url}

    def ensure_root(self, name):
        self._check_name(name)
        self._setup()
        path = _join("/", name)
        item = self._make_folder(path, parent_id=None)
        self._add_root(path, item.id, first=True)
        return item

    # =====================================================================================
    # items
    # =====================================================================================
    def get_item(self, item_id):
        entry = self._entry(item_id, ancestors=True)
        return entry.item(self._parent_id(entry.path))

    def find_child(self, parent_id, name):
        parent = self._folder_entry(parent_id, ancestors=True)
        if not is_plain_name(name):
            return None
        path = _join(parent.path, name)
        if not self._reachable(path, ancestors=True):  # beside the managed tree
            return None
        entry = self._stat(path)
        return entry.item(parent.fileid) if entry else None

    def list_children(self, parent_id, page_token=None):
        entries = self._listing(parent_id)
        parent = entries[0]
        if not parent.is_folder:
            raise InvalidRequest("Not a folder", code="not_folder", path=parent.path)
        # WebDAV gives the whole folder at once: pages are cut by sort key. A folder on the
        # way to a managed root shows only what leads to the managed tree.
        children = sorted((e for e in entries[1:] if self._reachable(e.path, ancestors=True)),
                          key=lambda e: (e.name, e.fileid or ""))
        return page_after([((e.name, e.fileid or ""), e.item(parent.fileid)) for e in children],
                          page_token, self.page_size, path=str(parent_id))

    def _listing(self, folder_id):
        """PROPFIND Depth 1 of a folder by id: the hint is checked by the same request. Read
        only: a folder on the way to a managed root can be listed as well."""
        folder_id = self._check_id(folder_id)
        hint = self._paths.get(folder_id)
        if hint is not None:
            if not self._reachable(hint, ancestors=True):
                raise NotFound("Item not found", code=404, path=folder_id)
            try:
                entries = self._propfind(hint, 1)
                if entries[0].fileid == folder_id:
                    return entries
            except NotFound:
                _logger.debug("Folder %s is no longer at %s", folder_id, hint)
        entry = self._search(folder_id, ancestors=True)
        entries = self._propfind(entry.path, 1)
        if entries[0].fileid != folder_id:
            raise Transient("The folder moved while it was listed", code="moved",
                            path=entry.path)
        return entries

    def create_folder(self, parent_id, name):
        self._check_name(name)
        parent = self._folder_entry(parent_id)
        return self._make_folder(_join(parent.path, name), parent.fileid)

    def _make_folder(self, path, parent_id):
        """MKCOL, retry-safe: an existing folder is returned, a file in the way is a
        Conflict."""
        try:
            self._request("MKCOL", path, ok=(201, 405)).close()
        except Conflict as exc:  # 409: the parent vanished meanwhile
            raise NotFound("The parent folder does not exist", code=exc.code,
                           path=_parent_path(path)) from exc
        entry = self._stat(path)
        if entry is None:
            raise Transient("The new folder cannot be read back", code="mkcol_lost", path=path)
        if not entry.is_folder:
            raise Conflict("A file with that name exists", existing_id=entry.fileid,
                           code="file_exists", path=path)
        if parent_id is None:
            parent_id = self._parent_id(path)
        return entry.item(parent_id)

    def rename(self, item_id, new_name):
        self._check_name(new_name)
        entry = self._entry(item_id)
        if entry.path == "/":
            raise InvalidRequest("Cannot rename the top folder", code="top", path="/")
        parent_path = _parent_path(entry.path)
        parent = self._stat(parent_path)
        return self._relocate(entry, parent, new_name)

    def move(self, item_id, new_parent_id, new_name=None):
        if new_name is not None:
            self._check_name(new_name)
        entry = self._entry(item_id)
        if str(new_parent_id) == entry.fileid:
            raise InvalidRequest("Cannot move a folder into itself", code="invalid_move",
                                 path=entry.path)
        parent = self._folder_entry(new_parent_id)
        if _below(parent.path, entry.path):
            raise InvalidRequest("Cannot move a folder into itself", code="invalid_move",
                                 path=entry.path)
        return self._relocate(entry, parent, new_name or entry.name)

    def _relocate(self, entry, parent, name):
        if entry.path == "/":
            raise InvalidRequest("Cannot move the top folder", code="top", path="/")
        target = _join(parent.path, name)
        if target == entry.path:
            return entry.item(parent.fileid)
        try:
            response = self._request("MOVE", entry.path, ok=(201, 204), headers={
                "Destination": self._url(target), "Overwrite": "F"})
            response.close()
        except Conflict as exc:
            if exc.code == 409:  # the destination folder vanished meanwhile
                raise NotFound("The destination folder does not exist", code=409,
                               path=parent.path) from exc
            clash = self._stat(target)
            raise Conflict("An item with that name exists", code=exc.code, path=target,
                           existing_id=clash.fileid if clash else None) from exc
        self._rebase(entry.path, target)
        moved = self._stat(target)
        if moved is None or moved.fileid != entry.fileid:
            raise Transient("The moved item cannot be read back", code="move_lost",
                            path=target)
        return moved.item(parent.fileid)

    def delete(self, item_id):
        entry = self._entry(item_id)
        if entry.path == "/":
            raise InvalidRequest("Cannot delete the top folder", code="top", path="/")
        response = self._request("DELETE", entry.path, ok=(200, 204))
        response.close()
        self._forget_below(entry.path)

    # =====================================================================================
    # content
    # =====================================================================================
    def upload(self, parent_id, name, stream, size):
        self._check_name(name)
        parent = self._folder_entry(parent_id)
        target = _join(parent.path, name)
        if size > self.chunk_threshold:
            existing = self._stat(target)  # before sending megabytes for nothing
            if existing is not None:
                raise Conflict("An item with that name exists", existing_id=existing.fileid,
                               code="exists", path=target)
            sha1 = self._upload_large(target, stream, size)
        else:
            # the PUT's If-None-Match makes the server refuse an existing name (412)
            sha1 = self._upload_single(target, stream, size)
        entry = self._stat(target)
        if entry is None:
            raise Transient("The uploaded file cannot be read back", code="upload_lost",
                            path=target)
        server_sha1 = entry.checksums.get("sha1")
        if entry.size != size or (server_sha1 and server_sha1 != sha1):
            raise Transient("The uploaded file does not match what was sent (size %s/%s)"
                            % (entry.size, size), code="verify_failed", path=target)
        return entry.item(parent.fileid)

    @staticmethod
    def _read_exact(stream, size, piece):
        """Yield ``size`` bytes of ``stream`` in pieces; InvalidRequest if it is shorter or
        longer than announced."""
        return read_exact(stream, size, piece, code="size_mismatch")

    # -- large uploads: chunking protocols and their fall-back -------------------------------
    def chunking_protocols(self):
        """The protocols a large upload tries, best first: from the one chosen at login (or
        set in the options) down to one single streamed PUT, without those the server
        refused (to this adapter, or lately to another adapter of the same server)."""
        self._setup()
        start = self.chunking if self.chunking in CHUNKING_ORDER else "none"
        with self._lock:
            refused = self._refused_chunking | refused_chunking(self.server_url)
        return [p for p in CHUNKING_ORDER[CHUNKING_ORDER.index(start):]
                if p == "none" or p not in refused]

    def _upload_large(self, target, stream, size):
        """Above ``chunk_threshold``: chunking v2, else v1, else one streamed PUT. A protocol
        the server turns out not to have is remembered and the next one is tried at once."""
        source = _Rewindable(stream, keep=2 * self.chunk_size + 1)
        for protocol in self.chunking_protocols():
            if protocol == "none":
                return self._upload_streamed(target, source, size)
            try:
                if protocol == "v2":
                    return self._upload_v2(target, source, size)
                return self._upload_v1(target, source, size)
            except _ChunkingRefused as refusal:
                self._chunking_refused(protocol, refusal, target)
            if not source.rewind():
                raise Transient("The server does not offer chunked uploads %s; the next "
                                "attempt will not use them" % protocol,
                                code="chunking_refused", path=target)
        raise AssertionError("unreachable: the single PUT is always the last protocol")

    def _chunking_refused(self, protocol, refusal, target):
        """A chunked-upload endpoint answered "not here": NotFound if what is gone is in fact
        the target folder; else the protocol is skipped from now on (this adapter, and for a
        while the other adapters of this server)."""
        folder = _parent_path(target)
        entry = self._stat(folder)
        if entry is None or not entry.is_folder:
            raise NotFound("The folder does not exist any more", code=refusal.status,
                           path=folder) from refusal.error
        with self._lock:
            self._refused_chunking.add(protocol)
        with _refused_chunking_lock:
            _refused_chunking.setdefault(self.server_url, {})[protocol] = time.monotonic()
        following = self.chunking_protocols()[0]
        _logger.warning("%r: the server refused chunked uploads %s (%s); large files now go %s",
                        self, protocol, refusal.status,
                        "in one streamed PUT" if following == "none"
                        else "with chunking %s" % following)

    def _put_conflict(self, exc, target):
        """The CloudError for a PUT refused with 409/412: the folder is gone (409), or an
        item of that name appeared meanwhile."""
        if exc.code == 409:
            return NotFound("The folder does not exist any more", code=409,
                            path=_parent_path(target))
        clash = self._stat(target)
        return Conflict("An item with that name exists", code=exc.code, path=target,
                        existing_id=clash.fileid if clash else None)

    def _upload_single(self, target, stream, size):
        """Small files: one PUT of the content read in memory, its SHA-1 sent along
        (``OC-Checksum``) so that the server refuses corrupted content."""
        data = b"".join(self._read_exact(stream, size, STREAM_CHUNK))
        sha1 = sha1_hex([data])
        try:
            response = self._request("PUT", target, ok=(200, 201, 204), data=data, headers={
                "If-None-Match": "*", "OC-Checksum": "SHA1:%s" % sha1,
                "Content-Type": "application/octet-stream"})
            response.close()
        except Conflict as exc:
            raise self._put_conflict(exc, target) from exc
        return sha1

    def _upload_streamed(self, target, stream, size):
        """Large files without chunking: one PUT whose body is read from the stream piece by
        piece (never whole in memory). The SHA-1 is only known once everything is sent, so
        it is checked against the server's checksum afterwards (``upload``)."""
        digest = new_hasher("sha1")
        body = _PutBody(self._read_exact(stream, size, STREAM_CHUNK), size, digest)
        try:
            response = self._request("PUT", target, ok=(200, 201, 204), data=body, headers={
                "If-None-Match": "*", "Content-Type": "application/octet-stream",
                "Content-Length": str(size)})
            response.close()
        except Conflict as exc:
            raise self._put_conflict(exc, target) from exc
        return digest.hexdigest()

    def _upload_v2(self, target, stream, size):
        """Nextcloud chunking v2 / ownCloud "NG" chunking: MKCOL an upload folder, PUT the
        pieces, MOVE ``.file`` onto the destination (Overwrite: F). ``_ChunkingRefused`` when
        the server has no such endpoint."""
        user = quote(self.login)
        folder_url = "%s/remote.php/dav/uploads/%s/odoo-%s" % (
            self.server_url, user, uuid.uuid4().hex)
        destination = "%s/remote.php/dav/files/%s%s" % (self.server_url, user,
                                                         quote(target, safe="/"))
        headers = {"Destination": destination, "OC-Total-Length": str(size)}
        try:
            self._request("MKCOL", target, ok=(201,), url=folder_url, headers=headers).close()
        except CloudError as exc:
            # a fresh upload folder cannot exist already: 405 is a refused method, and 409 is
            # Sabre's answer when the ``uploads`` collection above it does not exist
            status = _refusal(exc, CHUNKING_REFUSED | {409})
            if status is None:
                raise
            raise _ChunkingRefused(status, exc) from exc
        digest = new_hasher("sha1")
        try:
            for index, chunk in enumerate(self._read_exact(stream, size, self.chunk_size), 1):
                digest.update(chunk)
                self.calls["upload_chunk"] += 1
                self._request("PUT", target, ok=(200, 201, 204), url="%s/%05d" % (
                    folder_url, index), data=chunk, headers=headers).close()
        except CloudError as exc:
            self._abort_upload(folder_url, target)
            status = _refusal(exc)
            if status is None:
                raise
            raise _ChunkingRefused(status, exc) from exc
        except Exception:
            self._abort_upload(folder_url, target)
            raise
        sha1 = digest.hexdigest()
        try:
            self._request("MOVE", target, ok=(201, 204), url=folder_url + "/.file", headers={
                "Destination": destination, "Overwrite": "F", "OC-Total-Length": str(size),
                "OC-Checksum": "SHA1:%s" % sha1}).close()
        except Conflict as exc:
            self._abort_upload(folder_url, target)
            clash = self._stat(target)
            if clash is None:
                raise NotFound("The folder does not exist any more", code=exc.code,
                               path=_parent_path(target)) from exc
            raise Conflict("An item with that name exists", code=exc.code, path=target,
                           existing_id=clash.fileid) from exc
        except CloudError as exc:
            status = _refusal(exc)
            if status is None and not isinstance(exc, (QuotaExceeded, InvalidRequest)):
                raise
            self._abort_upload(folder_url, target)
            if status is None:
                raise
            # the chunks were taken but nothing assembles them (a plain WebDAV collection)
            raise _ChunkingRefused(status, exc) from exc
        return sha1

    def _abort_upload(self, folder_url, target):
        try:
            self._request("DELETE", target, ok=(200, 204, 404), url=folder_url).close()
        except CloudError:  # the server cleans stale uploads itself
            _logger.info("Could not remove the upload folder of %s", target)

    def _upload_v1(self, target, stream, size):
        """Legacy ownCloud chunking (remote.php/webdav only): ``<name>-chunking-<id>-<n>-<i>``
        with ``OC-Chunked: 1``; the last piece makes the file appear. ``_ChunkingRefused`` when
        the server refuses the pieces, or stores the first one as a file of that name (a server
        that ignores ``OC-Chunked``; that file is removed)."""
        count = max(1, -(-size // self.chunk_size))
        if count == 1:  # one piece: the same as one PUT
            return self._upload_streamed(target, stream, size)
        transfer = str(uuid.uuid4().int % 10 ** 10)
        base = "%s/remote.php/webdav" % self.server_url
        parent, name = _parent_path(target), target.rsplit("/", 1)[-1]
        digest = new_hasher("sha1")
        pieces = self._read_exact(stream, size, self.chunk_size)
        index = 0
        pending = next(pieces, None)
        while pending is not None:
            following = next(pieces, None)  # read ahead: a wrong size fails before the last
            digest.update(pending)
            chunk_path = _join(parent, "%s-chunking-%s-%d-%d" % (name, transfer, count, index))
            self.calls["upload_chunk"] += 1
            try:
                response = self._request("PUT", target, ok=(200, 201, 204),
                                         url=base + quote(chunk_path, safe="/"), data=pending,
                                         headers={"OC-Chunked": "1",
                                                  "Content-Type": "application/octet-stream"})
                response.close()
            except Conflict as exc:
                raise NotFound("The folder does not exist any more", code=exc.code,
                               path=parent) from exc
            except CloudError as exc:
                status = _refusal(exc) if index == 0 else None
                if status is None:
                    raise
                raise _ChunkingRefused(status, exc) from exc
            if index == 0 and "OC-FileId" in response.headers:
                # a piece that is not the last made a file appear: the server ignored
                # OC-Chunked and stored the piece under its chunk name
                self._drop_stray_chunk(chunk_path)
            index += 1
            pending = following
        return digest.hexdigest()

    def _drop_stray_chunk(self, chunk_path):
        """The first legacy chunk answered like a plain file: if a file of the chunk's name is
        there, the server does not do legacy chunking: remove it, ``_ChunkingRefused``."""
        stray = self._stat(chunk_path)
        if stray is None or stray.is_folder:
            return
        try:
            self._request("DELETE", chunk_path, ok=(200, 204, 404)).close()
        except CloudError:
            _logger.warning("Could not remove %s, a legacy chunk the server stored as a file",
                            chunk_path)
        raise _ChunkingRefused("ignored")

    def download(self, item_id):
        entry = self._entry(item_id)
        if entry.is_folder:
            raise InvalidRequest("Cannot download a folder", code="is_folder", path=entry.path)
        response = self._request("GET", entry.path, ok=(200,), stream=True)
        fileid = response.headers.get("OC-FileId", "")
        match = re.match(r"^0*(\d+)", fileid)
        if match and match.group(1) != entry.fileid:
            response.close()
            raise Transient("The file was replaced while it was read", code="replaced",
                            path=entry.path)
        return self._stream(response, entry.path, self.download_piece)

    @staticmethod
    def _stream(response, path, piece_size):
        return iter_response(response, piece_size, catch=requests.RequestException,
                             translate=lambda exc: Transient("The download was interrupted",
                                                             code="connection_error", path=path))

    # =====================================================================================
    # change feed
    # =====================================================================================
    def _feed(self):
        """The snapshot-diff feed over this adapter's Depth-1 PROPFINDs."""
        return snapshot_feed.SnapshotFeed(
            CURSOR_PREFIX, list_root=self._root_listing,
            list_folder=lambda node: self._propfind(node.path, 1),
            parent_id=lambda node: self._parent_id(node.path), page_size=self.page_size)

    def _watch(self, state):
        """A cursor names a managed root (R-SEC-8)."""
        self._add_root(state["rp"], state["r"], replace=False)

    def latest_cursor(self, root_id, base=None):
        root = self._entry(root_id)
        if not root.is_folder:
            raise InvalidRequest("The watched root is not a folder", code="not_folder",
                                 path=root.path)
        self._add_root(root.path, root.fileid, replace=False)
        return self._feed().latest_cursor(root, base)

    def changes(self, root_id, cursor, base=None):
        feed = self._feed()
        self._watch(feed.decode(cursor))
        page = feed.changes(root_id, cursor, base)
        self._note_parents(page.changes)
        return page

    def _root_listing(self, state):
        """Depth-1 listing of the watched root, found again by id if it moved; None if it is
        gone."""
        root_id = state["r"]
        try:
            entries = self._propfind(state["rp"], 1)
            if entries[0].fileid == root_id:
                return entries
        except NotFound:
            _logger.debug("The managed root %s is no longer at %s", root_id, state["rp"])
        try:
            entry = self._search(root_id)
        except NotFound:
            return None
        return self._propfind(entry.path, 1)

    # =====================================================================================
    # links
    # =====================================================================================
    def web_url(self, item):
        """The web UI: ``/index.php/f/<fileid>`` opens a folder, or a file in its folder."""
        return "%s/index.php/f/%s" % (self.server_url, quote(str(item.id)))

    def share_link(self, item_id):
        entry = self._entry(item_id)
        if not self.public_links:
            return self.web_url(entry.item(None))
        client = self._oc
        shares = self._call_oc(client.get_shares, entry.path, path=entry.path) or []
        for share in shares:
            if share.get_share_type() == 3 and share.get_link():
                return share.get_link()
        info = self._call_oc(client.share_file_with_link, entry.path, path=entry.path)
        if not info or not info.get_link():
            raise InvalidRequest("The server did not create a public link", code="no_link",
                                 path=entry.path)
        with self._lock:
            self.created_shares[item_id] = (str(info.get_id()), info.get_link())
        return info.get_link()

    def pop_created_share(self, item_id):
        """``(share id, url)`` of the public link this adapter created for ``item_id`` (then
        forgotten), None when it made none (the link existed, or none was asked)."""
        with self._lock:
            return self.created_shares.pop(item_id, None)

    def revoke_link(self, link_id, item_id=None):
        """Delete the share of id ``link_id``; True when deleted or already gone (OCS 404:
        e.g. with its file)."""
        try:
            self._call_oc(self._oc.delete_share, int(link_id), path=item_id)
        except NotFound:
            return True
        return True
