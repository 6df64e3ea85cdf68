"""What the web client needs from the models (R-UI-1..6, R-LOG-3, R-RULE-5/6).

Kept apart from the sync engine: nothing here changes how files are synced.
"""
import logging
from collections import defaultdict

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

GENERIC_LOGO = "/cloud_base/static/src/img/providers/cloud.svg"


class CloudClientUi(models.Model):
    _inherit = "cloud.client"

    provider_logo_url = fields.Char(compute="_compute_provider_logo_url")
    color = fields.Integer(compute="_compute_provider_logo_url")
    rule_count = fields.Integer(compute="_compute_rule_count", string="Rules")

    @api.model
    def _provider_logo_url(self, provider):
        """Logo of a provider (kanban cards, badges, attachment thumbnails)."""
        spec = self._provider_registry().get(provider)
        return spec.logo if spec else GENERIC_LOGO

    @api.depends("provider", "state")
    def _compute_provider_logo_url(self):
        colors = {"connected": 10, "reconnect": 2, "error": 1, "draft": 0, "archived": 0}
        for client in self:
            client.provider_logo_url = (client._provider_logo_url(client.provider)
                                        if client.provider else GENERIC_LOGO)
            client.color = colors.get(client.state, 0)

    def _compute_rule_count(self):
        for client in self:
            client.rule_count = len(client.rule_ids)

    def action_open_rules(self):
        action = self._client_action("cloud_base.action_cloud_sync_rule")
        action["context"] = {"default_client_id": self.id}
        return action

    def action_open_logs(self):
        return self._client_action("cloud_base.action_cloud_log")

    def action_open_failed_tasks(self):
        action = self.action_open_tasks()
        action["context"] = {"search_default_failed": 1}
        return action

    def action_retry_failed_notify(self):
        self._check_manager_rights()
        count = self.env["cloud.task"].search_count([("client_id", "in", self.ids),
                                                     ("state", "=", "failed")])
        self.action_retry_failed()
        return self._notify(_("%s failed task(s) queued again.", count))


class CloudSyncRuleUi(models.Model):
    _inherit = "cloud.sync.rule"

    name_preview_error = fields.Boolean(compute="_compute_name_preview_error")
    default_folders_tree = fields.Json(
        "Default folder tree", compute="_compute_default_folders_tree",
        inverse="_inverse_default_folders_tree",
        help="Subfolders created in each new object folder (R-RULE-6).")
    client_state = fields.Selection(related="client_id.state", string="Client state")

    @api.depends("name_expression", "model_id", "domain", "period_ids",
                 "period_ids.field_id", "period_ids.direction", "period_ids.count",
                 "period_ids.unit", "period_ids.including_current")
    def _compute_name_preview(self):
        # the sample record follows the filter and periods being edited, not only the model
        return super()._compute_name_preview()

    @api.depends("name_preview")
    def _compute_name_preview_error(self):
        prefix = _("Error: %s", "")
        for rule in self:
            rule.name_preview_error = bool(rule.name_preview and
                                           rule.name_preview.startswith(prefix))

    @api.depends("default_folder_ids", "default_folder_ids.name",
                 "default_folder_ids.parent_id", "default_folder_ids.sequence")
    def _compute_default_folders_tree(self):
        for rule in self:
            nodes = {}
            roots = []
            folders = rule.default_folder_ids.sorted(lambda f: (f.sequence, f.id or 0))
            for folder in folders:
                nodes[folder.id] = {"id": folder._origin.id or False, "name": folder.name,
                                    "children": []}
            for folder in folders:
                parent = nodes.get(folder.parent_id.id) if folder.parent_id else None
                (parent["children"] if parent else roots).append(nodes[folder.id])
            rule.default_folders_tree = roots

    def _inverse_default_folders_tree(self):
        Folder = self.env["cloud.rule.folder"]
        for rule in self:
            tree = rule.default_folders_tree or []
            existing = Folder.search([("rule_id", "=", rule.id)])
            kept = set()

            def walk(nodes, parent_id):
                for sequence, node in enumerate(nodes or []):
                    name = (node.get("name") or "").strip()
                    if not name:
                        continue
                    vals = {"name": name, "parent_id": parent_id, "sequence": sequence}
                    folder = existing.filtered(lambda f, i=node.get("id"): f.id == i)
                    if folder:
                        folder.write(vals)
                    else:
                        folder = Folder.create(dict(vals, rule_id=rule.id))
                    kept.add(folder.id)
                    walk(node.get("children"), folder.id)

            walk(tree, False)
            (existing.filtered(lambda f: f.id not in kept)).exists().unlink()


class CloudLogUi(models.Model):
    _inherit = "cloud.log"

    record_name = fields.Char("Record name", compute="_compute_record_name")

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


class IrAttachmentUi(models.Model):
    _inherit = "ir.attachment"

    def _to_store(self, store, /, *, fields=None, extra_fields=None):
        """Attachments reach the chatter through the mail store: add what the badge, the folder
        icon and the 'Open in cloud' link need (R-UI-1, R-UI-2, R-UI-5)."""
        super()._to_store(store, fields=fields, extra_fields=extra_fields)
        Client = self.env["cloud.client"]
        for attachment in self:
            kind = attachment.cloud_kind if attachment.cloud_item_id else False
            if not kind:
                continue
            client = attachment.sudo().cloud_client_id
            store.add(attachment, {
                "cloud_kind": kind,
                "cloud_provider": client.provider or False,
                "cloud_provider_name": client.name or False,
                "cloud_provider_logo": Client._provider_logo_url(client.provider)
                if client.provider else GENERIC_LOGO,
                "cloud_url": attachment.url or False,
            })


class MailThreadUi(models.AbstractModel):
    _inherit = "mail.thread"

    def _thread_to_store(self, store, /, *, fields=None, request_list=None):
        """With the attachments of a record, send the link to its cloud folder (R-UI-2)."""
        super()._thread_to_store(store, fields=fields, request_list=request_list)
        if not request_list or "attachments" not in request_list:
            return
        for thread in self:
            info = thread._cloud_folder_info()
            store.add(thread, {"cloud_folder": info or False}, as_thread=True)

    def _cloud_folder_info(self):
        """Link, client and provider of this record's object folder, if it has one."""
        self.ensure_one()
        if not self.id:
            return False
        folder = self.env["cloud.folder"].sudo().search([
            ("res_model", "=", self._name), ("res_id", "=", self.id),
            ("kind", "=", "object"), ("state", "=", "synced")], limit=1)
        if not folder or not folder.cloud_id:
            return False
        url = folder.url
        if not url:
            return False
        client = folder.client_id
        return {
            "url": url,
            "name": folder.cloud_name or folder.name,
            "provider": client.provider,
            "client": client.name,
            "logo": self.env["cloud.client"]._provider_logo_url(client.provider),
        }


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
