"""The placement strategy of the documents workspace (R-DOC-1): not an Odoo model.

The rule of a client on ``cloud.documents.folder`` (one per client, made when a folder first
gets that client, see ``cloud.documents.folder._cloud_ensure_rules``) owns the workspace
folders whose client, their own or their nearest ancestor's, is that client. Its folder is
``Root / Odoo Docs``; below it each workspace folder has an object folder (``cloud.folder``,
kind ``object``) placed as in Odoo: inside the object folder of its parent when the parent is
mirrored to the same client, directly in ``Odoo Docs`` otherwise. The files of a workspace
folder are its attachments (``res_model`` is the folder model), so the core's object-folder
rules apply unchanged: Odoo owns folder names and places, the cloud owns files.
"""
from odoo.tools.translate import LazyTranslate

from odoo.addons.cloud_base.models.cloud_placement import Placement

_lt = LazyTranslate(__name__)

#: the rule folder of the workspace, reserved for it (no other rule may take the name)
DOCS_FOLDER = "Odoo Docs"
FOLDER_MODEL = "cloud.documents.folder"


class WorkspaceTree(Placement):
    """The workspace folders as a tree below ``Odoo Docs``; each folder's files in it."""

    key = "documents"
    label = _lt("The documents workspace, as its folder tree")
    reserved_folder_name = DOCS_FOLDER

    def applies_to(self, model_name):
        return model_name == FOLDER_MODEL

    def default_folder_name(self, model):
        return DOCS_FOLDER

    def records_domain(self, rule):
        return [("cloud_client_id", "=", rule.client_id.id)]

    def plan_folders(self, planner, run, rule, ids):
        planner.env[FOLDER_MODEL]._cloud_plan_mirror(planner, run, rule, ids)

    def plan_files(self, planner, run, rule, ids):
        # uploads of the folders' files, and files moved between folders in Odoo
        planner._plan_record_uploads(run, rule, ids)


WORKSPACE = WorkspaceTree()
