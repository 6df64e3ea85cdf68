"""Reverse sync, cloud → Odoo on reset/archive/client change (R-REV-1..3, R-CON-4)."""
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import adapter as cloud

_logger = logging.getLogger(__name__)


class CloudClientReverse(models.Model):
    _inherit = "cloud.client"

    reset_pending = fields.Boolean(readonly=True, copy=False,
                                   help="Files are being brought back before the reset ends.")
    archive_after_reset = fields.Boolean(readonly=True, copy=False)

    def _enqueue_reverse_for_folders(self, folders):
        """Queue the return into Odoo of every synced file below ``folders``."""
        Task = self.env["cloud.task"]
        attachments = self.env["ir.attachment"].sudo().search([
            ("cloud_folder_id", "child_of", folders.ids), ("cloud_kind", "=", "file")])
        for attachment in attachments:
            Task._enqueue(attachment.cloud_client_id, "reverse", attachment=attachment)
        return attachments

    def action_reset(self):
        """R-CON-4: disconnect after bringing every synced file back (cloud files stay)."""
        self._check_manager_rights()
        for client in self:
            if client.state not in ("connected", "reconnect", "error"):
                raise UserError(_("Only a connected client can be reset."))
            client._start_reverse()
        return True

    def action_archive(self):
        # R-REV-1: archiving brings the files back first (the record is archived at the end)
        return self.action_archive_client()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_synced_files(self):
        synced = self.env["ir.attachment"].sudo().search_count([
            ("cloud_client_id", "in", self.ids), ("cloud_kind", "=", "file")])
        if synced:
            raise UserError(_("%s files of this client live in the cloud. Reset or archive the "
                              "client first: this brings them back into Odoo.", synced))

    def action_archive_client(self):
        self._check_manager_rights()
        for client in self:
            client.archive_after_reset = True
            if client.state == "connected":
                client._start_reverse()
            else:
                client._finish_reset()
        return True

    def _start_reverse(self):
        self.ensure_one()
        Task = self.env["cloud.task"]
        # pending direct work is pointless now; reverse tasks take precedence (R-REV-2)
        Task.search([("client_id", "=", self.id), ("state", "=", "pending"),
                     ("type", "!=", "reverse")]).write({"state": "cancelled"})
        attachments = self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", self.id), ("cloud_kind", "=", "file")])
        for attachment in attachments:
            Task._enqueue(self, "reverse", attachment=attachment)
        self.reset_pending = True
        self._log("success", _("Reset started: %s files to bring back into Odoo.",
                               len(attachments)))
        if not attachments:
            self._finish_reset()

    def _task_reverse(self, task, adapter):
        attachment = task.attachment_id.sudo()
        if attachment and attachment._cloud_is_file():
            if attachment.store_fname or attachment.db_datas:
                attachment._cloud_forget()  # the newest content is already local
            else:
                self._reverse_one(attachment, adapter, task)
        if self.reset_pending and not self.env["cloud.task"].search_count([
                ("client_id", "=", self.id), ("type", "=", "reverse"),
                ("state", "in", ("pending", "running")), ("id", "!=", task.id)]):
            self._finish_reset()

    def _reverse_one(self, attachment, adapter, task):
        try:
            data = b"".join(adapter.download(attachment.cloud_item_id))
        except cloud.NotFound:
            # R-REV-3: keep the link, say so, never drop silently
            self._log("warning", _("%(name)s could not be brought back: it no longer exists "
                                   "in the cloud. The attachment keeps its link %(url)s.",
                                   name=attachment.name, url=attachment.url or "-"),
                      record=attachment, path=attachment.cloud_item_id, task=task)
            attachment._cloud_forget()
            return
        expected_hash = attachment.cloud_hash
        local_hash = adapter.compute_hash([data])
        if len(data) != attachment.cloud_size or (
                expected_hash and local_hash and local_hash != expected_hash):
            raise cloud.Transient(_("Downloaded content of %s does not match the cloud "
                                    "metadata", attachment.name), code="verify_failed",
                                  path=attachment.cloud_item_id)
        attachment._cloud_restore_binary(data)
        self._log("success", _("File brought back into Odoo: %s", attachment.name),
                  record=attachment, path=task.attachment_id.cloud_item_id, task=task)
        # a record now owned by another client's rule goes up there at its next direct
        # sync (R-REV-1), like any other local attachment

    def _finish_reset(self):
        Task = self.env["cloud.task"]
        Task.search([("client_id", "=", self.id), ("state", "=", "pending")]).write(
            {"state": "cancelled"})
        # folder links stay usable as plain links; folder records of this client go
        self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", self.id), ("cloud_kind", "=", "folder")])._cloud_forget()
        folders = self.env["cloud.folder"].search([("client_id", "=", self.id)])
        self.env["cloud.sync.rule"].search([("folder_id", "in", folders.ids)]).folder_id = False
        self.sudo().write({"root_folder_id": False, "change_cursor": False,
                           "reset_pending": False, "state": "draft"})
        folders.unlink()
        self._log("success", _("Reset finished: the client is disconnected; its cloud files "
                               "were left in place."))
        if self.archive_after_reset:
            self.write({"active": False, "state": "archived", "archive_after_reset": False})

    @api.model
    def _release_before_uninstall(self, providers=None):
        """Called by uninstall hooks: bring every synced file of the clients of ``providers``
        (all when None) back into Odoo, synchronously. Refuses (and so stops the uninstall)
        when files remain that cannot be fetched, e.g. a client waiting for Reconnect."""
        domain = [("provider", "in", providers)] if providers else []
        clients = self.with_context(active_test=False).search(domain)
        clients.filtered(lambda c: c.state == "connected")._reverse_all_now()
        left = self.env["ir.attachment"].sudo().search_count([
            ("cloud_client_id", "in", clients.ids), ("cloud_kind", "=", "file")])
        if left:
            raise UserError(_(
                "%s files still live in the cloud and could not be brought back into Odoo. "
                "Reconnect their clients (or fix the errors in the sync logs), then "
                "uninstall again.", left))

    def _reverse_all_now(self):
        """Synchronous reverse of every client (used when uninstalling)."""
        for client in self:
            client._start_reverse()
            self.env["cloud.task"].with_context(cloud_no_commit=True)._run_queue(time_budget=10 ** 9, client_ids=client.ids,
                                              task_types=["reverse"])
