"""The planner (R-DIR-1..7, R-RULE-4..9): which tasks follow from what Odoo wants now compared
with the folder records (the merge base). Planning makes no API call."""
import datetime
import hashlib
import json
import logging

from psycopg2.extras import Json as PsycopgJson

from odoo import api, fields, models
from odoo.tools import SQL, split_every

from ..lib.names import assign_unique, clean_name, level_cap
from .cloud_task import TaskBatch

_logger = logging.getLogger(__name__)

#: the log lines that say an attachment's type keeps it in Odoo (one per attachment)
KEPT_LOCAL = "kept_local"


#: records planned together: their names rendered, folders read and tasks queued per chunk, so
#: that the memory a plan needs does not grow with the number of records
PLAN_CHUNK = 1000
#: hours between two full plans (config parameter; the plans in between look at what changed)
FULL_PLAN_HOURS_PARAM = "cloud_base.full_plan_hours"
DEFAULT_FULL_PLAN_HOURS = 24
#: changes are looked for a little before the last plan's snapshot: a transaction committed
#: while it was taken is seen next time
CHANGES_MARGIN = datetime.timedelta(seconds=10)
#: folders made by one plan past which their table's statistics are refreshed
ANALYZE_AFTER = 10 * PLAN_CHUNK
FOLDER_TASKS = ("folder_create", "folder_rename", "folder_move")
FILE_TASKS = ("file_upload", "file_move")


class PlanRun:
    """What one planning run of one client knows: the queue it fills (a :class:`PlanBatch`),
    the client's name length limit, which rule owns which records (all clients; only the
    changed records when the plan is incremental), and whether the plan is a full one."""

    def __init__(self, client, queue, max_len, ownership, name_unit="chars", full=True):
        self.client = client
        self.queue = queue
        self.max_len = max_len
        self.name_unit = name_unit  # the limit counts characters or UTF-8 bytes
        self.ownership = ownership
        self.full = full


class PlanBatch(TaskBatch):
    """The :class:`TaskBatch` of a planning run: the pending tasks are read for the folders and
    attachments being planned (``preload``, or key by key when a task is added), not all at once,
    and forgotten chunk by chunk; the new tasks are inserted in bulk."""

    def __init__(self, Task, client, planner):
        # (the pending tasks are read as needed: the base class would read them all)
        self.Task = Task
        self.client = client
        self.types = Task._task_types()
        self.pending = {}
        self.new = []
        self.planner = planner
        self.loaded = set()  # ("folder" | "attachment", task type, id) whose tasks are read
        self.seen = set()  # ids of the pending tasks read
        self.fresh_ids = set()  # folders made by this run: their tasks are all in this batch
        self.fresh_added = {}  # task type -> fresh folders given a task of it (kept: a key
        # seen again after ``forget`` is read again)

    def _read(self, domain):
        for task in self.Task.search_fetch(
                [("client_id", "=", self.client.id), ("state", "=", "pending")] + domain,
                ["type", "folder_id", "attachment_id", "payload"]):
            if task.id not in self.seen:
                self.seen.add(task.id)
                key = (task.type, task.folder_id.id, task.attachment_id.id)
                self.pending.setdefault(key, []).append((task.payload or {}, task))

    def preload(self, types, folder_ids=(), attachment_ids=()):
        """Read the pending tasks of ``types`` on these folders or attachments."""
        def unread(kind, ids):
            return sorted({i for i in ids if i and any((kind, type_, i) not in self.loaded
                                                       for type_ in types)})
        # a new folder has no task of a type this batch did not give it
        for folder_id in folder_ids:
            if folder_id in self.fresh_ids:
                for type_ in types:
                    added = self.fresh_added.setdefault(type_, set())
                    if folder_id not in added and ("folder", type_, folder_id) not in \
                            self.loaded:
                        added.add(folder_id)
                        self.loaded.add(("folder", type_, folder_id))
        folder_ids = unread("folder", folder_ids)
        attachment_ids = unread("attachment", attachment_ids)
        for field, ids in (("folder_id", folder_ids), ("attachment_id", attachment_ids)):
            for chunk in split_every(PLAN_CHUNK * 5, ids):
                self._read([("type", "in", types), (field, "in", list(chunk))])
        for type_ in types:
            self.loaded.update(("folder", type_, i) for i in folder_ids)
            self.loaded.update(("attachment", type_, i) for i in attachment_ids)

    def fresh(self, folders):
        """``folders`` were just created: no task waits on them but this batch's."""
        self.fresh_ids.update(folders.ids)

    def add(self, task_type, folder=None, attachment=None, payload=None):
        _type, folder_id, attachment_id = self.key(task_type, folder, attachment)
        on_folder = ("folder", task_type, folder_id)
        if folder_id in self.fresh_ids and on_folder not in self.loaded:
            added = self.fresh_added.setdefault(task_type, set())
            if folder_id not in added:  # a new folder with no task of this type yet
                added.add(folder_id)
                self.loaded.add(on_folder)
        if on_folder not in self.loaded and \
                ("attachment", task_type, attachment_id) not in self.loaded:
            self._read([("type", "=", task_type), ("folder_id", "=", folder_id),
                        ("attachment_id", "=", attachment_id)])
            self.loaded.add(on_folder if folder_id else ("attachment", task_type, attachment_id))
        return super().add(task_type, folder=folder, attachment=attachment, payload=payload)

    def flush(self):
        tasks = self.Task.browse()
        if self.new:
            tasks = self.planner._create_in_bulk(self.Task, self.new)
            self.new = []
            self.Task._wake_runner()
        return tasks

    def forget(self):
        """Flush, and drop what was read: the next chunk's records are others (a key seen
        again is read again, with the tasks this batch created)."""
        self.flush()
        self.pending = {}
        self.loaded = set()
        self.seen = set()


class CloudEnginePlanner(models.AbstractModel):
    _name = "cloud.engine.planner"
    _description = "Cloud sync planner"

    def _plan(self, client):
        """Queue the tasks that bring the cloud in line with Odoo for ``client``: a full plan
        when one is due (:meth:`_full_plan_reason`), else a plan of what changed since the
        last one (same result: what did not change needs nothing new)."""
        client.ensure_one()
        queue = PlanBatch(self.env["cloud.task"], client, self)
        root = client._ensure_root_folder()
        if not root.cloud_id:
            queue.add("folder_create", folder=root)
        elif root.cloud_name != root.name:
            queue.add("folder_rename", folder=root)
        max_len = self._name_limit(client)
        max_path = self._path_limit(client)
        name_unit = self._name_unit(client)
        started = self._plan_snapshot()
        signature = self._plan_signature(client, (max_len, max_path), name_unit)
        reason = self._full_plan_reason(client, signature)
        full = reason is not None
        models_ = self._plan_models(client)
        changes = None if full else self._changed_records(client, models_)
        if full:
            _logger.info("Planning %s: every record (%s)", client.display_name, reason)
        else:
            _logger.info("Planning %s: %d records changed since %s", client.display_name,
                         sum(map(len, changes.values())), client.sudo().plan_changes_since)

        ownership, broken = self.env["cloud.sync.rule"]._ownership_and_errors(restrict=changes)
        owners = {}  # (model, id) -> rule, for every client: a record owned elsewhere moves
        for rule, ids in ownership.items():
            for res_id in ids:
                owners[(rule.model, res_id)] = rule
        self._log_broken_rules(client, broken)

        # rules of a model with a broken rule are left as they are until it is fixed
        my_rules = client.rule_ids.filtered(lambda r: r.active and r.model not in broken)
        rules_written = False
        for rule in my_rules:
            rules_written |= self._plan_rule_folder(
                client, rule, root, level_cap(max_path, "rule", max_len), queue)
        queue.flush()  # vanished folders may be deleted below: their tasks must exist first

        self._plan_vanished_records(client, owners, queue, frozen=set(broken), changes=changes,
                                    models_=models_)
        queue.forget()
        del owners

        run = PlanRun(client, queue, level_cap(max_path, "object", max_len), ownership,
                      name_unit=name_unit, full=full)
        for rule in my_rules:
            rule._placement().plan_folders(self, run, rule, ownership.get(rule, []))
        for rule in my_rules:
            ids = ownership.get(rule, [])
            if ids:
                rule._placement().plan_files(self, run, rule, ids)
        queue.flush()
        if rules_written:  # a rule's folder was set: the next plan compares with what is now
            signature = self._plan_signature(client, (max_len, max_path), name_unit)
        self._plan_done(client, started, signature, full)
        return True

    # ------------------------------------------------------------------------------------
    # Full or incremental
    # ------------------------------------------------------------------------------------
    def _plan_snapshot(self):
        """``(transaction time, changes since)``: the time this plan's writes carry, and the
        time from which the next plan looks for changes: the start of the oldest transaction
        still running (its changes are not seen by this plan), less a margin."""
        now = self.env.cr.now()
        self.env.cr.execute("""
            SELECT min(xact_start) AT TIME ZONE 'UTC' FROM pg_stat_activity
             WHERE datname = current_database() AND pid != pg_backend_pid()
               AND xact_start IS NOT NULL AND state != 'idle'""")
        oldest = self.env.cr.fetchone()[0]
        since = min(now, oldest) if oldest else now
        return now, since - CHANGES_MARGIN

    def _plan_signature(self, client, limits, name_unit):
        """What decides the plan besides the records: every rule (of every client: they share
        the records), its periods and default folders, the day (periods are relative), the
        types kept in Odoo, the client's naming, the installed code. A change means a full
        plan."""
        cr = self.env.cr
        parts = [client.root_folder_name, client.root_folder_id.id, limits, name_unit,
                 client.sudo().account_fingerprint, self.env.registry.registry_sequence,
                 self.env["ir.attachment"]._cloud_local_mimetypes()]
        for table in ("cloud_sync_rule", "cloud_sync_period", "cloud_rule_folder"):
            cr.execute(SQL("SELECT count(*), max(id), max(write_date) FROM %s",
                           SQL.identifier(table)))
            parts.append(cr.fetchone())
        if self.env["cloud.sync.period"].sudo().search_count([], limit=1):
            parts.append(fields.Date.context_today(self))
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def _full_plan_reason(self, client, signature):
        """Why this plan of ``client`` must look at every record (None: only at what changed):
        the first plan, a change of :meth:`_plan_signature`, the periodic full plan
        (``cloud_base.full_plan_hours``, 24 by default), a plan in the transaction of the
        previous one (their changes carry the same time), or the context key
        ``cloud_full_plan``."""
        state = client.sudo()
        now = self.env.cr.now()
        hours = self.env["ir.config_parameter"].sudo().get_param(FULL_PLAN_HOURS_PARAM)
        try:
            hours = float(hours) if hours else DEFAULT_FULL_PLAN_HOURS
        except ValueError:
            hours = DEFAULT_FULL_PLAN_HOURS
        if self.env.context.get("cloud_full_plan"):
            return "asked"
        if not state.plan_changes_since or not state.plan_full_at:
            return "first"
        if state.plan_signature != signature:
            return "rules or settings changed"
        if state.plan_full_at <= now - datetime.timedelta(hours=hours):
            return "due"
        if state.plan_written_at == now:
            return "same transaction"
        return None

    def _plan_done(self, client, started, signature, full):
        written_at, since = started
        vals = {"plan_changes_since": since, "plan_written_at": written_at,
                "plan_signature": signature}
        if full:
            vals["plan_full_at"] = written_at
        client.sudo().write(vals)

    def _plan_models(self, client):
        """The models this client plans: those of its rules and of its object folders."""
        self.env.cr.execute("""
            SELECT DISTINCT res_model FROM cloud_folder
             WHERE client_id = %s AND kind = 'object' AND res_model IS NOT NULL""",
                            [client.id])
        models_ = {row[0] for row in self.env.cr.fetchall()}
        models_.update(client.rule_ids.filtered("active").mapped("model"))
        return sorted(m for m in models_ if m in self.env and not self.env[m]._abstract)

    def _changed_records(self, client, models_):
        """``{model: {ids}}`` of the records changed since the client's last plan: the records
        written, the records whose attachments were added or written, and those whose object
        folder was written by anything but the last plan itself (e.g. the backward sync).
        Deleted records are found apart (:meth:`_plan_vanished_records`)."""
        state = client.sudo()
        since, own = state.plan_changes_since, state.plan_written_at
        cr = self.env.cr
        changes = {}
        for model_name in models_:
            model = self.env[model_name]
            ids = set()
            if model._log_access:
                cr.execute(SQL("SELECT id FROM %s WHERE write_date > %s",
                               SQL.identifier(model._table), since))
                ids.update(row[0] for row in cr.fetchall())
            cr.execute("""
                SELECT DISTINCT res_id FROM ir_attachment
                 WHERE res_model = %s AND res_id IS NOT NULL AND write_date > %s""",
                       [model_name, since])
            ids.update(row[0] for row in cr.fetchall())
            cr.execute("""
                SELECT DISTINCT res_id FROM cloud_folder
                 WHERE client_id = %s AND kind = 'object' AND res_model = %s
                   AND write_date > %s AND write_date != %s""",
                       [client.id, model_name, since, own])
            ids.update(row[0] for row in cr.fetchall())
            ids.update(self._changed_through_relations(model_name, since))
            changes[model_name] = ids
        return changes

    def _changed_through_relations(self, model_name, since):
        """Ids of the records of ``model_name`` whose rules (of any client: they compete for
        the records) read, through a relation, a record written since ``since``: a rule's
        filter on ``partner_id.country_id``, a name expression with ``object.country_id.code``.
        One query per relation crossed, the related records found by a subquery."""
        model = self.env[model_name].sudo().with_context(active_test=False)
        rules = self.env["cloud.sync.rule"].sudo().search([("model", "=", model_name)])
        ids = set()
        crossed = set()  # (path prefix) already looked at
        for path in set().union(*(rule._relation_paths() for rule in rules)):
            names, current = path.split("."), model
            for index, name in enumerate(names[:-1]):
                field = current._fields.get(name)
                if field is None or not field.relational:
                    break
                current = self.env[field.comodel_name].sudo().with_context(active_test=False)
                prefix = ".".join(names[:index + 1])
                if prefix in crossed or not current._log_access:
                    continue
                crossed.add(prefix)
                written = current._search([("write_date", ">", since)])
                ids.update(model.search([(prefix, "in", written)]).ids)
        return ids

    @api.model
    def _create_in_bulk(self, model, vals_list):
        """Create plain records (folders, tasks) in bulk: one INSERT per chunk, from one array
        per column, the defaults read once. Only for models without create overrides nor
        stored computed fields (the parent path excepted)."""
        records = model.browse()
        if not vals_list:
            return records
        names = set().union(*vals_list)
        magic = ["create_uid", "create_date", "write_uid", "write_date"]
        stored = [name for name, field in model._fields.items()
                  if field.store and field.column_type and name not in magic + ["id"]
                  and not field.compute]
        defaults = model.default_get([name for name in stored if name not in names])
        columns = sorted(names | set(defaults))
        fields_ = [model._fields[name] for name in columns]
        now, uid = self.env.cr.now(), self.env.uid
        ids = []
        for chunk in split_every(PLAN_CHUNK * 5, vals_list):
            arrays = [[] for _field in fields_]
            for vals in chunk:
                values = dict(defaults, **vals)
                for array, field in zip(arrays, fields_, strict=True):
                    value = field.convert_to_column_insert(values.get(field.name), model,
                                                           values)
                    if isinstance(value, PsycopgJson):
                        value = json.dumps(value.adapted)
                    array.append(value)
            size = len(chunk)
            arrays += [[uid] * size, [now] * size, [uid] * size, [now] * size]
            types = [field.column_type[1] for field in fields_] + \
                ["int4", "timestamp", "int4", "timestamp"]
            table = SQL.identifier(model._table)
            sequence = model._table + "_id_seq"
            names_ = columns + magic
            aliases = SQL(", ").join(map(SQL.identifier, names_))
            into, values = aliases, SQL(", ").join(SQL.identifier("new", n) for n in names_)
            if model._parent_store:
                # the parent path is known with the id: no update after the insert
                into = SQL("%s, parent_path", into)
                values = SQL("%s, concat((SELECT parent.parent_path FROM %s parent "
                             "WHERE parent.id = %s), new.id, '/')", values, table,
                             SQL.identifier("new", model._parent_name))
            self.env.cr.execute(SQL(
                """WITH new AS (SELECT nextval(%s::regclass) AS id, *
                                  FROM unnest(%s) AS t(%s))
                   INSERT INTO %s (id, %s) SELECT new.id, %s FROM new ORDER BY new.id
                   RETURNING id""",
                sequence,
                SQL(", ").join(SQL("%s::%s[]", array, SQL(type_))
                               for type_, array in zip(types, arrays, strict=True)),
                aliases, table, into, values))
            ids.extend(row[0] for row in self.env.cr.fetchall())
        records = model.browse(ids)
        records.check_access("create")
        # one2many caches (a folder's children) do not know the new records
        self.env.invalidate_all(flush=True)
        return records

    def _name_unit(self, client):
        provider = client._provider_registry().get(client.provider)
        return provider.capabilities.name_length_unit if provider else "chars"

    def _name_limit(self, client):
        try:
            return client._get_adapter().max_name_length
        except Exception:  # noqa: BLE001 - planning must not need the network
            return 255

    def _path_limit(self, client):
        """The provider's limit of whole paths (None: it has none): the names of each level
        are cut to their share of it (``lib.names.level_cap``)."""
        try:
            return client._get_adapter().max_path_length
        except Exception:  # noqa: BLE001 - planning must not need the network
            return None

    # ------------------------------------------------------------------------------------
    # Folders
    # ------------------------------------------------------------------------------------
    def _plan_rule_folder(self, client, rule, root, max_len, queue):
        """The rule's folder; True when the rule itself was written (a new folder)."""
        name = clean_name(rule.folder_name, max_length=max_len, unit=self._name_unit(client))
        folder = rule.folder_id
        rule_written = False
        if not folder or folder.client_id != client:
            folder = self.env["cloud.folder"].create({
                "name": name, "client_id": client.id, "kind": "rule", "parent_id": root.id,
                "rule_id": rule.id})
            rule.folder_id = folder
            rule_written = True
        if folder.name != name:
            folder.name = name
        if not folder.cloud_id:
            queue.add("folder_create", folder=folder)
        elif folder.cloud_name != folder.name:
            queue.add("folder_rename", folder=folder)
        return rule_written

    def _plan_record_folders(self, run, rule, ids):
        """A folder per owned record below the rule's folder (placement ``records``): new ones
        created, existing ones renamed or moved, names unique among their siblings. The names
        are decided for all ``ids`` at once; records are read and folders written by chunks."""
        client, max_len, queue = run.client, run.max_len, run.queue
        Folder = self.env["cloud.folder"]
        ids = sorted(ids)
        if not ids:
            return
        existing = self._object_folders(client, rule.model, ids)
        wanted = {}
        naming = list(self.env["cloud.sync.rule"]._naming_fields(rule.model))
        for chunk in split_every(PLAN_CHUNK, ids):
            records = self.env[rule.model].browse(chunk)
            if naming:
                records.fetch(naming)  # what names read, not every field of the records
            for record in records:
                folder_id, name, parent_id = existing.get(record.id, (None, None, None))
                current = name if folder_id and parent_id == rule.folder_id.id else None
                wanted[record.id] = (rule._object_name(record, max_length=max_len,
                                                       unit=run.name_unit), current)
            self.env.invalidate_all(flush=True)  # what the names read (bounded memory)
        # names of folders of other records (detached ones included) stay taken
        owned_ids = set(ids)
        self.env.cr.execute("SELECT name, res_model, res_id FROM cloud_folder "
                            "WHERE parent_id = %s", [rule.folder_id.id])
        taken = [name for name, res_model, res_id in self.env.cr.fetchall()
                 if res_model != rule.model or res_id not in owned_ids]
        names = assign_unique(wanted, taken, max_length=max_len, unit=run.name_unit)
        del wanted, taken
        created = 0
        for chunk in split_every(PLAN_CHUNK, ids):
            new_folders = self._create_in_bulk(Folder, [{
                "name": names[res_id], "client_id": client.id, "kind": "object",
                "parent_id": rule.folder_id.id, "rule_id": rule.id,
                "res_model": rule.model, "res_id": res_id,
            } for res_id in chunk if res_id not in existing])
            queue.fresh(new_folders)
            created += len(new_folders)
            for folder in new_folders:
                queue.add("folder_create", folder=folder)
            folders = Folder.browse(existing[res_id][0] for res_id in chunk
                                    if res_id in existing)
            queue.preload(FOLDER_TASKS, folder_ids=folders.ids)
            for folder in folders:
                self._plan_object_folder(rule, names[folder.res_id], folder, queue)
            self._plan_manual_folders(client, rule, list(chunk), queue)
            queue.forget()
            self.env.invalidate_all(flush=True)
        if created >= ANALYZE_AFTER:
            # the table's statistics still say it was small: its next queries (the files of
            # these records) would scan all of it once per chunk
            self.env.cr.execute("ANALYZE cloud_folder")

    def _plan_manual_folders(self, client, rule, ids, queue):
        """The folders users made in the folders of the records ``ids``: made, renamed and
        moved back as Odoo has them (their changes are queued at once; this catches up with
        a failed task, or with a folder lost in the cloud)."""
        folders = self.env["cloud.folder"].search([
            ("client_id", "=", client.id), ("kind", "=", "manual"),
            ("res_model", "=", rule.model), ("res_id", "in", ids),
            ("state", "!=", "detached")])
        if not folders:
            return
        queue.preload(FOLDER_TASKS, folder_ids=folders.ids)
        for folder in folders:
            if not folder.cloud_id:
                queue.add("folder_create", folder=folder)
            elif folder.synced_parent_id != folder.parent_id:
                queue.add("folder_move", folder=folder)
            elif folder.cloud_name != folder.name:
                queue.add("folder_rename", folder=folder)

    def _object_folders(self, client, model, ids):
        """``{res_id: (folder id, name, parent id)}``: the object folders of the client for these
        records of ``model`` (any rule, any state)."""
        folders = {}
        for chunk in split_every(PLAN_CHUNK * 10, ids):
            self.env.cr.execute("""
                SELECT res_id, id, name, parent_id FROM cloud_folder
                 WHERE client_id = %s AND kind = 'object' AND res_model = %s
                   AND res_id = ANY(%s)
                 ORDER BY parent_path, id""", [client.id, model, list(chunk)])
            for res_id, folder_id, name, parent_id in self.env.cr.fetchall():
                folders[res_id] = (folder_id, name, parent_id)
        return folders

    def _plan_object_folder(self, rule, name, folder, queue, parent=None):
        """An existing object folder: bring it back, rename or move it as Odoo wants, into
        ``parent`` (the rule's folder by default; a placement nesting object folders passes
        the folder of the record's parent)."""
        parent = parent if parent is not None else rule.folder_id
        vals = {}
        if folder.state == "detached":
            vals["state"] = "synced" if folder.cloud_id else "pending"
        if folder.rule_id != rule:
            vals["rule_id"] = rule.id
        if folder.parent_id != parent:
            vals["parent_id"] = parent.id  # R-RULE-9 / R-DIR-7
        if folder.name != name:
            vals["name"] = name  # R-DIR-3
        if vals:
            folder.write(vals)
        if not folder.cloud_id:
            queue.add("folder_create", folder=folder)
        elif folder.synced_parent_id != folder.parent_id:
            queue.add("folder_move", folder=folder)
        elif folder.cloud_name != folder.name:
            queue.add("folder_rename", folder=folder)

    def _deleted_files_below(self, folder):
        """``(cloud ids, {cloud id: [size, hash]})`` of the files below ``folder`` whose
        deletion is queued (their attachments were deleted in Odoo), with the version each
        attachment showed when it was deleted."""
        tasks = self.env["cloud.task"].search([
            ("type", "=", "file_delete"), ("state", "in", ("pending", "running")),
            ("folder_id", "child_of", folder.id)])
        payloads = [t.payload for t in tasks if (t.payload or {}).get("cloud_id")]
        versions = {p["cloud_id"]: [p["size"], p.get("hash")] for p in payloads if "size" in p}
        return sorted({p["cloud_id"] for p in payloads}), versions

    def _log_broken_rules(self, client, broken):
        for model, rules in broken.items():
            for rule, error in rules.items():
                if rule.client_id == client:
                    client._log("error", self.env._(
                        "The rule %(rule)s is skipped: its filter cannot be evaluated "
                        "(%(error)s). The folders of %(model)s records stay as they are until "
                        "the filter is fixed.", rule=rule.display_name, error=error,
                        model=model))

    def _plan_vanished_records(self, client, owners, queue, frozen=(), changes=None,
                               models_=None):
        """Object folders whose record is deleted (R-DIR-4) or owned elsewhere (R-RULE-9).
        Ownership is unknown for the ``frozen`` models (a broken rule): their folders are only
        deleted with their record. ``changes`` (``{model: ids}``, an incremental plan): only the
        folders of these records can have changed owner; deleted records are found in every
        case (their folders against the model's table)."""
        Folder = self.env["cloud.folder"]
        cr = self.env.cr
        for model in models_ if models_ is not None else self._plan_models(client):
            table = SQL.identifier(self.env[model]._table)
            cr.execute(SQL("""
                SELECT f.id FROM cloud_folder f
                 WHERE f.client_id = %s AND f.kind = 'object' AND f.res_model = %s
                   AND NOT EXISTS (SELECT 1 FROM %s r WHERE r.id = f.res_id)
                 ORDER BY f.parent_path, f.id""", client.id, model, table))
            for folder in Folder.browse(row[0] for row in cr.fetchall()):
                if not folder.exists():
                    continue  # below another one deleted just before
                if folder.cloud_id:
                    # "kind" is checked again when the task runs (R-SEC-1); the files
                    # whose deletion it takes along are named, with their versions: any
                    # other file (or version) found in the folder then keeps it (R-SAFE-1)
                    files, versions = self._deleted_files_below(folder)
                    queue.add("folder_delete", folder=folder.parent_id,
                              payload={"cloud_id": folder.cloud_id, "name": folder.name,
                                       "kind": folder.kind, "files": files,
                                       "versions": versions})
                # unlinking the folder record also drops the pending deletions of its
                # files (cascade): the folder deletion takes them along (R-Q-6)
                folder.child_ids.unlink()
                folder.unlink()
            if model in frozen:
                continue
            if changes is None:
                cr.execute("""
                    SELECT id, res_id, state FROM cloud_folder
                     WHERE client_id = %s AND kind = 'object' AND res_model = %s
                     ORDER BY parent_path, id""", [client.id, model])
            else:
                cr.execute("""
                    SELECT id, res_id, state FROM cloud_folder
                     WHERE client_id = %s AND kind = 'object' AND res_model = %s
                       AND res_id = ANY(%s)
                     ORDER BY parent_path, id""", [client.id, model,
                                                   sorted(changes.get(model, ()))])
            leaving = []
            for folder_id, res_id, state in cr.fetchall():
                if state == "detached":
                    continue
                owner = owners.get((model, res_id))
                if owner is None or owner.client_id != client:
                    leaving.append((folder_id, owner))
            for folder_id, owner in leaving:
                folder = Folder.browse(folder_id)
                if owner is not None:
                    # R-REV-1: the record moved to another client's rule
                    client._enqueue_reverse_for_folders(folder)
                # no longer synced: the folder stays where it is
                folder.state = "detached"

    # ------------------------------------------------------------------------------------
    # Files (R-DIR-2, R-RULE-7)
    # ------------------------------------------------------------------------------------
    def _plan_record_uploads(self, run, rule, ids):
        """One upload per binary attachment of an owned record, into the record's folder."""
        for chunk in split_every(PLAN_CHUNK, sorted(ids)):
            self._plan_record_uploads_chunk(run, rule, list(chunk))
            run.queue.forget()
            self.env.invalidate_all(flush=True)

    def _plan_record_uploads_chunk(self, run, rule, ids):
        Attachment = self.env["ir.attachment"].sudo()
        folders = self.env["cloud.folder"].search([
            ("client_id", "=", run.client.id), ("kind", "=", "object"),
            ("res_model", "=", rule.model), ("res_id", "in", ids),
            ("state", "!=", "detached")])
        folder_of = {f.res_id: f for f in folders}
        local = Attachment._cloud_local_mimetypes()
        attachments = Attachment.search(Attachment._cloud_syncable_domain(local) + [
            ("res_model", "=", rule.model), ("res_id", "in", ids)])
        synced = Attachment.search([
            ("cloud_client_id", "=", run.client.id), ("cloud_kind", "=", "file"),
            ("cloud_item_id", "!=", False), ("res_model", "=", rule.model),
            ("res_id", "in", ids)])
        target_of = self._target_folders(attachments | synced, folder_of)
        # every file task of a record is keyed by its folder (or by the subfolder it goes to)
        run.queue.preload(FILE_TASKS, folder_ids=sorted(
            set(folders.ids) | {f.id for f in target_of.values()}))
        for attachment in attachments:
            if attachment.id in target_of:
                run.queue.add("file_upload", folder=target_of[attachment.id],
                              attachment=attachment)
        self._plan_moved_files(run, synced, target_of)
        if local:
            self._log_kept_local(run.client, Attachment.search(
                Attachment._cloud_syncable_domain([]) + [
                    ("res_model", "=", rule.model), ("res_id", "in", ids),
                    ("mimetype", "in", local)]))

    def _target_folders(self, attachments, folder_of):
        """``{attachment id: folder}``: where each attachment goes: the subfolder of its
        record it was put in, else its record's folder (``folder_of``: ``{res_id: object
        folder}``); attachments of records without a folder are left out."""
        target_of = {}
        for attachment in attachments:
            folder = folder_of.get(attachment.res_id)
            if folder:
                target_of[attachment.id] = attachment._cloud_valid_subfolder(folder) or folder
        return target_of

    def _plan_moved_files(self, run, synced, target_of):
        """Synced files that are not where they go follow: into another subfolder of their
        record (a user moved them in the attachment box), or into the folder of another
        record of the rule their attachment now belongs to (e.g. a partner merge; their old
        folder may go with the old record)."""
        for attachment in synced:
            folder = attachment.cloud_folder_id
            target = target_of.get(attachment.id)
            if target and folder and folder != target:
                run.queue.add("file_move", folder=target, attachment=attachment)

    def _log_kept_local(self, client, attachments):
        """Say once per attachment that its type keeps it in Odoo (Settings decide which)."""
        if not attachments:
            return
        Log = self.env["cloud.log"].sudo()
        told = set(Log.search([("task_type", "=", KEPT_LOCAL),
                               ("res_model", "=", "ir.attachment"),
                               ("res_id", "in", attachments.ids)]).mapped("res_id"))
        Log.create([{
            "client_id": client.id, "level": "warning", "task_type": KEPT_LOCAL,
            "res_model": "ir.attachment", "res_id": attachment.id,
            "message": self.env._(
                "%(name)s stays in Odoo: files of type %(type)s are kept local (Settings > "
                "Cloud Storage > Types kept in Odoo).", name=attachment.name,
                type=attachment.mimetype),
        } for attachment in attachments if attachment.id not in told])

    def _plan_flat_uploads(self, run, rule, ids):
        """The owned records are the attachments: each into the rule's folder."""
        Attachment = self.env["ir.attachment"].sudo()
        for chunk in split_every(PLAN_CHUNK, sorted(ids)):
            attachments = Attachment.browse(chunk).filtered_domain(
                Attachment._cloud_syncable_domain())
            run.queue.preload(("file_upload",), attachment_ids=attachments.ids)
            for attachment in attachments:
                run.queue.add("file_upload", folder=rule.folder_id, attachment=attachment)
            run.queue.forget()
            self.env.invalidate_all(flush=True)
