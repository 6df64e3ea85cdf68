from odoo import fields, models


class CloudRuleFolder(models.Model):
    """A node of a rule's default folder tree (R-RULE-6)."""

    _name = "cloud.rule.folder"
    _description = "Default folder of a sync rule"
    _parent_store = True
    _order = "sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    rule_id = fields.Many2one("cloud.sync.rule", required=True, ondelete="cascade")
    parent_id = fields.Many2one("cloud.rule.folder", ondelete="cascade",
                                domain="[('rule_id', '=', rule_id)]")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("cloud.rule.folder", "parent_id")
