"""Direct sync, Odoo → cloud (R-DIR-1..7), as the client shows it: planning is the planner's
(``cloud.engine.planner``), the folder and file tasks are the direct engine's
(``cloud.engine.direct``); providers may extend ``_item_url``."""
from odoo import models

from ..lib import adapter as cloud


class CloudClientDirect(models.Model):
    _inherit = "cloud.client"

    def _prepare_direct(self):
        """Queue the tasks that bring the cloud in line with Odoo for this client; nothing
        while a reset brings its files back."""
        self.ensure_one()
        if self.reset_pending:
            return False
        # the engine's view of the rules' records, not the record rules (e.g. companies) of
        # the administrator who pressed Sync now
        return self.env["cloud.engine.planner"].sudo()._plan(self.sudo())

    def _item_url(self, adapter, item):
        """The link stored on the attachment of a synced file or folder (providers extend it,
        e.g. Dropbox's shared-link policy)."""
        try:
            return adapter.web_url(item)
        except cloud.CloudError:
            return False
