"""Reverse sync, cloud → Odoo on reset, archive, rule moved to another client, uninstall
(R-REV-1..3, R-CON-4): every synced file is downloaded, verified and becomes a binary attachment
again; the cloud files stay. The client keeps the buttons and the reset state
(``cloud_client_reverse.py``); the ``reverse`` task runs through ``cloud.client._task_reverse``,
which provider add-ons extend (Dropbox revokes the file's shared links afterwards)."""
import contextlib
import logging
import os

from odoo import models

from ..lib import adapter as cloud
from ..lib.transfers import DownloadTransfer
from .cloud_task import TaskBatch

_logger = logging.getLogger(__name__)

#: during a reset, deletions queued before it run first (then the files come back)
DELETIONS_BEFORE_RESET = 4
#: codes of InvalidRequest meaning "this document has no bytes and cannot be exported"
NOT_EXPORTABLE = ("fileNotExportable", "exportSizeLimitExceeded", "cannotExportFile")
#: files above this size are moved into the filestore as downloaded, never read into memory
STREAMED_RESTORE_SIZE = 8 * 1024 * 1024


class CloudEngineReverse(models.AbstractModel):
    _name = "cloud.engine.reverse"
    _description = "Cloud sync reverse engine"

    def _enqueue_for_folders(self, folders):
        """Queue the return into Odoo of every synced file below ``folders``."""
        Task = self.env["cloud.task"]
        attachments = self.env["ir.attachment"].sudo().search([
            ("cloud_folder_id", "child_of", folders.ids), ("cloud_kind", "=", "file")])
        for attachment in attachments:
            Task._enqueue(attachment.cloud_client_id, "reverse", attachment=attachment)
        return attachments

    def _start(self, client):
        """Bring every synced file of ``client`` back; the reset ends with the last one."""
        client.ensure_one()
        Task = self.env["cloud.task"]
        # pending direct work is pointless now, but files deleted in Odoo are still deleted
        # in the cloud, first; then reverse tasks take precedence (R-REV-2)
        pending = Task.search([("client_id", "=", client.id), ("state", "=", "pending"),
                               ("type", "!=", "reverse")])
        deletions = pending.filtered(lambda t: t.type in ("file_delete", "folder_delete"))
        deletions.write({"priority": DELETIONS_BEFORE_RESET})
        (pending - deletions).write({"state": "cancelled"})
        attachments = self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", client.id), ("cloud_kind", "=", "file")])
        queue = TaskBatch(Task, client)
        for attachment in attachments:
            queue.add("reverse", attachment=attachment)
        queue.flush()
        client.reset_pending = True
        client._log("success", self.env._("Reset started: %s files to bring back into Odoo.",
                                 len(attachments)))
        if not attachments:
            client._finish_reset()

    def _task_reverse(self, client, task, adapter):
        attachment = task.attachment_id.sudo()
        if attachment and attachment._cloud_is_file():
            if attachment.store_fname or attachment.db_datas:
                attachment._cloud_forget()  # the newest content is already local
            else:
                self._reverse_one(client, attachment, adapter, task)
        self._check_reset_done(client, done=task)

    def _check_reset_done(self, client, done=None):
        """A reset ends with its last reverse task (``done``, or one that failed for good):
        finished when every file came back; otherwise stopped, in a clear state, with the
        files that could not be brought back named."""
        if not client.reset_pending:
            return
        Task = self.env["cloud.task"]
        domain = [("client_id", "=", client.id), ("state", "in", ("pending", "running")),
                  ("type", "in", ("reverse", "file_delete", "folder_delete"))]
        if done:
            domain.append(("id", "!=", done.id))
        if Task.search_count(domain):
            return
        left = self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", client.id), ("cloud_kind", "=", "file")])
        if not left:
            client._finish_reset()
            return
        message = self.env._(
            "Reset stopped: %(count)s files could not be brought back into Odoo (%(names)s). "
            "Their failed tasks say why; fix the cause, press Connect, then Reset again.",
            count=len(left), names=", ".join(left[:20].mapped("name")))
        client.sudo().write({"reset_pending": False, "archive_after_reset": False,
                             "state": "error", "state_message": message})
        client._log("error", message)

    def _reverse_transfers(self, client, tasks):
        """``{task id: DownloadTransfer}``: the downloads of those reverse ``tasks`` (one
        client's) the runner may start ahead in a thread (what :meth:`_task_reverse` would
        download: a synced file with no local content)."""
        transfers, items = {}, set()
        for task in tasks:
            attachment = task.attachment_id.sudo()
            if task.type != "reverse" or not attachment or not attachment._cloud_is_file() \
                    or attachment.store_fname or attachment.db_datas \
                    or attachment.cloud_item_id in items:
                continue
            items.add(attachment.cloud_item_id)
            transfers[task.id] = DownloadTransfer(attachment.cloud_item_id,
                                                  attachment._cloud_incoming_folder())
        return transfers

    def _reverse_one(self, client, attachment, adapter, task):
        export = adapter.export_format(attachment.mimetype)
        try:
            path, size, remote_hash, checksum = attachment._cloud_download_verifying(adapter)
        except cloud.InvalidRequest as exc:
            if not export and exc.code not in NOT_EXPORTABLE:
                raise
            # R-REV-3: a document the provider cannot export stays a link, and says so
            client._log("warning", self.env._(
                "%(name)s stays a link to the cloud: %(reason)s",
                name=attachment.name, reason=exc), record=attachment,
                path=attachment.cloud_item_id, task=task)
            attachment._cloud_forget()
            return
        except cloud.NotFound:
            # R-REV-3: keep the link, say so, never drop silently
            client._log("warning", self.env._(
                "%(name)s could not be brought back: it no longer exists "
                "in the cloud. The attachment keeps its link %(url)s.",
                name=attachment.name, url=attachment.url or "-"),
                        record=attachment, path=attachment.cloud_item_id, task=task)
            attachment._cloud_forget()
            return
        try:
            expected_hash = attachment.cloud_hash
            # (an export has no cloud size or hash to compare with)
            if not export and (size != attachment.cloud_size or (
                    expected_hash and remote_hash and remote_hash != expected_hash)):
                raise cloud.Transient(self.env._(
                    "Downloaded content of %s does not match the cloud metadata",
                    attachment.name), code="verify_failed", path=attachment.cloud_item_id)
            if size > STREAMED_RESTORE_SIZE and attachment._storage() == "file":
                attachment._cloud_restore_file(path, size, checksum)
            else:  # small, or kept in the database: Odoo's own write (and indexing)
                with open(path, "rb") as handle:
                    attachment._cloud_restore_binary(handle.read())
            if export:
                mimetype, extension = export
                name = attachment.name
                if not name.lower().endswith(extension.lower()):
                    name += extension
                attachment.with_context(cloud_sync=True).sudo().write(
                    {"name": name, "mimetype": mimetype})
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        client._log("success", self.env._("File brought back into Odoo: %s", attachment.name),
                    record=attachment, path=task.attachment_id.cloud_item_id, task=task)
        # a record now owned by another client's rule goes up there at its next direct
        # sync (R-REV-1), like any other local attachment

    def _run_now(self, clients):
        """Synchronous reverse of ``clients`` (used when uninstalling)."""
        for client in clients:
            client._start_reverse()
            self.env["cloud.task"].with_context(cloud_no_commit=True)._run_queue(
                time_budget=10 ** 9, client_ids=client.ids, task_types=["reverse"])
