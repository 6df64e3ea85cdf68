"""Folders of the documents workspace (R-DOC-1): a tree with access by user groups, whose files
are its attachments, mirrored under ``Root / Odoo Docs`` of its cloud client."""
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.cloud_base.lib.names import assign_unique, clean_name, name_key

from ..lib.zip_stream import ZipEntry, unique_path
from .documents_placement import DOCS_FOLDER

#: what the cloud mirror follows: a change of one of these fields is planned within a minute
MIRRORED_FIELDS = frozenset({"name", "parent_id", "client_id"})


class CloudDocumentsFolder(models.Model):
    _name = "cloud.documents.folder"
    _description = "Documents folder"
    _parent_store = True
    _order = "sequence, name, id"
    _rec_name = "complete_name"

    name = fields.Char(required=True)
    complete_name = fields.Char("Path", compute="_compute_complete_name", store=True,
                                recursive=True)
    parent_id = fields.Many2one("cloud.documents.folder", "Parent folder", index=True,
                                ondelete="cascade")
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("cloud.documents.folder", "parent_id", "Subfolders")
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", index=True,
                                 default=lambda self: self.env.company,
                                 help="Empty: the folder is shared by every company.")
    description = fields.Text()
    tag_ids = fields.Many2many("cloud.documents.tag", "cloud_documents_folder_tag_rel",
                               "folder_id", "tag_id", string="Tags")
    res_model = fields.Char("Linked model", index=True,
                            help="The record this folder is about, if any (e.g. a project).")
    res_id = fields.Many2oneReference("Linked record id", model_field="res_model", index=True)
    res_name = fields.Char("Linked record", compute="_compute_res_name")

    # -- access by user groups, inherited by subfolders unless overridden --------------------
    own_access = fields.Boolean(
        "Own access groups",
        help="Set the groups of this folder here instead of taking those of its parent "
             "(a top folder always has its own).")
    read_group_ids = fields.Many2many(
        "res.groups", "cloud_documents_folder_read_group_rel", "folder_id", "group_id",
        string="Read groups",
        help="Who may see the folder and its files. Empty: every internal user.")
    write_group_ids = fields.Many2many(
        "res.groups", "cloud_documents_folder_write_group_rel", "folder_id", "group_id",
        string="Write groups",
        help="Who may change the folder and its files (they may read them too). Empty: "
             "whoever may read.")
    effective_read_group_ids = fields.Many2many(
        "res.groups", "cloud_documents_folder_effective_read_rel", "folder_id", "group_id",
        string="Effective read groups", compute="_compute_effective_groups", store=True,
        recursive=True)
    effective_write_group_ids = fields.Many2many(
        "res.groups", "cloud_documents_folder_effective_write_rel", "folder_id", "group_id",
        string="Effective write groups", compute="_compute_effective_groups", store=True,
        recursive=True)

    # -- files ---------------------------------------------------------------------------------
    attachment_ids = fields.One2many("ir.attachment", "documents_folder_id", "Files")
    file_count = fields.Integer("Number of files", compute="_compute_file_count")

    # -- cloud mirror (administrators only: clients are theirs) ----------------------------------
    client_id = fields.Many2one(
        "cloud.client", "Cloud client", ondelete="set null", groups="base.group_system",
        help="The storage this folder and its subfolders are mirrored to, under Root / Odoo "
             "Docs. Empty: the parent's.")
    cloud_client_id = fields.Many2one(
        "cloud.client", "Mirrored to", compute="_compute_cloud_client_id", store=True,
        recursive=True, index=True, groups="base.group_system",
        help="The folder's own client, else its nearest ancestor's.")

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for folder in self:
            folder.complete_name = "%s / %s" % (folder.parent_id.complete_name, folder.name) \
                if folder.parent_id else folder.name

    @api.depends("res_model", "res_id")
    def _compute_res_name(self):
        for folder in self:
            record = folder.res_model in self.env and folder.res_id and \
                self.env[folder.res_model].browse(folder.res_id).exists()
            # the name of a record the user may not read stays hidden
            folder.res_name = record.display_name if record and record.has_access("read") \
                else False

    @api.depends("own_access", "read_group_ids", "write_group_ids",
                 "parent_id.effective_read_group_ids", "parent_id.effective_write_group_ids")
    def _compute_effective_groups(self):
        for folder in self:
            if folder.parent_id and not folder.own_access:
                folder.effective_read_group_ids = folder.parent_id.effective_read_group_ids
                folder.effective_write_group_ids = folder.parent_id.effective_write_group_ids
            else:
                folder.effective_read_group_ids = folder.read_group_ids
                folder.effective_write_group_ids = folder.write_group_ids

    @api.depends("client_id", "parent_id.cloud_client_id")
    def _compute_cloud_client_id(self):
        for folder in self:
            folder.cloud_client_id = folder.client_id or folder.parent_id.cloud_client_id

    def _compute_file_count(self):
        counts = dict(self.env["ir.attachment"]._read_group(
            [("documents_folder_id", "in", self.ids)], ["documents_folder_id"], ["__count"]))
        for folder in self:
            folder.file_count = counts.get(folder, 0)

    def action_open_files(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cloud_documents.action_documents_files")
        action["domain"] = [("documents_folder_id", "=", self.id)]
        action["context"] = {"default_documents_folder_id": self.id}
        return action

    @api.model
    def _search(self, domain, *args, **kwargs):
        # the record rules read the groups in effect: those of folders made or changed in
        # this transaction are computed first (else a new folder is seen by everyone)
        self.flush_model(["effective_read_group_ids", "effective_write_group_ids"])
        return super()._search(domain, *args, **kwargs)

    # ------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------
    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(self.env._("A folder cannot be placed inside itself."))

    @api.constrains("name", "parent_id", "company_id")
    def _check_unique_name(self):
        for folder in self:
            # among the folders the user sees: a hidden one is told apart in the cloud only
            siblings = self.search([("parent_id", "=", folder.parent_id.id),
                                    ("company_id", "=", folder.company_id.id),
                                    ("id", "!=", folder.id)])
            if any(name_key(s.name) == name_key(folder.name) for s in siblings):
                raise ValidationError(self.env._(
                    "A folder named %s exists already here.", folder.name))

    # ------------------------------------------------------------------------------------
    # Life cycle: moves need write access on the target; the cloud follows
    # ------------------------------------------------------------------------------------
    def _check_target_parent(self, parent_id):
        """A folder is made or moved only into a folder the user may change (record rules
        check the folder itself, not where it goes)."""
        if parent_id:
            self.browse(parent_id).check_access("write")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_target_parent(vals.get("parent_id"))
        folders = super().create(vals_list)
        folders._cloud_ensure_rules()
        if any(folders.sudo().mapped("cloud_client_id")):
            self.env["cloud.client"]._plan_soon()
        return folders

    def write(self, vals):
        if "parent_id" in vals:
            self._check_target_parent(vals["parent_id"])
        follows_client = bool({"client_id", "parent_id"} & set(vals))
        before = self._cloud_clients_below() if follows_client else {}
        res = super().write(vals)
        if follows_client:
            self._cloud_client_changed(before)
            self._cloud_ensure_rules()
        if MIRRORED_FIELDS & set(vals) and (any(before.values()) or any(self.sudo().mapped(
                "cloud_client_id"))):
            self.env["cloud.client"]._plan_soon()  # R-Q-8: a rename reaches the cloud soon
        return res

    def unlink(self):
        # the subfolders go too, through the ORM, so that their files are deleted with them
        # (and in the cloud, R-DIR-5); Odoo's check then covers each of them: a folder
        # holding a subfolder the user may not delete is not deleted
        below = self.sudo().search([("id", "child_of", self.ids)])
        return super(CloudDocumentsFolder, self.browse(below.ids)).unlink()

    # ------------------------------------------------------------------------------------
    # Cloud client: the folder's own or its nearest ancestor's
    # ------------------------------------------------------------------------------------
    def _cloud_clients_below(self):
        """``{folder id: effective client id}`` of these folders and their subfolders."""
        below = self.sudo().search([("id", "child_of", self.ids)])
        return {folder.id: folder.cloud_client_id.id for folder in below}

    def _cloud_client_changed(self, before):
        """Folders whose effective client changed (``before``: as
        :meth:`_cloud_clients_below` gave it): their mirror at the former client stops being
        synced and its files come back into Odoo (R-REV-1); the new client's planning then
        makes the folders there and uploads the files (reverse, then direct). The former
        client's cloud folders stay where they are (a reset never deletes)."""
        folders = self.sudo().browse(list(before))
        changed = folders.filtered(lambda f: f.cloud_client_id.id != before[f.id])
        if not changed:
            return
        mirrors = self.env["cloud.folder"].sudo().search([
            ("res_model", "=", self._name), ("res_id", "in", changed.ids),
            ("kind", "=", "object"), ("state", "!=", "detached")])
        current = {folder.id: folder.cloud_client_id for folder in changed}
        gone = mirrors.filtered(lambda m: m.client_id != current[m.res_id])
        for client in gone.client_id:
            client._enqueue_reverse_for_folders(gone.filtered(lambda m, c=client:
                                                              m.client_id == c))
        gone.write({"state": "detached"})

    def _cloud_ensure_rules(self):
        """Each client a folder is mirrored to has the rule of the workspace (its folder is
        ``Odoo Docs``); an archived one is left archived (the administrator paused it)."""
        clients = self.sudo().mapped("cloud_client_id")
        if not clients:
            return
        Rule = self.env["cloud.sync.rule"].sudo().with_context(active_test=False)
        covered = Rule.search([("model", "=", self._name),
                               ("client_id", "in", clients.ids)]).client_id
        missing = clients - covered
        # a rule made before this add-on may hold the name (the constraint came with it)
        holder = Rule.search([("client_id", "in", missing.ids)]).filtered(
            lambda r: name_key(r.folder_name) == name_key(DOCS_FOLDER))[:1]
        if holder:
            raise UserError(self.env._(
                "The sync rule %(rule)s of %(client)s uses the folder name %(name)s, which the "
                "documents workspace needs there: rename that rule's folder first.",
                rule=holder.display_name, client=holder.client_id.display_name,
                name=DOCS_FOLDER))
        model = self.env["ir.model"]._get(self._name)
        Rule.create([{"model_id": model.id, "folder_name": DOCS_FOLDER, "client_id": client.id}
                     for client in missing])

    # ------------------------------------------------------------------------------------
    # Planning the mirror (called by the workspace placement, documents_placement.py)
    # ------------------------------------------------------------------------------------
    @api.model
    def _cloud_plan_mirror(self, planner, run, rule, ids):
        """Queue the folder tasks that give the rule's client the tree of the folders ``ids``
        (those the rule owns): each folder in the object folder of its parent when the
        parent is owned too, else in the rule's folder; names unique among siblings."""
        if not run.full:
            # an incremental plan names the folders that changed; where each goes depends on
            # its ancestors: the tree is planned whole (the workspace's rules only)
            Rule = self.env["cloud.sync.rule"].sudo()
            ownership, _broken = Rule._ownership_and_errors(
                rules=Rule.search([("model_id.model", "=", self._name)]))
            ids = ownership.get(rule, [])
        owned = set(ids)
        folders = self.sudo().browse(ids)
        mirrors = {mirror.res_id: mirror for mirror in self.env["cloud.folder"].sudo().search([
            ("client_id", "=", run.client.id), ("kind", "=", "object"),
            ("res_model", "=", self._name), ("res_id", "in", list(owned))])}
        by_parent = defaultdict(list)
        for folder in folders:
            by_parent[folder.parent_id.id if folder.parent_id.id in owned else None] \
                .append(folder)
        level = [None]
        while level:  # parents first: their object folders exist when the children's go in
            following = []
            for key in level:
                parent = rule.folder_id if key is None else mirrors[key]
                siblings = by_parent.get(key, [])
                self._cloud_plan_siblings(planner, run, rule, parent, siblings, mirrors)
                following += [folder.id for folder in siblings if folder.id in by_parent]
            level = following

    @api.model
    def _cloud_plan_siblings(self, planner, run, rule, parent, siblings, mirrors):
        if not siblings:
            return
        wanted = {}
        for folder in siblings:
            mirror = mirrors.get(folder.id)
            current = mirror.name if mirror and mirror.parent_id == parent else None
            wanted[folder.id] = (clean_name(folder.name, max_length=run.max_len,
                                            unit=run.name_unit), current)
        taken = [f.name for f in parent.child_ids
                 if f.res_model != self._name or f.res_id not in wanted]
        names = assign_unique(wanted, taken, max_length=run.max_len, unit=run.name_unit)
        new = [folder for folder in siblings if folder.id not in mirrors]
        created = self.env["cloud.folder"].create([{
            "name": names[folder.id], "client_id": run.client.id, "kind": "object",
            "parent_id": parent.id, "rule_id": rule.id, "res_model": self._name,
            "res_id": folder.id,
        } for folder in new])
        for folder, mirror in zip(new, created, strict=True):
            mirrors[folder.id] = mirror
            run.queue.add("folder_create", folder=mirror)
        for folder in siblings:
            if folder not in new:
                planner._plan_object_folder(rule, names[folder.id], mirrors[folder.id],
                                            run.queue, parent=parent)

    # ------------------------------------------------------------------------------------
    # The file manager (R-DOC-2): what the client action asks, answered as the user
    # ------------------------------------------------------------------------------------
    @api.model
    def documents_tree(self, parent_id=False):
        """The folders the tree shows below ``parent_id``; at the top (no parent): the
        folders whose parent the user may not read, or without a parent."""
        if parent_id:
            folders = self.search([("parent_id", "=", parent_id)])
        else:
            # every folder the user may read: the record rules bound it
            readable = self.search([])  # pylint: disable=no-search-all
            folders = readable.filtered(lambda f: f.parent_id not in readable)
        return folders._documents_folder_info()

    def _documents_folder_info(self):
        parents = set(self.search([("parent_id", "in", self.ids)]).parent_id.ids)
        writable = set(self._filtered_access("write").ids)
        mirrors = self._documents_cloud_folders()
        return [{
            "id": folder.id,
            "name": folder.name,
            "parent_id": folder.parent_id.id,
            "has_children": folder.id in parents,
            "can_write": folder.id in writable,
            **mirrors.get(folder.id, {"cloud_url": False, "cloud_provider": False}),
        } for folder in self]

    def _documents_cloud_folders(self):
        """``{folder id: {"cloud_url", "cloud_provider"}}`` of the folders synced in the cloud
        (the user reads the folders: the link of their cloud copy is theirs to see)."""
        mirrors = self.env["cloud.folder"].sudo().search([
            ("res_model", "=", self._name), ("res_id", "in", self.ids),
            ("kind", "=", "object"), ("state", "=", "synced"), ("cloud_id", "!=", False)])
        return {mirror.res_id: {"cloud_url": mirror.url or False,
                                "cloud_provider": mirror.client_id.provider}
                for mirror in mirrors}

    def documents_path(self):
        """The breadcrumbs of this folder: its ancestors the user reads, from the top (a
        folder whose parent is hidden is a top folder for the user)."""
        self.ensure_one()
        ids = [int(part) for part in self.parent_path.split("/") if part]
        readable = self.search([("id", "in", ids)])
        path = []
        for folder_id in reversed(ids):
            folder = readable.filtered(lambda f, i=folder_id: f.id == i)
            if not folder:
                break
            path.insert(0, {"id": folder.id, "name": folder.name})
        return path

    @api.model
    def documents_files(self, folder_id=False, search=None, limit=80, offset=0,
                        order="name, id"):
        """One page of files: those of ``folder_id``, or, with a ``search`` (``name``,
        ``tag``, ``mimetype``, ``owner``: parts of them; ``date_from``, ``date_to``: the
        last change), those found in the folder and its subfolders (everywhere without a
        folder). ``{"records": [...], "length": how many in all}``."""
        search = {key: value for key, value in (search or {}).items() if value}
        if search:
            domain = [("documents_folder_id", "child_of", folder_id)] if folder_id else \
                [("documents_folder_id", "!=", False)]
        else:
            domain = [("documents_folder_id", "=", folder_id or False)]
            if not folder_id:
                return {"records": [], "length": 0}
        return self._documents_files_page(domain + self._documents_search_domain(search),
                                          limit, offset, order)

    @api.model
    def _documents_search_domain(self, search):
        domain = []
        for key, field in (("name", "name"), ("tag", "documents_tag_ids.name"),
                           ("mimetype", "mimetype"), ("owner", "documents_owner_id.name")):
            if search.get(key):
                domain.append((field, "ilike", search[key]))
        if search.get("date_from"):
            domain.append(("write_date", ">=", search["date_from"]))
        if search.get("date_to"):
            domain.append(("write_date", "<=", search["date_to"] + " 23:59:59"))
        return domain

    @api.model
    def _documents_files_page(self, domain, limit, offset, order, mirrored=False):
        """``{"records": [...], "length": n}``: a page of the files ``domain`` finds, as the
        user (Odoo's attachment search leaves out those of records they may not read)."""
        Attachment = self.env["ir.attachment"]
        files = Attachment.search(domain, limit=limit, offset=offset, order=order)
        return {"records": files._documents_file_info(mirrored),
                "length": Attachment.search_count(domain)}

    # -- the record folders of the sync rules: a read-only section of the tree -------------
    @api.model
    def documents_synced_tree(self, cloud_folder_id=False):
        """The nodes of the read-only section below the cloud folder ``cloud_folder_id``, or
        at its top (no folder): the rule folders of the sync rules. Only the folders of
        records the user reads are shown (the rule folders holding some)."""
        CloudFolder = self.env["cloud.folder"].sudo()
        if cloud_folder_id:
            parent = CloudFolder.browse(cloud_folder_id).exists()._documents_check_visible()
            candidates = parent._documents_live_children()
        else:
            candidates = CloudFolder._documents_rule_folders()
        return candidates._documents_visible()._documents_node_info()

    @api.model
    def documents_synced_files(self, cloud_folder_id, search=None, limit=80, offset=0,
                               order="name, id"):
        """One page of the files of the synced folder ``cloud_folder_id`` (as
        :meth:`documents_files`), read as the user, with the folder's link in the cloud
        (``cloud_url``)."""
        folder = self.env["cloud.folder"].sudo().browse(cloud_folder_id).exists()
        if not folder:
            return {"records": [], "length": 0, "cloud_url": False}
        folder._documents_check_visible()
        search = {key: value for key, value in (search or {}).items() if value}
        page = self._documents_files_page(
            folder._documents_files_domain() + self._documents_search_domain(search),
            limit, offset, order, mirrored=True)
        page["cloud_url"] = folder._documents_cloud_url()
        return page

    def documents_move_files(self, attachment_ids):
        """Move files into this folder (write access on it, and on the files where they are,
        as Odoo checks for attachments)."""
        self.ensure_one()
        self.check_access("write")
        files = self.env["ir.attachment"].browse(attachment_ids)
        files.check_access("write")
        files.write({"documents_folder_id": self.id})
        return True

    def documents_move_to(self, parent_id):
        """Move these folders below ``parent_id`` (False: to the top); refused into a folder
        the user may not change, or into one of themselves."""
        self.check_access("write")
        self.write({"parent_id": parent_id or False})
        return self._documents_folder_info()

    # ------------------------------------------------------------------------------------
    # Zip download (R-DOC-2)
    # ------------------------------------------------------------------------------------
    def _documents_zip_entries(self, attachment_ids=(), cloud_folder_ids=()):
        """The members of a zip of the files ``attachment_ids``, of the trees of these
        folders and of the synced folders ``cloud_folder_ids`` (the read-only section),
        decided as the user: a file they may not read refuses the whole download
        (AccessError), as does a synced folder they may not see; inside a folder, the
        subfolders and files they may not read are left out (as they are out of their sight
        in the tree). Paths are unique (without case); each folder is a directory entry, so
        that empty folders are kept."""
        Attachment = self.env["ir.attachment"]
        files = Attachment.browse(attachment_ids)
        files.check_access("read")
        files.check("read")
        self.check_access("read")
        taken, entries = set(), []
        for attachment in files.filtered(lambda a: a._documents_has_content()):
            entries.append(attachment._documents_zip_entry(
                unique_path("", attachment.name, taken)))
        level = [(folder, unique_path("", folder.name, taken)) for folder in self]
        while level:
            ids = [folder.id for folder, _path in level]
            contents = defaultdict(list)
            # the first added keeps its name
            for attachment in Attachment.search([("documents_folder_id", "in", ids)],
                                                order="id"):
                contents[attachment.documents_folder_id.id].append(attachment)
            subfolders = defaultdict(list)
            for folder in self.search([("parent_id", "in", ids)]):
                subfolders[folder.parent_id.id].append(folder)
            next_level = []
            for folder, path in level:
                entries.append(ZipEntry(path + "/", None, 0, folder.write_date, None))
                for child in subfolders[folder.id]:
                    next_level.append((child, unique_path(path, child.name, taken)))
                for attachment in contents[folder.id]:
                    if attachment._documents_has_content():
                        entries.append(attachment._documents_zip_entry(
                            unique_path(path, attachment.name, taken)))
            level = next_level
        if cloud_folder_ids:
            entries += self._documents_synced_zip_entries(cloud_folder_ids, taken)
        return entries

    @api.model
    def _documents_synced_zip_entries(self, cloud_folder_ids, taken):
        """The members of the trees of the synced folders ``cloud_folder_ids``: what the
        user sees of them in the file manager."""
        Attachment = self.env["ir.attachment"]
        folders = self.env["cloud.folder"].sudo().browse(cloud_folder_ids).exists()
        if len(folders) != len(set(cloud_folder_ids)):
            raise AccessError(self.env._("This synced folder is not yours to see."))
        folders._documents_check_visible()
        entries = []
        level = [(folder, unique_path("", folder.name, taken)) for folder in folders]
        while level:
            next_level = []
            for folder, path in level:
                entries.append(ZipEntry(path + "/", None, 0, folder.write_date, None))
                for attachment in Attachment.search(folder._documents_files_domain(),
                                                    order="id"):
                    if attachment._documents_has_content():
                        entries.append(attachment._documents_zip_entry(
                            unique_path(path, attachment.name, taken)))
                children = folder._documents_live_children()._documents_visible()
                next_level += [(child, unique_path(path, child.name, taken))
                               for child in children]
            level = next_level
        return entries

    def _documents_zip_name(self, attachment_ids=(), cloud_folder_ids=()):
        if len(self) == 1 and not attachment_ids and not cloud_folder_ids:
            return "%s.zip" % clean_name(self.name)
        if not self and not attachment_ids and len(cloud_folder_ids) == 1:
            # its visibility was checked with the zip's members
            folder = self.env["cloud.folder"].sudo().browse(cloud_folder_ids)
            return "%s.zip" % clean_name(folder.name)
        return "%s.zip" % self.env._("Documents")
