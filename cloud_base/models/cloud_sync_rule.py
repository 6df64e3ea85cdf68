import logging
import re

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import format_date
from odoo.tools.safe_eval import safe_eval

from ..lib import name_template
from ..lib.names import clean_name, name_key
from ..lib.periods import periods_domain
from ..lib.quantities import format_bytes, format_duration
from . import cloud_placement
from .cloud_placement import STANDALONE_FOLDER  # noqa: F401 - kept importable from here

_logger = logging.getLogger(__name__)


class CloudSyncRule(models.Model):
    """Which records of which model go to which cloud folder (R-RULE-1..9)."""

    _name = "cloud.sync.rule"
    _description = "Cloud sync rule"
    _order = "sequence, id"

    name = fields.Char(compute="_compute_name", store=True)
    sequence = fields.Integer(default=10, help="The first matching rule owns a record.")
    active = fields.Boolean(default=True)
    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade",
                                index=True)
    model_id = fields.Many2one("ir.model", required=True, ondelete="cascade",
                               domain=[("transient", "=", False)])
    model = fields.Char("Model name", related="model_id.model", store=True, index=True)
    folder_name = fields.Char(required=True,
                              help="Name of the rule's folder under the client's root folder.")
    domain = fields.Char("Filter", default="[]")
    record_count = fields.Integer("Matching records", compute="_compute_record_count")
    migration_preview = fields.Text(
        "To move", compute="_compute_migration_preview",
        help="The files this rule's records have in Odoo and not in the cloud yet, their size, "
             "and the time to move them at the rate measured on this rule's client.")
    period_ids = fields.One2many("cloud.sync.period", "rule_id", string="Periods")
    period_preview = fields.Text("If today", compute="_compute_period_preview")
    name_expression = fields.Char(
        help="Name of each record's folder, e.g. ${object.name} - ${object.ref or 'no ref'}. "
             "Empty: the record's display name.")
    name_preview = fields.Char(compute="_compute_name_preview")
    default_folder_ids = fields.One2many("cloud.rule.folder", "rule_id",
                                         string="Default folders")
    folder_id = fields.Many2one("cloud.folder", readonly=True, copy=False)
    placement = fields.Selection(
        selection="_selection_placement", compute="_compute_placement",
        help="Where the files go: a folder per record, or (stand-alone attachments) directly "
             "in the rule's folder. Follows from the model.")
    name_preview_error = fields.Boolean(compute="_compute_name_preview_error")
    default_folders_tree = fields.Json(
        "Default folder tree", compute="_compute_default_folders_tree",
        inverse="_inverse_default_folders_tree",
        help="Subfolders created in each new object folder (R-RULE-6).")
    client_state = fields.Selection(related="client_id.state", string="Client state")

    _sql_constraints = [
        ("folder_unique", "unique(client_id, folder_name)",
         "Each rule of a client needs its own folder name."),
    ]

    @api.depends("model_id", "folder_name")
    def _compute_name(self):
        for rule in self:
            rule.name = rule.folder_name or rule.model_id.name

    @api.onchange("model_id")
    def _onchange_model_id(self):
        if self.model_id and not self.folder_name:
            strategies = self._placement_strategies()
            self.folder_name = strategies[self._placement_for_model(self.model_id.model)] \
                .default_folder_name(self.model_id)

    # ------------------------------------------------------------------------------------
    # Placement strategy (see cloud_placement.py)
    # ------------------------------------------------------------------------------------
    @api.model
    def _placement_strategies(self):
        """``{key: Placement}``; an add-on adds its own with ``super()``."""
        return {"records": cloud_placement.RECORDS, "flat": cloud_placement.FLAT}

    @api.model
    def _selection_placement(self):
        return [(key, str(strategy.label))
                for key, strategy in self._placement_strategies().items()]

    @api.model
    def _placement_for_model(self, model_name):
        for key, strategy in self._placement_strategies().items():
            if strategy.applies_to(model_name):
                return key
        return "records"

    @api.depends("model")
    def _compute_placement(self):
        for rule in self:
            rule.placement = rule._placement_for_model(rule.model) if rule.model else False

    def _placement(self):
        """The placement strategy of this rule (``records`` for no rule)."""
        strategies = self._placement_strategies()
        key = self[:1].placement or "records"
        return strategies.get(key, strategies["records"])

    # ------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------
    @api.constrains("name_expression")
    def _check_name_expression(self):
        for rule in self:
            try:
                name_template.validate(rule.name_expression)
            except name_template.TemplateError as exc:
                raise ValidationError(self.env._("Invalid name expression: %s", exc)) from exc

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for rule in self:
            try:
                rule._records_domain()
            except Exception as exc:
                raise ValidationError(self.env._("Invalid filter for %(model)s: %(error)s",
                                        model=rule.model_id.name, error=exc)) from exc

    @api.constrains("folder_name")
    def _check_folder_name(self):
        for rule in self:
            if clean_name(rule.folder_name) != rule.folder_name.strip():
                raise ValidationError(self.env._(
                    "The folder name %(name)s contains characters clouds refuse; "
                    "use for instance %(clean)s.",
                    name=rule.folder_name, clean=clean_name(rule.folder_name)))

    @api.constrains("folder_name", "model_id")
    def _check_reserved_folder_name(self):
        """A folder name reserved by a placement strategy (``reserved_folder_name``) is the
        folder of that strategy's rules and of no other (compared as the clouds compare
        names: case-folded)."""
        strategies = self._placement_strategies()
        for rule in self:
            for key, strategy in strategies.items():
                reserved = strategy.reserved_folder_name
                if not reserved:
                    continue
                taken = name_key(clean_name(rule.folder_name)) == name_key(reserved)
                if rule.placement == key and rule.folder_name != reserved:
                    raise ValidationError(self.env._(
                        "The rules on %(model)s always use the folder %(reserved)s.",
                        model=rule.model_id.name, reserved=reserved))
                if rule.placement != key and taken:
                    raise ValidationError(self.env._(
                        "The folder name %(name)s is reserved (%(label)s); choose another "
                        "name for this rule.", name=rule.folder_name,
                        label=str(strategy.label)))

    # ------------------------------------------------------------------------------------
    # Matching records
    # ------------------------------------------------------------------------------------
    def _records_domain(self, today=None):
        """Filter + periods + the placement's condition (stand-alone attachments)."""
        self.ensure_one()
        domain = list(safe_eval(self.domain or "[]"))
        model = self.env[self.model]
        if self.period_ids:
            types = {f.name: f.ttype for f in self.period_ids.field_id}
            domain += periods_domain([p._as_tuple() for p in self.period_ids],
                                     today or fields.Date.context_today(self), types)
        domain += self._placement().records_domain(self)
        model._where_calc(domain)  # raises on unknown fields
        return domain

    @api.depends("model_id", "domain", "period_ids", "period_ids.field_id",
                 "period_ids.direction", "period_ids.count", "period_ids.unit",
                 "period_ids.including_current")
    def _compute_record_count(self):
        for rule in self:
            try:
                rule.record_count = (rule.model and
                                     rule.env[rule.model].search_count(rule._records_domain()))
            except Exception:
                rule.record_count = 0

    @api.depends("model_id", "domain", "period_ids", "period_ids.field_id",
                 "period_ids.direction", "period_ids.count", "period_ids.unit",
                 "period_ids.including_current", "client_id")
    def _compute_migration_preview(self):
        Attachment = self.env["ir.attachment"].sudo()
        local = Attachment._cloud_local_mimetypes()
        for rule in self:
            rule.migration_preview = False
            if not rule.model:
                continue
            try:
                records = rule.env[rule.model]._search(rule._records_domain())
                domain = rule._placement().files_domain(rule, records) + \
                    Attachment._cloud_syncable_domain(local)
                [(count, size)] = Attachment._read_group(domain,
                                                         aggregates=["__count", "file_size:sum"])
            except Exception:  # noqa: BLE001 - an unfinished filter: the count says so too
                continue
            rule.migration_preview = rule._describe_migration(count, size or 0)

    def _describe_migration(self, count, size):
        """What moving ``count`` files of ``size`` bytes means, in words."""
        self.ensure_one()
        if not count:
            return self.env._("Nothing to move: every file of these records is in the cloud "
                              "already (or kept in Odoo by its type).")
        text = self.env._("%(count)s files, %(size)s, will go to the cloud.", count=count,
                          size=format_bytes(size))
        rate = self.client_id._measured_upload_rate() if self.client_id else None
        if rate is None:
            return text + " " + self.env._(
                "The time it takes is estimated once this client has uploaded some files.")
        files_per_second, bytes_per_second = rate
        seconds = max(count / files_per_second, size / bytes_per_second)
        return text + " " + self.env._(
            "At the rate measured on %(client)s (%(files).1f files/s, %(speed)s/s), about "
            "%(duration)s of queue runs.", client=self.client_id.name, files=files_per_second,
            speed=format_bytes(bytes_per_second), duration=format_duration(seconds))

    @api.depends("period_ids", "period_ids.field_id", "period_ids.direction",
                 "period_ids.count", "period_ids.unit", "period_ids.including_current")
    def _compute_period_preview(self):
        today = fields.Date.context_today(self)
        for rule in self:
            lines = []
            for period in rule.period_ids.filtered("field_id"):
                start, end = period._range(today)
                lines.append(self.env._("%(field)s from %(start)s to %(end)s",
                               field=period.field_id.field_description,
                               start=format_date(self.env, start),
                               end=format_date(self.env, end)))
            rule.period_preview = "\n".join(lines) or False

    @api.depends("name_expression", "model_id", "domain", "period_ids",
                 "period_ids.field_id", "period_ids.direction", "period_ids.count",
                 "period_ids.unit", "period_ids.including_current")
    def _compute_name_preview(self):
        # the sample record follows the filter and periods being edited, not only the model
        for rule in self:
            preview = False
            if rule.model and rule._placement().record_folders:
                sample = rule.env[rule.model].search(rule._safe_domain(), limit=1)
                if sample:
                    try:
                        preview = rule._object_name(sample, raise_errors=True)
                    except name_template.TemplateError as exc:
                        preview = self.env._("Error: %s", exc)
            rule.name_preview = preview

    def _safe_domain(self):
        try:
            return self._records_domain()
        except Exception:
            return []

    def _object_name(self, record, raise_errors=False, max_length=255, unit="chars"):
        """Folder name of ``record``: the rendered expression, else its display name."""
        self.ensure_one()
        name = ""
        if self.name_expression:
            try:
                name = name_template.render(self.name_expression, record).strip()
            except name_template.TemplateError:
                if raise_errors:
                    raise
                _logger.info("Name expression of rule %s failed on %s", self.id, record)
        if not name:
            name = record.display_name or "%s-%s" % (record._name, record.id)
        return clean_name(name, max_length=max_length, unit=unit)

    @api.model
    def _ownership(self, rules=None):
        """``{rule: record ids}``: each record goes to the first matching rule by sequence
        (R-RULE-4), across all clients."""
        return self._ownership_and_errors(rules)[0]

    @api.model
    def _ownership_and_errors(self, rules=None, restrict=None):
        """``({rule: record ids}, {model: {rule: error}})``. A rule whose filter cannot be
        evaluated (e.g. on a removed field) owns nothing known: the rules after it on the same
        model cannot be decided either, so that model is left out (its folders stay as they
        are) instead of stopping the planning of every rule and client.

        ``restrict`` (``{model: ids}``, an incremental plan): only these records are decided
        (whom a record belongs to depends on the record alone), and only rules on these
        models."""
        rules = rules if rules is not None else self.search([("model_id", "!=", False)])
        if restrict is not None:
            rules = rules.filtered(lambda r: r.model in restrict)
        owned_by_model = {}
        result = {}
        broken = {}
        for rule in rules.sorted(lambda r: (r.sequence, r.id)):
            if rule.model not in self.env or rule.model in broken:
                continue
            try:
                with self.env.cr.savepoint():
                    domain = rule._records_domain()
                    if restrict is not None:
                        domain += [("id", "in", sorted(restrict[rule.model]))]
                    found = self.env[rule.model].search(domain).ids
            except Exception as exc:  # noqa: BLE001 - any error of a user-written filter
                broken[rule.model] = {rule: exc}
                continue
            taken = owned_by_model.setdefault(rule.model, set())
            ids = [rid for rid in found if rid not in taken]
            taken.update(ids)
            result[rule] = ids
        for model in broken:
            for rule in [r for r in result if r.model == model]:
                del result[rule]
        return result, broken

    @api.model
    @tools.ormcache("model_name")
    def _naming_fields(self, model_name):
        """The fields of ``model_name`` its records' folder names may depend on (none when no
        rule is on that model): its display name's, and those a name expression reads."""
        rules = self.sudo().with_context(active_test=True).search([("model", "=", model_name)])
        if not rules or model_name not in self.env:
            return frozenset()
        model = self.env[model_name]
        names = {model._rec_name or "name"}
        display = model._fields.get("display_name")
        if display is not None:
            names.update(path.split(".")[0] for path in self.env.registry.field_depends[display])
        for rule in rules:
            names.update(path.split(".")[0] for path in rule._expression_paths())
        return frozenset(name for name in names if name in model._fields)

    def _expression_paths(self):
        """The field paths the rule's name expression reads (``object.partner_id.name`` reads
        ``partner_id.name``)."""
        self.ensure_one()
        return set(re.findall(r"\bobject\.(\w+(?:\.\w+)*)", self.name_expression or ""))

    def _relation_paths(self):
        """The field paths crossing a relation that the rule reads in its filter, periods and
        name expression (``country_id.code``): a change of the related record changes what
        the rule makes of its records, though the records themselves were not written."""
        self.ensure_one()
        paths = self._expression_paths()
        for leaf in self._safe_domain():
            if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str):
                paths.add(leaf[0])
        return {path for path in paths if "." in path}

    # ------------------------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # _naming_fields
        return super().create(vals_list)

    def unlink(self):
        # R-RULE-8: the cloud keeps the folders; Odoo stops syncing them
        folders = self.env["cloud.folder"].search([("rule_id", "in", self.ids)])
        folders.write({"state": "detached"})
        self.env.registry.clear_cache()  # _naming_fields
        return super().unlink()

    def write(self, vals):
        if {"model_id", "name_expression", "active"} & set(vals):
            self.env.registry.clear_cache()  # _naming_fields
        moved = self.browse()
        if "client_id" in vals:
            moved = self.filtered(lambda r: r.client_id.id != vals["client_id"])
        res = super().write(vals)
        if moved:
            # R-REV-1: files go back to Odoo, then up to the new client
            folders = self.env["cloud.folder"].search([("rule_id", "in", moved.ids)])
            folders.client_id._enqueue_reverse_for_folders(folders)
            self.env["ir.attachment"].sudo()._cloud_remember_subfolders(folders)
            folders.write({"state": "detached", "rule_id": False})
            moved.folder_id = False
        return res

    # ------------------------------------------------------------------------------------
    # What the rule form shows: preview errors, the default folder tree (R-RULE-5/6)
    # ------------------------------------------------------------------------------------
    @api.depends("name_preview")
    def _compute_name_preview_error(self):
        prefix = self.env._("Error: %s", "")
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
