"""Backward sync, cloud → Odoo (R-BW-1..7, R-DIR-3, R-DIR-6, R-SAFE-2): the handler of the
``backward`` task.

One ``backward`` task per client reads the provider's change feed from the stored cursor, so
its cost follows the number of changes (R-BW-7). Only a ``ResetNeeded`` answer leads to a full
listing of the managed tree. Whether a file in a folder is Odoo's business, and whose, is the
folder's placement's answer (``cloud.folder._file_owner()``).
"""
import logging
import mimetypes

from odoo import fields, models

from ..lib import adapter as cloud
from ..lib.names import is_temporary_name
from ..lib.versions import content_differs, version_checksum
from .cloud_placement import SUBFOLDER_KINDS

#: the largest file an Odoo 18 attachment describes (``file_size`` is a 4-byte integer column)
ODOO_MAX_FILE_SIZE = 2 ** 31 - 1

_logger = logging.getLogger(__name__)


class CloudEngineBackward(models.AbstractModel):
    _name = "cloud.engine.backward"
    _description = "Cloud sync backward engine"

    # ------------------------------------------------------------------------------------
    # Reading the feed
    # ------------------------------------------------------------------------------------
    def _task_backward(self, client, task, adapter):
        engine, client = self.sudo(), client.sudo()  # the feed touches every user's files
        root = client.root_folder_id
        if not root.cloud_id:
            return
        feed_cursor = client.change_cursor
        if not feed_cursor:
            client.change_cursor = adapter.latest_cursor(root.cloud_id)
            return
        base = adapter.merge_base
        if base.is_empty():
            # a database of a version that kept the tree in the cursor: its feed cannot be
            # continued; one full listing builds the merge base
            client._log("warning", self.env._(
                "Building the list of known cloud items from one full listing (first run "
                "after an upgrade)."), task=task)
            feed_cursor = None
        # the merge base follows the feed only when its changes are applied: the deletion
        # guard rolls both back
        with self.env.cr.savepoint(flush=False) as savepoint:
            changes, feed_cursor = engine._read_feed(client, adapter, root, feed_cursor, task)
            base.flush()
            refused = engine._deletion_refused(client, changes)
            if refused:
                savepoint.close(rollback=True)
        if refused:
            engine._stop_for_deletions(client, refused, task)
            return  # the cursor is not advanced
        engine._apply_changes(client, changes, adapter, task)
        client.write({"change_cursor": feed_cursor, "last_backward_sync": fields.Datetime.now()})

    def _read_feed(self, client, adapter, root, feed_cursor, task):
        """The changes since ``feed_cursor`` (the latest state of each item) and the new
        cursor; a full listing when the feed was reset (or ``feed_cursor`` is None)."""
        changes = {}
        try:
            while feed_cursor:
                page = adapter.changes(root.cloud_id, feed_cursor)
                for change in page.changes:
                    changes[change.id] = change  # latest state wins
                feed_cursor = page.cursor
                if not page.has_more:
                    return list(changes.values()), feed_cursor
        except cloud.ResetNeeded:
            client._log("warning", self.env._(
                "The change feed was reset by the provider: listing the "
                "whole tree once."), task=task)
        feed_cursor = adapter.latest_cursor(root.cloud_id)
        changes = list(self._full_listing(client, adapter, root).values())
        adapter.merge_base.apply_changes(changes)
        return changes, feed_cursor

    def _full_listing(self, client, adapter, root):
        """Changes equivalent to "everything below the managed folders is as listed now"."""
        changes = {}
        folders = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                   ("cloud_id", "!=", False),
                                                   ("state", "!=", "detached")])
        listed = set()
        for folder in folders:
            try:
                for item in adapter.iter_children(folder.cloud_id):
                    changes[item.id] = cloud.Change(item.id, item=item)
                    listed.add(item.id)
                listed.add(folder.cloud_id)
            except cloud.NotFound:
                changes[folder.cloud_id] = cloud.Change(folder.cloud_id, deleted=True)
        # synced files and managed folders that no listing showed are gone
        known_files = self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", client.id), ("cloud_item_id", "!=", False)])
        for attachment in known_files:
            if attachment.cloud_item_id not in listed and \
                    attachment.cloud_folder_id.cloud_id in listed:
                changes[attachment.cloud_item_id] = cloud.Change(attachment.cloud_item_id,
                                                                 deleted=True)
        return changes

    # ------------------------------------------------------------------------------------
    # Applying changes
    # ------------------------------------------------------------------------------------
    def _apply_changes(self, client, changes, adapter, task):
        """Apply a batch of changes (the deletion guard let them through)."""
        if not changes:
            return
        Folder = self.env["cloud.folder"]
        Attachment = self.env["ir.attachment"].sudo().with_context(cloud_sync=True)
        ids = [c.id for c in changes]
        folders = {f.cloud_id: f for f in Folder.search([("client_id", "=", client.id),
                                                         ("cloud_id", "in", ids)])}
        attachments = {a.cloud_item_id: a for a in Attachment.search([
            ("cloud_client_id", "=", client.id), ("cloud_item_id", "in", ids)])}
        parent_ids = {c.item.parent_id for c in changes if c.item and c.item.parent_id}
        parents = {f.cloud_id: f for f in Folder.search([("client_id", "=", client.id),
                                                         ("cloud_id", "in", list(parent_ids))])}
        parents.update(folders)

        if client.deletion_confirmation_given or client.deletion_confirmation_needed:
            client.write({"deletion_confirmation_given": False,
                          "deletion_confirmation_needed": False})

        # folders first (so files can find their new parents), then files
        for change in sorted(changes, key=lambda c: not (c.item and c.item.is_folder)):
            # an earlier change of this batch may have removed the record (a deleted folder
            # takes its files along)
            if change.id in folders and not folders[change.id].exists():
                continue
            if change.id in attachments and (not attachments[change.id].exists() or
                                             attachments[change.id].cloud_item_id != change.id):
                continue  # (or now stands for another item: its own upload, found below)
            if change.id in folders:
                self._apply_folder_change(client, change, folders[change.id], task)
            elif change.id in attachments:
                self._apply_file_change(client, change, attachments[change.id], parents, adapter,
                                        task)
            elif not change.deleted and change.item.parent_id in parents and \
                    parents[change.item.parent_id].state != "detached":
                # an item added to a folder no longer synced stays in the cloud only (R-RULE-8/9)
                self._apply_new_item(client, change.item, parents[change.item.parent_id], adapter,
                                     task)

    def _deletion_refused(self, client, changes):
        """R-SAFE-2: ``(files, total, share)`` when ``changes`` would delete more than the
        configured share of the client's synced files (and nobody confirmed), else None."""
        ids = [c.id for c in changes]
        if not ids:
            return None
        Attachment = self.env["ir.attachment"].sudo()
        parent_ids = [c.item.parent_id for c in changes if c.item and c.item.parent_id]
        folders = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                   ("cloud_id", "in", ids + parent_ids)])
        known_folders = set(folders.mapped("cloud_id"))
        by_id = {c.id: c for c in changes}
        doomed = set()
        for attachment in Attachment.search([("cloud_client_id", "=", client.id),
                                             ("cloud_item_id", "in", ids),
                                             ("cloud_kind", "=", "file")]):
            change = by_id[attachment.cloud_item_id]
            if change.deleted or change.item.parent_id not in known_folders:
                doomed.add(attachment.id)
        lost_folders = folders.filtered(lambda f: f.cloud_id in by_id
                                        and by_id[f.cloud_id].deleted)
        if lost_folders:
            doomed.update(Attachment.search([
                ("cloud_folder_id", "child_of", lost_folders.ids),
                ("cloud_kind", "=", "file")]).ids)
        if not doomed:
            return None
        total = Attachment.search_count([("cloud_client_id", "=", client.id),
                                         ("cloud_kind", "=", "file")])
        share = 100.0 * len(doomed) / max(total, 1)
        if total < client.mass_delete_min_files or share <= client.mass_delete_share \
                or client.deletion_confirmation_given:
            return None
        return len(doomed), total, share

    def _stop_for_deletions(self, client, refused, task):
        files, total, share = refused
        client.write({"deletion_confirmation_needed": True})
        client._log("warning", self.env._(
            "Backward sync stopped: it would delete %(n)s of %(total)s synced files "
            "(%(share)d%%). If the files were really deleted in the cloud, press "
            "\"Confirm deletions\" on the client; otherwise check the storage.",
            n=files, total=total, share=share), task=task)

    def _apply_folder_change(self, client, change, folder, task):
        Task = self.env["cloud.task"]
        if change.deleted:
            if folder.kind in ("subfolder",):
                # a cloud-made subfolder vanished: drop its link attachment
                self.env["ir.attachment"].sudo().with_context(cloud_sync=True).search([
                    ("cloud_item_id", "=", folder.cloud_id),
                    ("cloud_client_id", "=", client.id)]).unlink()
                folder.unlink()
                return
            # R-DIR-6: recreate; the files inside are gone (R-BW-4), except a newer version
            # that exists only in Odoo (edited since its upload): it stays, as a local file
            # uploaded again into the recreated folder (R-SAFE-1)
            lost = self.env["ir.attachment"].sudo().with_context(cloud_sync=True).search([
                ("cloud_folder_id", "child_of", folder.id), ("cloud_kind", "!=", False)])
            newer_in_odoo = lost.filtered(lambda a: a.cloud_kind == "file"
                                          and (a.store_fname or a.db_datas))
            for attachment in newer_in_odoo:
                client._log("warning", self.env._(
                    "The cloud copy of %s was deleted with its folder; "
                    "the newer version in Odoo is uploaded again.",
                    attachment.name),
                            record=attachment, path=attachment.cloud_item_id, task=task)
            if newer_in_odoo:
                newer_in_odoo._cloud_keep_local_version()
            lost -= newer_in_odoo
            for attachment in lost:
                client._log("warning", self.env._("File deleted in the cloud: %s", attachment.name),
                            record=attachment, path=attachment.cloud_item_id, task=task)
            lost.unlink()
            for lost_folder in self.env["cloud.folder"].search([("id", "child_of", folder.id)]):
                detached = lost_folder.state == "detached"  # not synced: not recreated
                lost_folder.write({"cloud_id": False, "cloud_name": False,
                                   "state": "detached" if detached else "pending",
                                   "synced_parent_id": False})
                if detached:
                    continue
                if lost_folder.kind != "subfolder":
                    Task._enqueue(client, "folder_create", folder=lost_folder)
                else:
                    lost_folder.unlink()
            client._log("warning", self.env._("Folder deleted in the cloud, will be recreated: %s",
                                     folder.name), path=folder._display_path(), task=task)
            return
        item = change.item
        if folder.kind == "subfolder":
            link = self.env["ir.attachment"].sudo().search([("cloud_item_id", "=", item.id),
                                                            ("cloud_client_id", "=", client.id)])
            folder.write({"name": item.name, "cloud_name": item.name})
            link.with_context(cloud_sync=True).write({"name": item.name})
            return
        # R-DIR-3: Odoo owns folder names and places; put it back
        parent = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                  ("cloud_id", "=", item.parent_id)], limit=1)
        folder.write({"cloud_name": item.name, "synced_parent_id": parent.id})
        if folder.synced_parent_id != folder.parent_id:
            Task._enqueue(client, "folder_move", folder=folder)
            client._log("warning", self.env._("Folder %s was moved in the cloud; moving it back.",
                                     folder.name), path=item.id, task=task)
        elif item.name != folder.name:
            Task._enqueue(client, "folder_rename", folder=folder)
            client._log("warning", self.env._(
                "Folder %(cloud)s was renamed in the cloud; renaming it "
                "back to %(name)s.", cloud=item.name, name=folder.name),
                        path=item.id, task=task)

    def _apply_file_change(self, client, change, attachment, parents, adapter, task):
        if attachment.cloud_kind == "folder":
            if change.deleted:
                attachment.unlink()
            return
        new_parent = parents.get(change.item.parent_id) if change.item else None
        owner = new_parent._file_owner() if new_parent is not None else None
        if change.deleted or owner is None:
            # R-BW-4, R-BW-5 (moved outside any object folder = deleted)
            client._log("success", self.env._("File deleted in the cloud: %s", attachment.name),
                        record=attachment, path=attachment.cloud_item_id, task=task)
            if attachment.store_fname or attachment.db_datas:
                # a newer local version exists: keep it as a plain Odoo file (R-SAFE-1)
                attachment._cloud_keep_local_version()
                return
            attachment.unlink()
            return
        item = change.item
        vals = {}
        if item.name != attachment.name:
            vals["name"] = item.name  # R-BW-3
        if new_parent != attachment.cloud_folder_id:
            vals["cloud_folder_id"] = new_parent.id  # R-BW-5
            # the cloud owns where files are, between the subfolders of a record as well
            vals["cloud_subfolder_id"] = _subfolder(new_parent)
            if owner[0] and owner != (attachment.res_model, attachment.res_id):
                vals.update(res_model=owner[0], res_id=owner[1])
        if content_differs(item, attachment.cloud_size, attachment.cloud_hash) and \
                self._too_large(client, item, task, record=attachment):
            pass  # its name and place still follow the cloud
        elif content_differs(item, attachment.cloud_size, attachment.cloud_hash):
            # R-BW-6; the checksum (Odoo's ETag of the file) follows the cloud version
            vals.update(cloud_hash=item.hash, cloud_size=item.size,
                        checksum=version_checksum(item, adapter.hash_kind))
            if attachment.store_fname or attachment.db_datas:
                # changed on both sides: the Odoo-side upload task detects the conflict
                for key in ("cloud_hash", "cloud_size", "checksum"):
                    vals.pop(key)
        if not vals:
            return
        attachment._cloud_write_metadata(vals)
        client._log("success", self.env._("File updated from the cloud: %s", item.name),
                    record=attachment, path=item.id, task=task)

    def _apply_new_item(self, client, item, parent, adapter, task):
        Attachment = self.env["ir.attachment"].sudo().with_context(cloud_sync=True)
        owner = parent._file_owner()
        if owner is None:
            return  # outside the folders of records: not Odoo's business
        if not item.is_folder and is_temporary_name(item.name):
            return  # a new version the direct sync is uploading
        res_model, res_id = owner
        own = not item.is_folder and self._own_upload(client, item, owner, adapter)
        if own:
            own._cloud_mark_synced(client, parent, item, client._item_url(adapter, item))
            client._log("success", self.env._(
                "File found in the cloud, uploaded by an attempt that did not finish: %s",
                item.name), record=own, path=item.id, task=task)
            return
        if item.is_folder:
            if not parent._links_subfolders():
                return  # R-BW-2: first level of an object folder only
            sub = self.env["cloud.folder"].create({
                "name": item.name, "cloud_name": item.name, "cloud_id": item.id,
                "client_id": client.id, "kind": "subfolder", "parent_id": parent.id,
                "synced_parent_id": parent.id, "state": "synced",
                "res_model": res_model, "res_id": res_id, "rule_id": parent.rule_id.id})
            Attachment.create({
                "name": item.name, "type": "url", "url": client._item_url(adapter, item),
                "res_model": res_model, "res_id": res_id, "cloud_client_id": client.id,
                "cloud_folder_id": sub.id, "cloud_item_id": item.id, "cloud_kind": "folder",
                "mimetype": "application/x-directory"})
            client._log("success", self.env._("Cloud subfolder linked: %s", item.name),
                        path=item.id, task=task)
            return
        if self._too_large(client, item, task):
            return
        attachment = Attachment.create({
            "name": item.name, "type": "url", "url": client._item_url(adapter, item),
            "res_model": res_model, "res_id": res_id, "cloud_client_id": client.id,
            "cloud_folder_id": parent.id, "cloud_item_id": item.id, "cloud_kind": "file",
            "cloud_subfolder_id": _subfolder(parent),
            "cloud_size": item.size, "cloud_hash": item.hash,
            "mimetype": item.mimetype or self._guess_mimetype(item.name)})
        attachment._cloud_write_metadata({"file_size": item.size,
                                          "checksum": version_checksum(item, adapter.hash_kind)})
        client._log("success", self.env._("File imported from the cloud: %s", item.name),
                    record=attachment, path=item.id, task=task)

    def _too_large(self, client, item, task, record=None):
        """Is the cloud file ``item`` larger than an Odoo attachment can describe? Then it
        stays in the cloud only (nothing is lost: the cloud holds it), and the log says so."""
        if (item.size or 0) <= ODOO_MAX_FILE_SIZE:
            return False
        client._log("warning", self.env._(
            "%(name)s (%(size)s bytes) is larger than the 2 GiB an Odoo attachment can hold: "
            "it stays in the cloud and is not brought into Odoo.", name=item.name,
            size=item.size), record=record, path=item.id, task=task)
        return True

    def _own_upload(self, client, item, owner, adapter):
        """The attachment of ``owner`` whose local version the new cloud file ``item`` is,
        uploaded by a task that did its cloud part and did not commit (its worker died, a
        crash, an answer lost) and waits for its retry; None if there is none. Imported as a
        new file, it would be that file twice (R-SAFE-3)."""
        waiting = self.env["cloud.task"].sudo().search([
            ("client_id", "=", client.id), ("type", "in", ("file_upload", "file_update")),
            ("state", "in", ("pending", "running", "failed")),
            ("attachment_id.res_model", "=", owner[0]), ("attachment_id.res_id", "=", owner[1]),
            ("attachment_id.file_size", "=", item.size)])
        direct = self.env["cloud.engine.direct"]
        for attachment in waiting.attachment_id:
            if (attachment.store_fname or attachment.db_datas) and direct._same_content(
                    adapter, item, attachment,
                    adapter.compute_hash(attachment._cloud_local_chunks())):
                return attachment
        return None

    def _guess_mimetype(self, name):
        return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _subfolder(folder):
    """The ``cloud_subfolder_id`` of a file in ``folder``: the folder when it is a subfolder of
    its record (default or manual), else none (directly in the record's folder)."""
    return folder.id if folder.kind in SUBFOLDER_KINDS else False
