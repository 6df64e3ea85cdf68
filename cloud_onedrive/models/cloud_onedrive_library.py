from odoo import fields, models


class CloudOneDriveLibrary(models.Model):
    _name = "cloud.onedrive.library"
    _description = "SharePoint document library"
    _order = "name, id"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade")
    drive_id = fields.Char("Drive id", required=True)
    name = fields.Char(required=True)
    web_url = fields.Char("Address")
