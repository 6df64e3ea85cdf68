from odoo import api, fields, models


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
    kind = fields.Selection([
        ("root", "Root folder"), ("rule", "Rule folder"), ("object", "Object folder"),
        ("default", "Default subfolder"), ("subfolder", "Subfolder made in the cloud"),
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
