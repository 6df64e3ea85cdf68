"""The convergence suite of cloud_base (``cloud_base/tests/convergence.py``) taught the
documents workspace (R-DOC-1): the same machine (records, rules, sync steps, faults, the final
"sync until quiet") with the workspace's operations and invariants on top.

Each example starts from a small mirrored tree (``Finance / Invoices`` with one file) on the
machine's first client. Odoo side: folders created (nested, or at the top with the client),
renamed, moved (never into their own subtree), deleted when empty; files added, moved between
folders, renamed, edited, deleted. Cloud side, inside the mirror: files added, moved between
workspace folders, renamed, edited, deleted; workspace folders renamed or moved (Odoo owns
them: they are put back).

After the final sync: Odoo's folder tree is the one Odoo's users made (the cloud changed no
folder); the cloud tree below ``Odoo Docs`` is that tree, name for name; every workspace file
is synced, in its folder's cloud folder, with the content Odoo shows, and every cloud file
there is exactly one of them; no version lost (a workspace file's versions are workspace files;
a file added in the cloud to a folder Odoo deleted meanwhile stays in the cloud, its folder
kept); no content twice.
"""
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.names import name_key
from odoo.addons.cloud_base.tests.convergence import (ALL_OPERATIONS, FOLDER_NAMES, KNOWN_BUGS,
                                                      NAMES, PICK, ConvergenceMachine, _pick)

from ..models.documents_placement import FOLDER_MODEL

#: the workspace's operations (see WorkspaceMachine)
DOCS_OPERATIONS = frozenset({
    # Odoo
    "docs_create_folder", "docs_rename_folder", "docs_move_folder", "docs_delete_folder",
    "docs_add_file", "docs_move_file", "docs_rename_file", "docs_edit_file",
    "docs_delete_file",
    # cloud
    "docs_cloud_add_file", "docs_cloud_move_file", "docs_cloud_rename_file",
    "docs_cloud_edit_file", "docs_cloud_delete_file", "docs_cloud_rename_folder",
    "docs_cloud_move_folder",
})

#: the core's steps that run here by default: sync steps and faults (its record, rule and
#: account operations are switched on with CLOUD_CONVERGENCE_OPS=+name or +all)
CORE_STEPS = frozenset({"prepare", "run_some", "run_all", "backward", "fast_forward",
                        "fault", "fault_applied", "auth_expired", "crash", "kill_worker"})

DOCUMENTS_OPERATIONS = (DOCS_OPERATIONS | CORE_STEPS) - set(KNOWN_BUGS)

DOCS_FOLDER_NAMES = FOLDER_NAMES + ("Invoices", "Finance")


class WorkspaceMachine(ConvergenceMachine):
    """The core machine plus the documents workspace of its first client."""

    operations = ALL_OPERATIONS | DOCS_OPERATIONS

    def __init__(self):
        super().__init__()
        self.Folder = self.env[FOLDER_MODEL]
        self.ws = {}  # folder id -> [name, parent id or None]: the tree Odoo's users made
        self.ws_lineages = set()  # lineages of workspace files (a version is a workspace file)
        self.ws_doomed = set()  # cloud ids of the mirrors of folders deleted in Odoo
        finance = self._ws_create("Finance", None)
        invoices = self._ws_create("Invoices", finance.id)
        self._ws_add_file(invoices, "inv-1.pdf")
        self.client._prepare_direct()
        self.run_queue()

    # -- helpers -------------------------------------------------------------------------
    def _ws_create(self, name, parent_id):
        vals = {"name": name, "parent_id": parent_id or False}
        if not parent_id:
            vals["client_id"] = self.client.id  # a top folder: mirrored to the client
        folder = self.Folder.create(vals)
        self.ws[folder.id] = [name, parent_id]
        return folder

    def _ws_add_file(self, folder, name):
        data = self._new_bytes()
        attachment = self.Attachment.create({"name": name, "raw": data,
                                             "documents_folder_id": folder.id})
        lineage = self._new_lineage(None, data)
        self.ws_lineages.add(lineage.lid)
        self.att_lineage[attachment.id] = lineage.lid
        return attachment

    def _ws_free(self, parent_id, name, leaving=None):
        """Whether no other folder of ``parent_id`` (model) has that name for Odoo."""
        return not any(name_key(n) == name_key(name) and p == parent_id and fid != leaving
                       for fid, (n, p) in self.ws.items())

    def _ws_below(self, folder_id):
        """``folder_id`` and every folder below it, in the model."""
        below, level = {folder_id}, [folder_id]
        while level:
            level = [fid for fid, (_n, p) in self.ws.items() if p in level]
            below.update(level)
        return below

    def _ws_side(self):
        return self.sides[0]

    def _ws_cloud_ok(self, op):
        return self.on(op) and self.connected(self._ws_side())

    def _ws_mirrors(self, client=None):
        """``{folder id: live object folder}`` of the workspace folders at ``client``."""
        mirrors = self.env["cloud.folder"].search([
            ("res_model", "=", FOLDER_MODEL), ("res_id", "in", list(self.ws)),
            ("client_id", "=", (client or self.client).id), ("kind", "=", "object"),
            ("state", "!=", "detached")])
        return {mirror.res_id: mirror for mirror in mirrors}

    def _docs_path(self, side=None):
        side = side or self._ws_side()
        docs = self.env["cloud.sync.rule"].search([("model", "=", FOLDER_MODEL),
                                                   ("client_id", "=", side.client.id)])
        cloud_id = docs.folder_id.cloud_id
        return side.backend.path_of(cloud_id) if cloud_id else None

    def _ws_cloud_folders(self):
        """``{cloud path: folder id}`` of the workspace folders' mirrors, where they are
        now in the cloud (a person may have renamed or moved them)."""
        side = self._ws_side()
        docs = self._docs_path(side)
        if not docs:
            return {}
        out = {}
        for folder_id, mirror in self._ws_mirrors().items():
            path = mirror.cloud_id and side.backend.path_of(mirror.cloud_id)
            if path and path.startswith(docs + "/"):
                out[path] = folder_id
        return out

    def _ws_cloud_files(self):
        """``{cloud path: folder id}`` of the files directly in those folders."""
        side = self._ws_side()
        folders = self._ws_cloud_folders()
        files = {}
        for path, kind in self.cloud_items(side).items():
            parent = path.rsplit("/", 1)[0]
            if kind == cloud.FILE and parent in folders:
                files[path] = folders[parent]
        return files

    def _ws_attachments(self):
        return self.Attachment.search([
            ("res_model", "=", FOLDER_MODEL), ("res_id", "in", list(self.ws)),
            ("cloud_kind", "!=", "folder"), ("res_field", "=", False)], order="id")

    def _ws_pick_attachment(self, pick):
        attachment = _pick(self._ws_attachments(), pick)
        if not attachment:
            return None, None, None
        shown = self._shown(attachment)
        lineage = self.lineages.get(self.att_lineage.get(attachment.id)) \
            or (shown is not None and self._lineage_of_content(shown))
        return attachment, shown, lineage or None

    # =====================================================================================
    # Odoo operations (a user in the file manager)
    # =====================================================================================
    @precondition(lambda self: self.on("docs_create_folder") and len(self.ws) < 7)
    @rule(pick=PICK, top=st.booleans(), name=st.sampled_from(DOCS_FOLDER_NAMES))
    def docs_create_folder(self, pick, top, name):
        parent_id = None if top else _pick(sorted(self.ws), pick)
        if self._ws_free(parent_id, name):
            self._ws_create(name, parent_id)

    @precondition(lambda self: self.on("docs_rename_folder") and self.ws)
    @rule(pick=PICK, name=st.sampled_from(DOCS_FOLDER_NAMES))
    def docs_rename_folder(self, pick, name):
        folder_id = _pick(sorted(self.ws), pick)
        current, parent_id = self.ws[folder_id]
        if name != current and self._ws_free(parent_id, name, leaving=folder_id):
            self.Folder.browse(folder_id).name = name
            self.ws[folder_id][0] = name

    @precondition(lambda self: self.on("docs_move_folder") and len(self.ws) > 1)
    @rule(pick=PICK, dest=PICK, top=st.booleans())
    def docs_move_folder(self, pick, dest, top):
        folder_id = _pick(sorted(self.ws), pick)
        name, parent_id = self.ws[folder_id]
        target = None if top else _pick(sorted(set(self.ws) - self._ws_below(folder_id)), dest)
        if (target is None and not top) or target == parent_id \
                or not self._ws_free(target, name, leaving=folder_id):
            return
        vals = {"parent_id": target or False}
        if target is None:
            vals["client_id"] = self.client.id  # stays mirrored, as a top folder
        self.Folder.browse(folder_id).write(vals)
        self.ws[folder_id][1] = target
        self.note("docs_move_folder %s -> %s" % (folder_id, target))

    @precondition(lambda self: self.on("docs_delete_folder") and len(self.ws) > 1)
    @rule(pick=PICK)
    def docs_delete_folder(self, pick):
        """An empty folder (for Odoo) is deleted; files added to its cloud folder meanwhile
        are no workspace files any more: they must stay in the cloud (R-SAFE-1)."""
        folder_id = _pick(sorted(self.ws), pick)
        if self._ws_below(folder_id) != {folder_id} or self.Attachment.search_count([
                ("res_model", "=", FOLDER_MODEL), ("res_id", "=", folder_id)]):
            return
        mirror = self._ws_mirrors().get(folder_id)
        side = self._ws_side()
        path = mirror and mirror.cloud_id and side.backend.path_of(mirror.cloud_id)
        if path:
            self.ws_doomed.add(mirror.cloud_id)
            shown = {self._shown(a) for a in self._ws_attachments()}
            for item, kind in side.backend.items(path).items():
                data = kind == cloud.FILE and side.backend.read(item)
                lineage = data and data not in shown and self._lineage_of_content(data)
                if lineage:  # a file Odoo does not know (yet): no workspace file now
                    self.ws_lineages.discard(lineage.lid)
        self.Folder.browse(folder_id).unlink()
        del self.ws[folder_id]
        self.note("docs_delete_folder %s" % folder_id)

    @precondition(lambda self: self.on("docs_add_file") and self.ws)
    @rule(pick=PICK, name=st.sampled_from(NAMES))
    def docs_add_file(self, pick, name):
        self._ws_add_file(self.Folder.browse(_pick(sorted(self.ws), pick)), name)

    @precondition(lambda self: self.on("docs_move_file") and len(self.ws) > 1)
    @rule(pick=PICK, dest=PICK)
    def docs_move_file(self, pick, dest):
        attachment, _shown, lineage = self._ws_pick_attachment(pick)
        target = _pick(sorted(self.ws), dest)
        if attachment and lineage and target != attachment.res_id:
            attachment.write({"documents_folder_id": target})

    @precondition(lambda self: self.on("docs_rename_file"))
    @rule(pick=PICK, name=st.sampled_from(NAMES))
    def docs_rename_file(self, pick, name):
        attachment, _shown, _lineage = self._ws_pick_attachment(pick)
        if attachment:
            attachment.name = name

    @precondition(lambda self: self.on("docs_edit_file"))
    @rule(pick=PICK)
    def docs_edit_file(self, pick):
        attachment, shown, lineage = self._ws_pick_attachment(pick)
        if not attachment or lineage is None or shown is None:
            return
        data = self._new_bytes()
        attachment.write({"raw": data})
        self._replace(lineage, shown, data)
        self.att_lineage[attachment.id] = lineage.lid

    @precondition(lambda self: self.on("docs_delete_file"))
    @rule(pick=PICK)
    def docs_delete_file(self, pick):
        attachment, shown, lineage = self._ws_pick_attachment(pick)
        if not attachment or lineage is None:
            return
        self._replace(lineage, shown)
        # an unseen cloud version may go with it (R-DIR-5 leaves it open), as in the core
        lineage.heads = dict.fromkeys(lineage.heads, False)
        attachment.unlink()

    # =====================================================================================
    # Cloud operations inside the mirror (a person in the storage's web UI)
    # =====================================================================================
    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_add_file"))
    @rule(pick=PICK, name=st.sampled_from(NAMES))
    def docs_cloud_add_file(self, pick, name):
        side = self._ws_side()
        folder = _pick(sorted(self._ws_cloud_folders()), pick)
        if not folder or not self._free(side, folder, name):
            return
        data = self._new_bytes()
        side.backend.write(folder + "/" + name, data)
        self.ws_lineages.add(self._new_lineage(None, data).lid)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_move_file"))
    @rule(pick=PICK, dest=PICK)
    def docs_cloud_move_file(self, pick, dest):
        side = self._ws_side()
        path = _pick(sorted(self._ws_cloud_files()), pick)
        folder = _pick(sorted(self._ws_cloud_folders()), dest)
        if not path or not folder or path.rsplit("/", 1)[0] == folder:
            return
        name = path.rsplit("/", 1)[1]
        if self._free(side, folder, name):
            side.backend.move(path, folder + "/" + name)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_rename_file"))
    @rule(pick=PICK, name=st.sampled_from(NAMES))
    def docs_cloud_rename_file(self, pick, name):
        side = self._ws_side()
        path = _pick(sorted(self._ws_cloud_files()), pick)
        if path and self._free(side, path.rsplit("/", 1)[0], name):
            side.backend.move(path, path.rsplit("/", 1)[0] + "/" + name)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_edit_file"))
    @rule(pick=PICK)
    def docs_cloud_edit_file(self, pick):
        side = self._ws_side()
        path = _pick(sorted(self._ws_cloud_files()), pick)
        shown = path and side.backend.read(path)
        lineage = shown and self._lineage_of_content(shown)
        if lineage:
            data = self._new_bytes()
            side.backend.write(path, data)
            self._replace(lineage, shown, data)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_delete_file"))
    @rule(pick=PICK)
    def docs_cloud_delete_file(self, pick):
        side = self._ws_side()
        path = _pick(sorted(self._ws_cloud_files()), pick)
        if not path:
            return
        data = side.backend.read(path)
        lineage = self._lineage_of_content(data)
        if lineage:
            self._replace(lineage, data)
        side.backend.delete(path)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_rename_folder"))
    @rule(pick=PICK, name=st.sampled_from(DOCS_FOLDER_NAMES + ("Renamed",)))
    def docs_cloud_rename_folder(self, pick, name):
        side = self._ws_side()
        path = _pick(sorted(self._ws_cloud_folders()), pick)
        if path and self._free(side, path.rsplit("/", 1)[0], name):
            side.backend.move(path, path.rsplit("/", 1)[0] + "/" + name)

    @precondition(lambda self: self._ws_cloud_ok("docs_cloud_move_folder"))
    @rule(pick=PICK, dest=PICK)
    def docs_cloud_move_folder(self, pick, dest):
        """A workspace folder moved into another one, or to the top of ``Odoo Docs``."""
        side = self._ws_side()
        folders = sorted(self._ws_cloud_folders())
        path = _pick(folders, pick)
        target = _pick(folders + [self._docs_path(side)], dest)
        if not path or not target or target == path or target.startswith(path + "/") \
                or path.rsplit("/", 1)[0] == target:
            return
        name = path.rsplit("/", 1)[1]
        if self._free(side, target, name):
            side.backend.move(path, target + "/" + name)

    # =====================================================================================
    # Invariants after the final sync
    # =====================================================================================
    def check_invariants_at_end(self):
        result = super().check_invariants_at_end()
        problems = self._workspace_problems()
        if not problems:
            return result
        raise AssertionError("workspace convergence failed:\n  " + "\n  ".join(problems)
                             + "\nodoo tree: %s\nmodel: %s\ntrace: %s\ncloud: %s" % (
                                 self.ws, [self.lineages[lid] for lid in
                                           sorted(self.ws_lineages)], self.trace,
                                 sorted(self.cloud_items(self._ws_side(), all_items=True))))

    def _ws_expected_paths(self, docs):
        """``{folder id: cloud path}`` the model's tree gives below ``docs``."""
        paths = {}

        def path_of(folder_id):
            if folder_id not in paths:
                name, parent_id = self.ws[folder_id]
                paths[folder_id] = (path_of(parent_id) if parent_id else docs) + "/" + name
            return paths[folder_id]

        for folder_id in self.ws:
            path_of(folder_id)
        return paths

    def _workspace_problems(self):
        problems = []
        side = self._ws_side()
        backend = side.backend
        # -- Odoo's tree is the users' (a cloud change of a folder never reaches Odoo) ----
        folders = self.Folder.browse(list(self.ws)).exists()
        if set(folders.ids) != set(self.ws):
            problems.append("workspace folders lost in Odoo: %s" % sorted(
                set(self.ws) - set(folders.ids)))
        for folder in folders:
            if [folder.name, folder.parent_id.id or None] != self.ws[folder.id]:
                problems.append("folder %s is %r in %s in Odoo, its users made it %r in %s" % (
                    folder.id, folder.name, folder.parent_id.id, *self.ws[folder.id]))
        stray = self.Folder.search([("id", "child_of", list(self.ws)),
                                    ("id", "not in", list(self.ws))])
        if stray:
            problems.append("folders nobody made in Odoo: %s" % stray.mapped("complete_name"))
        docs = self._docs_path(side)
        if not docs:
            return problems + ["the Odoo Docs folder is not in the cloud"]
        # -- the cloud tree below Odoo Docs is Odoo's, name for name ------------------------
        expected = self._ws_expected_paths(docs)
        mirrors = self._ws_mirrors()
        for folder_id, path in expected.items():
            mirror = mirrors.get(folder_id)
            actual = mirror and mirror.cloud_id and backend.path_of(mirror.cloud_id)
            if actual != path:
                problems.append("folder %s is at %s in the cloud, expected %s" % (
                    folder_id, actual, path))
        below = backend.items(docs)
        kept = [p for p in map(backend.path_of, self.ws_doomed) if p]
        kept_roots = []
        for path in kept:
            if any(k == cloud.FILE for p, k in below.items() if p.startswith(path + "/")):
                kept_roots.append(path)  # holds files Odoo never knew: kept (R-SAFE-1)
            else:
                problems.append("the folder %s of a deleted workspace folder is still in the "
                                "cloud, with no file in it" % path)
        inside = {p: k for p, k in below.items()
                  if not any(p == r or p.startswith(r + "/") for r in kept_roots)}
        cloud_folders = {p for p, k in inside.items() if k == cloud.FOLDER}
        if cloud_folders != set(expected.values()):
            problems.append("cloud folders below Odoo Docs %s, Odoo's tree %s" % (
                sorted(cloud_folders), sorted(expected.values())))
        # -- every workspace file is synced in its folder, with Odoo's content ------------
        folder_of_path = {path: folder_id for folder_id, path in expected.items()}
        by_item, by_content = {}, {}
        for attachment in self._ws_attachments():
            data = self._shown(attachment)
            by_content.setdefault(data, []).append(attachment.id)
            if data is None:
                problems.append("dead link: workspace file %s %r cannot be read"
                                % (attachment.id, attachment.name))
                continue
            if data not in self.origin:
                problems.append("workspace file %s holds bytes the model never wrote: %r"
                                % (attachment.id, data[:40]))
            if attachment.cloud_kind != "file" or not attachment.cloud_item_id \
                    or attachment.cloud_client_id != side.client:
                problems.append("workspace file %s %r is not synced (type %s, client %s)" % (
                    attachment.id, attachment.name, attachment.type,
                    attachment.cloud_client_id.id))
                continue
            by_item.setdefault(attachment.cloud_item_id, []).append(attachment.id)
            path = backend.path_of(attachment.cloud_item_id)
            if not path or folder_of_path.get(path.rsplit("/", 1)[0]) != attachment.res_id:
                problems.append("workspace file %s %r of folder %s is at %s in the cloud" % (
                    attachment.id, attachment.name, attachment.res_id, path))
                continue
            if backend.read(path) != data:
                problems.append("workspace file %s shows %r, its cloud file %s holds %r" % (
                    attachment.id, data[:40], path, backend.read(path)[:40]))
            if attachment.cloud_folder_id != mirrors.get(attachment.res_id):
                problems.append("workspace file %s is in folder %s, its cloud folder is %s" % (
                    attachment.id, attachment.res_id, attachment.cloud_folder_id.name))
        problems += ["workspace files %s share the cloud file %s" % (ids, backend.path_of(i))
                     for i, ids in by_item.items() if len(ids) > 1]
        problems += ["workspace files %s hold the same content %r" % (ids, data[:40])
                     for data, ids in by_content.items() if data and len(ids) > 1]
        linked = {backend.path_of(item) for item in by_item}
        for path, kind in inside.items():
            if kind == cloud.FILE and path not in linked:
                problems.append("cloud file %s is no workspace file" % path)
        # -- no version lost: a workspace file's versions are workspace files ------------
        for lid in sorted(self.ws_lineages):
            lineage = self.lineages[lid]
            if lineage.record is not None:
                continue  # moved into a record's folder by a core operation: its invariants
            for data, strict in lineage.heads.items():
                if strict and data not in by_content:
                    problems.append("lost: version %r of workspace file %r is no workspace "
                                    "file" % (data, lineage))
        return problems
