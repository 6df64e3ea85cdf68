"""Model-based convergence suite (issue 11, section 3): hypothesis drives random interleavings
of Odoo operations, cloud operations, sync steps, adapter faults and crashes over a small tree,
then syncs until quiet and checks the result against a reference model.

Pieces:

* :class:`Backend` — the storage seen as a person sees it (paths under the client's root):
  list, read, write, mkdir, move, delete, plus the client it connects. One per adapter:
  :class:`MemoryBackend` here, the emulator backends in the provider add-ons' tests.
* :class:`FaultPlan` / :class:`FaultyAdapter` — faults per adapter call, the same for every
  adapter: the wrapped adapter raises the planned error before the call (``apply=False``) or
  after performing it ("applied, answer lost").
* :class:`ConvergenceMachine` — the ``RuleBasedStateMachine``: rules, the reference model,
  the final convergence and the invariants.
* :func:`run_convergence` — runs the machine inside an Odoo ``TransactionCase`` test: each
  example is rolled back to a savepoint, so every example starts from the same database.

The reference model follows "what the writer saw": every file is a *lineage* (one logical file)
with a set of *heads* (versions that must survive). A write on one side replaces the version
that side showed when it was written; a version neither side saw being replaced stays a head.
So an edit in Odoo after an unseen cloud edit leaves two heads (a conflict: both versions are
kept, R-SAFE-4); a cloud deletion of a file edited in Odoo meanwhile leaves the Odoo version
(issue 11 §2); an edit of a file that the other side already showed replaces it. Versions are
unique byte strings, so a content says which lineage and version it is.

Environment (see README "Convergence suite"):

``CLOUD_CONVERGENCE_SEED``      seed of the run (default: fixed per suite, so CI is repeatable)
``CLOUD_CONVERGENCE_EXAMPLES``  number of examples (default: the suite's CI figure)
``CLOUD_CONVERGENCE_STEPS``     steps per example (default: the suite's figure)
``CLOUD_CONVERGENCE_OPS``       ``+op,-op`` to enable/disable operations (``+all``: every one)
``CLOUD_CONVERGENCE_BLOB``      ``version:blob`` of a ``@reproduce_failure`` line: one example
"""
import ast
import contextlib
import datetime
import logging
import os
import re
import sys
import time
import uuid

from hypothesis import HealthCheck, Verbosity, reproduce_failure
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, get_state_machine_test, precondition,
                                 rule)

from odoo.exceptions import UserError

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

_logger = logging.getLogger(__name__)

#: adapter operations a fault can hit
FAULT_OPERATIONS = ("ensure_root", "create_folder", "find_child", "upload", "get_item",
                    "rename", "move", "delete", "changes", "latest_cursor", "download",
                    "list_children", "check_connection")

#: (name, factory, may be "applied, answer lost")
FAULTS = (
    ("not_found", lambda: cloud.NotFound("injected: not found", code="not_found"), False),
    ("conflict", lambda: cloud.Conflict("injected: conflict", code="conflict"), False),
    ("rate_limited_retry_after",
     lambda: cloud.RateLimited("injected: 429", code=429, retry_after=3), False),
    ("rate_limited", lambda: cloud.RateLimited("injected: 429", code=429), False),
    ("server_error", lambda: cloud.Transient("injected: 503", code=503), True),
    ("timeout", lambda: cloud.Transient("injected: timed out", code="timeout"), True),
    ("auth_expired", lambda: cloud.AuthExpired("injected: token expired", code=401), False),
)

#: methods of ir.attachment a crash can hit (the task's transaction rolls back)
CRASH_POINTS = ("_cloud_mark_synced", "_cloud_local_chunks", "_cloud_write_metadata",
                "_cloud_restore_binary", "_cloud_forget", "_cloud_back_to_remote")

#: every operation of the machine; see ConvergenceMachine for what each does
ALL_OPERATIONS = frozenset({
    # Odoo
    "create_record", "rename_record", "delete_record", "regroup_record",
    "add_attachment", "edit_attachment", "delete_attachment", "move_attachment",
    "rule_domain", "rule_sequence", "rule_folder_name", "rule_name_expression",
    "rule_client", "reset", "reconnect", "change_credentials",
    # cloud
    "cloud_add_file", "cloud_add_folder", "cloud_rename_file", "cloud_rename_folder",
    "cloud_rename_managed_folder", "cloud_move_file", "cloud_move_folder",
    "cloud_move_managed_folder", "cloud_delete_file", "cloud_delete_folder",
    "cloud_delete_managed_folder", "cloud_edit_file",
    # sync
    "prepare", "run_some", "run_all", "backward", "fast_forward",
    # faults
    "fault", "fault_applied", "auth_expired", "crash", "kill_worker",
    # cloud edits inside the folder of a record deleted in Odoo, before that deletion ran
    "cloud_in_deleted_record_folder",
})

#: operations disabled by default because they expose a known bug (see test_loss_paths.py
#: and the report in README "Convergence suite"); enable with CLOUD_CONVERGENCE_OPS=+name
KNOWN_BUGS = {}

#: operations that expose a known bug of the provider adapters (not of the memory storage)
KNOWN_ADAPTER_BUGS = {}


def enabled_operations(default, known=ALL_OPERATIONS):
    """``default`` with the changes of ``CLOUD_CONVERGENCE_OPS`` (``known``: every operation
    of the machine)."""
    ops = set(default)
    for token in filter(None, (os.environ.get("CLOUD_CONVERGENCE_OPS") or "").split(",")):
        token = token.strip()
        name = token.lstrip("+-")
        names = known if name == "all" else {name}
        if name != "all" and name not in known:
            raise ValueError("unknown convergence operation %r" % name)
        if token.startswith("-"):
            ops -= names
        else:
            ops |= names
    return frozenset(ops)


# ----------------------------------------------------------------------------------------
# Faults per adapter call, for every adapter
# ----------------------------------------------------------------------------------------
class FaultPlan:
    def __init__(self):
        self.plans = {}
        self.injected = []
        self.suspended = False

    @contextlib.contextmanager
    def suspend(self):
        """The test's own observations go through without faults."""
        previous, self.suspended = self.suspended, True
        try:
            yield
        finally:
            self.suspended = previous

    def inject(self, operation, error, apply=False):
        self.plans.setdefault(operation, []).append((error, apply))
        self.injected.append((operation, type(error).__name__, apply))

    def take(self, operation):
        if self.suspended:
            return None, False
        queue = self.plans.get(operation)
        return queue.pop(0) if queue else (None, False)

    def clear(self):
        self.plans.clear()


class FaultyAdapter:
    """Forwards to ``adapter``; planned faults fire on the named operations."""

    def __init__(self, adapter, plan):
        self._adapter = adapter
        self._plan = plan

    def __getattr__(self, name):
        target = getattr(self._adapter, name)
        if name not in FAULT_OPERATIONS:
            return target
        plan = self._plan

        def call(*args, **kwargs):
            error, apply = plan.take(name)
            if error is not None and not apply:
                raise error
            result = target(*args, **kwargs)
            if name == "download" and error is not None:
                result = b"".join(result)  # the transfer happened, then the answer was lost
            if error is not None:
                raise error
            return result
        return call


# ----------------------------------------------------------------------------------------
# Storages as a person sees them
# ----------------------------------------------------------------------------------------
class Backend:
    """Path-based access to one storage account of an example (paths like
    ``/Odoo/Contacts/Ann``). :meth:`spawn` gives another, empty account of the same kind (a
    second client, or the account an administrator points a client to)."""

    name = "abstract"

    def setup(self, case):
        """Create and connect a client on a fresh, empty account; return it."""
        raise NotImplementedError

    def spawn(self):
        """Another backend of the same kind over another, fresh and empty account."""
        raise NotImplementedError

    def create_client(self, case):
        """Create and connect a client on this (spawned) backend's account; return it."""
        raise NotImplementedError

    def point(self, client):
        """Write ``client``'s settings (credentials, server) so that they reach this account
        (what an administrator types; connecting is :meth:`reconnect`)."""
        raise NotImplementedError

    def teardown(self):
        pass

    def items(self, below):
        """``{path: kind}`` of everything strictly below ``below`` ("": the whole account)."""
        raise NotImplementedError

    def read(self, path):  # pylint: disable=method-required-super
        raise NotImplementedError

    def write(self, path, data):  # pylint: disable=method-required-super
        raise NotImplementedError

    def mkdir(self, path):
        raise NotImplementedError

    def move(self, src, dst):
        raise NotImplementedError

    def delete(self, path):
        raise NotImplementedError

    def path_of(self, item_id):
        """Path of the item with that adapter id, or None."""
        raise NotImplementedError

    def reconnect(self, client):
        """What an administrator does on *Reconnect* (OAuth providers: a new consent)."""
        client.action_connect()


class MemoryBackend(Backend):
    name = "memory"

    def _new_store(self):
        self.store_name = "conv-%s" % uuid.uuid4().hex
        self.store = get_store(self.store_name)

    def setup(self, case):
        self._new_store()
        return self.create_client(case)

    def create_client(self, case):
        client = case.env["cloud.client"].create({
            "name": "Memory %s" % self.store_name[-6:], "provider": "memory",
            "api_base_url": self.store_name, "mass_delete_min_files": 1000})
        client.action_connect()
        return client

    def spawn(self):
        other = MemoryBackend()
        other._new_store()
        return other

    def point(self, client):
        client.write({"api_base_url": self.store_name})

    def teardown(self):
        drop_store(self.store_name)

    def _node(self, path):
        node = self.store.items[self.store.ROOT_ID]
        for part in path.strip("/").split("/"):
            if not part:
                continue
            node = self.store.child_named(node.id, part)
            if node is None:
                return None
        return node

    def items(self, below):
        node = self._node(below)
        if node is None:
            return {}
        return {below + path: kind for path, (kind, _size) in self.store.tree(node.id).items()}

    def read(self, path):  # pylint: disable=method-required-super
        return self.store.content[self._node(path).id]

    def write(self, path, data):  # pylint: disable=method-required-super
        node = self._node(path)
        if node is None:
            parent, name = path.rsplit("/", 1)
            self.store.put_file(self._node(parent).id, name, data)
            return
        self.store.content[node.id] = bytes(data)
        self.store.update(node.id, size=len(data), hash=cloud.sha256_hex([data]))

    def mkdir(self, path):
        parent, name = path.rsplit("/", 1)
        self.store.put_folder(self._node(parent).id, name)

    def move(self, src, dst):
        parent, name = dst.rsplit("/", 1)
        self.store.update(self._node(src).id, name=name, parent_id=self._node(parent).id)

    def delete(self, path):
        self.store.remove(self._node(path).id)

    def path_of(self, item_id):
        if item_id not in self.store.items:
            return None
        return self.store.path_of(item_id)


# ----------------------------------------------------------------------------------------
# The machine
# ----------------------------------------------------------------------------------------
NAMES = ("doc.txt", "Doc.txt", "plan.bin", "notes.md")
FOLDER_NAMES = ("Sub", "sub", "Archive", "Old")
RULE_FOLDERS = ("Contacts", "People", "VIP", "Gold")
EXPRESSIONS = (False, "${object.name} (${object.ref})", "${object.name.upper()}")
GROUPS = ("A", "B", "C")  # A: first rule, B: both rules (sequence decides), C: no rule
PICK = st.integers(min_value=0, max_value=10 ** 6)


class Lineage:
    """One logical file: the record it belongs to (None: a file only the cloud knows about)
    and its heads ``{bytes: strict}`` (strict False: may be lost, the spec leaves it open)."""

    def __init__(self, lid, record, data):
        self.lid = lid
        self.record = record
        self.heads = {data: True}

    def __repr__(self):
        return "Lineage(%s, record=%s, heads=%s)" % (self.lid, self.record, list(self.heads))


def _pick(items, index):
    items = list(items)
    return items[index % len(items)] if items else None


class Side:
    """One client of the example and the account its settings reach (``backend``).
    ``restore``: after a refused change of account, the backend of the account that holds
    its files, to which the administrator points the client back."""

    def __init__(self, client, backend):
        self.client = client
        self.backend = backend
        self.restore = None

    def __repr__(self):
        return "Side(client %s on %s)" % (self.client.id, self.backend.name)


class ConvergenceMachine(RuleBasedStateMachine):
    """Subclassed per run by :func:`run_convergence` with ``case``, ``backend`` and ``ops``.
    An add-on's suite may subclass it too (more rules, more invariants): ``operations``
    then names its operations as well."""

    operations = ALL_OPERATIONS
    case = None
    backend = None
    ops = frozenset()
    crash_state = None  # {"armed": set of method names}
    max_cycles = 12

    def __init__(self):
        super().__init__()
        case = self.case
        self.env = case.env
        self.savepoint = self.env.cr.savepoint()
        self.plan = FaultPlan()
        self.crash_state["armed"] = set()
        self.crash_state["plan"] = self.plan
        self.counter = 0
        self.tag = "cv%s" % uuid.uuid4().hex[:8]
        self.trace = []
        self.client = self.backend.setup(case)
        self.sides = [Side(self.client, self.backend)]
        self.accounts = [self.backend]  # every account of the example, abandoned ones too
        self.Partner = self.env["res.partner"]
        self.Attachment = self.env["ir.attachment"]
        self.Task = self.env["cloud.task"]
        self.records = {}  # id -> group
        self.lineages = {}
        self.origin = {}  # bytes -> lineage id
        self.att_lineage = {}  # attachment id -> lineage id
        self.deleted_records = set()
        self.doomed = set()  # cloud ids of the folders of records deleted in Odoo
        self.plain_links = set()  # folder links of a former account, plain links now
        model = self.env["ir.model"]._get("res.partner")
        self.rules = self.env["cloud.sync.rule"].create([{
            "model_id": model.id, "folder_name": "Contacts", "client_id": self.client.id,
            "sequence": 10, "domain": self._domain("AB")}, {
            "model_id": model.id, "folder_name": "VIP", "client_id": self.client.id,
            "sequence": 20, "domain": self._domain("B")}])
        for index, group in enumerate("AB"):
            self._create_record("P%d" % index, group)
        self.client._prepare_direct()
        self.run_queue()

    # -- helpers -------------------------------------------------------------------------
    def on(self, op):
        return op in self.ops

    def note(self, message):
        self.trace.append(message)

    def _domain(self, groups):
        return repr([("ref", "in", [self.tag + g for g in groups])])

    def _new_bytes(self):
        self.counter += 1
        return b"v%d-%s" % (self.counter, self.tag.encode())

    def _new_lineage(self, record, data):
        lid = len(self.lineages) + 1
        self.lineages[lid] = Lineage(lid, record, data)
        self.origin[data] = lid
        return self.lineages[lid]

    def _replace(self, lineage, shown, new=None):
        """A writer who saw ``shown`` replaced it by ``new`` (None: deleted it)."""
        if shown is not None:
            lineage.heads.pop(shown, None)
        if new is not None:
            lineage.heads[new] = True
            self.origin[new] = lineage.lid

    def _create_record(self, name, group):
        record = self.Partner.create({"name": name, "ref": self.tag + group})
        self.records[record.id] = group
        return record

    def _live_records(self):
        return self.Partner.browse(sorted(self.records))

    def _attachments(self):
        return self.Attachment.search([
            ("res_model", "=", "res.partner"), ("res_id", "in", list(self.records)),
            ("cloud_kind", "!=", "folder"), ("res_field", "=", False),
            ("id", "not in", list(self.plain_links))], order="id")

    def _shown(self, attachment):
        """What Odoo shows of an attachment (None when it cannot be read)."""
        attachment.invalidate_recordset()
        try:
            with self.plan.suspend():
                return attachment.raw
        except UserError:
            return None

    def _lineage_of_content(self, data):
        lid = self.origin.get(data)
        return self.lineages.get(lid) if lid else None

    def run_queue(self, max_tasks=None):
        self.env.flush_all()
        return self.Task._run_queue(time_budget=300, max_tasks=max_tasks)

    def fast_forward_tasks(self):
        self.Task.search([("state", "=", "pending")]).write({"next_attempt": "2000-01-01"})

    def connected(self, side=None):
        client = (side or self.sides[0]).client
        return client.state == "connected" and not client.reset_pending and not (
            side or self.sides[0]).restore

    def _side_of(self, client):
        return next(side for side in self.sides if side.client == client)

    def _pick_side(self, pick, connected=True):
        return _pick([s for s in self.sides if not connected or self.connected(s)], pick)

    def root_path(self, side=None):
        side = side or self.sides[0]
        root = side.client.root_folder_id
        return side.backend.path_of(root.cloud_id) if root.cloud_id else None

    def cloud_items(self, side=None, all_items=False):
        side = side or self.sides[0]
        root = self.root_path(side)
        items = side.backend.items(root) if root else {}
        if all_items or self.on("cloud_in_deleted_record_folder") or not self.doomed:
            return items
        doomed = [p for p in map(side.backend.path_of, self.doomed) if p]
        return {path: kind for path, kind in items.items()
                if not any(path == d or path.startswith(d + "/") for d in doomed)}

    def managed_ids(self, side):
        return set(self.env["cloud.folder"].search([
            ("client_id", "=", side.client.id), ("cloud_id", "!=", False),
            ("kind", "!=", "subfolder")]).mapped("cloud_id"))

    def _folder_paths(self, side, managed):
        """Cloud folder paths below the root of ``side``, managed by the suite or not."""
        ids = self.managed_ids(side)
        path_ids = self._path_ids(side)
        paths = []
        for path, kind in self.cloud_items(side).items():
            if kind != cloud.FOLDER:
                continue
            is_managed = path_ids.get(path) in ids
            if is_managed == managed:
                paths.append(path)
        return sorted(paths)

    def _id_of(self, side, path):
        return self._path_ids(side).get(path)

    def _path_ids(self, side):
        out = {}
        for folder in self.env["cloud.folder"].search([("client_id", "=", side.client.id),
                                                       ("cloud_id", "!=", False)]):
            path = side.backend.path_of(folder.cloud_id)
            if path:
                out[path] = folder.cloud_id
        return out

    def _owner_of_folder_path(self, side, path):
        """The record whose synced object or default folder ``path`` is (None otherwise)."""
        cloud_id = self._id_of(side, path)
        if not cloud_id:
            return None
        folder = self.env["cloud.folder"].search([("client_id", "=", side.client.id),
                                                  ("cloud_id", "=", cloud_id)], limit=1)
        if folder.kind in ("object", "default") and folder.res_model == "res.partner" \
                and folder.res_id in self.records and folder.state != "detached":
            return folder.res_id
        return None

    def _files(self, side):
        return sorted(p for p, k in self.cloud_items(side).items() if k == cloud.FILE)

    def _free(self, side, folder_path, name):
        lowered = name.lower()
        return not any(p.rsplit("/", 1)[0] == folder_path and p.rsplit("/", 1)[1].lower()
                       == lowered for p in self.cloud_items(side))

    def _account_files(self, backend):
        """``{bytes: [paths]}`` of the files of a whole account."""
        out = {}
        for path, kind in backend.items("").items():
            if kind == cloud.FILE:
                out.setdefault(backend.read(path), []).append(path)
        return out

    def _leave_in_cloud(self, backend, record_ids=None):
        """The versions in ``backend``'s account that no Odoo attachment shows stay there
        and nowhere else (a client moved away from that account, or a rule moved away from
        that client): they must survive, but no longer as attachments of their record
        (``record_ids``: only the lineages of those records)."""
        shown = {self._shown(a) for a in self._attachments()}
        for data in self._account_files(backend):
            lineage = self._lineage_of_content(data)
            if lineage is None or data in shown or not lineage.heads.get(data) or \
                    lineage.record is None or (record_ids is not None
                                               and lineage.record not in record_ids):
                continue
            strict = lineage.heads.pop(data)
            kept = self._new_lineage(None, data)
            kept.heads[data] = strict

    # =====================================================================================
    # Odoo operations
    # =====================================================================================
    @precondition(lambda self: self.on("create_record") and len(self.records) < 5)
    @rule(group=st.sampled_from(GROUPS))
    def create_record(self, group):
        record = self._create_record("N%d" % (self.counter + 1), group)
        self.counter += 1
        self.note("create_record %s %s" % (record.id, group))

    @precondition(lambda self: self.on("rename_record") and self.records)
    @rule(pick=PICK, name=st.sampled_from(("Ann", "Bob", "ann", "Zoe")))
    def rename_record(self, pick, name):
        record = _pick(self._live_records(), pick)
        record.name = name

    @precondition(lambda self: self.on("regroup_record") and self.records)
    @rule(pick=PICK, group=st.sampled_from(GROUPS))
    def regroup_record(self, pick, group):
        record = _pick(self._live_records(), pick)
        record.ref = self.tag + group
        self.records[record.id] = group

    @precondition(lambda self: self.on("delete_record") and self.records)
    @rule(pick=PICK)
    def delete_record(self, pick):
        record = _pick(self._live_records(), pick)
        # cloud-only files below its folder go with it (R-DIR-4)
        folder = self.env["cloud.folder"]._for_records(record) or self.env[
            "cloud.folder"].search([("res_model", "=", "res.partner"),
                                    ("res_id", "=", record.id), ("kind", "=", "object")])
        self.doomed.update(folder.filtered("cloud_id").mapped("cloud_id"))
        for f in folder:
            side = next((s for s in self.sides if s.client == f.client_id), None)
            path = side and f.cloud_id and side.backend.path_of(f.cloud_id)
            if path:
                for item, kind in side.backend.items(path).items():
                    if kind == cloud.FILE:
                        lineage = self._lineage_of_content(side.backend.read(item))
                        if lineage:
                            lineage.heads = dict.fromkeys(lineage.heads, False)
        for lineage in self.lineages.values():
            if lineage.record == record.id:
                lineage.heads = {}
        del self.records[record.id]
        self.deleted_records.add(record.id)
        record.unlink()

    @precondition(lambda self: self.on("add_attachment") and self.records)
    @rule(pick=PICK, name=st.sampled_from(NAMES))
    def add_attachment(self, pick, name):
        record = _pick(self._live_records(), pick)
        data = self._new_bytes()
        attachment = self.Attachment.create({"name": name, "raw": data,
                                             "res_model": "res.partner", "res_id": record.id})
        lineage = self._new_lineage(record.id, data)
        self.att_lineage[attachment.id] = lineage.lid

    def _pick_attachment(self, pick):
        attachment = _pick(self._attachments(), pick)
        if not attachment:
            return None, None, None
        shown = self._shown(attachment)
        lineage = self.lineages.get(self.att_lineage.get(attachment.id)) \
            or (shown is not None and self._lineage_of_content(shown))
        return attachment, shown, lineage or None

    @precondition(lambda self: self.on("edit_attachment"))
    @rule(pick=PICK)
    def edit_attachment(self, pick):
        attachment, shown, lineage = self._pick_attachment(pick)
        if not attachment or lineage is None or shown is None:
            return
        data = self._new_bytes()
        attachment.write({"raw": data})
        self._replace(lineage, shown, data)
        self.att_lineage[attachment.id] = lineage.lid

    @precondition(lambda self: self.on("delete_attachment"))
    @rule(pick=PICK)
    def delete_attachment(self, pick):
        attachment, shown, lineage = self._pick_attachment(pick)
        if not attachment or lineage is None:
            return
        self._replace(lineage, shown)
        # a version the Odoo user never saw (an unseen cloud edit): the spec leaves open
        # whether deleting in Odoo removes it too (R-DIR-5)
        lineage.heads = dict.fromkeys(lineage.heads, False)
        attachment.unlink()

    @precondition(lambda self: self.on("move_attachment") and len(self.records) > 1)
    @rule(pick=PICK, dest=PICK)
    def move_attachment(self, pick, dest):
        attachment, shown, lineage = self._pick_attachment(pick)
        record = _pick(self._live_records(), dest)
        if not attachment or lineage is None or record.id == attachment.res_id:
            return
        attachment.write({"res_id": record.id})
        lineage.record = record.id

    @precondition(lambda self: self.on("rule_domain"))
    @rule(pick=PICK, groups=st.sampled_from(("AB", "A", "B", "ABC")))
    def rule_domain(self, pick, groups):
        _pick(self.rules, pick).domain = self._domain(groups)

    @precondition(lambda self: self.on("rule_sequence"))
    @rule()
    def rule_sequence(self):
        first, second = self.rules
        first.sequence, second.sequence = second.sequence, first.sequence

    @precondition(lambda self: self.on("rule_folder_name"))
    @rule(pick=PICK, name=st.sampled_from(RULE_FOLDERS))
    def rule_folder_name(self, pick, name):
        rule = _pick(self.rules, pick)
        if name not in (self.rules - rule).mapped("folder_name"):
            rule.folder_name = name
            # one request per click: a later rename to this rule's old name must not meet it
            # unflushed (the unique constraint is checked row by row)
            self.env.flush_all()

    @precondition(lambda self: self.on("rule_name_expression"))
    @rule(pick=PICK, expression=st.sampled_from(EXPRESSIONS))
    def rule_name_expression(self, pick, expression):
        _pick(self.rules, pick).name_expression = expression

    @precondition(lambda self: self.on("reset") and self.connected())
    @rule()
    def reset(self):
        self.client.action_reset()

    @precondition(lambda self: self.on("reconnect") and self.client.state in (
        "connected", "reconnect", "draft") and not self.client.reset_pending
        and not self.sides[0].restore)
    @rule()
    def reconnect(self):
        self.plan.clear()  # the administrator's click is not the fault under test
        self.sides[0].backend.reconnect(self.client)

    @precondition(lambda self: self.on("change_credentials") and any(
        self.connected(side) for side in self.sides))
    @rule(pick=PICK, restore_now=st.booleans())
    def change_credentials(self, pick, restore_now):
        """The administrator points a connected client to another, empty account (another
        login or server, another Dropbox account) and reconnects (R-SAFE-5): refused while
        the client has synced files (nothing changes, the administrator restores the former
        settings, now or later); accepted otherwise, and the sync goes on in the new
        account (the former one keeps what it holds)."""
        side = self._pick_side(pick)
        client = side.client
        self.plan.clear()  # the administrator's clicks are not the faults under test
        synced = self.Attachment.sudo().search_count([
            ("cloud_client_id", "=", client.id), ("cloud_kind", "=", "file")])
        fingerprint = client.sudo().account_fingerprint
        before = self._snapshot(side)
        # folder links of the former account stay as plain links (like after a reset)
        links = self.Attachment.sudo().search([("cloud_client_id", "=", client.id),
                                               ("cloud_kind", "=", "folder")])
        other = side.backend.spawn()
        self.accounts.append(other)
        other.point(client)
        refused = None
        try:
            other.reconnect(client)
        except (UserError, cloud.CloudError) as exc:
            refused = exc
        client.invalidate_recordset()
        self.note("change_credentials client %s: %d synced files, %s"
                  % (client.id, synced, "refused" if refused else "accepted"))
        if synced:
            assert refused is not None, "another account was accepted with %d synced " \
                "files" % synced
            assert "another account" in str(refused.args[0] if isinstance(refused, UserError)
                                            else refused.message), refused
            assert client.state != "connected", client.state
            assert client.sudo().account_fingerprint == fingerprint
            assert self._snapshot(side) == before, "a refused account change changed files"
            side.restore = side.backend
            if restore_now:
                self._restore_account(side)
            return
        assert refused is None, "another account refused without synced files: %s" % refused
        assert client.state == "connected", client.state
        assert client.sudo().account_fingerprint != fingerprint
        self._leave_in_cloud(side.backend)
        self.plain_links.update(links.ids)
        side.backend = other

    def _snapshot(self, side):
        """What a refused change must leave alone: the client's synced attachments and the
        files of the account they live in."""
        atts = self.Attachment.sudo().search([("cloud_client_id", "=", side.client.id)])
        return (sorted(atts.mapped(lambda a: (a.id, a.res_id, a.cloud_item_id, a.cloud_kind))),
                sorted(self._account_files(side.backend)))

    def _restore_account(self, side):
        """The administrator types the former settings again and reconnects."""
        self.plan.clear()
        backend, side.restore = side.restore, None
        backend.point(side.client)
        backend.reconnect(side.client)
        side.client.invalidate_recordset()
        assert side.client.state == "connected", side.client.state

    @precondition(lambda self: self.on("change_credentials") and any(
        side.restore for side in self.sides))
    @rule()
    def restore_credentials(self):
        for side in self.sides:
            if side.restore:
                self._restore_account(side)

    @precondition(lambda self: self.on("rule_client"))
    @rule(pick=PICK)
    def rule_client(self, pick):
        """The administrator moves a rule to the other client (a second one is created the
        first time): the files of its records come back into Odoo from the old client, then
        go up to the new one (R-REV-1); the old client's folders and files stay where they
        are (R-RULE-8)."""
        if len(self.sides) == 1:
            backend = self.backend.spawn()
            self.accounts.append(backend)
            with self.plan.suspend():  # the administrator's set-up is not under test
                client = backend.create_client(self.case)
            self.sides.append(Side(client, backend))
        rule = _pick(self.rules, pick)
        old = self._side_of(rule.client_id)
        new = next(side for side in self.sides if side is not old)
        if rule.folder_name in new.client.rule_ids.mapped("folder_name"):
            return  # one folder name per client: the administrator renames first
        records = set(self.env["cloud.folder"].search([
            ("rule_id", "=", rule.id), ("kind", "=", "object")]).mapped("res_id"))
        self._leave_in_cloud(old.backend, records & set(self.records))
        self.note("rule_client %s: client %s -> %s" % (rule.folder_name, old.client.id,
                                                       new.client.id))
        rule.client_id = new.client
        self.env.flush_all()

    # =====================================================================================
    # Cloud operations (a person in the storage's web UI)
    # =====================================================================================
    def _cloud_ok(self, op):
        return self.on(op) and any(self.connected(side) for side in self.sides)

    @precondition(lambda self: self._cloud_ok("cloud_add_file"))
    @rule(side=PICK, pick=PICK, name=st.sampled_from(NAMES))
    def cloud_add_file(self, side, pick, name):
        side = self._pick_side(side)
        folder = _pick(self._folder_paths(side, True) + self._folder_paths(side, False), pick)
        if not folder or not self._free(side, folder, name):
            return
        data = self._new_bytes()
        side.backend.write(folder + "/" + name, data)
        self._new_lineage(self._owner_of_folder_path(side, folder), data)

    @precondition(lambda self: self._cloud_ok("cloud_add_folder"))
    @rule(side=PICK, pick=PICK, name=st.sampled_from(FOLDER_NAMES))
    def cloud_add_folder(self, side, pick, name):
        side = self._pick_side(side)
        folder = _pick(self._folder_paths(side, True) + self._folder_paths(side, False), pick)
        if folder and self._free(side, folder, name):
            side.backend.mkdir(folder + "/" + name)

    @precondition(lambda self: self._cloud_ok("cloud_edit_file"))
    @rule(side=PICK, pick=PICK)
    def cloud_edit_file(self, side, pick):
        side = self._pick_side(side)
        path = _pick(self._files(side), pick)
        if not path:
            return
        shown = side.backend.read(path)
        lineage = self._lineage_of_content(shown)
        if lineage is None:
            return
        data = self._new_bytes()
        side.backend.write(path, data)
        self._replace(lineage, shown, data)

    @precondition(lambda self: self._cloud_ok("cloud_rename_file"))
    @rule(side=PICK, pick=PICK, name=st.sampled_from(NAMES))
    def cloud_rename_file(self, side, pick, name):
        side = self._pick_side(side)
        path = _pick(self._files(side), pick)
        if path and self._free(side, path.rsplit("/", 1)[0], name):
            side.backend.move(path, path.rsplit("/", 1)[0] + "/" + name)

    @precondition(lambda self: self._cloud_ok("cloud_move_file"))
    @rule(side=PICK, pick=PICK, dest=PICK)
    def cloud_move_file(self, side, pick, dest):
        side = self._pick_side(side)
        path = _pick(self._files(side), pick)
        folder = _pick(self._folder_paths(side, True) + self._folder_paths(side, False), dest)
        if not path or not folder or path.rsplit("/", 1)[0] == folder:
            return
        name = path.rsplit("/", 1)[1]
        if not self._free(side, folder, name):
            return
        lineage = self._lineage_of_content(side.backend.read(path))
        side.backend.move(path, folder + "/" + name)
        if lineage:
            lineage.record = self._owner_of_folder_path(side, folder)

    def _rename_folder(self, side, managed, pick, name):
        side = self._pick_side(side)
        path = _pick(self._folder_paths(side, managed), pick)
        if path and self._free(side, path.rsplit("/", 1)[0], name):
            side.backend.move(path, path.rsplit("/", 1)[0] + "/" + name)

    @precondition(lambda self: self._cloud_ok("cloud_rename_folder"))
    @rule(side=PICK, pick=PICK, name=st.sampled_from(FOLDER_NAMES))
    def cloud_rename_folder(self, side, pick, name):
        self._rename_folder(side, False, pick, name)

    @precondition(lambda self: self._cloud_ok("cloud_rename_managed_folder"))
    @rule(side=PICK, pick=PICK, name=st.sampled_from(FOLDER_NAMES + ("Ann",)))
    def cloud_rename_managed_folder(self, side, pick, name):
        self._rename_folder(side, True, pick, name)

    def _move_folder(self, side, managed, pick, dest):
        side = self._pick_side(side)
        path = _pick(self._folder_paths(side, managed), pick)
        folder = _pick(self._folder_paths(side, True) + self._folder_paths(side, False), dest)
        if not path or not folder or folder == path or folder.startswith(path + "/") \
                or path.rsplit("/", 1)[0] == folder:
            return
        name = path.rsplit("/", 1)[1]
        if self._free(side, folder, name):
            side.backend.move(path, folder + "/" + name)

    @precondition(lambda self: self._cloud_ok("cloud_move_folder"))
    @rule(side=PICK, pick=PICK, dest=PICK)
    def cloud_move_folder(self, side, pick, dest):
        self._move_folder(side, False, pick, dest)

    @precondition(lambda self: self._cloud_ok("cloud_move_managed_folder"))
    @rule(side=PICK, pick=PICK, dest=PICK)
    def cloud_move_managed_folder(self, side, pick, dest):
        self._move_folder(side, True, pick, dest)

    @precondition(lambda self: self._cloud_ok("cloud_delete_file"))
    @rule(side=PICK, pick=PICK)
    def cloud_delete_file(self, side, pick):
        side = self._pick_side(side)
        path = _pick(self._files(side), pick)
        if not path:
            return
        lineage = self._lineage_of_content(side.backend.read(path))
        if lineage:
            self._replace(lineage, side.backend.read(path))
        side.backend.delete(path)

    def _delete_folder(self, side, path):
        for item, kind in side.backend.items(path).items():
            if kind == cloud.FILE:
                data = side.backend.read(item)
                lineage = self._lineage_of_content(data)
                if lineage:
                    self._replace(lineage, data)
        side.backend.delete(path)

    @precondition(lambda self: self._cloud_ok("cloud_delete_folder"))
    @rule(side=PICK, pick=PICK)
    def cloud_delete_folder(self, side, pick):
        side = self._pick_side(side)
        path = _pick(self._folder_paths(side, False), pick)
        if path:
            self._delete_folder(side, path)

    @precondition(lambda self: self._cloud_ok("cloud_delete_managed_folder"))
    @rule(side=PICK, pick=PICK)
    def cloud_delete_managed_folder(self, side, pick):
        side = self._pick_side(side)
        path = _pick(self._folder_paths(side, True), pick)
        if path:
            self._delete_folder(side, path)

    # =====================================================================================
    # Sync steps
    # =====================================================================================
    @precondition(lambda self: self.on("prepare") and any(
        side.client.state == "connected" for side in self.sides))
    @rule(side=PICK)
    def prepare(self, side):
        side = self._pick_side(side, connected=False)
        if side.client.state == "connected":
            side.client._prepare_direct()

    @precondition(lambda self: self.on("run_some"))
    @rule(count=st.integers(min_value=1, max_value=4))
    def run_some(self, count):
        self.run_queue(max_tasks=count)

    @precondition(lambda self: self.on("run_all"))
    @rule()
    def run_all(self):
        self.run_queue()

    @precondition(lambda self: self.on("backward") and any(
        side.client.state == "connected" for side in self.sides))
    @rule(side=PICK)
    def backward(self, side):
        side = self._pick_side(side, connected=False)
        if side.client.state == "connected":
            side.client._enqueue_backward()
        self.run_queue()

    @precondition(lambda self: self.on("fast_forward"))
    @rule()
    def fast_forward(self):
        self.fast_forward_tasks()

    # =====================================================================================
    # Faults
    # =====================================================================================
    @precondition(lambda self: self.on("fault"))
    @rule(operation=st.sampled_from(FAULT_OPERATIONS),
          fault=st.sampled_from([f for f in FAULTS if f[0] != "auth_expired"]))
    def fault(self, operation, fault):
        self.plan.inject(operation, fault[1]())

    @precondition(lambda self: self.on("fault_applied"))
    @rule(operation=st.sampled_from(FAULT_OPERATIONS),
          fault=st.sampled_from([f for f in FAULTS if f[2]]))
    def fault_applied(self, operation, fault):
        self.plan.inject(operation, fault[1](), apply=True)

    @precondition(lambda self: self.on("auth_expired"))
    @rule(operation=st.sampled_from(FAULT_OPERATIONS))
    def auth_expired(self, operation):
        self.plan.inject(operation, FAULTS[-1][1]())

    @precondition(lambda self: self.on("crash"))
    @rule(point=st.sampled_from(CRASH_POINTS), count=st.integers(min_value=1, max_value=4))
    def crash(self, point, count):
        """The next call of ``ir.attachment.<point>`` in a run of ``count`` tasks kills its
        task (its transaction rolls back, the task is retried)."""
        self.crash_state["armed"].add(point)
        try:
            self.run_queue(max_tasks=count)
        finally:
            self.crash_state["armed"] = set()

    @precondition(lambda self: self.on("kill_worker") and self.client.state == "connected")
    @rule()
    def kill_worker(self):
        """A worker takes the next task, does its cloud calls, and dies before its commit:
        its transaction is rolled back, the task stays running until its lease ends."""
        self.env.flush_all()
        task = self.Task._acquire_next()
        if not task:
            return
        savepoint = self.env.cr.savepoint()
        with contextlib.suppress(Exception):
            task._execute()
        savepoint.close(rollback=True)
        self.env.invalidate_all()
        task.lease_until = datetime.datetime(2000, 1, 1)

    # =====================================================================================
    # The end of an example: sync until quiet, then the invariants
    # =====================================================================================
    def teardown(self):
        try:
            if sys.exc_info()[1] is None:
                self.converge_and_check()
        finally:
            self.crash_state["armed"] = set()
            self.plan.clear()
            self.savepoint.close(rollback=True)
            self.env.invalidate_all()
            for side in self.sides:
                side.client._drop_adapter()
            for backend in self.accounts:
                backend.teardown()

    def converge_and_check(self):
        with self.plan.suspend():
            self._converge_and_check()

    def _converge_and_check(self):
        self.plan.clear()
        self.crash_state["armed"] = set()
        for side in self.sides:
            if side.restore:
                self._restore_account(side)
        clients = self.env["cloud.client"].browse([side.client.id for side in self.sides])
        failures = []
        for _round in range(self.max_cycles):
            clients.invalidate_recordset()
            for side in self.sides:
                client = side.client
                if client.state in ("reconnect", "error") or (
                        client.state == "draft" and not client.reset_pending):
                    side.backend.reconnect(client)
            failed = self.Task.search([("client_id", "in", clients.ids),
                                       ("state", "=", "failed")])
            for task in failed:
                if not self.env["cloud.log"].search_count([
                        ("client_id", "=", task.client_id.id), ("level", "=", "error"),
                        ("task_type", "=", task.type)]):
                    raise AssertionError("task %s (%s) failed without an error log: %s"
                                         % (task.id, task.type, task.last_error))
                failures.append((task.type, task.last_error))
            failed.action_retry()  # the administrator's "Retry"
            self.fast_forward_tasks()
            for client in clients:
                client._prepare_direct()
                client._enqueue_backward()
            self.run_queue()
            self.fast_forward_tasks()
            for client in clients:
                client._prepare_direct()
            busy = self.Task.search([("client_id", "in", clients.ids),
                                     ("state", "in", ("pending", "running", "failed"))])
            if not busy and all(client.state == "connected" for client in clients):
                break
        else:
            raise AssertionError("did not converge in %d cycles: %s" % (
                self.max_cycles, busy.mapped(lambda t: (t.type, t.state, t.last_error))))
        if failures:
            self.note("failed then retried: %s" % failures)
        # a further backward + direct cycle plans nothing
        for client in clients:
            client._enqueue_backward()
        self.run_queue()
        for client in clients:
            client._prepare_direct()
        left = self.Task.search([("client_id", "in", clients.ids),
                                 ("state", "in", ("pending", "running", "failed"))])
        if left:
            raise AssertionError("a further cycle still plans work: %s" % left.mapped(
                lambda t: (t.client_id.id, t.type, t.folder_id.name, t.attachment_id.name,
                           t.last_error)))
        self.check_invariants_at_end()

    # -- invariants ----------------------------------------------------------------------
    def _owner_rules(self):
        """``{record id: rule}`` as the model expects it (R-RULE-4)."""
        owners = {}
        for sync_rule in self.rules.sorted(lambda r: (r.sequence, r.id)):
            groups = ast.literal_eval(sync_rule.domain)[0][2]
            for record_id, group in self.records.items():
                if record_id not in owners and self.tag + group in groups:
                    owners[record_id] = sync_rule
        return owners

    def check_invariants_at_end(self):
        problems = []
        owners = self._owner_rules()
        Folder = self.env["cloud.folder"]
        # -- contents: every head survives, nothing unknown, no dead link ------------------
        by_content = {}
        for attachment in self._attachments():
            data = self._shown(attachment)
            if data is None:
                problems.append("dead link: attachment %s %r (record %s) cannot be read"
                                % (attachment.id, attachment.name, attachment.res_id))
                continue
            if data not in self.origin:
                problems.append("attachment %s %r holds bytes the model never wrote: %r"
                                % (attachment.id, attachment.name, data[:40]))
            by_content.setdefault(data, []).append(attachment)
        cloud_contents = {}  # every account counts, abandoned ones too
        for index, backend in enumerate(self.accounts):
            for data, paths in self._account_files(backend).items():
                cloud_contents.setdefault(data, []).extend("%d:%s" % (index, p) for p in paths)
        for lineage in self.lineages.values():
            for data, strict in lineage.heads.items():
                if not strict:
                    continue
                holders = by_content.get(data, [])
                if lineage.record in owners:  # a synced record: the file is its attachment
                    if not any(a.res_id == lineage.record for a in holders):
                        problems.append("lost: version %r of %r is no attachment of record %s "
                                        "(attachments: %s, cloud: %s)" % (
                                            data, lineage, lineage.record,
                                            [(a.id, a.res_id) for a in holders],
                                            cloud_contents.get(data)))
                elif not holders and data not in cloud_contents:
                    problems.append("lost: version %r of %r is neither in Odoo nor in the "
                                    "cloud" % (data, lineage))
        # -- every synced record: folder, name, files ------------------------------------
        client_ids = [side.client.id for side in self.sides]
        for record in self._live_records():
            rule = owners.get(record.id)
            folder = Folder.search([("res_model", "=", "res.partner"),
                                    ("res_id", "=", record.id), ("kind", "=", "object"),
                                    ("client_id", "in", client_ids)])
            live = folder.filtered(lambda f: f.state != "detached")
            if not rule:
                if live:
                    problems.append("record %s matches no rule but its folder %s is synced"
                                    % (record.id, live.mapped("name")))
                continue
            if len(live) != 1 or not live.cloud_id:
                problems.append("record %s has %d live folders" % (record.id, len(live)))
                continue
            if live.client_id != rule.client_id:
                problems.append("folder of %s is synced with client %s, its rule's is %s" % (
                    record.id, live.client_id.id, rule.client_id.id))
                continue
            backend = self._side_of(rule.client_id).backend
            if live.parent_id != rule.folder_id:
                problems.append("folder of %s is under %s, not %s" % (
                    record.id, live.parent_id.name, rule.folder_name))
            expected = rule._object_name(record)
            if not (live.name == expected or re.fullmatch(
                    re.escape(expected) + r" \(\d+\)", live.name)):
                problems.append("folder of %s is named %r, rule says %r" % (
                    record.id, live.name, expected))
            path = backend.path_of(live.cloud_id)
            rule_path = backend.path_of(rule.folder_id.cloud_id)
            if path != "%s/%s" % (rule_path, live.name):
                problems.append("cloud folder of record %s is at %s, expected %s/%s"
                                % (record.id, path, rule_path, live.name))
                continue
            children = {p: k for p, k in backend.items(path).items()
                        if p.count("/") == path.count("/") + 1}
            files = {p for p, k in children.items() if k == cloud.FILE}
            atts = self.Attachment.search([("res_model", "=", "res.partner"),
                                           ("res_id", "=", record.id),
                                           ("res_field", "=", False)])
            file_atts = atts.filtered(lambda a: a.cloud_kind == "file")
            local = atts.filtered_domain(self.Attachment._cloud_syncable_domain())
            if local:
                problems.append("record %s keeps local files after convergence: %s"
                                % (record.id, local.mapped("name")))
            att_paths = {}
            for attachment in file_atts:
                if attachment.cloud_client_id != rule.client_id:
                    problems.append("attachment %s of record %s is synced with client %s, "
                                    "not %s" % (attachment.id, record.id,
                                                attachment.cloud_client_id.id,
                                                rule.client_id.id))
                    continue
                att_path = backend.path_of(attachment.cloud_item_id)
                att_paths.setdefault(att_path, []).append(attachment.id)
            for att_path, ids in att_paths.items():
                if len(ids) > 1:
                    problems.append("attachments %s share one cloud file %s" % (ids, att_path))
            top_level = {p for p in att_paths if p and p.rsplit("/", 1)[0] == path}
            if files != top_level:
                problems.append("record %s: cloud files %s, attachments %s" % (
                    record.id, sorted(files), sorted(att_paths)))
            contents = [backend.read(p) for p in files]
            if len(contents) != len(set(contents)):
                problems.append("record %s: duplicate files in the cloud %s" % (
                    record.id, sorted(files)))
            path_ids = self._path_ids(self._side_of(rule.client_id))
            default_ids = set(Folder.search([("parent_id", "=", live.id),
                                             ("kind", "=", "default")]).mapped("cloud_id"))
            subfolders = {p for p, k in children.items() if k == cloud.FOLDER}
            links = atts.filtered(lambda a: a.cloud_kind == "folder")
            linked = {backend.path_of(a.cloud_item_id) for a in links}
            expected_links = {p for p in subfolders
                              if path_ids.get(p) not in default_ids}
            if linked != expected_links or len(links) != len(linked):
                problems.append("record %s: cloud subfolders %s, folder links %s" % (
                    record.id, sorted(expected_links), sorted(p or "?" for p in linked)))
        # -- rule folders ----------------------------------------------------------------
        for rule in self.rules:
            side = self._side_of(rule.client_id)
            root = self.root_path(side)
            path = rule.folder_id.cloud_id and side.backend.path_of(rule.folder_id.cloud_id)
            if path != "%s/%s" % (root, rule.folder_name):
                problems.append("rule folder %r of client %s is at %s" % (
                    rule.folder_name, rule.client_id.id, path))
        # -- no duplicate names anywhere --------------------------------------------------
        for side in self.sides:
            names = {}
            for path in self.cloud_items(side, all_items=True):
                parent, name = path.rsplit("/", 1)
                names.setdefault((parent, name.lower()), []).append(path)
            problems += ["duplicate names (client %s): %s" % (side.client.id, paths)
                         for paths in names.values() if len(paths) > 1]
        if problems:
            raise AssertionError("convergence failed:\n  " + "\n  ".join(problems) +
                                 "\nmodel: %s\ntrace: %s\ncloud: %s" % (
                                     list(self.lineages.values()), self.trace,
                                     {side.client.id: sorted(self.cloud_items(
                                         side, all_items=True)) for side in self.sides}))


# ----------------------------------------------------------------------------------------
# Running it in Odoo's test runner
# ----------------------------------------------------------------------------------------
def install_crash_points(case, crash_state):
    """Patch the crash points of ir.attachment once per test: an armed point raises like a
    killed worker (the task's savepoint rolls back, the task is retried)."""
    Attachment = type(case.env["ir.attachment"])
    for method in CRASH_POINTS:
        original = getattr(Attachment, method)

        def crashing(records, *args, _original=original, _method=method, **kwargs):
            if _method in crash_state["armed"]:
                crash_state["armed"].discard(_method)
                raise MemoryError("worker killed in %s" % _method)
            return _original(records, *args, **kwargs)

        case.patch(Attachment, method, crashing)


def install_faulty_adapters(case, crash_state):
    """Every adapter the engines get is wrapped in a :class:`FaultyAdapter` over the plan
    of the running example."""
    Client = type(case.env["cloud.client"])
    original = Client._get_adapter

    def get_adapter(client):
        adapter = original(client)
        plan = crash_state.get("plan")
        return FaultyAdapter(adapter, plan) if plan is not None else adapter

    case.patch(Client, "_get_adapter", get_adapter)


def run_convergence(case, backend, examples, steps, default_seed, ops, make_command,
                    max_cycles=12, machine=ConvergenceMachine):
    """Run ``machine`` as one test of ``case``; a failure names its one-line replay."""
    examples = int(os.environ.get("CLOUD_CONVERGENCE_EXAMPLES") or examples)
    steps = int(os.environ.get("CLOUD_CONVERGENCE_STEPS") or steps)
    run_seed = int(os.environ.get("CLOUD_CONVERGENCE_SEED") or default_seed)
    crash_state = {"armed": set(), "plan": None}
    install_crash_points(case, crash_state)
    install_faulty_adapters(case, crash_state)
    machine = type("%s_%s" % (machine.__name__, backend.name), (machine,), {
        "case": case, "backend": backend, "ops": enabled_operations(ops, machine.operations),
        "crash_state": crash_state, "max_cycles": max_cycles})
    settings = Settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                        database=None, derandomize=False, print_blob=True,
                        suppress_health_check=list(HealthCheck), verbosity=Verbosity.normal,
                        report_multiple_bugs=False)
    test = get_state_machine_test(machine, settings=settings)
    test = hypothesis_seed(run_seed)(test)
    blob = os.environ.get("CLOUD_CONVERGENCE_BLOB")
    if blob:
        version, data = blob.split(":", 1)
        test = reproduce_failure(version, data)(test)
    replay = "CLOUD_CONVERGENCE_SEED=%d CLOUD_CONVERGENCE_EXAMPLES=%d " \
             "CLOUD_CONVERGENCE_STEPS=%d %s" % (run_seed, examples, steps, make_command)
    disabled = sorted(machine.operations - machine.ops)
    _logger.info("convergence (%s): seed %d, %d examples of %d steps; disabled: %s",
                 backend.name, run_seed, examples, steps, ", ".join(disabled) or "none")
    started, cpu_started = time.monotonic(), time.process_time()
    try:
        test()
    except BaseException:
        _logger.error("convergence (%s) failed; replay with: %s", backend.name, replay)
        raise
    elapsed = time.monotonic() - started
    # the CPU time (this process, emulator threads included) is steadier than the wall time
    # on a shared machine
    _logger.info("convergence (%s): %d examples in %.1f s, %.1f s CPU (%.1f examples/s)",
                 backend.name, examples, elapsed, time.process_time() - cpu_started,
                 examples / max(elapsed, 1e-9))
