"""The storage adapter interface the sync core drives.

Every provider addon implements :class:`StorageAdapter` with plain Python (no ORM), talking to
its provider through the official SDK. The core never sees SDK objects: it gets
:class:`CloudItem`, :class:`ChangePage` and the exceptions below.

Ids are the provider's stable ids (Dropbox ``id``, Graph item id, Drive file id, ``oc:fileid``):
a rename or a move keeps the id. Names are single path segments, never paths.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Optional

# The shared plumbing (errors, hashes, streams) lives in its own modules; the names below stay
# importable from here, where the adapters and the core have always found them.
from .errors import (  # noqa: F401
    AuthExpired, CloudError, Conflict, InvalidRequest, NotFound, QuotaExceeded, RateLimited,
    ResetNeeded, Transient,
)
from .hashes import (  # noqa: F401
    HASH_FUNCTIONS, dropbox_content_hash, md5_hex, quickxor_hash, sha1_hex, sha256_hex,
)
from .streams import STREAM_CHUNK, iter_stream  # noqa: F401

FOLDER = "folder"
FILE = "file"


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
# Pages
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------
def is_plain_name(name) -> bool:
    """Is ``name`` one path segment a lookup can use (a non-empty string, not ``.``/``..``,
    no ``/``)? A lookup of anything else finds nothing."""
    return isinstance(name, str) and bool(name) and name not in (".", "..") and "/" not in name


def check_item_name(name, max_length=255, max_bytes=None, reject_blank=False,
                    reject_control=False, code="malformed_path", path=None):
    """Refuse (:class:`InvalidRequest` with ``code`` and ``path``) a name the adapter must not
    send: not a plain name (:func:`is_plain_name`), longer than ``max_length`` characters or
    ``max_bytes`` UTF-8 bytes, only white space (``reject_blank``), or holding NUL or starting or
    ending with a line break (``reject_control``). The core cleans names before it sends them
    (``names.clean_name``); this is the adapter's own guard. Returns ``name``."""
    bad = not is_plain_name(name) or len(name) > max_length
    if not bad and max_bytes is not None:
        bad = len(name.encode("utf-8")) > max_bytes
    if not bad and reject_blank:
        bad = not name.strip()
    if not bad and reject_control:
        bad = "\x00" in name or name != name.strip("\r\n")
    if bad:
        raise InvalidRequest("Invalid item name", code=code, path=path)
    return name


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
    #: longest path of an item below the storage's top ("/Odoo/Contacts/Ann/a.pdf", a "/"
    #: before each name), where the provider limits whole paths; None: no such limit
    max_path_length: Optional[int] = None
    #: uploads above this size go through the provider's chunked/resumable protocol
    chunk_threshold: int = 8 * 1024 * 1024
    chunk_size: int = 8 * 1024 * 1024
    #: one instance may serve several threads at once (else the runner's transfer threads
    #: get one instance each)
    thread_safe: bool = False

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

    def export_format(self, mimetype):
        """``(MIME type, file extension)`` of what :meth:`download` gives for files of
        ``mimetype`` that have no bytes of their own and are exported (Google-native
        documents), else None. Reverse sync then keeps the export under that type and
        extension; a ``download`` that cannot export raises InvalidRequest."""
        return None

    def compute_hash(self, chunks: Iterable[bytes]) -> Optional[str]:
        """The local equivalent of ``CloudItem.hash`` for content ``chunks``."""
        if not self.hash_kind:
            return None
        return HASH_FUNCTIONS[self.hash_kind](chunks)

    # -- change feed ---------------------------------------------------------------------
    # ``base`` is the merge base (``merge_base.MergeBase``) the core keeps: what it knows of
    # the tree. A feed that cannot name every change by id resolves through it (and records
    # in it what it observed besides the changes, such as folder version tags); the caller
    # records the changes themselves (``merge_base.RecordingAdapter``).
    def latest_cursor(self, root_id: str, base=None) -> str:
        """A cursor meaning "now" for the subtree of ``root_id``."""
        raise NotImplementedError

    def changes(self, root_id: str, cursor: str, base=None) -> ChangePage:
        """Changes in the subtree of ``root_id`` since ``cursor``."""
        raise NotImplementedError

    # -- links ---------------------------------------------------------------------------
    def web_url(self, item: CloudItem) -> str:
        """URL opening the item (file or folder) in the provider's web UI."""
        raise NotImplementedError

    def share_link(self, item_id: str) -> str:
        """A shareable link (public or organisation-wide, per the client's options)."""
        raise NotImplementedError

    def revoke_link(self, link_id: str, item_id: str) -> bool:
        """Withdraw a sharing link this suite created on item ``item_id`` (R-SEC-5).

        ``link_id`` is what the provider recorded for it (``cloud.shared.link.link_id``): the
        link's URL, or the id of the permission behind it. Returns True when the link is
        revoked or already gone (by hand, or with its item); raises :class:`CloudError` when
        it may still be there. The core calls it only for providers whose capabilities
        declare ``revokes_links``."""
        raise NotImplementedError
