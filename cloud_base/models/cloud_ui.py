"""What the web client needs from the models (R-UI-1..6, R-LOG-3, R-RULE-5/6).

Kept apart from the sync engine: nothing here changes how files are synced.
"""
import logging

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)


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
            existing = Folder.search([("rule_id", "=", rule.id)])
            kept = rule._save_default_folders(rule.default_folders_tree or [], False, existing)
            existing.filtered(lambda f, kept=kept: f.id not in kept).exists().unlink()

    def _save_default_folders(self, nodes, parent_id, existing):
        """Create or update the default folders of ``nodes`` (a tree of ``{id, name,
        children}``) under ``parent_id``; returns the ids of the folders kept."""
        self.ensure_one()
        by_id = {folder.id: folder for folder in existing}
        kept = set()
        for sequence, node in enumerate(nodes or []):
            name = (node.get("name") or "").strip()
            if not name:
                continue
            vals = {"name": name, "parent_id": parent_id, "sequence": sequence}
            folder = by_id.get(node.get("id"))
            if folder:
                folder.write(vals)
            else:
                folder = self.env["cloud.rule.folder"].create(dict(vals, rule_id=self.id))
            kept.add(folder.id)
            kept |= self._save_default_folders(node.get("children"), folder.id, existing)
        return kept
