from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib.names import clean_name
from .cloud_placement import SUBFOLDER_KINDS


class CloudFolder(models.Model):
    """A cloud folder the suite manages, with the last synced state of both sides.

    ``name`` and ``parent_id`` are what Odoo wants; ``cloud_name`` and ``synced_parent_id`` are
    what the cloud had at the last sync (the merge base). The planner compares them.
    """

    _name = "cloud.folder"
    _description = "Cloud folder"
    _parent_store = True
    _order = "parent_path, id"

    name = fields.Char(required=True)
    client_id = fields.Many2one("cloud.client", required=True, index=True, ondelete="cascade")
    parent_id = fields.Many2one("cloud.folder", index=True, ondelete="cascade")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("cloud.folder", "parent_id")
    # "manual" is a kind of its own rather than "default": default folders come from the rule's
    # tree (made once with a new object folder, picked up by name on a reconnect) and are not
    # for users to rename or delete; manual ones are made, renamed and deleted by the users of
    # the record in its attachment box. Both are Odoo's (a change in the cloud is put back)
    # and hold files of the record (the cloud owns those).
    kind = fields.Selection([
        ("root", "Root folder"), ("rule", "Rule folder"), ("object", "Object folder"),
        ("default", "Default subfolder"), ("subfolder", "Subfolder made in the cloud"),
        ("manual", "Subfolder made in Odoo"),
    ], required=True)
    state = fields.Selection([
        ("pending", "To create"), ("synced", "Synced"),
        ("detached", "No longer synced"),
    ], default="pending", required=True, index=True)
    rule_id = fields.Many2one("cloud.sync.rule", index=True, ondelete="set null")
    res_model = fields.Char(index=True)
    res_id = fields.Many2oneReference(model_field="res_model", index=True)
    cloud_id = fields.Char("Cloud item id", index=True, copy=False)
    cloud_name = fields.Char("Name in the cloud", copy=False)
    # indexed: deleting folders sets it to NULL in the folders that point to them (issue 15)
    synced_parent_id = fields.Many2one("cloud.folder", "Parent in the cloud", copy=False,
                                       ondelete="set null", index=True)
    found_in_cloud = fields.Boolean(
        "Found in the cloud", readonly=True, copy=False,
        help="The folder was already in the cloud when the suite came to create it (e.g. a "
             "reconnect after a reset): what it held was picked up, and the folders Odoo "
             "wants inside it are looked up before being created.")
    url = fields.Char(compute="_compute_url")

    _sql_constraints = [
        ("cloud_id_unique", "unique(client_id, cloud_id)",
         "A cloud folder is managed by one folder record."),
    ]

    def _compute_url(self):
        for folder in self:
            folder.url = False
            if folder.cloud_id and folder.client_id.state == "connected":
                try:
                    adapter = folder.client_id._get_adapter()
                    item = folder._as_item()
                    folder.url = adapter.web_url(item)
                except Exception:  # a link is a convenience, never a failure
                    folder.url = False

    def _as_item(self):
        from ..lib.adapter import FOLDER, CloudItem
        return CloudItem(self.cloud_id, self.cloud_name or self.name, FOLDER,
                         self.synced_parent_id.cloud_id or None,
                         path=self._display_path())

    def _display_path(self):
        self.ensure_one()
        if self.parent_path:
            # the ancestors in one read, not one per level
            self.browse(int(i) for i in self.parent_path.split("/") if i).mapped("name")
        names, folder = [], self
        while folder:
            names.append(folder.cloud_name or folder.name)
            folder = folder.parent_id
        return "/" + "/".join(reversed(names))

    # ------------------------------------------------------------------------------------
    # What the folder's rule's placement says about it (R-BW-1, R-BW-2, R-BW-5)
    # ------------------------------------------------------------------------------------
    def _placement(self):
        """The placement strategy of the folder's rule (``records`` without a rule)."""
        self.ensure_one()
        return self.rule_id._placement()

    def _file_owner(self):
        """``(res_model, res_id)`` of the record a file put directly in this folder belongs
        to, ``(False, False)`` for a stand-alone attachment, None when such a file is not
        Odoo's business."""
        self.ensure_one()
        return self._placement().file_owner(self)

    def _links_subfolders(self):
        """Does a folder made in the cloud right here become a folder link?"""
        self.ensure_one()
        return self._placement().links_subfolders(self)

    @api.model
    def _for_records(self, records):
        """The live object folders of ``records``."""
        return self.search([("res_model", "=", records._name), ("res_id", "in", records.ids),
                            ("kind", "=", "object"), ("state", "!=", "detached")])

    @api.model
    def _live_object_folder(self, res_model, res_id):
        """The object folder of the record ``res_model, res_id`` that is synced (or about to
        be), or an empty recordset."""
        return self.search([("res_model", "=", res_model), ("res_id", "=", res_id),
                            ("kind", "=", "object"), ("state", "!=", "detached")],
                           order="id desc", limit=1)

    def _is_live(self):
        """Neither this folder nor a folder above it is detached (no longer synced)."""
        self.ensure_one()
        ids = [int(i) for i in (self.parent_path or "").split("/") if i] or [self.id]
        return "detached" not in self.browse(ids).mapped("state")

    # ------------------------------------------------------------------------------------
    # Subfolders of a record (its attachment box): the rule's default folders and the
    # folders its users make. Called as superuser once the caller's access to the record is
    # checked (``ir.attachment.cloud_create_folder`` and the like).
    # ------------------------------------------------------------------------------------
    def _record_subfolders(self):
        """The default and manual folders below this object folder, every level."""
        self.ensure_one()
        return self.search([("client_id", "=", self.client_id.id),
                            ("res_model", "=", self.res_model), ("res_id", "=", self.res_id),
                            ("kind", "in", SUBFOLDER_KINDS), ("state", "!=", "detached"),
                            ("parent_path", "=like", "%s%%" % self.parent_path)])

    def _subfolder_name(self, name, exclude=None):
        """The name a folder made or renamed in this one gets: cleaned as the cloud needs,
        refused when empty or when another folder here has it (whatever the case: several
        clouds do not tell them apart)."""
        self.ensure_one()
        if not (name or "").strip():
            raise UserError(self.env._("A folder needs a name."))
        planner = self.env["cloud.engine.planner"]
        name = clean_name(name, max_length=planner._name_limit(self.client_id),
                          unit=planner._name_unit(self.client_id))
        taken = self.child_ids.filtered(lambda f: f != exclude and f.state != "detached")
        if name.lower() in {f.name.lower() for f in taken}:
            raise UserError(self.env._("There is already a folder named %s here.", name))
        return name

    def _make_manual_subfolders(self, path, reuse_last=False):
        """The new folder at ``path`` (names separated by ``/``) below this one, made with
        the folders of the path that are missing (manual folders, queued for creation in the
        cloud); those that exist already (default or manual) are used as they are, but the
        last one must be new unless ``reuse_last``."""
        self.ensure_one()
        parent = self
        parts = [p for p in (path or "").split("/") if p.strip()] or [path]
        for index, part in enumerate(parts):
            existing = parent._subfolder_named(part)
            if existing and (reuse_last or index < len(parts) - 1):
                parent = existing
                continue
            folder = self.create({
                "name": parent._subfolder_name(part), "client_id": parent.client_id.id,
                "kind": "manual", "parent_id": parent.id, "rule_id": parent.rule_id.id,
                "res_model": parent.res_model, "res_id": parent.res_id})
            self.env["cloud.task"]._enqueue(folder.client_id, "folder_create", folder=folder)
            parent = folder
        return parent

    def _subfolder_named(self, name):
        """The default or manual folder of that name (whatever the case, cleaned as this
        folder's cloud names are) directly in this one, if any."""
        self.ensure_one()
        planner = self.env["cloud.engine.planner"]
        wanted = {name.strip().lower(), clean_name(
            name, max_length=planner._name_limit(self.client_id),
            unit=planner._name_unit(self.client_id)).lower()}
        return next((f for f in self.child_ids if f.kind in SUBFOLDER_KINDS
                     and f.state != "detached" and f.name.lower() in wanted), self.browse())

    def _path_in_record(self):
        """The names from its record's folder down to this subfolder (``Scans/Official``),
        or "" for a folder that is no subfolder of a record."""
        self.ensure_one()
        names, folder = [], self
        while folder.kind in SUBFOLDER_KINDS:
            names.append(folder.name)
            folder = folder.parent_id
        return "/".join(reversed(names)) if folder.kind == "object" else ""

    def _rename_manual(self, name):
        self.ensure_one()
        name = self.parent_id._subfolder_name(name, exclude=self)
        if name == self.name:
            return
        self.name = name
        if self.cloud_id:
            self.env["cloud.task"]._enqueue(self.client_id, "folder_rename", folder=self)

    def _delete_manual(self):
        """Delete this manual folder if it is empty in Odoo; the cloud folder goes too, when
        it is empty there as well (checked when the task runs, R-SAFE-1)."""
        self.ensure_one()
        files = self.env["ir.attachment"].sudo().search_count([
            "|", ("cloud_subfolder_id", "=", self.id), ("cloud_folder_id", "=", self.id)])
        if files or self.child_ids:
            raise UserError(self.env._(
                "The folder %s is not empty: move or delete its files and folders first.",
                self.name))
        if self.cloud_id:
            # the files deleted in Odoo whose deletion waits on this folder go along with it,
            # with their versions (another version found there keeps the folder, R-SAFE-1)
            files, versions = self.env["cloud.engine.planner"]._deleted_files_below(self)
            self.env["cloud.task"]._enqueue(self.client_id, "folder_delete",
                                            folder=self.parent_id, payload={
                                                "cloud_id": self.cloud_id, "name": self.name,
                                                "kind": "manual", "files": files,
                                                "versions": versions})
        self.unlink()
