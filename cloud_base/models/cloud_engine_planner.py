"""The planner (R-DIR-1..7, R-RULE-4..9): which tasks follow from what Odoo wants now compared
with the folder records (the merge base). Planning makes no API call."""
import logging

from odoo import models

from ..lib.names import assign_unique, clean_name, level_cap
from .cloud_task import TaskBatch

_logger = logging.getLogger(__name__)

#: the log lines that say an attachment's type keeps it in Odoo (one per attachment)
KEPT_LOCAL = "kept_local"


class PlanRun:
    """What one planning run of one client knows: the queue it fills (a :class:`TaskBatch`),
    the client's name length limit, which rule owns which records (all clients), and the
    client's object folders by record."""

    def __init__(self, client, queue, max_len, ownership, by_record, name_unit="chars"):
        self.client = client
        self.queue = queue
        self.max_len = max_len
        self.name_unit = name_unit  # the limit counts characters or UTF-8 bytes
        self.ownership = ownership
        self.by_record = by_record


class CloudEnginePlanner(models.AbstractModel):
    _name = "cloud.engine.planner"
    _description = "Cloud sync planner"

    def _plan(self, client):
        """Queue the tasks that bring the cloud in line with Odoo for ``client``."""
        client.ensure_one()
        Folder = self.env["cloud.folder"]
        queue = TaskBatch(self.env["cloud.task"], client)
        root = client._ensure_root_folder()
        if not root.cloud_id:
            queue.add("folder_create", folder=root)
        elif root.cloud_name != root.name:
            queue.add("folder_rename", folder=root)
        max_len = self._name_limit(client)
        max_path = self._path_limit(client)

        ownership, broken = self.env["cloud.sync.rule"]._ownership_and_errors()
        owners = {}  # (model, id) -> rule, for every client: a record owned elsewhere moves
        for rule, ids in ownership.items():
            for res_id in ids:
                owners[(rule.model, res_id)] = rule
        self._log_broken_rules(client, broken)

        # rules of a model with a broken rule are left as they are until it is fixed
        my_rules = client.rule_ids.filtered(lambda r: r.active and r.model not in broken)
        for rule in my_rules:
            self._plan_rule_folder(client, rule, root, level_cap(max_path, "rule", max_len),
                                   queue)
        queue.flush()  # vanished folders may be deleted below: their tasks must exist first

        # object folders of this client, one query
        folders = Folder.search([("client_id", "=", client.id), ("kind", "=", "object")])
        by_record = {(f.res_model, f.res_id): f for f in folders}
        self._plan_vanished_records(client, folders, owners, queue, frozen=set(broken))
        queue.flush()

        run = PlanRun(client, queue, level_cap(max_path, "object", max_len), ownership,
                      by_record, name_unit=self._name_unit(client))
        for rule in my_rules:
            rule._placement().plan_folders(self, run, rule, ownership.get(rule, []))
        for rule in my_rules:
            ids = ownership.get(rule, [])
            if ids:
                rule._placement().plan_files(self, run, rule, ids)
        queue.flush()
        return True

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
        name = clean_name(rule.folder_name, max_length=max_len, unit=self._name_unit(client))
        folder = rule.folder_id
        if not folder or folder.client_id != client:
            folder = self.env["cloud.folder"].create({
                "name": name, "client_id": client.id, "kind": "rule", "parent_id": root.id,
                "rule_id": rule.id})
            rule.folder_id = folder
        if folder.name != name:
            folder.name = name
        if not folder.cloud_id:
            queue.add("folder_create", folder=folder)
        elif folder.cloud_name != folder.name:
            queue.add("folder_rename", folder=folder)

    def _plan_record_folders(self, run, rule, ids):
        """A folder per owned record below the rule's folder (placement ``records``): new ones
        created, existing ones renamed or moved, names unique among their siblings."""
        client, max_len = run.client, run.max_len
        records = self.env[rule.model].browse(ids)
        wanted = {}
        for record in records:
            folder = run.by_record.get((rule.model, record.id))
            current = folder.name if folder and folder.parent_id == rule.folder_id else None
            wanted[record.id] = (rule._object_name(record, max_length=max_len,
                                                   unit=run.name_unit), current)
        # names of folders of other records (detached ones included) stay taken
        owned_ids = set(ids)
        taken = [f.name for f in rule.folder_id.child_ids
                 if f.res_model != rule.model or f.res_id not in owned_ids]
        names = assign_unique(wanted, taken, max_length=max_len, unit=run.name_unit)
        new_folders = self.env["cloud.folder"].create([{
            "name": names[record.id], "client_id": client.id, "kind": "object",
            "parent_id": rule.folder_id.id, "rule_id": rule.id,
            "res_model": record._name, "res_id": record.id,
        } for record in records if (rule.model, record.id) not in run.by_record])
        for folder in new_folders:
            run.queue.add("folder_create", folder=folder)
        for record in records:
            folder = run.by_record.get((rule.model, record.id))
            if folder:
                self._plan_object_folder(rule, names[record.id], folder, run.queue)

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
        """Cloud ids of the files below ``folder`` whose deletion is queued (their attachments
        were deleted in Odoo)."""
        tasks = self.env["cloud.task"].search([
            ("type", "=", "file_delete"), ("state", "in", ("pending", "running")),
            ("folder_id", "child_of", folder.id)])
        return sorted({(t.payload or {}).get("cloud_id") for t in tasks} - {None})

    def _log_broken_rules(self, client, broken):
        for model, rules in broken.items():
            for rule, error in rules.items():
                if rule.client_id == client:
                    client._log("error", self.env._(
                        "The rule %(rule)s is skipped: its filter cannot be evaluated "
                        "(%(error)s). The folders of %(model)s records stay as they are until "
                        "the filter is fixed.", rule=rule.display_name, error=error,
                        model=model))

    def _plan_vanished_records(self, client, folders, owners, queue, frozen=()):
        """Object folders whose record is deleted (R-DIR-4) or owned elsewhere (R-RULE-9).
        Ownership is unknown for the ``frozen`` models (a broken rule): their folders are only
        deleted with their record."""
        by_model = {}
        for folder in folders:
            by_model.setdefault(folder.res_model, []).append(folder)
        removed = set()  # folders gone with an object folder above them (nested placements)
        for model, model_folders in by_model.items():
            if model not in self.env:
                continue
            existing = set(self.env[model].browse([f.res_id for f in model_folders])
                           .exists().ids)
            for folder in model_folders:
                if folder.id in removed:
                    continue
                if folder.res_id not in existing:
                    if folder.cloud_id:
                        # "kind" is checked again when the task runs (R-SEC-1); the files
                        # whose deletion it takes along are named: any other file found in
                        # the folder then keeps it (R-SAFE-1)
                        queue.add("folder_delete", folder=folder.parent_id,
                                  payload={"cloud_id": folder.cloud_id, "name": folder.name,
                                           "kind": folder.kind,
                                           "files": self._deleted_files_below(folder)})
                    # unlinking the folder record also drops the pending deletions of its
                    # files (cascade): the folder deletion takes them along (R-Q-6)
                    below = self.env["cloud.folder"].search([("id", "child_of", folder.id)])
                    removed.update(below.ids)
                    folder.child_ids.unlink()
                    folder.unlink()
                    continue
                if model in frozen:
                    continue
                owner = owners.get((model, folder.res_id))
                if owner is None and folder.state != "detached":
                    folder.state = "detached"  # stays where it is, no longer synced
                elif owner is not None and owner.client_id != client and \
                        folder.state != "detached":
                    # R-REV-1: the record moved to another client's rule
                    client._enqueue_reverse_for_folders(folder)
                    folder.state = "detached"

    # ------------------------------------------------------------------------------------
    # Files (R-DIR-2, R-RULE-7)
    # ------------------------------------------------------------------------------------
    def _plan_record_uploads(self, run, rule, ids):
        """One upload per binary attachment of an owned record, into the record's folder."""
        Attachment = self.env["ir.attachment"].sudo()
        folders = self.env["cloud.folder"].search([
            ("client_id", "=", run.client.id), ("kind", "=", "object"),
            ("res_model", "=", rule.model), ("res_id", "in", ids),
            ("state", "!=", "detached")])
        folder_of = {f.res_id: f for f in folders}
        local = Attachment._cloud_local_mimetypes()
        attachments = Attachment.search(Attachment._cloud_syncable_domain(local) + [
            ("res_model", "=", rule.model), ("res_id", "in", ids)])
        for attachment in attachments:
            if attachment.res_id in folder_of:
                run.queue.add("file_upload", folder=folder_of[attachment.res_id],
                              attachment=attachment)
        self._plan_moved_files(run, rule, ids, folder_of)
        if local:
            self._log_kept_local(run.client, Attachment.search(
                Attachment._cloud_syncable_domain([]) + [
                    ("res_model", "=", rule.model), ("res_id", "in", ids),
                    ("mimetype", "in", local)]))

    def _plan_moved_files(self, run, rule, ids, folder_of):
        """Synced files whose attachment now belongs to another record of the rule (e.g. a
        partner merge) follow it into that record's folder; their old folder may go with the
        old record."""
        synced = self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", run.client.id), ("cloud_kind", "=", "file"),
            ("cloud_item_id", "!=", False), ("res_model", "=", rule.model),
            ("res_id", "in", ids)])
        for attachment in synced:
            folder = attachment.cloud_folder_id
            target = folder_of.get(attachment.res_id)
            if target and folder and (folder.res_model, folder.res_id) != (
                    attachment.res_model, attachment.res_id):
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
        attachments = Attachment.browse(ids).filtered_domain(
            Attachment._cloud_syncable_domain())
        for attachment in attachments:
            run.queue.add("file_upload", folder=rule.folder_id, attachment=attachment)
