"""Dropbox storage adapter, on the official ``dropbox`` SDK (plain Python, no ORM).

Dropbox addresses items by path; the sync core addresses them by stable id. This adapter
bridges the two:

* every write resolves the parent folder's *current* path from its id first (never from a
  cache), so a folder renamed or moved in the cloud is never recreated at an old path;
* ``CloudItem.parent_id`` is the parent's id: known from the call (listing, upload, move) or
  looked up by path;
* the account's top folder has no Dropbox id: it is :data:`TOP_ID`.

Change feed (R-BW-7): ``latest_cursor`` lists the watched subtree once (recursive
``list_folder``) into the merge base (``cloud_base/lib/merge_base.py``) and ``changes``
continues from the Dropbox cursor, which is all the cursor holds. Deleted entries carry a path
but no id: the adapter finds the id through the merge base (names, case-folded, from the watched
root down), which knows what the feed listed and what the engines created since.
A move/rename is "deleted at the old path" followed by the same id at the new path: the id is
reported once, alive, with its new parent and name.

Rate limits: the SDK retries 429 forever by default; here its retries are off (or low) and
:class:`RateLimited` carries Retry-After to the queue's back-off. 5xx answers are not retried
by the SDK either: the queue does it.
"""
from __future__ import annotations

import logging
import posixpath
import threading
from urllib.parse import quote

import requests

from odoo.addons.cloud_base.lib import http
from odoo.addons.cloud_base.lib.adapter import (
    FILE, FOLDER, AuthExpired, Change, ChangePage, CloudError, CloudItem, Conflict,
    InvalidRequest, NotFound, QuotaExceeded, RateLimited, ResetNeeded, StorageAdapter,
    Transient, check_item_name, is_plain_name,
)
from odoo.addons.cloud_base.lib.cursors import decode_state, encode_state
from odoo.addons.cloud_base.lib.merge_base import BaseEntry
from odoo.addons.cloud_base.lib.hashes import DropboxContentHasher, dropbox_content_hash
from odoo.addons.cloud_base.lib.path_cache import PathCache, parent_path, relative_path
from odoo.addons.cloud_base.lib.streams import (
    STREAM_CHUNK, iter_response, read_exact, with_last,
)

try:
    import dropbox
    from dropbox import exceptions as dbx_exc
    from dropbox import files as dbx_files
    from dropbox import sharing as dbx_sharing
    from dropbox.common import PathRoot
    from stone.backends.python_rsrc import stone_base as bb
    from stone.backends.python_rsrc.stone_validators import ValidationError
except ImportError:  # pragma: no cover - the manifest declares the dependency
    dropbox = None

_logger = logging.getLogger(__name__)

#: id of the account's top folder (Dropbox gives it none; its path is "")
TOP_ID = "dropbox:top"
CURSOR_PREFIX = "dbx2."  # 1: the path -> id map travelled in the cursor
WEB_HOME = "https://www.dropbox.com/home"
HOST_PREFIXES = {"api.dropboxapi.com": "/api", "api.dropbox.com": "/api",
                 "content.dropboxapi.com": "/content", "notify.dropboxapi.com": "/notify",
                 "www.dropbox.com": "/www", "dropbox.com": "/www"}
MiB = 1024 * 1024
#: R-SEC-5: no shared links / team-only links / public links
LINK_POLICIES = ("none", "team", "public")


# ------------------------------------------------------------------------------------------
# Transport: production URLs stay in the SDK; only the transport is swapped for an emulator
# ------------------------------------------------------------------------------------------
class RedirectSession(http.ProviderSession):
    """A ``requests.Session`` sending Dropbox's hosts to ``base_url`` (a loopback emulator).

    ``https://api.dropboxapi.com/2/x`` becomes ``<base_url>/api/2/x`` (one prefix per host).
    Used only when a client's "API base URL" is set (tests, demo); empty in production. The SDK
    passes its own timeout to every request."""

    def __init__(self, base_url):
        super().__init__(base_url=base_url, host_prefixes=HOST_PREFIXES)


class _PathResolver:
    """Ids of the lower-case paths (relative to the watched root) of one page of the feed:
    what the page itself showed, else the merge base, folder by folder from the root."""

    def __init__(self, root_id, base):
        self.base = base
        self.paths = PathCache({root_id: ""})
        self.root_id = root_id

    def seen(self, rel, item_id):
        self.paths.claim(rel, item_id)

    def id_at(self, rel):
        item_id = self.paths.id_at(rel)
        if item_id is not None or not rel:
            return item_id
        parent = self.id_at(posixpath.dirname(rel))
        if parent is None:
            return None
        entry = self.base.child_named(parent, posixpath.basename(rel), fold_case=True)
        if entry is None:
            return None
        self.paths.claim(rel, entry.id)
        return entry.id

    def deleted(self, rel):
        """The ids gone with the deletion at ``rel``: the item and what is known below it
        (never the watched root itself, see the adapter contract)."""
        item_id = self.id_at(rel) if rel else None
        gone = [item_id] if item_id else []
        if item_id:
            gone += [e.id for e in self.base.descendants(item_id)]
        gone += self.paths.forget_below(rel) if rel else []
        return [i for i in dict.fromkeys(gone) if i != self.root_id]


def rewrite_url(url, base_url):
    """``https://<dropbox host>/path?query`` -> ``<base_url>/<host prefix>/path?query``."""
    return http.rewrite_url(url, base_url, HOST_PREFIXES)


def make_session(base_url=None):
    if base_url:
        return RedirectSession(base_url)
    return dropbox.create_session() if dropbox else requests.Session()


# ------------------------------------------------------------------------------------------
# Error translation
# ------------------------------------------------------------------------------------------
def _tag_chain(value, depth=0):
    """The tags of a stone union error, outermost first (``["path", "conflict", "file"]``)."""
    chain = []
    while value is not None and depth < 10:
        depth += 1
        if isinstance(value, bb.Union):
            chain.append(value._tag)
            value = value._value
        elif isinstance(value, bb.Struct):
            # structs wrapping a union: UploadWriteFailed.reason, LookupError in metadata, ...
            nested = None
            for attr in ("reason", "error"):
                nested = getattr(value, attr, None) if hasattr(type(value), attr) else None
                if nested is not None:
                    break
            value = nested
        else:
            break
    return chain


INVALID_TAGS = {"malformed_path", "disallowed_name", "not_file", "not_folder",
                "cant_move_folder_into_itself", "cant_copy_shared_folder",
                "cant_nest_shared_folder", "cant_transfer_ownership", "too_many_files",
                "duplicated_or_nested_paths", "restricted_content", "unsupported_content_type",
                "no_write_permission", "team_folder", "payload_too_large",
                "cant_move_shared_folder", "cant_move_into_vault", "cant_move_into_family",
                "internal_error", "settings_error", "email_not_verified",
                "shared_link_access_denied", "access_denied", "unsupported_link_type"}


def translate(exc, path=None):
    """A :class:`CloudError` for an SDK / transport exception."""
    if isinstance(exc, CloudError):
        return exc
    if dropbox is not None:
        if isinstance(exc, dbx_exc.RateLimitError):
            retry_after = exc.backoff
            reason = None
            if exc.error is not None and getattr(exc.error, "reason", None) is not None:
                reason = exc.error.reason._tag
            return RateLimited("Dropbox rate limit", code=reason or "too_many_requests",
                               path=path, retry_after=retry_after if retry_after else 5)
        if isinstance(exc, dbx_exc.AuthError):
            tag = exc.error._tag if exc.error is not None else "auth"
            if tag in ("missing_scope", "user_suspended", "invalid_select_user",
                       "invalid_select_admin", "route_access_denied", "no_permission"):
                return InvalidRequest("Dropbox refused the request: %s" % tag, code=tag,
                                      path=path)
            return AuthExpired("Dropbox authorization is no longer valid", code=tag, path=path)
        if isinstance(exc, dbx_exc.PathRootError):
            return InvalidRequest("Invalid team space root", code="path_root", path=path)
        if isinstance(exc, dbx_exc.BadInputError):
            message = exc.message or ""
            if "invalid_grant" in message or "invalid_client" in message:
                return AuthExpired("Dropbox refused the app credentials or refresh token",
                                   code="invalid_grant", path=path)
            return InvalidRequest("Dropbox refused the request: %s" % message[:300],
                                  code="bad_input", path=path)
        if isinstance(exc, dbx_exc.InternalServerError):
            return Transient("Dropbox server error", code=str(exc.status_code), path=path)
        if isinstance(exc, dbx_exc.HttpError):
            if exc.status_code in (502, 503, 504):
                return Transient("Dropbox unavailable", code=str(exc.status_code), path=path)
            return InvalidRequest("Dropbox HTTP error %s" % exc.status_code,
                                  code=str(exc.status_code), path=path)
        if isinstance(exc, dbx_exc.ApiError):
            return _translate_api_error(exc, path)
        if isinstance(exc, ValidationError):
            return InvalidRequest("Invalid argument: %s" % exc, code="malformed_path", path=path)
        if isinstance(exc, dropbox.oauth.BadRequestException):
            return InvalidRequest(str(exc), code="bad_request", path=path)
    lost = "Connection to Dropbox lost: %s"
    transport = http.transport_error(exc, path, timeout="Dropbox did not answer in time",
                                     connection=lost, other=lost, other_code="connection_error")
    if transport is not None:
        return transport
    return Transient("Unexpected answer from Dropbox: %s" % type(exc).__name__,
                     code="unexpected", path=path)


def _translate_api_error(exc, path):
    chain = _tag_chain(exc.error)
    code = "/".join(chain) or "api_error"
    tags = set(chain)
    if chain and chain[0] == "reset":
        return ResetNeeded("The change cursor expired", code=code, path=path)
    if chain and chain[0] == "lookup_failed":
        # the upload session is gone or out of step: the whole upload is retried
        return Transient("Upload session lost", code=code, path=path)
    if "insufficient_space" in tags or "insufficient_quota" in tags:
        return QuotaExceeded("Dropbox storage is full", code=code, path=path)
    if "too_many_write_operations" in tags:
        return RateLimited("Too many writes in this Dropbox namespace", code=code, path=path,
                           retry_after=None)
    if "content_hash_mismatch" in tags:
        return Transient("Content damaged in transit", code=code, path=path)
    if "conflict" in tags or "shared_link_already_exists" in tags:
        return Conflict("An item with that name already exists", code=code, path=path)
    if "not_found" in tags:
        return NotFound("Item not found", code=code, path=path)
    if tags & INVALID_TAGS:
        return InvalidRequest("Dropbox refused the request", code=code, path=path)
    return InvalidRequest("Dropbox error", code=code, path=path)


# ------------------------------------------------------------------------------------------
# The adapter
# ------------------------------------------------------------------------------------------
class DropboxAdapter(StorageAdapter):
    """:class:`StorageAdapter` on Dropbox.

    Credentials: ``refresh_token`` + ``app_key`` (+ ``app_secret``, or none with a PKCE
    token), optionally a current ``access_token`` and its ``access_token_expiration``
    (naive UTC datetime). ``team_member_id`` makes a team token act as that member
    (``Dropbox-API-Select-User``); ``use_team_root`` puts every path on the team space root
    (``Dropbox-API-Path-Root``). ``base_url`` redirects the SDK's traffic to an emulator.
    ``link_policy`` (R-SEC-5): ``none`` (plain ``https://www.dropbox.com/home/<path>`` URLs,
    nothing shared), ``team`` (team-only shared links) or ``public``. Without it, the legacy
    ``no_shared_links`` flag decides (``none`` / ``public``); the Odoo client always passes an
    explicit policy. Links this adapter *created* are kept in :attr:`created_links`
    (item id -> url) until the caller takes them with :meth:`pop_created_link`.
    """

    hash_kind = "dropbox"
    #: shared by the runner's transfer threads and Odoo's HTTP workers:
    #: one SDK client (requests session); its own state behind a lock
    thread_safe = True
    max_name_length = 255
    chunk_threshold = 8 * MiB
    chunk_size = 8 * MiB

    def __init__(self, refresh_token=None, app_key=None, app_secret=None, access_token=None,
                 access_token_expiration=None, team=False, team_member_id=None,
                 use_team_root=False, base_url=None, no_shared_links=False, link_policy=None,
                 page_size=1000,
                 chunk_threshold=None, chunk_size=None, timeout=60,
                 max_retries_on_rate_limit=0, session=None):
        if dropbox is None:  # pragma: no cover
            raise CloudError("The Python package 'dropbox' is not installed", code="sdk")
        self.refresh_token = refresh_token
        self.app_key = app_key
        self.app_secret = app_secret or None
        self.access_token = access_token
        self.access_token_expiration = access_token_expiration
        self.team = bool(team)
        self.team_member_id = team_member_id or None
        self.use_team_root = bool(use_team_root)
        self.base_url = base_url or None
        if link_policy is None:
            link_policy = "none" if no_shared_links else "public"
        if link_policy not in LINK_POLICIES:
            raise InvalidRequest("Unknown link policy %r" % link_policy, code="link_policy")
        self.link_policy = link_policy
        self.no_shared_links = link_policy == "none"
        self.created_links = {}
        self.page_size = max(1, min(int(page_size or 1000), 2000))
        self.timeout = timeout
        self.max_retries_on_rate_limit = max_retries_on_rate_limit
        if chunk_threshold:
            self.chunk_threshold = int(chunk_threshold)
        if chunk_size:
            self.chunk_size = int(chunk_size)
        self.session = session or make_session(self.base_url)
        self._lock = threading.RLock()
        self._dbx = None
        self._account = None

    # -- SDK client ------------------------------------------------------------------------
    @property
    def client(self):
        """The ``dropbox.Dropbox`` acting for the chosen account (built once, then reused:
        the SDK keeps the refreshed access token in it)."""
        with self._lock:
            if self._dbx is None:
                self._dbx = self._build_client()
            return self._dbx

    def _build_client(self):
        kwargs = dict(
            oauth2_access_token=self.access_token,
            oauth2_refresh_token=self.refresh_token,
            oauth2_access_token_expiration=self.access_token_expiration,
            app_key=self.app_key, app_secret=self.app_secret, session=self.session,
            max_retries_on_error=0, max_retries_on_rate_limit=self.max_retries_on_rate_limit,
            timeout=self.timeout)
        if self.team or self.team_member_id:
            if not self.team_member_id:
                raise InvalidRequest("A Dropbox team connection needs the team member whose "
                                     "space holds the files", code="team_member_missing")
            dbx = dropbox.DropboxTeam(**kwargs).as_user(self.team_member_id)
        else:
            dbx = dropbox.Dropbox(**kwargs)
        if self.use_team_root:
            try:
                account = dbx.users_get_current_account()
            except Exception as exc:  # noqa: BLE001
                raise translate(exc) from exc
            self._account = account
            dbx = dbx.with_path_root(PathRoot.root(account.root_info.root_namespace_id))
        return dbx

    def _call(self, method, *args, _path=None, **kwargs):
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except CloudError:
            raise
        except Exception as exc:  # noqa: BLE001 - only CloudError leaves the adapter
            raise translate(exc, path=_path) from exc

    def _current_account(self):
        if self._account is None:
            self._account = self._call("users_get_current_account")
        return self._account

    # -- helpers ---------------------------------------------------------------------------
    def _check_name(self, name):
        check_item_name(name, self.max_name_length, reject_blank=True, code="malformed_path",
                        path=name or "")

    @staticmethod
    def _parent_path(path):
        """The folder holding ``path`` ("" for the top of the account)."""
        return parent_path(path, top="") or ""

    def _item(self, md, parent_id=None):
        """CloudItem from SDK metadata; ``parent_id`` looked up when not given."""
        path = md.path_display or md.path_lower or ""
        if parent_id is None:
            parent_id = self._id_of_path(self._parent_path(md.path_lower or path))
        if isinstance(md, dbx_files.FolderMetadata):
            return CloudItem(md.id, md.name, FOLDER, parent_id, path=path)
        modified = md.server_modified.strftime("%Y-%m-%dT%H:%M:%SZ") \
            if getattr(md, "server_modified", None) else None
        return CloudItem(md.id, md.name, FILE, parent_id, size=md.size, hash=md.content_hash,
                         etag=md.rev, modified=modified, path=path)

    def _id_of_path(self, path):
        if not path:
            return TOP_ID
        return self._call("files_get_metadata", path, _path=path).id

    def _metadata(self, item_id):
        """Live metadata of ``item_id`` (NotFound when gone or deleted)."""
        md = self._call("files_get_metadata", item_id, _path=item_id)
        if isinstance(md, dbx_files.DeletedMetadata):
            raise NotFound("Item deleted", code="not_found", path=item_id)
        return md

    def _folder_path(self, folder_id):
        """Current path of a folder ("" for the top); InvalidRequest if it is a file."""
        if folder_id == TOP_ID:
            return ""
        md = self._metadata(folder_id)
        if not isinstance(md, dbx_files.FolderMetadata):
            raise InvalidRequest("Not a folder", code="not_folder", path=md.path_display)
        return md.path_display

    def _lookup_path(self, path):
        """Metadata at ``path`` or None."""
        try:
            md = self._call("files_get_metadata", path, _path=path)
        except NotFound:
            return None
        return None if isinstance(md, dbx_files.DeletedMetadata) else md

    # -- account ---------------------------------------------------------------------------
    def check_connection(self):
        account = self._call("users_get_current_account")
        self._account = account
        facts = {"account": "%s <%s>" % (account.name.display_name, account.email),
                 "account_id": account.account_id, "email": account.email,
                 "root_namespace_id": account.root_info.root_namespace_id,
                 "team": account.team.name if account.team else None}
        try:
            usage = self._call("users_get_space_usage")
            facts["quota_used"] = usage.used
            if usage.allocation.is_individual():
                facts["quota_total"] = usage.allocation.get_individual().allocated
            elif usage.allocation.is_team():
                facts["quota_total"] = usage.allocation.get_team().allocated
        except CloudError as exc:
            if isinstance(exc, AuthExpired):
                raise
            _logger.info("Dropbox space usage unavailable: %s", exc)
        return facts

    def ensure_root(self, name):
        self._check_name(name)
        path = "/" + name
        md = self._lookup_path(path)
        if md is None:
            try:
                md = self._call("files_create_folder_v2", path, autorename=False,
                                _path=path).metadata
            except Conflict:
                md = self._lookup_path(path)
                if md is None:
                    raise
        if not isinstance(md, dbx_files.FolderMetadata):
            raise Conflict("A file is in the way of the root folder", existing_id=md.id,
                           code="path/conflict/file", path=md.path_display)
        return self._item(md, TOP_ID)

    # -- items -----------------------------------------------------------------------------
    def get_item(self, item_id):
        if item_id == TOP_ID:
            return CloudItem(TOP_ID, "", FOLDER, None, path="")
        return self._item(self._metadata(item_id))

    def find_child(self, parent_id, name):
        folder = self._folder_path(parent_id)
        if not is_plain_name(name):
            return None
        md = self._lookup_path(folder + "/" + name)
        return self._item(md, parent_id) if md is not None else None

    def list_children(self, parent_id, page_token=None):
        if page_token:
            result = self._call("files_list_folder_continue", page_token, _path=parent_id)
        else:
            path = "" if parent_id == TOP_ID else parent_id
            result = self._call("files_list_folder", path, limit=self.page_size,
                                _path=parent_id)
        items = [self._item(md, parent_id) for md in result.entries
                 if not isinstance(md, dbx_files.DeletedMetadata)]
        return items, (result.cursor if result.has_more else None)

    def create_folder(self, parent_id, name):
        self._check_name(name)
        path = self._folder_path(parent_id) + "/" + name
        try:
            md = self._call("files_create_folder_v2", path, autorename=False,
                            _path=path).metadata
        except Conflict as exc:
            existing = self._lookup_path(path)
            if existing is None:
                raise
            if isinstance(existing, dbx_files.FolderMetadata):
                return self._item(existing, parent_id)  # retry-safe: the folder is there
            raise Conflict("A file with that name exists", existing_id=existing.id,
                           code=exc.code, path=existing.path_display) from exc
        return self._item(md, parent_id)

    def _relocate(self, md, parent_id, parent_path, name):
        target = parent_path + "/" + name
        try:
            result = self._call("files_move_v2", md.id, target, autorename=False,
                                allow_ownership_transfer=False, _path=target)
        except Conflict as exc:
            existing = self._lookup_path(target)
            raise Conflict("An item with that name exists", code=exc.code, path=target,
                           existing_id=existing.id if existing else None) from exc
        return self._item(result.metadata, parent_id)

    def rename(self, item_id, new_name):
        self._check_name(new_name)
        md = self._metadata(item_id)
        parent_path = self._parent_path(md.path_display)
        if md.name == new_name:
            return self._item(md)
        return self._relocate(md, self._id_of_path(parent_path), parent_path, new_name)

    def move(self, item_id, new_parent_id, new_name=None):
        if new_name is not None:
            self._check_name(new_name)
        md = self._metadata(item_id)
        if new_parent_id == item_id:
            raise InvalidRequest("Cannot move a folder into itself",
                                 code="cant_move_folder_into_itself", path=md.path_display)
        parent_path = self._folder_path(new_parent_id)
        return self._relocate(md, new_parent_id, parent_path, new_name or md.name)

    def delete(self, item_id):
        self._call("files_delete_v2", item_id, _path=item_id)

    # -- content ---------------------------------------------------------------------------
    def _read_exact(self, stream, size, path):
        """Yield pieces of at most ``chunk_size`` bytes, exactly ``size`` in total."""
        return read_exact(stream, size, self.chunk_size, code="incorrect_offset", path=path)

    def upload(self, parent_id, name, stream, size):
        self._check_name(name)
        parent_path = self._folder_path(parent_id)
        path = parent_path + "/" + name
        commit_kwargs = dict(mode=dbx_files.WriteMode.add, autorename=False,
                             strict_conflict=True, mute=True)
        if size > self.chunk_threshold:
            # a taken name would only be refused at the session's commit, after every piece
            existing = self._lookup_path(path)
            if existing is not None:
                raise Conflict("An item with that name exists", existing_id=existing.id,
                               code="path/conflict", path=existing.path_display)
            md, local_hash = self._upload_session(stream, size, path, commit_kwargs)
        else:  # one request, refused by Dropbox itself when the name is taken (mode add)
            data = b"".join(self._read_exact(stream, size, path))
            local_hash = dropbox_content_hash([data])
            try:
                md = self._call("files_upload", data, path, content_hash=local_hash,
                                _path=path, **commit_kwargs)
            except Conflict as exc:
                existing = self._lookup_path(path)  # the caller is told what holds the name
                raise Conflict("An item with that name exists", code=exc.code, path=path,
                               existing_id=existing.id if existing else None) from exc
        if md.content_hash != local_hash or md.size != size:
            # R-DIR-2: never report a damaged copy as the file; remove it if we can
            try:
                self._call("files_delete_v2", path, parent_rev=md.rev, _path=path)
            except CloudError:
                _logger.warning("Could not remove the mismatching upload %s", path)
            raise Transient("The uploaded copy does not match the local file", code="hash_mismatch",
                            path=path)
        return self._item(md, parent_id)

    def _upload_session(self, stream, size, path, commit_kwargs):
        """Chunked upload: start with the first piece, append the middle ones, finish with the
        last one; each piece carries its own content hash, checked by Dropbox."""
        overall = DropboxContentHasher()
        cursor = None
        last = b""
        for piece, is_last in with_last(self._read_exact(stream, size, path)):
            overall.update(piece)
            if cursor is None:
                start = self._call("files_upload_session_start", piece,
                                   content_hash=dropbox_content_hash([piece]), _path=path)
                cursor = dbx_files.UploadSessionCursor(session_id=start.session_id,
                                                       offset=len(piece))
            elif is_last:
                last = piece
            else:
                self._call("files_upload_session_append_v2", piece, cursor,
                           content_hash=dropbox_content_hash([piece]), _path=path)
                cursor.offset += len(piece)
        commit = dbx_files.CommitInfo(path=path, **commit_kwargs)
        md = self._call("files_upload_session_finish", last, cursor, commit,
                        content_hash=dropbox_content_hash([last]) if last else None,
                        _path=path)
        return md, overall.hexdigest()

    def download(self, item_id):
        md, response = self._call("files_download", item_id, _path=item_id)
        return self._stream(response, item_id)

    @staticmethod
    def _stream(response, item_id):
        return iter_response(response, STREAM_CHUNK,
                             translate=lambda exc: translate(exc, path=item_id))

    # -- change feed -----------------------------------------------------------------------
    @staticmethod
    def _encode_cursor(root_id, root_path, dbx_cursor):
        return encode_state(CURSOR_PREFIX, {"r": root_id, "p": root_path, "c": dbx_cursor},
                            level=6, ensure_ascii=True)

    @staticmethod
    def _decode_cursor(cursor):
        return decode_state(CURSOR_PREFIX, cursor, message="Malformed change cursor",
                            validate=lambda data: isinstance(data.get("c"), str))

    @staticmethod
    def _need_base(base):
        if base is None:
            raise InvalidRequest("The Dropbox change feed resolves deletions through the "
                                 "merge base: pass one", code="merge_base_missing")

    def latest_cursor(self, root_id, base=None):
        """List the watched subtree once; the listing replaces what ``base`` knew below it."""
        self._need_base(base)
        root = self._metadata(root_id)
        root_lower = root.path_lower
        ids, listed = {"": root.id}, []
        result = self._call("files_list_folder", root_lower, recursive=True,
                            limit=self.page_size, _path=root_lower)
        while True:
            for md in result.entries:
                rel = relative_path(md.path_lower, root_lower)
                if rel and not isinstance(md, dbx_files.DeletedMetadata):
                    ids[rel] = md.id
                    listed.append((rel, md))
            if not result.has_more:
                break
            result = self._call("files_list_folder_continue", result.cursor, _path=root_lower)
        entries = [BaseEntry.of(self._item(md, ids[posixpath.dirname(rel)]))
                   for rel, md in listed if posixpath.dirname(rel) in ids]
        known = base.get(root.id)
        base.replace_below(BaseEntry.of(self._item(root, known.parent_id if known else None)),
                           entries)
        return self._encode_cursor(root.id, root_lower, result.cursor)

    def changes(self, root_id, cursor, base=None):
        self._need_base(base)
        state = self._decode_cursor(cursor)
        if state.get("r") != root_id:
            raise ResetNeeded("The cursor belongs to another folder", code="reset")
        root_lower = state["p"]
        try:
            result = self._call("files_list_folder_continue", state["c"], _path=root_lower)
        except NotFound as exc:
            # the watched folder is not at its path any more (renamed or moved): re-list
            raise ResetNeeded("The watched folder moved", code="reset", path=root_lower) from exc
        except InvalidRequest as exc:
            raise ResetNeeded("Dropbox refused the cursor", code="reset") from exc
        resolver = _PathResolver(root_id, base)
        out = {}
        for md in result.entries:
            rel = relative_path(md.path_lower, root_lower)
            if rel is None:
                continue
            if isinstance(md, dbx_files.DeletedMetadata):
                for item_id in resolver.deleted(rel):
                    out.pop(item_id, None)
                    out[item_id] = Change(item_id, deleted=True)
                continue
            resolver.seen(rel, md.id)
            parent_id = resolver.id_at(posixpath.dirname(rel)) if rel else None
            if parent_id is None:
                parent_id = self._id_of_path(self._parent_path(md.path_lower))
                if rel:
                    resolver.seen(posixpath.dirname(rel), parent_id)
            out.pop(md.id, None)
            out[md.id] = Change(md.id, item=self._item(md, parent_id))
        new_cursor = self._encode_cursor(root_id, root_lower, result.cursor)
        return ChangePage(list(out.values()), new_cursor, has_more=result.has_more)

    # -- links -----------------------------------------------------------------------------
    def home_url(self, path):
        return WEB_HOME + quote(path or "", safe="/")

    def web_url(self, item):
        """Files: a shared link (unless "No shared links"); folders and the fallback: the
        item's page in the Dropbox web UI (``https://www.dropbox.com/home/<path>``)."""
        if not self.no_shared_links and not item.is_folder and item.id != TOP_ID:
            return self.share_link(item.id)
        path = item.path
        if path is None and item.id != TOP_ID:
            path = self._metadata(item.id).path_display
        return self.home_url(path)

    def is_team_account(self):
        """Does the connected account belong to a Dropbox team (Business)?"""
        return getattr(self._current_account(), "team", None) is not None

    def _link_settings(self):
        """Settings of a new link under the policy: team-only for ``team``; for ``public``,
        team-only anyway where the team's own policy demands it."""
        if self.link_policy == "team":
            return dbx_sharing.SharedLinkSettings(
                requested_visibility=dbx_sharing.RequestedVisibility.team_only,
                audience=dbx_sharing.LinkAudience.team)
        account = self._current_account()
        team = getattr(account, "team", None)
        if team is None:
            return None
        policy = team.sharing_policies.shared_link_create_policy
        if policy is not None and (policy.is_team_only() or policy.is_default_team_only()):
            return dbx_sharing.SharedLinkSettings(
                requested_visibility=dbx_sharing.RequestedVisibility.team_only)
        return None

    @staticmethod
    def _is_public(link):
        permissions = getattr(link, "link_permissions", None)
        resolved = getattr(permissions, "resolved_visibility", None)
        return resolved is not None and resolved.is_public()

    def share_link(self, item_id):
        if self.link_policy == "none":
            return self.home_url(self._metadata(item_id).path_display)
        settings = self._link_settings()
        try:
            link = self._call("sharing_create_shared_link_with_settings", item_id, settings,
                              _path=item_id)
        except Conflict:
            # shared_link_already_exists: reuse it (not created by the suite)
            _logger.debug("Dropbox item %s already has a shared link", item_id)
        except InvalidRequest as exc:
            if "settings_error" not in (exc.code or ""):
                raise
            if self.link_policy == "team":
                raise InvalidRequest(
                    "Dropbox refused a team-only link: this account is not part of a Dropbox "
                    "team (choose the link policy 'No shared links')",
                    code=exc.code, path=item_id) from exc
        else:
            if self.link_policy == "team" and self._is_public(link):
                # never leave a public link behind when the policy says team only
                self.revoke_link(link.url, item_id)
                raise InvalidRequest("Dropbox made a public link instead of a team-only one",
                                     code="settings_error/public", path=item_id)
            with self._lock:
                self.created_links[item_id] = link.url
            return link.url
        links = self._call("sharing_list_shared_links", path=item_id, direct_only=True,
                           _path=item_id).links
        if links:
            return links[0].url
        raise NotFound("No shared link could be made", code="shared_link_not_found",
                       path=item_id)

    def pop_created_link(self, item_id, url=None):
        """The url of the link this adapter created for ``item_id`` (then forgotten)."""
        with self._lock:
            created = self.created_links.get(item_id)
            if created is not None and (url is None or url == created):
                return self.created_links.pop(item_id)
        return None

    def revoke_link(self, link_id, item_id=None):
        """Revoke the shared link of URL ``link_id``; True when revoked or already gone."""
        try:
            self._call("sharing_revoke_shared_link", link_id, _path=link_id)
        except (NotFound, InvalidRequest) as exc:
            if "not_found" not in (exc.code or ""):
                raise
            return True  # shared_link_not_found: already gone (e.g. with its file)
        return True
