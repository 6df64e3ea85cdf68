from collections import defaultdict

from odoo import api, fields, models


class CloudLog(models.Model):
    """One line per sync action or error (R-LOG-1/2)."""

    _name = "cloud.log"
    _description = "Cloud sync log"
    _order = "id desc"
    _rec_name = "message"

    client_id = fields.Many2one("cloud.client", index=True, ondelete="cascade")
    level = fields.Selection([("success", "Success"), ("warning", "Warning"),
                              ("error", "Error")], required=True, index=True)
    message = fields.Text(required=True)
    path = fields.Char(help="Cloud path or id of the item concerned")
    res_model = fields.Char("Model")
    res_id = fields.Many2oneReference("Record", model_field="res_model")
    task_type = fields.Char()
    log_day = fields.Date(compute="_compute_log_day", store=True)
    record_name = fields.Char("Record name", compute="_compute_record_name")

    @api.depends("create_date")
    def _compute_log_day(self):
        for log in self:
            log.log_day = log.create_date and log.create_date.date()

    def action_open_record(self):
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_window", "res_model": self.res_model,
                "res_id": self.res_id, "view_mode": "form", "target": "current"}

    @api.autovacuum
    def _gc_old_logs(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "cloud_base.log_retention_days", 90))
        self.search([("create_date", "<", fields.Datetime.subtract(
            fields.Datetime.now(), days=days))]).unlink()

    def _compute_record_name(self):
        # one existence check per model, not per line
        ids_by_model = defaultdict(set)
        for log in self:
            if log.res_model and log.res_id and log.res_model in self.env:
                ids_by_model[log.res_model].add(log.res_id)
        existing = {model: self.env[model].browse(ids).exists()
                    for model, ids in ids_by_model.items()}
        for log in self:
            records = existing.get(log.res_model)
            if not (records is not None and log.res_id):
                log.record_name = False
            elif log.res_id in records.ids:
                log.record_name = records.browse(log.res_id).display_name
            else:
                log.record_name = "%s,%s" % (log.res_model, log.res_id)
