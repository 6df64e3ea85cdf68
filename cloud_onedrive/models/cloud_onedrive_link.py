from odoo import fields, models


class CloudOneDriveLink(models.Model):
    """A OneDrive/SharePoint sharing link the suite created (R-SEC-5): its permission is
    deleted on reset or when its file is brought back into Odoo."""
    _name = "cloud.onedrive.link"
    _description = "OneDrive / SharePoint sharing link created by the sync suite"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    item_id = fields.Char("Drive item id", required=True, index=True)
    permission_id = fields.Char("Permission id", required=True)
    url = fields.Char(required=True)
