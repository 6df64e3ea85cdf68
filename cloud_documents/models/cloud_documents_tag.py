from random import randint

from odoo import fields, models


class CloudDocumentsTag(models.Model):
    """A tag of documents folders and files."""

    _name = "cloud.documents.tag"
    _description = "Documents tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer(default=lambda self: randint(1, 11))

    _sql_constraints = [
        ("name_unique", "unique(name)", "A tag of this name exists already."),
    ]
