from odoo import fields, models


class CloudGoogleDrive(models.Model):
    """A shared drive the connected account of a client is a member of (the list the form
    offers)."""

    _name = "cloud.gdrive.drive"
    _description = "Google shared drive"
    _order = "name"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade")
    drive_id = fields.Char("Drive id", required=True)
    name = fields.Char(required=True)

    _sql_constraints = [("drive_unique", "unique(client_id, drive_id)",
                         "A shared drive is listed once per client.")]
