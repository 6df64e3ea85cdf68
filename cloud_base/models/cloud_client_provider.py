"""Where the engines hand over to the client's provider (``lib.provider.Provider`` hooks), and
the revocation of the shared links the suite created (R-SEC-5)."""
from odoo import models


class CloudClientProvider(models.Model):
    _inherit = "cloud.client"

    def _item_url(self, adapter, item):
        url = self._provider().item_url(self.sudo(), adapter, item)
        return super()._item_url(adapter, item) if url is None else url

    def _task_reverse(self, task, adapter):
        item_id = task.attachment_id.sudo().cloud_item_id
        result = super()._task_reverse(task, adapter)
        if item_id:
            self._provider().item_released(self.sudo(), item_id)
            self._revoke_shared_links(item_id)
        return result

    def _finish_reset(self):
        self._provider().reset_finishing(self.sudo())
        if self.state in ("connected", "error"):
            # also the links of files that went away meanwhile (replaced versions, deletions)
            self._revoke_shared_links()
        return super()._finish_reset()

    def _revoke_shared_links(self, item_id=None):
        """Revoke the links the suite created: those of ``item_id`` once no attachment of
        this client holds it any more, or all of them (``item_id`` None)."""
        self.ensure_one()
        if not self._provider().capabilities.revokes_links:
            return
        client = self.sudo()
        domain = [("client_id", "=", client.id)]
        if item_id:
            if client.env["ir.attachment"].search_count([
                    ("cloud_client_id", "=", client.id), ("cloud_item_id", "=", item_id)]):
                return  # still synced (another attachment of the same file)
            domain.append(("item_id", "=", item_id))
        client.env["cloud.shared.link"].search(domain)._revoke()
