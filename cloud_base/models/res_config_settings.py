from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cloud_run_time_budget = fields.Integer(
        "Time budget of a queue run (s)", config_parameter="cloud_base.run_time_budget",
        help="Empty: 80% of the server's real-time limit for scheduled jobs.")
    cloud_max_attempts = fields.Integer(
        "Attempts before a task fails", config_parameter="cloud_base.max_attempts", default=6)
    cloud_log_retention_days = fields.Integer(
        "Keep logs (days)", config_parameter="cloud_base.log_retention_days", default=90)
    cloud_task_retention_days = fields.Integer(
        "Keep done tasks (days)", config_parameter="cloud_base.task_retention_days", default=7)
