from odoo import models


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def write(self, vals):
        res = super().write(vals)
        if self and set(vals) & self.env["cloud.sync.rule"]._naming_fields(self._name):
            # a renamed record's folder follows within a minute, not at the next planning
            self.env["cloud.client"]._plan_soon()
        return res

    def _thread_to_store(self, store, /, *, fields=None, request_list=None):
        """With the attachments of a record, send the link to its cloud folder (R-UI-2)."""
        super()._thread_to_store(store, fields=fields, request_list=request_list)
        if not request_list or "attachments" not in request_list:
            return
        Attachment = self.env["ir.attachment"]
        for thread in self:
            info = thread._cloud_folder_info()
            store.add(thread, {
                "cloud_folder": info or False,
                # the folders of its cloud folder, for the attachment box (issue 14)
                "cloud_folders": Attachment._cloud_folders_of(thread) if thread.id else False,
            }, as_thread=True)

    def _cloud_folder_info(self):
        """Link, client and provider of this record's object folder, if it has one."""
        self.ensure_one()
        if not self.id:
            return False
        folder = self.env["cloud.folder"].sudo().search([
            ("res_model", "=", self._name), ("res_id", "=", self.id),
            ("kind", "=", "object"), ("state", "=", "synced")], limit=1)
        if not folder or not folder.cloud_id:
            return False
        url = folder.url
        if not url:
            return False
        client = folder.client_id
        return {
            "url": url,
            "name": folder.cloud_name or folder.name,
            "provider": client.provider,
            "client": client.name,
            "logo": self.env["cloud.client"]._provider_logo_url(client.provider),
        }
