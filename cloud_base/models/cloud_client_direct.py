"""Direct sync, Odoo → cloud (R-DIR-1..7): planning and the task handlers."""
import logging

from odoo import _, models

from ..lib import adapter as cloud
from ..lib.names import assign_unique, clean_name, with_counter
from .cloud_task import Deferred, TaskBatch

_logger = logging.getLogger(__name__)


class CloudClientDirect(models.Model):
    _inherit = "cloud.client"

    # ------------------------------------------------------------------------------------
    # Planning: compare what Odoo wants with the folder records, queue the differences
    # ------------------------------------------------------------------------------------
    def _prepare_direct(self):
        """Queue the tasks that bring the cloud in line with Odoo for this client."""
        self.ensure_one()
        Folder = self.env["cloud.folder"]
        queue = TaskBatch(self.env["cloud.task"], self)
        root = self._ensure_root_folder()
        if not root.cloud_id:
            queue.add("folder_create", folder=root)
        elif root.cloud_name != root.name:
            queue.add("folder_rename", folder=root)
        max_len = self._name_limit()

        ownership = self.env["cloud.sync.rule"]._ownership()
        owners = {}  # (model, id) -> rule, for every client: a record owned elsewhere moves
        for rule, ids in ownership.items():
            for res_id in ids:
                owners[(rule.model, res_id)] = rule

        my_rules = self.rule_ids.filtered("active")
        for rule in my_rules:
            self._plan_rule_folder(rule, root, max_len, queue)
        queue.flush()  # vanished folders may be deleted below: their tasks must exist first

        # object folders of this client, one query
        folders = Folder.search([("client_id", "=", self.id), ("kind", "=", "object")])
        by_record = {(f.res_model, f.res_id): f for f in folders}
        self._plan_vanished_records(folders, owners, queue)
        queue.flush()

        for rule in my_rules:
            if rule.model == "ir.attachment":
                continue
            ids = ownership.get(rule, [])
            records = self.env[rule.model].browse(ids)
            wanted = {}
            for record in records:
                folder = by_record.get((rule.model, record.id))
                current = folder.name if folder and folder.parent_id == rule.folder_id else None
                wanted[record.id] = (rule._object_name(record, max_length=max_len), current)
            # names of folders of other records (detached ones included) stay taken
            owned_ids = set(ids)
            taken = [f.name for f in rule.folder_id.child_ids
                     if f.res_model != rule.model or f.res_id not in owned_ids]
            names = assign_unique(wanted, taken, max_length=max_len)
            new_folders = Folder.create([{
                "name": names[record.id], "client_id": self.id, "kind": "object",
                "parent_id": rule.folder_id.id, "rule_id": rule.id,
                "res_model": record._name, "res_id": record.id,
            } for record in records if (rule.model, record.id) not in by_record])
            for folder in new_folders:
                queue.add("folder_create", folder=folder)
            for record in records:
                folder = by_record.get((rule.model, record.id))
                if folder:
                    self._plan_object_folder(rule, names[record.id], folder, queue)

        self._plan_uploads(my_rules, ownership, queue)
        queue.flush()
        return True

    def _name_limit(self):
        try:
            return self._get_adapter().max_name_length
        except Exception:  # noqa: BLE001 - planning must not need the network
            return 255

    def _plan_rule_folder(self, rule, root, max_len, queue):
        name = clean_name(rule.folder_name, max_length=max_len)
        folder = rule.folder_id
        if not folder or folder.client_id != self:
            folder = self.env["cloud.folder"].create({
                "name": name, "client_id": self.id, "kind": "rule", "parent_id": root.id,
                "rule_id": rule.id})
            rule.folder_id = folder
        if folder.name != name:
            folder.name = name
        if not folder.cloud_id:
            queue.add("folder_create", folder=folder)
        elif folder.cloud_name != folder.name:
            queue.add("folder_rename", folder=folder)

    def _plan_object_folder(self, rule, name, folder, queue):
        """An existing object folder: bring it back, rename or move it as Odoo wants."""
        vals = {}
        if folder.state == "detached":
            vals["state"] = "synced" if folder.cloud_id else "pending"
        if folder.rule_id != rule:
            vals["rule_id"] = rule.id
        if folder.parent_id != rule.folder_id:
            vals["parent_id"] = rule.folder_id.id  # R-RULE-9 / R-DIR-7
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

    def _plan_vanished_records(self, folders, owners, queue):
        """Object folders whose record is deleted (R-DIR-4) or owned elsewhere (R-RULE-9)."""
        by_model = {}
        for folder in folders:
            by_model.setdefault(folder.res_model, []).append(folder)
        for model, model_folders in by_model.items():
            if model not in self.env:
                continue
            existing = set(self.env[model].browse([f.res_id for f in model_folders])
                           .exists().ids)
            for folder in model_folders:
                if folder.res_id not in existing:
                    if folder.cloud_id:
                        queue.add("folder_delete", folder=folder.parent_id,
                                  payload={"cloud_id": folder.cloud_id, "name": folder.name,
                                           "kind": folder.kind})
                    # unlinking the folder record also drops the pending deletions of its
                    # files (cascade): the folder deletion takes them along (R-Q-6)
                    folder.child_ids.unlink()
                    folder.unlink()
                    continue
                owner = owners.get((model, folder.res_id))
                if owner is None and folder.state != "detached":
                    folder.state = "detached"  # stays where it is, no longer synced
                elif owner is not None and owner.client_id != self and \
                        folder.state != "detached":
                    # R-REV-1: the record moved to another client's rule
                    self._enqueue_reverse_for_folders(folder)
                    folder.state = "detached"

    def _plan_uploads(self, rules, ownership, queue):
        """One upload task per binary attachment of an owned record (R-DIR-2, R-RULE-7)."""
        Attachment = self.env["ir.attachment"].sudo()
        for rule in rules:
            ids = ownership.get(rule, [])
            if not ids:
                continue
            if rule.model == "ir.attachment":
                attachments = Attachment.browse(ids).filtered_domain(
                    Attachment._cloud_syncable_domain())
                for attachment in attachments:
                    queue.add("file_upload", folder=rule.folder_id, attachment=attachment)
                continue
            folders = self.env["cloud.folder"].search([
                ("client_id", "=", self.id), ("kind", "=", "object"),
                ("res_model", "=", rule.model), ("res_id", "in", ids),
                ("state", "!=", "detached")])
            folder_of = {f.res_id: f for f in folders}
            attachments = Attachment.search(Attachment._cloud_syncable_domain() + [
                ("res_model", "=", rule.model), ("res_id", "in", ids)])
            for attachment in attachments:
                if attachment.res_id in folder_of:
                    queue.add("file_upload", folder=folder_of[attachment.res_id],
                              attachment=attachment)

    # ------------------------------------------------------------------------------------
    # Folder tasks
    # ------------------------------------------------------------------------------------
    def _task_folder_create(self, task, adapter):
        folder = task.folder_id
        if not folder or folder.cloud_id:
            return
        if folder.kind == "root":
            item = adapter.ensure_root(folder.name)
        else:
            parent = folder.parent_id
            if not parent.cloud_id:
                raise Deferred(_("Waiting for the parent folder %s", parent.name))
            try:
                item = adapter.create_folder(parent.cloud_id, folder.name)
            except cloud.Conflict as exc:
                # a file occupies the name: take the next free one
                folder.name = self._free_name(adapter, parent, folder.name)
                raise Deferred(_("Name taken by a file, retrying as %s", folder.name),
                               delay=0) from exc
        folder.write({"cloud_id": item.id, "cloud_name": item.name, "state": "synced",
                      "synced_parent_id": folder.parent_id.id})
        self._log("success", _("Folder created: %s", folder._display_path()),
                  record=task._subject(), path=folder._display_path(), task=task)
        if folder.kind == "object":
            self._create_default_folders(folder)

    def _free_name(self, adapter, parent, name):
        counter = 2
        candidate = with_counter(name, counter, adapter.max_name_length)
        while adapter.find_child(parent.cloud_id, candidate):
            counter += 1
            candidate = with_counter(name, counter, adapter.max_name_length)
        return candidate

    def _create_default_folders(self, folder):
        """R-RULE-6: the rule's default tree, only when the object folder is first made."""
        Folder = self.env["cloud.folder"]
        Task = self.env["cloud.task"]

        def make(templates, parent):
            for template in templates:
                child = Folder.create({
                    "name": clean_name(template.name), "client_id": self.id,
                    "kind": "default", "parent_id": parent.id, "rule_id": folder.rule_id.id,
                    "res_model": folder.res_model, "res_id": folder.res_id})
                Task._enqueue(self, "folder_create", folder=child)
                make(template.child_ids, child)

        rule = folder.rule_id
        make(rule.default_folder_ids.filtered(lambda t: not t.parent_id), folder)

    def _task_folder_rename(self, task, adapter):
        folder = task.folder_id
        if not folder or not folder.cloud_id or folder.cloud_name == folder.name:
            return
        try:
            item = adapter.rename(folder.cloud_id, folder.name)
        except cloud.NotFound:
            return self._folder_lost(folder)
        old = folder.cloud_name
        folder.write({"cloud_name": item.name})
        self._log("success", _("Folder renamed: %(old)s → %(new)s", old=old, new=item.name),
                  record=task._subject(), path=folder._display_path(), task=task)

    def _task_folder_move(self, task, adapter):
        folder = task.folder_id
        if not folder or not folder.cloud_id:
            return
        parent = folder.parent_id
        if not parent.cloud_id:
            raise Deferred(_("Waiting for the folder %s", parent.name))
        try:
            item = adapter.move(folder.cloud_id, parent.cloud_id, folder.name)
        except cloud.NotFound:
            return self._folder_lost(folder)
        folder.write({"cloud_name": item.name, "synced_parent_id": parent.id})
        self._log("success", _("Folder moved to %s", folder._display_path()),
                  record=task._subject(), path=folder._display_path(), task=task)

    def _folder_lost(self, folder):
        """The folder vanished from the cloud: recreate it at the next direct sync
        (R-DIR-6); backward sync removes the attachments whose files went with it."""
        folder.write({"cloud_id": False, "cloud_name": False, "state": "pending",
                      "synced_parent_id": False})
        self.env["cloud.task"]._enqueue(self, "folder_create", folder=folder)

    def _task_folder_delete(self, task, adapter):
        payload = task.payload or {}
        if not self._may_delete_cloud_item(task, payload.get("cloud_id"), folder_kind="object"):
            return
        try:
            adapter.delete(payload["cloud_id"])
        except cloud.NotFound:
            pass
        self._log("success", _("Folder deleted: %s", payload.get("name")),
                  path=payload.get("cloud_id"), task=task)

    def _may_delete_cloud_item(self, task, cloud_id, folder_kind=None):
        """Re-check when a delete task runs that it deletes only what the engine owns (R-SEC-1):
        never a folder the suite still manages (root, rule, object folders...), never an item
        another attachment still stands for, and a folder only when the planner deleted the
        object folder of a vanished record."""
        if not cloud_id:
            return False
        if folder_kind and (task.payload or {}).get("kind") != folder_kind:
            self._refuse_deletion(task, cloud_id, _("the task was not planned for an %s "
                                                     "folder", folder_kind))
            return False
        managed = self.env["cloud.folder"].search_count([
            ("client_id", "=", self.id), ("cloud_id", "=", cloud_id)], limit=1)
        if managed or self.root_folder_id.cloud_id == cloud_id:
            self._refuse_deletion(task, cloud_id, _("it is a folder the suite manages"))
            return False
        still_used = self.env["ir.attachment"].sudo().search_count([
            ("cloud_client_id", "=", self.id), ("cloud_item_id", "=", cloud_id)], limit=1)
        if still_used:
            self._refuse_deletion(task, cloud_id, _("another attachment still refers to it"))
            return False
        return True

    def _refuse_deletion(self, task, cloud_id, reason):
        self._log("warning", _("Cloud item %(item)s was not deleted: %(reason)s.",
                               item=(task.payload or {}).get("name") or cloud_id,
                               reason=reason), path=cloud_id, task=task)

    # ------------------------------------------------------------------------------------
    # File tasks
    # ------------------------------------------------------------------------------------
    def _task_file_upload(self, task, adapter):
        attachment = task.attachment_id.sudo()
        if not attachment or attachment.cloud_item_id or attachment.type != "binary":
            return  # deleted, already synced, or turned into a link meanwhile
        folder = task.folder_id
        if not folder or folder.state == "detached":
            return  # the record stopped being synced: the file stays in Odoo
        if not folder.cloud_id:
            raise Deferred(_("Waiting for the folder %s", folder.name))
        item = self._upload_verified(adapter, attachment, folder)
        attachment._cloud_mark_synced(self, folder, item, self._item_url(adapter, item))
        self._log("success", _("File uploaded: %s", item.name), record=attachment,
                  path="%s/%s" % (folder._display_path(), item.name), task=task)

    def _upload_verified(self, adapter, attachment, folder, name=None):
        """Upload the attachment's content into ``folder`` and return the verified item.

        Retry-safe (R-SAFE-3): a file of the chosen name that is already there with the same
        size and hash is our earlier upload whose answer was lost, and is adopted.
        """
        size = attachment.file_size
        local_hash = adapter.compute_hash(attachment._cloud_local_chunks())
        base = clean_name(name or attachment.name, max_length=adapter.max_name_length,
                          keep_extension=True)
        taken = {other.name.lower() for other in self.env["ir.attachment"].sudo().search([
            ("cloud_folder_id", "=", folder.id), ("cloud_item_id", "!=", False),
            ("id", "!=", attachment.id)])}
        candidate = assign_unique({0: (base, None)}, taken, adapter.max_name_length,
                                  keep_extension=True)[0]
        for _attempt in range(100):
            existing = adapter.find_child(folder.cloud_id, candidate)
            if existing is None:
                try:
                    with attachment._cloud_open_local() as stream:
                        item = adapter.upload(folder.cloud_id, candidate, stream, size)
                except cloud.Conflict:
                    continue  # appeared meanwhile: look again
                break
            if not existing.is_folder and existing.size == size and self._same_content(
                    adapter, existing, attachment, local_hash):
                item = existing  # our own earlier upload, whose answer was lost
                break
            taken.add(candidate.lower())
            candidate = assign_unique({0: (base, None)}, taken, adapter.max_name_length,
                                      keep_extension=True)[0]
        if item.size != size or (local_hash and item.hash and item.hash != local_hash):
            raise cloud.Transient(_("Uploaded copy does not match (size %(remote)s/%(local)s)"
                                    "; the file stays in Odoo", remote=item.size, local=size),
                                  code="verify_failed", path=candidate)
        return item

    def _same_content(self, adapter, item, attachment, local_hash):
        """Does the cloud ``item`` hold exactly the attachment's bytes? Compared by the
        provider's hash when both sides have one, else by downloading it (rare: only when a
        retry finds a file of the chosen name)."""
        if local_hash and item.hash:
            return item.hash == local_hash
        remote = cloud.sha256_hex(adapter.download(item.id))
        return remote == cloud.sha256_hex(attachment._cloud_local_chunks())

    def _item_url(self, adapter, item):
        try:
            return adapter.web_url(item)
        except cloud.CloudError:
            return False

    def _task_file_update(self, task, adapter):
        """A synced file got new content in Odoo: upload it, keeping both versions when the
        cloud copy changed too (R-SAFE-4)."""
        attachment = task.attachment_id.sudo()
        if not attachment or not attachment.cloud_item_id or not attachment.store_fname \
                and not attachment.db_datas:
            return
        folder = attachment.cloud_folder_id
        try:
            remote = adapter.get_item(attachment.cloud_item_id)
        except cloud.NotFound:
            remote = None
        if remote is not None and remote.hash != attachment.cloud_hash:
            # conflict: the cloud copy keeps the name; the Odoo version becomes a copy
            copy = attachment.copy({"name": self.env["ir.attachment"]._conflict_name(
                attachment.name), "res_model": attachment.res_model,
                "res_id": attachment.res_id})
            attachment.with_context(cloud_sync=True)._cloud_back_to_remote(remote)
            self.env["cloud.task"]._enqueue(self, "file_upload", folder=folder,
                                            attachment=copy)
            self._log("warning", _("Conflict on %(name)s: the cloud version keeps the name, "
                                   "the Odoo version was saved as %(copy)s",
                                   name=remote.name, copy=copy.name), record=attachment,
                      path=attachment.cloud_item_id, task=task)
            return
        if remote is not None:
            adapter.delete(remote.id)  # the user replaced this version in Odoo
        if not folder.cloud_id:
            raise Deferred(_("Waiting for the folder %s", folder.name))
        item = self._upload_verified(adapter, attachment, folder, name=attachment.name)
        attachment._cloud_mark_synced(self, folder, item, self._item_url(adapter, item))
        self._log("success", _("New version uploaded: %s", item.name), record=attachment,
                  path=item.id, task=task)

    def _task_file_delete(self, task, adapter):
        payload = task.payload or {}
        cloud_id = payload.get("cloud_id")
        if not self._may_delete_cloud_item(task, cloud_id):
            return
        try:
            if adapter.get_item(cloud_id).is_folder:
                self._refuse_deletion(task, cloud_id, _("it is a folder, not a file"))
                return
            adapter.delete(cloud_id)
        except cloud.NotFound:
            pass
        self._log("success", _("File deleted: %s", payload.get("name")),
                  path=payload.get("cloud_id"), task=task)
