"""The storage adapter interface the sync core drives.

Every provider addon implements :class:`StorageAdapter` with plain Python (no ORM), talking to
its provider through the official SDK. The core never sees SDK objects: it gets
:class:`CloudItem`, :class:`ChangePage` and the exceptions below.

Ids are the provider's stable ids (Dropbox ``id``, Graph item id, Drive file id, ``oc:fileid``):
a rename or a move keeps the id. Names are single path segments, never paths.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Optional

FOLDER = "folder"
FILE = "file"

#: Size of the pieces streamed to and from the adapters.
STREAM_CHUNK = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Errors. Adapters translate every provider error into one of these.
# --------------------------------------------------------------------------------------------
class CloudError(Exception):
    """Base of all adapter errors.

    ``code`` is the provider's own error code or HTTP status, ``path`` the item concerned when
    known; both go into the sync logs (never secrets). ``retryable`` tells the queue whether a
    retry may succeed.
    """

    retryable = False

    def __init__(self, message="", code=None, path=None, retry_after=None):
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.code = code
        self.path = path
        self.retry_after = retry_after

    def __str__(self):
        parts = [self.message]
        if self.code:
            parts.append("[%s]" % self.code)
        if self.path:
            parts.append("(%s)" % self.path)
        return " ".join(parts)


class NotFound(CloudError):
    """The item does not exist (any more)."""


class Conflict(CloudError):
    """An item with that name already exists where the operation wanted to put one."""

    def __init__(self, message="", existing_id=None, **kw):
        super().__init__(message, **kw)
        self.existing_id = existing_id


class RateLimited(CloudError):
    """Too many requests; ``retry_after`` seconds to wait when the provider said so."""

    retryable = True


class AuthExpired(CloudError):
    """Credentials are no longer valid and could not be refreshed: reconnect needed."""


class QuotaExceeded(CloudError):
    """The account has no space left."""


class Transient(CloudError):
    """Server error, timeout, connection lost: the request may or may not have been applied."""

    retryable = True


class ResetNeeded(CloudError):
    """The change-feed cursor is no longer valid: the caller must re-list and reconcile."""


class InvalidRequest(CloudError):
    """The provider refused the request for a reason a retry will not fix (bad name, ...)."""


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CloudItem:
    id: str
    name: str
    kind: str  # FOLDER or FILE
    parent_id: Optional[str] = None
    size: int = 0
    #: provider content hash of a file (see ``StorageAdapter.hash_kind``), None when unknown
    hash: Optional[str] = None
    #: version token: changes when the content changes (for WebDAV folders: when anything below)
    etag: Optional[str] = None
    modified: Optional[str] = None  # ISO 8601
    mimetype: Optional[str] = None
    #: informative path from the account root, when the provider gives one cheaply
    path: Optional[str] = None

    @property
    def is_folder(self):
        return self.kind == FOLDER

    def with_(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class Change:
    """One entry of a change feed: the latest state of an item, or its deletion."""

    id: str
    deleted: bool = False
    item: Optional[CloudItem] = None


@dataclass
class ChangePage:
    changes: list = field(default_factory=list)
    #: the newest cursor: store it, and pass it to the next call
    cursor: str = ""
    #: True when more changes are waiting right now (call again with ``cursor``)
    has_more: bool = False


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------
def sha256_hex(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def dropbox_content_hash(chunks: Iterable[bytes]) -> str:
    """Dropbox ``content_hash``: SHA-256 of the SHA-256 digests of each 4 MiB block."""
    block = 4 * 1024 * 1024
    overall = hashlib.sha256()
    current = hashlib.sha256()
    filled = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            take = min(block - filled, len(view))
            current.update(view[:take])
            filled += take
            view = view[take:]
            if filled == block:
                overall.update(current.digest())
                current = hashlib.sha256()
                filled = 0
    if filled:
        overall.update(current.digest())
    return overall.hexdigest()


def md5_hex(chunks: Iterable[bytes]) -> str:
    digest = hashlib.md5()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha1_hex(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def iter_stream(stream, chunk_size=STREAM_CHUNK) -> Iterator[bytes]:
    """Yield a binary file object (or bytes) in chunks."""
    if isinstance(stream, (bytes, bytearray, memoryview)):
        data = bytes(stream)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]
        return
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def page_after(sort_keys, token, page_size, path=None):
    """Cut one page out of ``sort_keys`` (``[(key, value)]`` sorted by key, keys being pairs
    of strings) after the position a previous ``token`` names.

    Tokens name the sort key of the last entry returned, not an offset, so that entries added
    or removed between two pages make nobody skipped or listed twice. Returns
    ``(values, next_token_or_None)``; a malformed token raises InvalidRequest.
    """
    if token:
        try:
            after = json.loads(token)
            if not (isinstance(after, list) and len(after) == 2
                    and all(isinstance(part, str) for part in after)):
                raise ValueError(token)
            after = tuple(after)
        except (TypeError, ValueError):
            raise InvalidRequest("Malformed page token", code="bad_token",
                                 path=path) from None
        sort_keys = [(key, value) for key, value in sort_keys if key > after]
    page = sort_keys[:page_size]
    more = len(sort_keys) > page_size
    return [value for _key, value in page], (json.dumps(list(page[-1][0])) if more else None)


HASH_FUNCTIONS = {
    "sha256": sha256_hex,
    "dropbox": dropbox_content_hash,
    "md5": md5_hex,
    "sha1": sha1_hex,
}


# --------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------
class StorageAdapter:
    """What the sync core needs from a storage provider.

    Contract (checked by ``tests/contract``):

    * every method raises only :class:`CloudError` subclasses;
    * ``create_folder`` and ``upload`` are safe to retry after an ambiguous failure: they look up
      ``name`` in ``parent_id`` and never produce two items of the same name there;
    * ``list_children`` pages are stable: a folder listed page by page yields each child once,
      even when other children are added or removed between two pages;
    * ``changes`` reports moves and renames by stable id (an item whose ``parent_id`` or
      ``name`` changed), deletions as ``Change(id, deleted=True)`` (an item moved out of the
      watched root counts as deleted; the watched root renamed or moved does not), and raises
      :class:`ResetNeeded` when the cursor cannot be continued.
    """

    #: which hash ``CloudItem.hash`` holds for files: a key of HASH_FUNCTIONS, or None
    hash_kind: Optional[str] = None
    #: longest accepted item name, in characters
    max_name_length: int = 255
    #: uploads above this size go through the provider's chunked/resumable protocol
    chunk_threshold: int = 8 * 1024 * 1024
    chunk_size: int = 8 * 1024 * 1024

    # -- account -------------------------------------------------------------------------
    def check_connection(self) -> dict:
        """Return account facts (``{"account": ..., "quota_used": ..., ...}``); raises on bad
        credentials (AuthExpired) or unreachable server (Transient)."""
        raise NotImplementedError

    def ensure_root(self, name: str) -> CloudItem:
        """Find or create the suite's root folder ``name`` at the top of the storage."""
        raise NotImplementedError

    # -- items ---------------------------------------------------------------------------
    def get_item(self, item_id: str) -> CloudItem:
        raise NotImplementedError

    def find_child(self, parent_id: str, name: str) -> Optional[CloudItem]:
        """The child of ``parent_id`` named ``name`` (case-insensitive where the provider is)."""
        raise NotImplementedError

    def list_children(self, parent_id: str, page_token: Optional[str] = None):
        """One page of children: ``(items, next_page_token_or_None)``."""
        raise NotImplementedError

    def iter_children(self, parent_id: str) -> Iterator[CloudItem]:
        token = None
        while True:
            items, token = self.list_children(parent_id, token)
            yield from items
            if not token:
                return

    def create_folder(self, parent_id: str, name: str) -> CloudItem:
        """Create ``name`` in ``parent_id``; if a folder of that name already exists there,
        return it (so a retry after a lost response does not duplicate)."""
        raise NotImplementedError

    def rename(self, item_id: str, new_name: str) -> CloudItem:
        raise NotImplementedError

    def move(self, item_id: str, new_parent_id: str, new_name: Optional[str] = None) -> CloudItem:
        raise NotImplementedError

    def delete(self, item_id: str) -> None:
        """Delete (or trash, where the provider has a trash) the item; NotFound if gone."""
        raise NotImplementedError

    # -- content -------------------------------------------------------------------------
    def upload(self, parent_id: str, name: str, stream, size: int) -> CloudItem:
        """Upload ``size`` bytes read from the binary file object ``stream`` as ``name`` in
        ``parent_id``; chunked above ``chunk_threshold``. Fails with Conflict when a different
        item named ``name`` exists there (the caller decides). Returns the new item with its
        provider hash when the provider gives one."""
        raise NotImplementedError

    def download(self, item_id: str) -> Iterator[bytes]:
        """Stream the content of a file."""
        raise NotImplementedError

    def compute_hash(self, chunks: Iterable[bytes]) -> Optional[str]:
        """The local equivalent of ``CloudItem.hash`` for content ``chunks``."""
        if not self.hash_kind:
            return None
        return HASH_FUNCTIONS[self.hash_kind](chunks)

    # -- change feed ---------------------------------------------------------------------
    def latest_cursor(self, root_id: str) -> str:
        """A cursor meaning "now" for the subtree of ``root_id``."""
        raise NotImplementedError

    def changes(self, root_id: str, cursor: str) -> ChangePage:
        """Changes in the subtree of ``root_id`` since ``cursor``."""
        raise NotImplementedError

    # -- links ---------------------------------------------------------------------------
    def web_url(self, item: CloudItem) -> str:
        """URL opening the item (file or folder) in the provider's web UI."""
        raise NotImplementedError

    def share_link(self, item_id: str) -> str:
        """A shareable link (public or organisation-wide, per the client's options)."""
        raise NotImplementedError
