from odoo import fields, models

from .ir_attachment import DEFAULT_LOCAL_MIMETYPES, LOCAL_MIMETYPES_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    cloud_run_time_budget = fields.Integer(
        "Time budget of a queue run (s)", config_parameter="cloud_base.run_time_budget",
        help="Empty: 80% of the server's real-time limit for scheduled jobs.")
    cloud_max_attempts = fields.Integer(
        "Attempts before a task fails", config_parameter="cloud_base.max_attempts", default=6)
    cloud_full_plan_hours = fields.Integer(
        "Hours between full plans", config_parameter="cloud_base.full_plan_hours", default=24,
        help="Planning looks at the records changed since its last run; every so many hours "
             "(and when a rule or these settings change) it looks at every record again.")
    cloud_log_retention_days = fields.Integer(
        "Keep logs (days)", config_parameter="cloud_base.log_retention_days", default=90)
    cloud_task_retention_days = fields.Integer(
        "Keep done tasks (days)", config_parameter="cloud_base.task_retention_days", default=7)
    cloud_local_mimetypes = fields.Char(
        "Types kept in Odoo", config_parameter=LOCAL_MIMETYPES_PARAM,
        default=",".join(DEFAULT_LOCAL_MIMETYPES),
        help="Comma-separated MIME types of attachments that never go to the cloud (web "
             "resources Odoo serves itself by default). Each skipped file is logged once.")
