from odoo import fields, models


class CloudGdrivePermission(models.Model):
    """A sharing permission the sync suite added to a Google Drive file (R-SEC-5): removed on
    reset, or when its file is brought back into Odoo."""
    _name = "cloud.gdrive.permission"
    _description = "Google Drive sharing permission created by the sync suite"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    item_id = fields.Char("Drive file id", required=True, index=True)
    permission_id = fields.Char("Drive permission id", required=True)
