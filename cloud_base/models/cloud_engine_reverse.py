"""Reverse sync, cloud → Odoo on reset, archive, rule moved to another client, uninstall
(R-REV-1..3, R-CON-4): every synced file is downloaded, verified and becomes a binary attachment
again; the cloud files stay. The client keeps the buttons and the reset state
(``cloud_client_reverse.py``); the ``reverse`` task runs through ``cloud.client._task_reverse``,
which provider add-ons extend (Dropbox revokes the file's shared links afterwards)."""
import logging

from odoo import models

from ..lib import adapter as cloud
from .cloud_task import TaskBatch

_logger = logging.getLogger(__name__)


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
        # pending direct work is pointless now; reverse tasks take precedence (R-REV-2)
        Task.search([("client_id", "=", client.id), ("state", "=", "pending"),
                     ("type", "!=", "reverse")]).write({"state": "cancelled"})
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
        if client.reset_pending and not self.env["cloud.task"].search_count([
                ("client_id", "=", client.id), ("type", "=", "reverse"),
                ("state", "in", ("pending", "running")), ("id", "!=", task.id)]):
            client._finish_reset()

    def _reverse_one(self, client, attachment, adapter, task):
        try:
            data = b"".join(adapter.download(attachment.cloud_item_id))
        except cloud.NotFound:
            # R-REV-3: keep the link, say so, never drop silently
            client._log("warning", self.env._(
                "%(name)s could not be brought back: it no longer exists "
                "in the cloud. The attachment keeps its link %(url)s.",
                name=attachment.name, url=attachment.url or "-"),
                        record=attachment, path=attachment.cloud_item_id, task=task)
            attachment._cloud_forget()
            return
        expected_hash = attachment.cloud_hash
        local_hash = adapter.compute_hash([data])
        if len(data) != attachment.cloud_size or (
                expected_hash and local_hash and local_hash != expected_hash):
            raise cloud.Transient(self.env._("Downloaded content of %s does not match the cloud "
                                    "metadata", attachment.name), code="verify_failed",
                                  path=attachment.cloud_item_id)
        attachment._cloud_restore_binary(data)
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
