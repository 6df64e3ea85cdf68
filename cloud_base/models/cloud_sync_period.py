from odoo import fields, models

from ..lib.periods import period_range


class CloudSyncPeriod(models.Model):
    """A relative period restricting the records of a sync rule (R-RULE-3)."""

    _name = "cloud.sync.period"
    _description = "Sync rule period"

    rule_id = fields.Many2one("cloud.sync.rule", required=True, ondelete="cascade")
    model_id = fields.Many2one(related="rule_id.model_id")
    field_id = fields.Many2one(
        "ir.model.fields", required=True, ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime')), "
               "('store', '=', True)]")
    direction = fields.Selection([("last", "Last"), ("next", "Next")], required=True,
                                 default="last")
    count = fields.Integer("Number", required=True, default=1)
    unit = fields.Selection([("days", "Days"), ("weeks", "Weeks"), ("months", "Months"),
                             ("years", "Years")], required=True, default="months")
    including_current = fields.Boolean("Including the current one")

    _sql_constraints = [("count_positive", "CHECK(count > 0)", "The number must be positive.")]

    def _as_tuple(self):
        self.ensure_one()
        return (self.field_id.name, self.direction, self.count, self.unit,
                self.including_current)

    def _range(self, today):
        self.ensure_one()
        return period_range(today, self.direction, self.count, self.unit,
                            self.including_current)
