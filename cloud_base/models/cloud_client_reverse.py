"""Reverse sync, cloud → Odoo on reset/archive/client change (R-REV-1..3, R-CON-4), as the
client shows it: buttons and reset state here, the work in ``cloud.engine.reverse``."""
from odoo import api, fields, models
from odoo.exceptions import UserError


class CloudClientReverse(models.Model):
    _inherit = "cloud.client"

    reset_pending = fields.Boolean(readonly=True, copy=False,
                                   help="Files are being brought back before the reset ends.")
    archive_after_reset = fields.Boolean(readonly=True, copy=False)
    reset_folder_ids = fields.Json(
        "Folders before the reset", readonly=True, copy=False, groups="base.group_system",
        help="The cloud ids of the rule and object folders when the client was last reset: a "
             "reconnect to the same account links them again, wherever they are now.")

    # the folders a reset forgets, remembered for a reconnect to the same account
    @api.model
    def _reset_folder_key(self, folder):
        if folder.kind == "rule" and folder.rule_id:
            return "rule:%s" % folder.rule_id.id
        if folder.kind == "object" and folder.res_model and folder.res_id:
            return "object:%s:%s" % (folder.res_model, folder.res_id)
        return None

    def _remember_folders_before_reset(self, folders):
        self.ensure_one()
        remembered = {}
        for folder in folders.filtered(lambda f: f.cloud_id and f.state != "detached"):
            key = self._reset_folder_key(folder)
            if key:
                remembered[key] = folder.cloud_id
        self.sudo().reset_folder_ids = remembered or False

    def _claimed_after_reset(self, cloud_id):
        """Is ``cloud_id`` the folder a rule or record had before the last reset, whose folder
        record waits to be linked again? (Then it is that folder's, wherever it is now.)"""
        self.ensure_one()
        keys = [key for key, value in (self.sudo().reset_folder_ids or {}).items()
                if value == cloud_id]
        if not keys:
            return False
        waiting = self.env["cloud.folder"].search([
            ("client_id", "=", self.id), ("cloud_id", "=", False),
            ("state", "!=", "detached"), ("kind", "in", ("rule", "object"))])
        return any(self._reset_folder_key(folder) in keys for folder in waiting)

    def _folder_before_reset(self, folder):
        """The cloud id ``folder`` had before the last reset of this client (taken: a
        reconnect links it once), or None."""
        self.ensure_one()
        remembered = dict(self.sudo().reset_folder_ids or {})
        cloud_id = remembered.pop(self._reset_folder_key(folder) or "", None)
        if cloud_id:
            self.sudo().reset_folder_ids = remembered or False
        return cloud_id

    def _enqueue_reverse_for_folders(self, folders):
        """Queue the return into Odoo of every synced file below ``folders``."""
        return self.env["cloud.engine.reverse"]._enqueue_for_folders(folders)

    def action_reset(self):
        """R-CON-4: disconnect after bringing every synced file back (cloud files stay)."""
        self._check_manager_rights()
        for client in self:
            if client.state not in ("connected", "reconnect", "error"):
                raise UserError(self.env._("Only a connected client can be reset."))
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
            raise UserError(self.env._(
                "%s files of this client live in the cloud. Reset or archive the client "
                "first: this brings them back into Odoo.", synced))

    def action_archive_client(self):
        self._check_manager_rights()
        for client in self:
            if client.state != "connected" and client._has_synced_files():
                # its files can only come back through a working connection
                raise UserError(self.env._(
                    "%s cannot be archived now: some of its files live in the cloud and it is "
                    "not connected. Reconnect it first; archiving then brings the files back "
                    "into Odoo.", client.name))
            client.archive_after_reset = True
            if client.state == "connected":
                client._start_reverse()
            else:
                client._finish_reset()
        return True

    def _start_reverse(self):
        self.ensure_one()
        return self.env["cloud.engine.reverse"]._start(self)

    def _task_reverse(self, task, adapter):
        """Handler of the ``reverse`` task (see ``cloud.task._task_types()``), on the client
        so that provider add-ons extend it with ``super()``."""
        return self.env["cloud.engine.reverse"]._task_reverse(self, task, adapter)

    def _finish_reset(self):
        Task = self.env["cloud.task"]
        Task.search([("client_id", "=", self.id), ("state", "=", "pending")]).write(
            {"state": "cancelled"})
        # folder links stay usable as plain links; folder records of this client go
        self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", self.id), ("cloud_kind", "=", "folder")])._cloud_forget()
        folders = self.env["cloud.folder"].search([("client_id", "=", self.id)])
        self._remember_folders_before_reset(folders)
        self.env["cloud.sync.rule"].search([("folder_id", "in", folders.ids)]).folder_id = False
        self._forget_cloud_tree()
        self.sudo().write({"root_folder_id": False, "reset_pending": False, "state": "draft"})
        self.env["ir.attachment"].sudo()._cloud_remember_subfolders(folders)
        folders.unlink()
        self._log("success", self.env._(
            "Reset finished: the client is disconnected; its cloud files were left in place."))
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
            raise UserError(self.env._(
                "%s files still live in the cloud and could not be brought back into Odoo. "
                "Reconnect their clients (or fix the errors in the sync logs), then "
                "uninstall again.", left))

    def _reverse_all_now(self):
        """Synchronous reverse of every client (used when uninstalling)."""
        self.env["cloud.engine.reverse"]._run_now(self)
