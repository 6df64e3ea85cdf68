"""Harnesses: what the adapter contract suite (``tests/contract``) and the shared engine
scenarios (``engine_scenarios.py``) need to drive one kind of storage adapter.

A harness wraps one adapter kind (memory, ownCloud + its emulator, Dropbox + its emulator, ...)
and gives the suites, in provider-neutral terms:

a. a fresh adapter on a fresh, empty account (:meth:`AdapterHarness.new_adapter`), and more
   adapters on that same account (:meth:`AdapterHarness.another_adapter`, "a second worker");
b. "a person in the cloud": changes made directly in the backend, not through the adapter
   (``cloud_create_folder``, ``cloud_create_file``, ``cloud_update_file``, ``cloud_rename``,
   ``cloud_move``, ``cloud_delete``, ``cloud_content``, ``cloud_tree``, ``expire_cursors``).
   They take and return the ids the adapter uses, so a path-based emulator has to translate
   ids to paths itself;
c. fault injection by category (:data:`FAULTS`) on the next call(s) of an adapter operation
   (operation = the name of a :class:`StorageAdapter` method);
d. small page sizes and chunk sizes, declared as attributes (``page_size``,
   ``chunk_threshold``, ``chunk_size``) and applied to the adapters it builds;
e. call counters (:meth:`AdapterHarness.call_count`).

Capability flags (class attributes) describe legitimate differences between providers. The
suites never skip a core check because of a flag: they check the variant the flag announces.

This module holds the base class and the in-memory reference harness. A provider add-on holds
its own harness next to its tests, in ``<addon>/tests/harness.py``, and lists it there::

    from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
    from odoo.addons.cloud_base.tests.harness import AdapterHarness

    class DropboxHarness(AdapterHarness):
        name = "dropbox"
        case_insensitive = True
        hash_kind = "dropbox"
        chunk_threshold = 100 * 1024 ...   # whatever the emulator accepts

        def setup(self):            # start the emulator, register the app, issue a token
        def teardown(self):         # stop it
        def new_adapter(self):      # DropboxAdapter(..., page_size=self.page_size, ...)
        ...                          # every method marked "to implement" below

    HARNESSES = [DropboxHarness]    # what the contract suite runs against

Nothing else changes: the contract suite (``tests/contract/harness.py``) finds
``odoo.addons.<addon>.tests.harness`` in every add-on of the repository and runs over its
``HARNESSES``; the add-on's engine test runs the shared scenarios with the same harness.
"""
from __future__ import annotations

import uuid

from odoo.addons.cloud_base.lib.adapter import (
    AuthExpired, NotFound, QuotaExceeded, RateLimited, ResetNeeded, Transient, sha256_hex,
)
from odoo.addons.cloud_base.lib.memory_adapter import FaultPlan, MemoryAdapter, MemoryStore

# -- fault categories --------------------------------------------------------------------------
RATE_LIMITED = "rate_limited"  # 429 / too_many_requests with a Retry-After
TRANSIENT_5XX = "transient_5xx"  # 500/502/503: not applied
TIMEOUT = "timeout"  # no answer in time (may or may not have been applied)
AUTH_EXPIRED = "auth_expired"  # credentials invalid and not refreshable
QUOTA_EXCEEDED = "quota_exceeded"  # no space left (uploads)
NOT_FOUND = "not_found"  # the item is reported missing
CURSOR_RESET = "cursor_reset"  # the change-feed cursor cannot be continued (changes)
APPLY_THEN_LOSE = "apply_then_lose"  # performed by the backend, answer lost (ambiguous)

#: category -> the exception class the adapter must raise for it
FAULTS = {
    RATE_LIMITED: RateLimited,
    TRANSIENT_5XX: Transient,
    TIMEOUT: Transient,
    AUTH_EXPIRED: AuthExpired,
    QUOTA_EXCEEDED: QuotaExceeded,
    NOT_FOUND: NotFound,
    CURSOR_RESET: ResetNeeded,
    APPLY_THEN_LOSE: Transient,
}


class AdapterHarness:
    """Base class. Subclasses implement every method that raises NotImplementedError."""

    #: shown in the test ids
    name = "abstract"

    # -- capabilities ----------------------------------------------------------------------
    #: names are compared case-insensitively (find_child, create_folder, upload, conflicts)
    case_insensitive = True
    #: ``adapter.hash_kind`` the files are expected to carry (``CloudItem.hash``), or None
    hash_kind = None
    #: a Conflict carries ``existing_id`` (the id of the item in the way)
    conflict_gives_existing_id = True
    #: download() of a file larger than this yields more than one piece
    download_piece_size = 1024 * 1024
    #: the ``retry_after`` (seconds) the harness announces with RATE_LIMITED
    retry_after = 7

    # -- sizes the adapters are built with (kept small: paging and chunking are cheap) ------
    page_size = 3
    chunk_threshold = 100
    chunk_size = 32

    #: the id of the top of the account (where ``ensure_root`` creates the suite's root)
    top_id = None

    # -- life cycle ------------------------------------------------------------------------
    def setup(self):
        """Start what the harness needs (emulator, account). Called once per test."""

    def teardown(self):
        """Stop it."""

    def new_adapter(self):
        """A fresh adapter on a fresh, empty account (to implement)."""
        raise NotImplementedError

    def another_adapter(self):
        """One more adapter on the account of the last ``new_adapter`` (to implement)."""
        raise NotImplementedError

    # -- a person in the cloud -------------------------------------------------------------
    def cloud_create_folder(self, parent_id, name):
        """Create a folder directly in the backend; return its CloudItem (to implement)."""
        raise NotImplementedError

    def cloud_create_file(self, parent_id, name, data):
        """Create a file directly in the backend; return its CloudItem (to implement)."""
        raise NotImplementedError

    def cloud_update_file(self, item_id, data):
        """Replace the content of a file directly in the backend (same id, new bytes, new
        size and hash); return its CloudItem (to implement)."""
        raise NotImplementedError

    def cloud_rename(self, item_id, new_name):
        raise NotImplementedError

    def cloud_move(self, item_id, new_parent_id):
        raise NotImplementedError

    def cloud_delete(self, item_id):
        raise NotImplementedError

    def cloud_content(self, item_id):
        """The bytes of a file as the backend stores them."""
        raise NotImplementedError

    def cloud_tree(self):
        """``{path: (kind, size)}`` of everything in the account, paths from its top
        (``"/Odoo/Contacts/Ann"``), ``kind`` ``"folder"`` or ``"file"``, size 0 for folders
        (to implement)."""
        raise NotImplementedError

    def expire_cursors(self):
        """Make every change-feed cursor handed out so far invalid."""
        raise NotImplementedError

    # -- faults and counters ---------------------------------------------------------------
    def inject(self, category, operation, count=1):
        """Make the next ``count`` calls of adapter method ``operation`` fail with fault
        ``category`` (a key of :data:`FAULTS`), on whichever adapter of the account makes
        them (to implement).

        ``count`` is what the adapter's caller sees: a harness whose adapter retries some
        errors by itself injects as many more as the adapter will swallow. ``"upload"`` covers
        both upload protocols; for APPLY_THEN_LOSE on a chunked upload the fault hits the
        request that makes the file appear (the commit), so the file exists afterwards."""
        raise NotImplementedError

    def clear_faults(self):
        """Forget pending faults and undo lasting ones (e.g. re-issue revoked credentials)."""
        raise NotImplementedError

    def call_count(self, operation):
        """Backend calls of adapter method ``operation`` on this account so far;
        ``"upload_chunk"`` counts the pieces sent through the chunked upload protocol."""
        raise NotImplementedError


class MemoryHarness(AdapterHarness):
    """The in-memory reference adapter."""

    name = "memory"
    case_insensitive = True
    hash_kind = "sha256"
    conflict_gives_existing_id = True
    download_piece_size = 256 * 1024  # MemoryAdapter.download streams 256 KiB pieces
    top_id = MemoryStore.ROOT_ID

    def setup(self):
        self.store = None
        # one fault plan shared by the adapters of the account: faults are the backend's, so
        # "the next upload fails" whichever adapter (worker) makes it
        self.faults = FaultPlan()

    def _adapter(self):
        adapter = MemoryAdapter(self.store, page_size=self.page_size,
                                chunk_threshold=self.chunk_threshold, chunk_size=self.chunk_size)
        adapter.faults = self.faults
        return adapter

    def new_adapter(self):
        # a private store: not in the process-wide registry, so nothing leaks between tests
        self.store = MemoryStore("contract-%s" % uuid.uuid4().hex[:8])
        self.faults.clear()
        return self._adapter()

    def another_adapter(self):
        return self._adapter()

    # -- a person in the cloud -------------------------------------------------------------
    def cloud_create_folder(self, parent_id, name):
        return self.store.put_folder(parent_id, name)

    def cloud_create_file(self, parent_id, name, data):
        return self.store.put_file(parent_id, name, data)

    def cloud_update_file(self, item_id, data):
        with self.store.lock:
            self.store.content[item_id] = bytes(data)
            return self.store.update(item_id, size=len(data), hash=sha256_hex([data]))

    def cloud_rename(self, item_id, new_name):
        return self.store.update(item_id, name=new_name)

    def cloud_move(self, item_id, new_parent_id):
        return self.store.update(item_id, parent_id=new_parent_id)

    def cloud_delete(self, item_id):
        self.store.remove(item_id)

    def cloud_content(self, item_id):
        return self.store.content[item_id]

    def cloud_tree(self):
        return {path: (kind, size or 0) for path, (kind, size) in self.store.tree().items()}

    def expire_cursors(self):
        self.store.expire_cursors()

    # -- faults and counters ---------------------------------------------------------------
    def _error(self, category):
        if category == RATE_LIMITED:
            return RateLimited("Too many requests", code="429", retry_after=self.retry_after)
        if category == TRANSIENT_5XX:
            return Transient("Service unavailable", code="503")
        if category == TIMEOUT:
            return Transient("Read timed out", code="timeout")
        if category == AUTH_EXPIRED:
            return AuthExpired("Access token expired", code="expired_access_token")
        if category == QUOTA_EXCEEDED:
            return QuotaExceeded("Storage quota exceeded", code="insufficient_space")
        if category == NOT_FOUND:
            return NotFound("Item not found", code="not_found")
        if category == CURSOR_RESET:
            return ResetNeeded("Cursor reset", code="reset")
        if category == APPLY_THEN_LOSE:
            return Transient("Connection lost after the request", code="connection_lost")
        raise ValueError("unknown fault category %r" % category)

    def inject(self, category, operation, count=1):
        self.faults.inject(operation, self._error(category), count=count,
                           apply=category == APPLY_THEN_LOSE)

    def clear_faults(self):
        self.faults.clear()

    def call_count(self, operation):
        return self.store.calls[operation]


#: the harnesses of this add-on the contract suite runs against
HARNESSES = [MemoryHarness]
