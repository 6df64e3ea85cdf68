"""Direct sync, Odoo → cloud (R-DIR-1..7): the handlers of the folder and file tasks the
planner queues (see ``cloud.task._task_types()``)."""
import contextlib
import logging

from odoo import models

from ..lib import adapter as cloud
from ..lib.names import (
    assign_unique, clean_name, default_folder_cap, file_name_cap, is_temporary_name,
    level_cap, temporary_name, with_counter,
)
from ..lib.transfers import UploadTransfer
from ..lib.versions import content_differs
from .cloud_placement import SUBFOLDER_KINDS
from .cloud_task import Deferred

_logger = logging.getLogger(__name__)


class CloudEngineDirect(models.AbstractModel):
    _name = "cloud.engine.direct"
    _description = "Cloud sync direct engine"

    # ------------------------------------------------------------------------------------
    # Folder tasks
    # ------------------------------------------------------------------------------------
    def _task_folder_create(self, client, task, adapter):
        folder = task.folder_id
        if not folder or folder.cloud_id or folder.state == "detached":
            return  # a detached folder is no longer synced (R-RULE-8/9): left as it is
        if folder.kind == "root":
            item = adapter.ensure_root(folder.name)
            found = self._holds_items(adapter, item)
        else:
            parent = folder.parent_id
            if not parent.cloud_id:
                raise Deferred(self.env._("Waiting for the parent folder %s", parent.name))
            item = self._existing_folder(client, adapter, parent, folder)
            found = item is not None
            if item is None:
                try:
                    item = adapter.create_folder(parent.cloud_id, folder.name)
                except cloud.Conflict as exc:
                    # a file occupies the name: take the next free one
                    folder.name = self._free_name(adapter, parent, folder.name,
                                                  self._folder_name_limit(client, folder))
                    raise Deferred(self.env._("Name taken by a file, retrying as %s",
                                              folder.name), delay=0) from exc
                holder = self.env["cloud.folder"].search([
                    ("client_id", "=", client.id), ("cloud_id", "=", item.id),
                    ("state", "!=", "detached")], limit=1)  # a detached one is taken over
                if holder:
                    # the adapter answers with the folder of that name: another synced one, a
                    # person moved or renamed it here; its own task puts it back first
                    raise Deferred(self.env._(
                        "The name %(name)s is held by the synced folder %(other)s, which goes "
                        "back to its place first", name=folder.name,
                        other=holder._display_path()))
        if found and folder.kind != "root":
            return self._folder_found(client, adapter, folder, item, task)
        self._take_over_detached(client, folder, item)
        folder.write({"cloud_id": item.id, "cloud_name": item.name, "state": "synced",
                      "synced_parent_id": folder.parent_id.id, "found_in_cloud": found})
        client._log("success", self.env._("Folder created: %s", folder._display_path()),
                    record=task._subject(), path=folder._display_path(), task=task)
        folder._placement().folder_created(self, client, folder)

    # ------------------------------------------------------------------------------------
    # Folders already in the cloud (issue 11 §2: reset then reconnect, a storage used before)
    # ------------------------------------------------------------------------------------
    def _holds_items(self, adapter, item):
        """Does the cloud folder ``item`` hold anything? (One page is enough to know.)"""
        items, _token = adapter.list_children(item.id)
        return bool(items)

    def _existing_folder(self, client, adapter, parent, folder):
        """The cloud folder ``folder`` already is, unless the suite manages it already: the
        one it was before the client's last reset (the same account: wherever it is now), else
        the folder of its name in ``parent`` when ``parent`` was found in the cloud with
        content; None otherwise (the folder is created, as on a fresh storage)."""
        Folder = self.env["cloud.folder"]

        def usable(item):
            return item is not None and item.is_folder and not Folder.search_count([
                ("client_id", "=", client.id), ("cloud_id", "=", item.id)], limit=1)

        former = client._folder_before_reset(folder)
        if former:
            try:
                item = adapter.get_item(former)
            except cloud.NotFound:
                item = None
            if usable(item):
                return item
        if not parent.found_in_cloud:
            return None
        item = adapter.find_child(parent.cloud_id, folder.name)
        return item if usable(item) else None

    def _folder_found(self, client, adapter, folder, item, task):
        """``folder`` already is the cloud folder ``item``: link them, put it where and as
        Odoo wants it (R-DIR-3), and pick up what it holds."""
        Folder = self.env["cloud.folder"]
        in_cloud = folder.parent_id if item.parent_id == folder.parent_id.cloud_id else \
            Folder.search([("client_id", "=", client.id), ("cloud_id", "=", item.parent_id)],
                          limit=1)
        folder.write({"cloud_id": item.id, "cloud_name": item.name, "state": "synced",
                      "synced_parent_id": in_cloud.id, "found_in_cloud": True})
        client._log("success", self.env._(
            "Folder already in the cloud, linked with what it holds: %s",
            folder._display_path()), record=task._subject(), path=folder._display_path(),
            task=task)
        Task = self.env["cloud.task"]
        if folder.synced_parent_id != folder.parent_id:
            Task._enqueue(client, "folder_move", folder=folder)
        elif item.name != folder.name:
            Task._enqueue(client, "folder_rename", folder=folder)
        folder._placement().folder_found(self, client, folder, adapter, task)

    def _pick_up_content(self, client, adapter, folder, task, templates=None,
                         remembered=None):
        """``folder`` was already in the cloud: link what it holds as backward sync would
        have: the subfolders named as the rule's default folders (``templates``, the level of
        the tree that belongs here) become its default folders, those the record's files
        were in before the client let them go (``remembered``: paths of names below this
        level; read from the files for an object folder) its manual folders again, each
        picked up in turn; other subfolders become folder links where the placement says so
        (R-BW-2), and its files the attachments of its owner (see ``_pick_up_files``)."""
        Folder = self.env["cloud.folder"]
        items = list(adapter.iter_children(folder.cloud_id))
        known_folders = set(Folder.search([("client_id", "=", client.id),
                                           ("cloud_id", "in", [i.id for i in items])])
                            .mapped("cloud_id"))
        by_name = {clean_name(t.name).lower(): t for t in templates or ()}
        if remembered is None:
            remembered = self._remembered_paths(folder)
        for item in items:
            if not item.is_folder or item.id in known_folders or \
                    client._claimed_after_reset(item.id):
                continue  # managed, or a folder that goes back where Odoo wants it
            template = by_name.pop(item.name.lower(), None)
            below = {path[1:] for path in remembered if path[0] == item.name.lower()}
            if template is not None or below:
                child = Folder.create({
                    "name": item.name, "cloud_name": item.name, "cloud_id": item.id,
                    "client_id": client.id, "kind": "manual" if template is None else "default",
                    "parent_id": folder.id, "synced_parent_id": folder.id, "state": "synced",
                    "found_in_cloud": True, "rule_id": folder.rule_id.id,
                    "res_model": folder.res_model, "res_id": folder.res_id})
                self._pick_up_content(client, adapter, child, task,
                                      template.child_ids if template is not None else None,
                                      {path for path in below if path})
            elif folder._links_subfolders():
                self._link_found_subfolder(client, adapter, folder, item, task)
        if folder._file_owner() is not None:
            self._pick_up_files(client, adapter, folder,
                                [i for i in items if not i.is_folder], task)

    def _remembered_paths(self, folder):
        """The subfolder paths (tuples of lower-case names) the local files of the record of
        the object ``folder`` were in before their client let them go."""
        if folder.kind != "object":
            return set()
        paths = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", folder.res_model), ("res_id", "=", folder.res_id),
            ("cloud_subfolder_path", "!=", False), ("cloud_item_id", "=", False),
        ]).mapped("cloud_subfolder_path")
        paths = {tuple(name.lower() for name in path.split("/") if name) for path in paths}
        return {path for path in paths if path}

    def _link_found_subfolder(self, client, adapter, folder, item, task):
        """A subfolder made in the cloud in ``folder`` becomes a folder link of its record;
        the plain link a reset left of it, if any, is linked again rather than doubled."""
        res_model, res_id = folder._file_owner()
        sub = self.env["cloud.folder"].create({
            "name": item.name, "cloud_name": item.name, "cloud_id": item.id,
            "client_id": client.id, "kind": "subfolder", "parent_id": folder.id,
            "synced_parent_id": folder.id, "state": "synced",
            "res_model": res_model, "res_id": res_id, "rule_id": folder.rule_id.id})
        Attachment = self.env["ir.attachment"].sudo().with_context(cloud_sync=True)
        vals = {"name": item.name, "type": "url", "url": client._item_url(adapter, item),
                "cloud_client_id": client.id, "cloud_folder_id": sub.id,
                "cloud_item_id": item.id, "cloud_kind": "folder"}
        former = Attachment.search([
            ("res_model", "=", res_model), ("res_id", "=", res_id), ("type", "=", "url"),
            ("cloud_kind", "=", False), ("mimetype", "=", "application/x-directory"),
            ("name", "=", item.name)], limit=1)
        if former:
            former.write(vals)
        else:
            Attachment.create(dict(vals, res_model=res_model, res_id=res_id,
                                   mimetype="application/x-directory"))
        client._log("success", self.env._("Cloud subfolder linked: %s", item.name),
                    path=item.id, task=task)

    def _pick_up_files(self, client, adapter, folder, items, task):
        """The files already in ``folder``, a folder found in the cloud: a local attachment
        waiting for its upload towards this folder's record that has the same name and the
        same content is linked to its file instead of being uploaded again (the same content
        under another name: renamed in the cloud, whose names win, R-BW-3); every other file
        becomes an attachment (R-BW-1). A local attachment of the same name but another
        content is a conflict (R-SAFE-4): the cloud copy keeps the name, the Odoo version is
        uploaded as a conflict copy."""
        known = set(self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", client.id),
            ("cloud_item_id", "in", [i.id for i in items])]).mapped("cloud_item_id"))
        items = [i for i in items if i.id not in known]
        waiting = self._waiting_uploads(client, folder)
        hashes = {}

        def same(item, attachment):
            if item.size != attachment.file_size:
                return False
            if attachment.id not in hashes:
                hashes[attachment.id] = adapter.compute_hash(attachment._cloud_local_chunks())
            return self._same_content(adapter, item, attachment, hashes[attachment.id])

        def link(item, attachment):
            attachment._cloud_mark_synced(client, folder, item, client._item_url(adapter, item))
            client._log("success", self.env._(
                "File already in the cloud, linked instead of uploaded: %s", item.name),
                record=attachment, path="%s/%s" % (folder._display_path(), item.name),
                task=task)
            return attachment

        name_cap = self._file_name_limit(adapter, folder)

        def local_name(attachment):
            return clean_name(attachment.name, max_length=name_cap,
                              keep_extension=True, unit=self._name_unit(client)).lower()

        left = []
        for item in items:  # same name, same content
            match = next((a for a in waiting if local_name(a) == item.name.lower()
                          and same(item, a)), None)
            if match:
                waiting -= link(item, match)
            else:
                left.append(item)
        backward = self.env["cloud.engine.backward"]
        for item in left:
            match = next((a for a in waiting if same(item, a)), None)
            if match:  # renamed in the cloud
                waiting -= link(item, match)
                continue
            for attachment in waiting:
                if local_name(attachment) != item.name.lower():
                    continue
                attachment.write({
                    "name": self.env["ir.attachment"]._conflict_name(attachment.name)})
                client._log("warning", self.env._(
                    "Conflict on %(name)s: the cloud already holds another version; it keeps "
                    "the name, the Odoo version is uploaded as %(copy)s",
                    name=item.name, copy=attachment.name), record=attachment,
                    path=item.id, task=task)
            backward._apply_new_item(client, item, folder, adapter, task)

    def _waiting_uploads(self, client, folder):
        """The local attachments whose upload the planner queued towards ``folder`` (for a
        subfolder of a record: towards it or its object folder)."""
        target = folder
        while target.kind in SUBFOLDER_KINDS:
            target = target.parent_id
        tasks = self.env["cloud.task"].search([
            ("client_id", "=", client.id), ("type", "=", "file_upload"),
            ("state", "in", ("pending", "running")),
            ("folder_id", "in", list({folder.id, target.id}))])
        return tasks.attachment_id.sudo().filtered(
            lambda a: a.type == "binary" and not a.cloud_item_id)

    def _take_over_detached(self, client, folder, item):
        """The cloud folder ``item`` that ``folder`` is created as already exists and a
        detached folder record of this client still holds it (e.g. a rule moved to another
        client and back: its former folder stayed in the cloud, R-RULE-8). ``folder`` takes
        it over with what is below it; the detached record goes."""
        Folder = self.env["cloud.folder"]
        holder = Folder.search([("client_id", "=", client.id), ("cloud_id", "=", item.id),
                                ("id", "!=", folder.id), ("state", "=", "detached")], limit=1)
        if not holder:
            return
        holder.child_ids.write({"parent_id": folder.id})
        Folder.search([("synced_parent_id", "=", holder.id)]).write(
            {"synced_parent_id": folder.id})
        self.env["ir.attachment"].sudo().search([("cloud_folder_id", "=", holder.id)]) \
            ._cloud_write_metadata({"cloud_folder_id": folder.id, "cloud_subfolder_id":
                                    folder.id if folder.kind in SUBFOLDER_KINDS else False})
        holder.unlink()

    def _free_name(self, adapter, parent, name, max_length):
        unit = self._name_unit(parent.client_id)
        counter = 2
        candidate = with_counter(name, counter, max_length, unit=unit)
        while adapter.find_child(parent.cloud_id, candidate):
            counter += 1
            candidate = with_counter(name, counter, max_length, unit=unit)
        return candidate

    def _folder_name_limit(self, client, folder):
        """Longest name of ``folder``, of its level's share of a path limit."""
        planner = self.env["cloud.engine.planner"]
        max_len, max_path = planner._name_limit(client), planner._path_limit(client)
        if folder.kind == "default":
            return default_folder_cap(max_path, _depth(folder.rule_id.default_folder_ids
                                                       .filtered(lambda t: not t.parent_id)),
                                      max_len)
        return level_cap(max_path, folder.kind, max_len)

    def _name_unit(self, client):
        return self.env["cloud.engine.planner"]._name_unit(client)

    def _file_name_limit(self, adapter, folder, temporary=False):
        """Longest name of a file in ``folder``: the adapter's name limit, and its share of
        the provider's path limit where there is one (``lib.names.file_name_cap``)."""
        levels, node = [], folder
        while node:
            levels.append((node.kind, node.name))
            node = node.parent_id
        return file_name_cap(adapter.max_path_length, levels[::-1], adapter.max_name_length,
                             temporary=temporary)

    def _create_default_folders(self, client, folder):
        """R-RULE-6: the rule's default tree, only when the object folder is first made."""
        Folder = self.env["cloud.folder"]
        Task = self.env["cloud.task"]
        roots = folder.rule_id.default_folder_ids.filtered(lambda t: not t.parent_id)
        planner = self.env["cloud.engine.planner"]
        # a deep default tree shares what the root, rule and record levels leave
        cap = default_folder_cap(planner._path_limit(client), _depth(roots),
                                 planner._name_limit(client))

        def make(templates, parent):
            for template in templates:
                child = Folder.create({
                    "name": clean_name(template.name, max_length=cap,
                                       unit=self._name_unit(client)),
                    "client_id": client.id,
                    "kind": "default", "parent_id": parent.id, "rule_id": folder.rule_id.id,
                    "res_model": folder.res_model, "res_id": folder.res_id})
                Task._enqueue(client, "folder_create", folder=child)
                make(template.child_ids, child)

        make(roots, folder)

    def _task_folder_rename(self, client, task, adapter):
        folder = task.folder_id
        if not folder or not folder.cloud_id or folder.cloud_name == folder.name \
                or folder.state == "detached":
            return
        try:
            item = adapter.rename(folder.cloud_id, folder.name)
        except cloud.NotFound:
            return self._folder_lost(client, folder)
        old = folder.cloud_name
        folder.write({"cloud_name": item.name})
        client._log("success", self.env._(
            "Folder renamed: %(old)s → %(new)s", old=old, new=item.name),
                    record=task._subject(), path=folder._display_path(), task=task)

    def _task_folder_move(self, client, task, adapter):
        folder = task.folder_id
        if not folder or not folder.cloud_id or folder.state == "detached":
            return
        parent = folder.parent_id
        if not parent.cloud_id:
            raise Deferred(self.env._("Waiting for the folder %s", parent.name))
        try:
            item = adapter.move(folder.cloud_id, parent.cloud_id, folder.name)
        except cloud.NotFound as exc:
            if self._exists(adapter, folder.cloud_id) and \
                    not self._exists(adapter, parent.cloud_id):
                # the target is what vanished (e.g. a rule folder deleted in the cloud): it
                # is made again, then the folder moves there with everything it holds
                _logger.info("Folder %s: its target %s is gone (%s)", folder.cloud_id,
                             parent.cloud_id, exc)
                self._folder_lost(client, parent)
                self.env["cloud.task"]._enqueue(client, "folder_move", folder=folder)
                return
            return self._folder_lost(client, folder)
        except cloud.Conflict as exc:
            item = self._move_conflict(adapter, folder, parent, exc)
        folder.write({"cloud_name": item.name, "synced_parent_id": parent.id})
        client._log("success", self.env._("Folder moved to %s", folder._display_path()),
                    record=task._subject(), path=folder._display_path(), task=task)

    def _exists(self, adapter, cloud_id):
        try:
            adapter.get_item(cloud_id)
        except cloud.NotFound:
            return False
        return True

    def _move_conflict(self, adapter, folder, parent, error):
        """The target name is taken: by the folder itself (a person already moved it there,
        some providers refuse a move onto itself), or by another item (take the next free
        name and try again)."""
        current = adapter.get_item(folder.cloud_id)
        if current.parent_id == parent.cloud_id:
            if current.name == folder.name:
                return adapter.adopt(current)
            return adapter.rename(folder.cloud_id, folder.name)
        folder.name = self._free_name(adapter, parent, folder.name)
        raise Deferred(self.env._("Name taken, moving as %s", folder.name), delay=0) from error

    def _folder_lost(self, client, folder):
        """The folder vanished from the cloud: recreate it at the next direct sync
        (R-DIR-6); backward sync removes the attachments whose files went with it. A detached
        folder (no longer synced) stays detached and is not recreated."""
        detached = folder.state == "detached"
        folder.write({"cloud_id": False, "cloud_name": False,
                      "state": "detached" if detached else "pending",
                      "synced_parent_id": False})
        if not detached:
            self.env["cloud.task"]._enqueue(client, "folder_create", folder=folder)

    def _task_folder_delete(self, client, task, adapter):
        """The folder of a deleted record, or a folder a user deleted in Odoo (empty there):
        deleted in the cloud unless it holds what Odoo did not delete (R-SAFE-1)."""
        payload = task.payload or {}
        if not self._may_delete_cloud_item(client, task, payload.get("cloud_id"),
                                           folder_kind=("object", "manual")):
            return
        try:
            folders = []
            files, complete = self._files_below(adapter, payload["cloud_id"], folders=folders)
            deleted_in_odoo = set(payload.get("files") or ())
            versions = payload.get("versions") or {}
            # a file deleted in Odoo but changed in the cloud since is a version nobody
            # deleted: it keeps the folder too
            files = [f for f in files if f.id not in deleted_in_odoo
                     or self._changed_since_deleted(f, versions.get(f.id))]
            synced = self.env["cloud.folder"].search([
                ("client_id", "=", client.id), ("state", "!=", "detached"),
                ("cloud_id", "in", [f.id for f in folders])])
            if synced:
                # a person moved a folder Odoo still syncs (another record's) in here: it
                # stays, and so does this folder (the next syncs move it back where it goes)
                client._log("warning", self.env._(
                    "The folder %(name)s of a deleted record is kept in the cloud: it holds "
                    "folders Odoo still syncs (%(names)s).", name=payload.get("name"),
                    names=", ".join(sorted(synced.mapped("name"))[:10])),
                    path=payload.get("cloud_id"), task=task)
                return
            if payload.get("kind") == "manual" and folders:
                # a folder a user deleted in Odoo goes only empty: what was made in it in
                # the cloud is nobody's to delete
                client._log("warning", self.env._(
                    "The folder %(name)s is kept in the cloud: it holds folders (%(names)s).",
                    name=payload.get("name"),
                    names=", ".join(sorted(f.name for f in folders)[:10])),
                    path=payload.get("cloud_id"), task=task)
                return
            if files or not complete:
                # files nobody deleted in Odoo: added in the cloud since the last backward
                # run, or still linked to an attachment moved to another record. The folder
                # stays with them (R-SAFE-1); the record's own files went with their tasks.
                client._log("warning", self.env._(
                    "The folder %(name)s of a deleted record is kept in the cloud: it holds "
                    "%(count)s files Odoo did not delete (%(names)s).",
                    name=payload.get("name"), count=len(files),
                    names=", ".join(sorted(f.name for f in files)[:10])),
                    path=payload.get("cloud_id"), task=task)
                return
            adapter.delete(payload["cloud_id"])
        except cloud.NotFound:
            _logger.info("Folder %s was already gone", payload.get("cloud_id"))
        client._log("success", self.env._("Folder deleted: %s", payload.get("name")),
                    path=payload.get("cloud_id"), task=task)

    def _delete_temporary_uploads(self, adapter, folder, attachment_id):
        """The new versions of a deleted attachment that an unfinished update left in
        ``folder`` under their temporary name go too: nobody else sees them."""
        prefix = temporary_name(attachment_id, "")
        for child in adapter.iter_children(folder.cloud_id):
            if not child.is_folder and child.name.startswith(prefix):
                with contextlib.suppress(cloud.NotFound):
                    adapter.delete(child.id)

    def _changed_since_deleted(self, item, version):
        """Whether the cloud file ``item`` holds another version than ``version`` (``[size,
        hash]``, what its attachment showed when it was deleted in Odoo; None: unknown)."""
        return version is not None and content_differs(item, *version)

    def _files_below(self, adapter, folder_id, limit=1000, folders=None):
        """``(files anywhere below folder_id, whether the walk saw everything)``: at most
        ``limit`` items are listed; the folders met are added to ``folders`` when given."""
        files, pending, seen = [], [folder_id], 0
        while pending and seen < limit:
            for child in adapter.iter_children(pending.pop()):
                seen += 1
                if child.is_folder:
                    pending.append(child.id)
                    if folders is not None:
                        folders.append(child)
                else:
                    files.append(child)
        return files, not pending

    def _may_delete_cloud_item(self, client, task, cloud_id, folder_kind=None):
        """Re-check when a delete task runs that it deletes only what the engine owns (R-SEC-1):
        never a folder the suite still manages (root, rule, object folders...), never an item
        another attachment still stands for, and a folder only when the planner deleted the
        object folder of a vanished record."""
        if not cloud_id:
            return False
        kinds = (folder_kind,) if isinstance(folder_kind, str) else folder_kind
        if kinds and (task.payload or {}).get("kind") not in kinds:
            self._refuse_deletion(client, task, cloud_id, self.env._(
                "the task was not planned for a folder of kind %s", " / ".join(kinds)))
            return False
        managed = self.env["cloud.folder"].search_count([
            ("client_id", "=", client.id), ("cloud_id", "=", cloud_id)], limit=1)
        if managed or client.root_folder_id.cloud_id == cloud_id:
            self._refuse_deletion(client, task, cloud_id, self.env._(
                "it is a folder the suite manages"))
            return False
        still_used = self.env["ir.attachment"].sudo().search_count([
            ("cloud_client_id", "=", client.id), ("cloud_item_id", "=", cloud_id)], limit=1)
        if still_used:
            self._refuse_deletion(client, task, cloud_id,
                                  self.env._("another attachment still refers to it"))
            return False
        return True

    def _refuse_deletion(self, client, task, cloud_id, reason):
        client._log("warning", self.env._("Cloud item %(item)s was not deleted: %(reason)s.",
                                 item=(task.payload or {}).get("name") or cloud_id,
                                 reason=reason), path=cloud_id, task=task)

    # ------------------------------------------------------------------------------------
    # File tasks
    # ------------------------------------------------------------------------------------
    def _task_file_upload(self, client, task, adapter):
        attachment = task.attachment_id.sudo()
        if not attachment or attachment.cloud_item_id or attachment.type != "binary":
            return  # deleted, already synced, or turned into a link meanwhile
        folder = task.folder_id
        if not folder or not folder._is_live():
            return  # the record stopped being synced: the file stays in Odoo
        if not folder.cloud_id:
            raise Deferred(self.env._("Waiting for the folder %s", folder.name))
        target = attachment._cloud_remembered_subfolder(folder)
        if target != folder and not target.cloud_id:
            # back to the subfolder it was in with its former client, made again first
            self.env["cloud.task"]._enqueue(client, "file_upload", folder=target,
                                            attachment=attachment)
            return
        folder = target
        item = self._upload_verified(client, adapter, attachment, folder)
        attachment._cloud_mark_synced(client, folder, item, client._item_url(adapter, item))
        client._log("success", self.env._("File uploaded: %s", item.name), record=attachment,
                    path="%s/%s" % (folder._display_path(), item.name), task=task)

    def _upload_verified(self, client, adapter, attachment, folder, name=None):
        """Upload the attachment's content into ``folder`` and return the verified item.

        Retry-safe (R-SAFE-3): a file of the chosen name that is already there with the same
        size and hash is our earlier upload whose answer was lost, and is adopted.
        """
        size = attachment.file_size
        local_hash = adapter.compute_hash(attachment._cloud_local_chunks())
        taken = self._taken_names(folder, attachment)
        base, candidate, max_len, unit = self._upload_name(client, adapter, folder,
                                                           name or attachment.name, taken)
        look_first = self._looks_before_upload(adapter, size)
        for _attempt in range(100):
            existing = adapter.find_child(folder.cloud_id, candidate) if look_first else None
            look_first = True  # after a conflict: what holds the name decides
            if existing is None:
                try:
                    with attachment._cloud_open_local() as stream:
                        item = adapter.upload(folder.cloud_id, candidate, stream, size)
                except cloud.Conflict:
                    continue  # appeared meanwhile: look again
                break
            if not existing.is_folder and existing.size == size and self._same_content(
                    adapter, existing, attachment, local_hash):
                item = adapter.adopt(existing)  # our own earlier upload, its answer lost
                break
            taken.add(candidate)
            candidate = assign_unique({0: (base, None)}, taken, max_len,
                                      keep_extension=True, unit=unit)[0]
        if item.size != size or (local_hash and item.hash and item.hash != local_hash):
            raise cloud.Transient(self.env._(
                "Uploaded copy does not match (size %(remote)s/%(local)s)"
                "; the file stays in Odoo", remote=item.size, local=size),
                                  code="verify_failed", path=candidate)
        return item

    @staticmethod
    def _looks_before_upload(adapter, size):
        """Is the chosen name looked up before uploading ``size`` bytes? Every adapter's
        upload refuses a name another item holds (Conflict), so a one-request upload is sent
        straight away and the lookup only follows a conflict (then the item found there is
        our own earlier upload to adopt, or the name is taken). A chunked upload looks first:
        a conflict found at its end would have sent the whole file for nothing."""
        return size > adapter.chunk_threshold

    def _upload_name(self, client, adapter, folder, name, taken):
        """The name an upload of ``name`` into ``folder`` tries first: cleaned, cut to the
        folder's limits, unique among ``taken``. ``(base, candidate, max length, unit)``: the
        handler derives its next candidates from the same base (the transfer threads of the
        runner try the first one ahead, :meth:`_upload_transfers`)."""
        unit = self._name_unit(client)
        max_len = self._file_name_limit(adapter, folder, temporary=is_temporary_name(name))
        base = clean_name(name, max_length=max_len, keep_extension=True, unit=unit)
        candidate = assign_unique({0: (base, None)}, taken, max_len, keep_extension=True,
                                  unit=unit)[0]
        return base, candidate, max_len, unit

    def _upload_transfers(self, client, tasks, adapter):
        """``{task id: UploadTransfer}``: the network part of those upload ``tasks`` (one
        client's) that the runner may start ahead in a thread, with the name their handler
        will choose first (:meth:`_upload_verified`). Tasks whose handler would not upload
        (folder not made yet, file already synced, ...) and tasks that would pick a name
        another one of them picks are left to their handler."""
        candidates = []
        for task in tasks:
            attachment = task.attachment_id.sudo()
            folder = task.folder_id
            if (task.type != "file_upload" or not attachment or attachment.cloud_item_id
                    or attachment.type != "binary" or not folder or not folder._is_live()
                    or not folder.cloud_id):
                continue
            candidates.append((task, attachment, folder))
        if not candidates:
            return {}
        taken = self._taken_names_in(
            {folder.id for _task, _attachment, folder in candidates})
        transfers, chosen, attachments = {}, set(), set()
        for task, attachment, folder in candidates:
            if attachment.id in attachments:
                continue  # another upload of the same file (e.g. it moved): the first decides
            attachments.add(attachment.id)
            others = {name for attachment_id, name in taken.get(folder.id, ())
                      if attachment_id != attachment.id}
            name = self._upload_name(client, adapter, folder, attachment.name, others)[1]
            slot = (folder.cloud_id, name.lower())
            if slot in chosen:
                continue  # a sibling of this batch wants the name: the handlers decide in turn
            chosen.add(slot)
            transfers[task.id] = UploadTransfer(
                folder.cloud_id, name, attachment._cloud_local_opener(), attachment.file_size,
                look_first=self._looks_before_upload(adapter, attachment.file_size))
        return transfers

    def _taken_names_in(self, folder_ids):
        """``{folder id: [(attachment id, name)]}`` of the synced files Odoo knows in those
        folders (one query for a batch of uploads)."""
        self.env["ir.attachment"].flush_model(["cloud_folder_id", "cloud_item_id", "name"])
        self.env.cr.execute("""
            SELECT cloud_folder_id, id, name FROM ir_attachment
             WHERE cloud_folder_id IN %s AND cloud_item_id IS NOT NULL AND cloud_item_id != ''
        """, [tuple(folder_ids)])
        taken = {}
        for folder_id, attachment_id, name in self.env.cr.fetchall():
            taken.setdefault(folder_id, []).append((attachment_id, name))
        return taken

    def _taken_names(self, folder, attachment):
        """Names of the other synced files Odoo knows in ``folder`` (one query: this runs
        for every upload)."""
        self.env["ir.attachment"].flush_model(["cloud_folder_id", "cloud_item_id", "name"])
        self.env.cr.execute("""
            SELECT name FROM ir_attachment
             WHERE cloud_folder_id = %s AND cloud_item_id IS NOT NULL AND cloud_item_id != ''
               AND id != %s
        """, [folder.id, attachment.id])
        return {name for name, in self.env.cr.fetchall()}

    def _same_content(self, adapter, item, attachment, local_hash):
        """Does the cloud ``item`` hold exactly the attachment's bytes? Compared by the
        provider's hash when both sides have one, else by downloading it (rare: only when a
        retry finds a file of the chosen name)."""
        if local_hash and item.hash:
            return item.hash == local_hash
        remote = cloud.sha256_hex(adapter.download(item.id))
        return remote == cloud.sha256_hex(attachment._cloud_local_chunks())

    def _task_file_update(self, client, task, adapter):
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
        if remote is not None and content_differs(remote, attachment.cloud_size,
                                                  attachment.cloud_hash):
            # conflict: the cloud copy keeps the name; the Odoo version becomes a copy
            copy = attachment.copy({"name": self.env["ir.attachment"]._conflict_name(
                attachment.name), "res_model": attachment.res_model,
                "res_id": attachment.res_id})
            attachment.with_context(cloud_sync=True)._cloud_back_to_remote(remote)
            self.env["cloud.task"]._enqueue(client, "file_upload", folder=folder,
                                            attachment=copy)
            client._log("warning", self.env._(
                "Conflict on %(name)s: the cloud version keeps the name, "
                "the Odoo version was saved as %(copy)s",
                name=remote.name, copy=copy.name), record=attachment,
                        path=attachment.cloud_item_id, task=task)
            return
        if not folder.cloud_id:
            raise Deferred(self.env._("Waiting for the folder %s", folder.name))
        # the user replaced this version in Odoo: the new one is uploaded next to it and
        # verified before the old one goes, so that a failure never leaves neither
        final_name = remote.name if remote is not None else attachment.name
        # the old version gone: an earlier attempt may have done it all but the commit
        item = self._uploaded_earlier(client, adapter, folder, attachment) \
            if remote is None else None
        if item is None:
            upload_name = temporary_name(attachment.id, final_name)
            self._drop_stale_upload(adapter, folder, attachment, upload_name)
            item = self._upload_verified(client, adapter, attachment, folder, name=upload_name)
        if remote is not None:
            adapter.delete(remote.id)
        if is_temporary_name(item.name):
            item = self._rename_into_place(client, adapter, folder, item, final_name)
        attachment._cloud_mark_synced(client, folder, item, client._item_url(adapter, item))
        client._log("success", self.env._("New version uploaded: %s", item.name), record=attachment,
                    path=item.id, task=task)

    def _drop_stale_upload(self, adapter, folder, attachment, name):
        """An upload of an older local version that an attempt left under the temporary
        ``name`` (it stopped before its rename): the version now in Odoo replaced it, it
        goes. (One of this very version is adopted by the upload.)"""
        stale = adapter.find_child(folder.cloud_id, name)
        if stale is None or stale.is_folder:
            return
        if stale.size == attachment.file_size and self._same_content(
                adapter, stale, attachment,
                adapter.compute_hash(attachment._cloud_local_chunks())):
            return
        adapter.delete(stale.id)

    def _uploaded_earlier(self, client, adapter, folder, attachment):
        """The file of ``folder`` known to no attachment that holds exactly the attachment's
        local version, under any name: put there by an earlier attempt of the task whose
        answer was lost, or whose worker died before its commit (R-SAFE-3); it is adopted.
        None if there is none."""
        size = attachment.file_size
        candidates = [child for child in adapter.iter_children(folder.cloud_id)
                      if not child.is_folder and child.size == size]
        if not candidates:
            return None
        known = set(self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", client.id),
            ("cloud_item_id", "in", [child.id for child in candidates])]).mapped("cloud_item_id"))
        local_hash = adapter.compute_hash(attachment._cloud_local_chunks())
        for child in candidates:
            if child.id not in known and self._same_content(adapter, child, attachment,
                                                            local_hash):
                return adapter.adopt(child)
        return None

    def _rename_into_place(self, client, adapter, folder, item, name):
        """Give the verified new version the name of the one it replaced (or the next free
        one if somebody took it meanwhile)."""
        unit = self._name_unit(client)
        max_len = self._file_name_limit(adapter, folder)
        name = clean_name(name, max_length=max_len, keep_extension=True, unit=unit)
        candidate = name
        for counter in range(2, 102):
            try:
                return adapter.rename(item.id, candidate)
            except cloud.Conflict:
                candidate = with_counter(name, counter, max_len, keep_extension=True,
                                         unit=unit)
        raise cloud.Transient(self.env._("No free name for the new version of %s", name),
                              code="no_free_name", path=item.id)

    def _task_file_move(self, client, task, adapter):
        """The file's attachment moved to another record: the file moves to its folder."""
        attachment = task.attachment_id.sudo()
        folder = task.folder_id
        if not attachment or not attachment._cloud_is_file() or not folder \
                or attachment.cloud_folder_id == folder:
            return
        if not folder.cloud_id:
            raise Deferred(self.env._("Waiting for the folder %s", folder.name))
        unit = self._name_unit(client)
        taken = self._taken_names(folder, attachment)
        max_len = self._file_name_limit(adapter, folder)
        base = clean_name(attachment.name, max_length=max_len, keep_extension=True, unit=unit)
        for _attempt in range(100):
            name = assign_unique({0: (base, None)}, taken, max_len,
                                 keep_extension=True, unit=unit)[0]
            try:
                item = adapter.move(attachment.cloud_item_id, folder.cloud_id, name)
                break
            except cloud.Conflict:
                taken.add(name)  # a file Odoo does not know holds the name
        else:
            raise cloud.Transient(self.env._("No free name for %s", base), code="no_free_name",
                                  path=attachment.cloud_item_id)
        attachment._cloud_write_metadata({
            "cloud_folder_id": folder.id, "name": item.name,
            "cloud_subfolder_id": folder.id if folder.kind in SUBFOLDER_KINDS else False})
        client._log("success", self.env._("File moved to %s", folder._display_path()),
                    record=attachment, path=item.id, task=task)

    def _task_file_rename(self, client, task, adapter):
        """A user renamed a synced file in Odoo: its cloud file takes the name (cleaned for
        the provider, or the next free one when another item holds it). The cloud owns file
        names (R-BW-3): a rename made there meanwhile stands, Odoo's comes after it."""
        attachment = task.attachment_id.sudo()
        if not attachment or not attachment._cloud_is_file() \
                or attachment.cloud_client_id != client:
            return
        try:
            item = adapter.get_item(attachment.cloud_item_id)
        except cloud.NotFound:
            return  # deleted in the cloud: backward sync removes the attachment (R-BW-4)
        unit = self._name_unit(client)
        wanted = clean_name(attachment.name, keep_extension=True, unit=unit,
                            max_length=self._file_name_limit(adapter, attachment.cloud_folder_id))
        if item.name != wanted:
            former = item.name
            item = self._rename_into_place(client, adapter, attachment.cloud_folder_id, item,
                                           wanted)
            client._log("success", self.env._("File renamed in the cloud: %(old)s → %(new)s",
                                              old=former, new=item.name),
                        record=attachment, path=item.id, task=task)
        if item.name != attachment.name:
            attachment._cloud_write_metadata({"name": item.name})

    def _task_file_delete(self, client, task, adapter):
        payload = task.payload or {}
        cloud_id = payload.get("cloud_id")
        if not self._may_delete_cloud_item(client, task, cloud_id):
            return
        try:
            item = adapter.get_item(cloud_id)
            if item.is_folder:
                self._refuse_deletion(client, task, cloud_id, self.env._(
                    "it is a folder, not a file"))
                return
            if self._changed_since_deleted(item, [payload["size"], payload.get("hash")]
                                           if "size" in payload else None):
                # nobody in Odoo saw that version: it stays, the backward sync imports it
                # as a new file (R-SAFE-1)
                self._refuse_deletion(client, task, cloud_id, self.env._(
                    "it was changed in the cloud after its deletion in Odoo"))
                return
            adapter.delete(cloud_id)
        except cloud.NotFound:
            _logger.info("File %s was already gone", cloud_id)
        if payload.get("uploading") and task.folder_id.cloud_id:
            self._delete_temporary_uploads(adapter, task.folder_id, payload["uploading"])
        client._log("success", self.env._("File deleted: %s", payload.get("name")),
                    path=payload.get("cloud_id"), task=task)


def _depth(templates):
    """Levels of a default folder tree (0: none)."""
    return max((1 + _depth(t.child_ids) for t in templates), default=0)
