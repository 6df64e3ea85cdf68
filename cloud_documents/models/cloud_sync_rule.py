from odoo import api, models

from .documents_placement import WORKSPACE


class CloudSyncRule(models.Model):
    _inherit = "cloud.sync.rule"

    @api.model
    def _placement_strategies(self):
        return dict(super()._placement_strategies(), **{WORKSPACE.key: WORKSPACE})
