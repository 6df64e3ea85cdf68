"""Direct sync, Odoo → cloud (R-DIR-1..7), as the client shows it: planning is the planner's
(``cloud.engine.planner``), the folder and file tasks are the direct engine's
(``cloud.engine.direct``); providers may extend ``_item_url``."""
from odoo import fields, models

from ..lib import adapter as cloud


class CloudClientDirect(models.Model):
    _inherit = "cloud.client"

    # what the planner keeps from one plan to the next (cloud.engine.planner): the plans
    # between two full ones look only at the records changed since the last one
    plan_changes_since = fields.Datetime(
        readonly=True, copy=False, groups="base.group_system",
        help="The next plan looks at the records changed after this time.")
    plan_written_at = fields.Datetime(
        readonly=True, copy=False, groups="base.group_system",
        help="The time the last plan's own writes carry (they are not changes to plan).")
    plan_full_at = fields.Datetime(
        "Last full planning", readonly=True, copy=False, groups="base.group_system",
        help="When every record was last planned; in between, only the changed ones are.")
    plan_signature = fields.Char(
        readonly=True, copy=False, groups="base.group_system",
        help="The rules and settings the last plan followed: when they change, the next "
             "plan is a full one.")

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
