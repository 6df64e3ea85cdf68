import contextlib
import weakref
from collections import defaultdict

from odoo import api, fields, models

# The log buffers of the runs in progress, by database cursor (see ``CloudLog._buffered``).
_BUFFERS = weakref.WeakKeyDictionary()


class LogBuffer:
    """Success lines of a queue run, written in batches (issue 15).

    A line belongs to the task that wrote it: ``pending`` until that task's result is
    committed (``keep``), dropped with the task's transaction when it fails (``drop``), then
    written with the next batch (``flush``). Warnings and errors are never buffered: they are
    written in the task's own transaction, as are lines written outside a run."""

    def __init__(self):
        self.pending = []
        self.ready = []

    def add(self, vals):
        self.pending.append(vals)

    def keep(self):
        self.ready.extend(self.pending)
        self.pending = []

    def drop(self):
        self.pending = []

    def flush(self, env):
        """Write the kept lines (one INSERT) in the current transaction."""
        if self.ready:
            lines, self.ready = self.ready, []
            env["cloud.log"].sudo().create(lines)


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
    # precomputed: one INSERT per line (or per batch), no UPDATE after it
    log_day = fields.Date(compute="_compute_log_day", store=True, precompute=True)
    record_name = fields.Char("Record name", compute="_compute_record_name")

    @api.depends("create_date")
    def _compute_log_day(self):
        for log in self:
            # a line being created has no create_date yet: it gets the transaction's time
            log.log_day = (log.create_date or self.env.cr.now()).date()

    # ------------------------------------------------------------------------------------
    # Writing lines, in batches during a queue run
    # ------------------------------------------------------------------------------------
    @api.model
    def _add(self, vals):
        """Write one line now, or buffer it when a run buffers success lines."""
        buffer = _BUFFERS.get(self.env.cr)
        if buffer is not None and vals.get("level") == "success":
            buffer.add(vals)
            return
        self.sudo().create(vals)

    @api.model
    def _buffered_now(self):
        """The buffer of the run in progress on this cursor, or None."""
        return _BUFFERS.get(self.env.cr)

    @api.model
    @contextlib.contextmanager
    def _buffered(self):
        """Buffer the success lines written on this cursor (a queue run); yields the
        :class:`LogBuffer`, whose owner (the runner) keeps, drops and flushes lines, and
        flushes what is left before it ends. A run inside a task of another run has its own
        buffer: its lines end with the transaction of that task."""
        cr = self.env.cr
        outer = _BUFFERS.get(cr)
        buffer = _BUFFERS[cr] = LogBuffer()
        try:
            yield buffer
        finally:
            if outer is None:
                del _BUFFERS[cr]
            else:
                _BUFFERS[cr] = outer

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
