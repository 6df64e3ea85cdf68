from odoo import fields, models


class CloudDropboxLink(models.Model):
    """A Dropbox shared link the suite created (R-SEC-5): revoked on reset or when its file is
    brought back into Odoo."""
    _name = "cloud.dropbox.link"
    _description = "Dropbox shared link created by the sync suite"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    item_id = fields.Char("Dropbox item id", required=True, index=True)
    url = fields.Char(required=True)
