from odoo import api, fields, models


class CloudClientSecret(models.Model):
    """Secrets of cloud clients (passwords, client secrets, tokens), one row per value.

    Kept out of ``cloud.client`` so that no view, export or RPC read of a client can return
    them (R-CON-5): only system administrators have access to this model, and the client form
    only shows whether a secret is set.
    """

    _name = "cloud.client.secret"
    _description = "Cloud client secret"
    _log_access = False

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    key = fields.Char(required=True)
    value = fields.Char()

    _sql_constraints = [
        ("client_key_unique", "unique(client_id, key)", "A secret is stored once per client."),
    ]

    @api.model
    def _get(self, client, key):
        row = self.sudo().search([("client_id", "=", client.id), ("key", "=", key)], limit=1)
        return row.value or False

    @api.model
    def _set(self, client, key, value):
        row = self.sudo().search([("client_id", "=", client.id), ("key", "=", key)], limit=1)
        if not value:
            row.unlink()
        elif row:
            row.value = value
        else:
            self.sudo().create({"client_id": client.id, "key": key, "value": value})
