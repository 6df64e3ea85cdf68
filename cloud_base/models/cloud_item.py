"""The merge base of each client, one row per cloud item the suite knows (see
``lib/merge_base.py``): what the engines created, changed, moved, renamed or deleted, and what
the change feeds reported. Written by the engines only, in the task's transaction, in batches
of plain SQL (no ORM per item); system administrators may read it."""
import threading

from psycopg2.extras import execute_values

from odoo import fields, models

from ..lib.adapter import FILE, FOLDER
from ..lib.merge_base import BaseEntry, MergeBase, name_key

_COLUMNS = "cloud_id, parent_id, name, kind, size, hash, etag, path"


class CloudItem(models.Model):
    _name = "cloud.item"
    _description = "Known cloud item (merge base)"
    _log_access = False
    _order = "client_id, parent_id, name"
    _rec_name = "name"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True,
                                readonly=True)
    cloud_id = fields.Char("Cloud id", required=True, readonly=True)
    parent_id = fields.Char("Parent cloud id", readonly=True)
    name = fields.Char(readonly=True)
    name_key = fields.Char("Case-folded name", readonly=True)
    kind = fields.Selection([(FOLDER, "Folder"), (FILE, "File")], required=True, readonly=True)
    #: bytes (a float column holds sizes beyond 2 GiB exactly)
    size = fields.Float(readonly=True)
    hash = fields.Char("Content hash", readonly=True)
    etag = fields.Char("Version tag", readonly=True)
    path = fields.Char(readonly=True)
    seen_at = fields.Datetime("Last recorded", readonly=True)

    _sql_constraints = [
        ("cloud_id_unique", "unique(client_id, cloud_id)",
         "A cloud item is known once per client."),
    ]

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS cloud_item_parent_index
                ON cloud_item (client_id, parent_id, name_key)""")


def _entry(row):
    cloud_id, parent_id, name, kind, size, hash_, etag, path = row
    return BaseEntry(cloud_id, parent_id, name, kind, int(size or 0), hash_, etag, path)


class DatabaseMergeBase(MergeBase):
    """The merge base of one client in the ``cloud_item`` table.

    Writes are buffered (they may come from any thread of a run) and sent, in order and in
    batches, by :meth:`flush`: before every read, and by the queue before a task's transaction
    ends. Reads and :meth:`flush` use the cursor, so they belong to the thread that owns it."""

    def __init__(self, env, client_id):
        self.env = env
        self.client_id = client_id
        self._pending = []
        self._lock = threading.Lock()

    # -- writing -------------------------------------------------------------------------
    def _put(self, entries, keep_folder_tags):
        with self._lock:
            self._pending.append(("put", entries, keep_folder_tags))

    def _forget(self, ids):
        with self._lock:
            self._pending.append(("forget", ids, None))

    def flush(self):
        with self._lock:
            pending, self._pending = self._pending, []
        for operation, values, keep in pending:
            if operation == "put":
                self._write(values, keep)
            else:
                self._delete(values)

    def _write(self, entries, keep_folder_tags):
        rows = {}
        for e in entries:  # one row per id and statement (the last state wins)
            rows[e.id] = (self.client_id, e.id, e.parent_id, e.name, name_key(e.name), e.kind,
                          e.size or 0, e.hash, None if keep_folder_tags and e.is_folder
                          else e.etag, e.path)
        tag = ("CASE WHEN EXCLUDED.kind = 'folder' AND cloud_item.kind = 'folder' "
               "THEN cloud_item.etag ELSE EXCLUDED.etag END") if keep_folder_tags \
            else "EXCLUDED.etag"
        execute_values(self.env.cr, """
            INSERT INTO cloud_item (client_id, cloud_id, parent_id, name, name_key, kind, size,
                                    hash, etag, path, seen_at)
            VALUES %s
            ON CONFLICT (client_id, cloud_id) DO UPDATE SET
                parent_id = EXCLUDED.parent_id, name = EXCLUDED.name,
                name_key = EXCLUDED.name_key, kind = EXCLUDED.kind, size = EXCLUDED.size,
                hash = EXCLUDED.hash, etag = """ + tag + """, path = EXCLUDED.path,
                seen_at = EXCLUDED.seen_at
        """, list(rows.values()),
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC')",
            page_size=500)

    def _delete(self, ids):
        self.env.cr.execute("""
            WITH RECURSIVE doomed(cloud_id) AS (
                SELECT unnest(%(ids)s::varchar[])
                UNION
                SELECT i.cloud_id FROM cloud_item i JOIN doomed d ON i.parent_id = d.cloud_id
                 WHERE i.client_id = %(client)s)
            DELETE FROM cloud_item
             WHERE client_id = %(client)s AND cloud_id IN (SELECT cloud_id FROM doomed)
        """, {"ids": list(ids), "client": self.client_id})

    # -- reading -------------------------------------------------------------------------
    def _select(self, where, params):
        self.flush()
        self.env.cr.execute("SELECT " + _COLUMNS + " FROM cloud_item WHERE client_id = %s AND "
                            + where, [self.client_id, *params])
        return [_entry(row) for row in self.env.cr.fetchall()]

    def get_many(self, ids):
        ids = [str(i) for i in ids if i]
        if not ids:
            return {}
        return {e.id: e for e in self._select("cloud_id = ANY(%s)", [ids])}

    def children(self, parent_id):
        return self._select("parent_id = %s", [parent_id])

    def child_named(self, parent_id, name, fold_case=False):
        if fold_case:
            found = self._select("parent_id = %s AND name_key = %s", [parent_id, name_key(name)])
        else:
            found = self._select("parent_id = %s AND name = %s", [parent_id, name])
        return found[0] if found else None

    def descendants(self, item_id):
        self.flush()
        self.env.cr.execute("""
            WITH RECURSIVE below(cloud_id) AS (
                SELECT cloud_id FROM cloud_item WHERE client_id = %(client)s
                                                  AND parent_id = %(id)s
                UNION
                SELECT i.cloud_id FROM cloud_item i JOIN below b ON i.parent_id = b.cloud_id
                 WHERE i.client_id = %(client)s)
            SELECT """ + _COLUMNS + """ FROM cloud_item
             WHERE client_id = %(client)s AND cloud_id IN (SELECT cloud_id FROM below)
               AND cloud_id != %(id)s
        """, {"client": self.client_id, "id": item_id})
        return [_entry(row) for row in self.env.cr.fetchall()]

    def entries(self):
        """Every entry (the provider's hints when an adapter is built)."""
        return self._select("TRUE", [])

    def is_empty(self):
        self.flush()
        self.env.cr.execute("SELECT 1 FROM cloud_item WHERE client_id = %s LIMIT 1",
                            [self.client_id])
        return not self.env.cr.fetchone()

    def clear(self):
        """Forget everything (another account, a reset)."""
        with self._lock:
            self._pending = []
        self.env.cr.execute("DELETE FROM cloud_item WHERE client_id = %s", [self.client_id])
