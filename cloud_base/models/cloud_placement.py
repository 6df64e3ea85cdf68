"""Placement strategies: where the files of a rule's records go, and which cloud files belong
to Odoo (R-RULE-1, R-DIR-2, R-BW-1, R-BW-2).

A rule's strategy is ``rule._placement()``, chosen by the rule's model through
``cloud.sync.rule._placement_for_model()`` among ``cloud.sync.rule._placement_strategies()``.
The planner asks it which folders and uploads a rule needs; the backward engine asks it, through
``cloud.folder._file_owner()``, whom a file put in one of the rule's folders belongs to; the rule
asks it for its default folder name and for the condition its records must meet.

A strategy may reserve a rule folder name (``reserved_folder_name``, e.g. the documents
workspace's ``Odoo Docs``): the rules of that strategy use exactly that name, no other rule may
take it (``cloud.sync.rule._check_reserved_folder_name``).

Object folders (``kind == "object"``) of a strategy may be nested (a tree of records, each with
its folder inside its parent's): the planner deletes the folders of deleted records with the
folders below them once.

The core has two: ``records`` (a folder per record, named by the rule's expression, with the
rule's default subfolders; the record's attachments go in it) and ``flat`` (the records are
stand-alone attachments, which go directly in the rule's folder). An add-on registers its own by
extending ``_placement_strategies()`` (and ``applies_to`` or ``_placement_for_model``).
"""
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

#: default folder name of a rule on stand-alone attachments (R-RULE-1)
STANDALONE_FOLDER = "Stand Alone Attachments"

#: the folders inside an object folder that Odoo made and that hold the record's files: the
#: rule's default folders (R-RULE-6) and the folders users made in the attachment box
SUBFOLDER_KINDS = ("default", "manual")
#: folders that belong to one record: its object folder and the subfolders above
RECORD_FOLDER_KINDS = ("object",) + SUBFOLDER_KINDS


class Placement:
    """Base strategy; stateless (one instance serves every rule)."""

    key = None
    label = None
    #: each record gets a folder named by the rule's name expression (preview shown)
    record_folders = False
    #: the rule folder name this strategy's rules use and no other rule may take (or None)
    reserved_folder_name = None

    def applies_to(self, model_name):
        """Is this the strategy of the rules on ``model_name``? (The first one saying so in
        ``_placement_strategies()`` wins; ``records`` is the fallback.)"""
        return False

    def default_folder_name(self, model):
        """Folder name proposed for a new rule on ``model`` (an ``ir.model`` record)."""
        return model.name

    def records_domain(self, rule):
        """Condition the rule's records meet on top of its filter and periods."""
        return []

    def files_domain(self, rule, records):
        """The attachments the rule's ``records`` (a query or ids) bring to the cloud, before
        the types kept in Odoo are taken out."""
        return [("res_model", "=", rule.model), ("res_id", "in", records)]

    # -- planner ---------------------------------------------------------------------------
    def plan_folders(self, planner, run, rule, ids):
        """Queue the folder tasks of the rule's owned records ``ids`` (below the rule folder,
        which the planner handles). ``run`` is the planner's :class:`PlanRun`."""

    def plan_files(self, planner, run, rule, ids):
        """Queue the uploads of the files of the rule's owned records ``ids``."""

    # -- direct ----------------------------------------------------------------------------
    def folder_created(self, engine, client, folder):
        """``folder`` (of a rule of this strategy) was just created in the cloud by the direct
        engine ``engine``."""

    def folder_found(self, engine, client, folder, adapter, task):
        """``folder`` (of a rule of this strategy) was already in the cloud when the direct
        engine ``engine`` came to create it (a reconnect after a reset, a storage used
        before): what it holds is picked up instead of being made or uploaded again."""
        engine._pick_up_content(client, adapter, folder, task)

    # -- backward --------------------------------------------------------------------------
    def file_owner(self, folder):
        """Whom a file put directly in ``folder`` (a folder of a rule of this strategy)
        belongs to: ``(res_model, res_id)``, ``(False, False)`` for a stand-alone attachment,
        or None when it is not Odoo's business (it stays in the cloud only)."""
        if folder.kind in RECORD_FOLDER_KINDS:
            return (folder.res_model, folder.res_id)
        return None

    def links_subfolders(self, folder):
        """Does a folder made in the cloud in ``folder`` become a folder link of its record?
        (R-BW-2: first level of an object folder only.)"""
        return folder.kind == "object"


class RecordFolders(Placement):
    """A folder per record below the rule's folder; the record's attachments go in it."""

    key = "records"
    label = _lt("A folder per record")
    record_folders = True

    def plan_folders(self, planner, run, rule, ids):
        planner._plan_record_folders(run, rule, ids)

    def plan_files(self, planner, run, rule, ids):
        planner._plan_record_uploads(run, rule, ids)

    def folder_created(self, engine, client, folder):
        if folder.kind == "object":
            engine._create_default_folders(client, folder)  # R-RULE-6

    def folder_found(self, engine, client, folder, adapter, task):
        # an object folder already there keeps its subfolders (R-RULE-6: the default tree is
        # made only in new object folders); those named as the default folders are them
        templates = folder.rule_id.default_folder_ids.filtered(lambda t: not t.parent_id) \
            if folder.kind == "object" else None
        engine._pick_up_content(client, adapter, folder, task, templates)


class Flat(Placement):
    """The records are stand-alone attachments (no record of their own): directly in the rule's
    folder, and a file added there in the cloud becomes a stand-alone attachment."""

    key = "flat"
    label = _lt("Stand-alone attachments, directly in the rule's folder")

    def applies_to(self, model_name):
        return model_name == "ir.attachment"

    def default_folder_name(self, model):
        return STANDALONE_FOLDER

    def records_domain(self, rule):
        return [("res_model", "=", False), ("res_field", "=", False), ("type", "=", "binary")]

    def files_domain(self, rule, records):
        return [("id", "in", records)]

    def plan_files(self, planner, run, rule, ids):
        planner._plan_flat_uploads(run, rule, ids)

    def file_owner(self, folder):
        if folder.kind == "rule":
            return (False, False)
        return super().file_owner(folder)


RECORDS = RecordFolders()
FLAT = Flat()
