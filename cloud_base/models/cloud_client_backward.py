"""Backward sync, cloud → Odoo, as the client shows it: the ``backward`` task is the backward
engine's (``cloud.engine.backward``)."""
from odoo import models


class CloudClientBackward(models.Model):
    _inherit = "cloud.client"

    def _enqueue_backward(self):
        for client in self:
            if client.root_folder_id.cloud_id and not client.reset_pending:
                self.env["cloud.task"]._enqueue(client, "backward")
