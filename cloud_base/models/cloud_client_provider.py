"""Where the engines hand over to the client's provider (``lib.provider.Provider`` hooks)."""
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
        return result

    def _finish_reset(self):
        self._provider().reset_finishing(self.sudo())
        return super()._finish_reset()
