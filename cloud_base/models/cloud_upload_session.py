"""Unfinished upload sessions of the clients (issues 12, 13): a big upload interrupted by a
crash, a restart of the worker or a failed task continues, at its next attempt, the session
the provider still holds instead of sending everything again.

The rows are written by :class:`DatabaseUploadSessions`, the store the providers give their
adapters (``lib/upload_sessions.py``), each write in a short transaction of its own committed
at once: the address survives a rollback of the task that made it, and the death of the
process. Session addresses are bearer secrets: only system administrators may read the model
(no view shows it), and nothing logs them."""
import contextlib
import datetime
import logging
import threading

from odoo import SUPERUSER_ID, api, fields, models
from odoo.modules.registry import Registry

from ..lib.upload_sessions import MemoryUploadSessions, UploadSessionStore

_logger = logging.getLogger(__name__)


class CloudUploadSession(models.Model):
    _name = "cloud.upload.session"
    _description = "Unfinished cloud upload session"
    _order = "client_id, expires_at"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True,
                                readonly=True)
    key = fields.Char(required=True, readonly=True,
                      help="Digest of the folder, name, size and content of the upload.")
    url = fields.Char("Session address", required=True, readonly=True,
                      groups="base.group_system")
    #: bytes (a float column holds sizes beyond 2 GiB exactly)
    size = fields.Float(readonly=True)
    expires_at = fields.Datetime("Expires", required=True, readonly=True, index=True)

    _sql_constraints = [
        ("client_key_unique", "unique(client_id, key)", "An upload session is kept once."),
    ]

    @api.model
    def _purge_expired(self):
        """Sessions past their provider's lifetime (the clean cron)."""
        self.sudo().search([("expires_at", "<", fields.Datetime.now())]).unlink()

    @api.model
    def _purge_clients(self, clients):
        """Every session of ``clients`` (reset, another account)."""
        self.sudo().search([("client_id", "in", clients.ids)]).unlink()


class DatabaseUploadSessions(UploadSessionStore):
    """The upload sessions of one client in ``cloud_upload_session``.

    Adapters are cached per process and outlive transactions: the store keeps the database
    name and the client id, and opens a cursor of its own for each call (committed when the
    call ends); calls may come from any thread (the runner's transfer threads).

    In tests the database is the test's: ``env`` is a test's own transaction, which no second
    connection may see (the calls go through it, and are rolled back with it), and in test
    mode (``HttpCase``) a new cursor is a test cursor holding the test's lock. ``thread_bound``:
    only the thread that made the store uses the database then; the others (which may not use
    the test's cursor, or would wait for a lock held by the thread waiting for them) keep
    their sessions in this process."""

    #: a store call waits this long for a lock, never forever (the caller's transaction may
    #: be the one holding it, in the same thread)
    LOCK_TIMEOUT = "5s"

    def __init__(self, dbname, client_id, lifetime, env=None, thread_bound=False):
        self.dbname = dbname
        self.client_id = client_id
        self.lifetime = lifetime  # seconds
        self._env = env
        self._thread = threading.get_ident() if thread_bound or env is not None else None
        self._other_threads = MemoryUploadSessions(lifetime)

    @contextlib.contextmanager
    def _sessions(self):
        if self._env is not None:
            with self._env.cr.savepoint():
                yield self._env["cloud.upload.session"].sudo()
            return
        registry = Registry(self.dbname)
        with registry.cursor() as cr:
            if not registry.in_test_mode():  # a test cursor's transaction is the test's
                cr.execute("SET LOCAL lock_timeout = %s", [self.LOCK_TIMEOUT])
            yield api.Environment(cr, SUPERUSER_ID, {})["cloud.upload.session"]

    def _rows(self, sessions, key):
        return sessions.search([("client_id", "=", self.client_id), ("key", "=", key)])

    def _other_thread(self):
        """A call of a thread that may not use the test's database (see above)."""
        return self._thread is not None and threading.get_ident() != self._thread

    def get(self, key):
        if self._other_thread():
            return self._other_threads.get(key)
        try:
            with self._sessions() as sessions:
                row = self._rows(sessions, key)
                if row and row.expires_at > fields.Datetime.now():
                    return row.url
        except Exception:  # noqa: BLE001 - without the store the upload starts afresh
            _logger.warning("Cloud client %s: could not read an upload session",
                            self.client_id, exc_info=True)
        return None

    def put(self, key, url, expires_at=None, size=None):
        if expires_at:
            expires = datetime.datetime.fromtimestamp(expires_at, datetime.timezone.utc)
            expires = expires.replace(tzinfo=None)
        else:
            expires = fields.Datetime.now() + datetime.timedelta(seconds=self.lifetime)
        if self._other_thread():
            return self._other_threads.put(key, url, expires_at, size)
        vals = {"url": url, "expires_at": expires, "size": size or 0.0}
        try:
            with self._sessions() as sessions:
                row = self._rows(sessions, key)
                if row:
                    row.write(vals)
                else:
                    sessions.create(dict(vals, client_id=self.client_id, key=key))
        except Exception:  # noqa: BLE001 - the upload goes on; it just cannot be resumed
            _logger.warning("Cloud client %s: could not keep an upload session",
                            self.client_id, exc_info=True)

    def drop(self, key):
        if self._other_thread():
            return self._other_threads.drop(key)
        try:
            with self._sessions() as sessions:
                self._rows(sessions, key).unlink()
        except Exception:  # noqa: BLE001 - the row expires and is purged
            _logger.warning("Cloud client %s: could not forget an upload session",
                            self.client_id, exc_info=True)
