"""The record folders of the sync rules, as the file manager shows them (R-DOC-2): a read-only
section of its tree. ``cloud.folder`` is administrators' data: these helpers run on it with
``sudo`` and decide what the user sees from the records the folders belong to, read as the
user (a folder of a record they may not read is not shown, nor is its name)."""
from collections import defaultdict

from odoo import models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .documents_placement import FOLDER_MODEL

#: folders that belong to one record (the record decides who sees them)
RECORD_KINDS = ("object", "default", "subfolder")


class CloudFolder(models.Model):
    _inherit = "cloud.folder"

    def _documents_as_user(self, model):
        """``model`` in the environment of the user (``self`` is sudo)."""
        return self.env[model].with_env(self.env(su=False))

    def _documents_live_children(self):
        return self.search([("parent_id", "in", self.ids), ("state", "!=", "detached")],
                           order="name, id")

    def _documents_model_as_user(self, model):
        """``model`` as the user, archived records included; None when they may not read
        it at all (or it is not installed)."""
        if model not in self.env:
            return None
        Model = self._documents_as_user(model).with_context(active_test=False)
        return Model if Model.has_access("read") else None

    def _documents_readable_records(self):
        """``{res_model: set of ids}`` of the records of these folders that the user reads."""
        wanted = defaultdict(set)
        for folder in self:
            if folder.res_model and folder.res_id:
                wanted[folder.res_model].add(folder.res_id)
        readable = {}
        for model, ids in wanted.items():
            Model = self._documents_model_as_user(model)
            if Model is not None:
                # a search as the user: the record rules are applied by the database
                readable[model] = set(Model.search([("id", "in", list(ids))], order="id").ids)
        return readable

    def _documents_holds_readable(self):
        """Does this rule folder hold the folder of a record the user reads, or a file
        they read? (One query per model, however many records the rule has.)"""
        self.ensure_one()
        Model = self._documents_model_as_user(self.rule_id.model)
        if Model is not None and Model.search_count([("id", "in", SQL(
                "(SELECT res_id FROM cloud_folder WHERE parent_id = %s AND kind = 'object' "
                "AND state != 'detached' AND res_model = %s)", self.id, Model._name))],
                limit=1):
            return True
        Attachment = self._documents_as_user("ir.attachment")
        return bool(Attachment.search_count(self._documents_files_domain(), limit=1))

    def _documents_visible(self):
        """The folders of ``self`` the user sees: a folder of a record they read; a rule
        folder holding a folder of such a record or a file they read. (A folder no longer
        synced is nobody's to browse.)"""
        live = self.filtered(lambda f: f.state != "detached")
        record_folders = live.filtered(lambda f: f.kind in RECORD_KINDS)
        readable = record_folders._documents_readable_records()
        visible = record_folders.filtered(
            lambda f: f.res_id in readable.get(f.res_model, ()))
        for rule_folder in live.filtered(lambda f: f.kind == "rule"):
            if rule_folder._documents_holds_readable():
                visible |= rule_folder
        return self & visible

    def _documents_check_visible(self):
        if self - self._documents_visible():
            raise AccessError(self.env._("This synced folder is not yours to see."))
        return self

    def _documents_files_domain(self):
        """The files the file manager lists in this folder: those synced into it; in a
        record's own folder, the record's files not in one of its subfolders (those waiting
        for their upload too). Folder links are the tree's nodes, not files."""
        self.ensure_one()
        domain = [("cloud_kind", "!=", "folder")]
        if self.kind != "object":
            return domain + [("cloud_folder_id", "=", self.id)]
        below = self.search([("id", "child_of", self.id), ("id", "!=", self.id)])
        return domain + [("res_model", "=", self.res_model), ("res_id", "=", self.res_id),
                         ("cloud_folder_id", "not in", below.ids)]

    def _documents_node_info(self):
        """The tree nodes of these folders (visible to the user, checked by the caller). The
        link to a folder in the cloud is given when it is opened (a rule may have thousands
        of records: their links are not worked out to draw the tree)."""
        parents = set(self.search([("parent_id", "in", self.ids),
                                   ("state", "!=", "detached")]).parent_id.ids)
        several_clients = len(self.search([("kind", "=", "rule"),
                                           ("state", "!=", "detached")]).client_id) > 1
        providers = dict(self.env["cloud.client"]._fields["provider"]._description_selection(
            self.env))
        result = []
        for folder in self:
            name = folder.name
            if folder.kind == "rule" and several_clients:
                # the provider says which storage (the client's own record is not theirs)
                name = "%s (%s)" % (name, providers.get(folder.client_id.provider,
                                                        folder.client_id.provider))
            synced = folder.state == "synced" and bool(folder.cloud_id)
            result.append({
                "id": folder.id,
                "name": name,
                "kind": folder.kind,
                "parent_id": folder.parent_id.id if folder.kind != "rule" else False,
                "has_children": folder.id in parents,
                "in_cloud": synced,
                "cloud_provider": folder.client_id.provider if synced else False,
            })
        return result

    def _documents_cloud_url(self):
        self.ensure_one()
        return (self.url or False) if self.state == "synced" and self.cloud_id else False

    def _documents_rule_folders(self):
        """The rule folders of the sync rules, those of the workspace left out (its folders
        are the tree's own)."""
        return self.with_context(active_test=False).search([
            ("kind", "=", "rule"), ("state", "!=", "detached"), ("rule_id", "!=", False),
            ("rule_id.model", "!=", FOLDER_MODEL)], order="name, id")
