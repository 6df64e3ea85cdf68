import contextlib
import datetime
import logging
import os
import time
import uuid
from typing import Callable, NamedTuple

import psycopg2

import odoo
from odoo import api, fields, models
from odoo.exceptions import MissingError
from odoo.sql_db import TestCursor
from odoo.tools import SQL, config, create_index, mute_logger
from odoo.tools.translate import LazyTranslate

from ..lib import adapter as cloud
from ..lib.transfers import Paused, Prefetched, TransferPool, is_throttled

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

MAX_BACKOFF = 6 * 3600
#: tasks one claim takes at once (issue 15): the claim's cost is shared by the batch, and a
#: task of higher priority queued meanwhile waits for at most this many tasks
CLAIM_BATCH = 16


class TaskType(NamedTuple):
    """One entry of the task table (``cloud.task._task_types()``).

    ``priority``: lower runs first. ``label``: shown in the queue and the logs. ``handler``:
    called as ``handler(client, task, adapter)``; usually a method of an engine unit
    (``self.env["cloud.engine.direct"]._task_file_upload``), or ``via_client(name)`` for a
    method of ``cloud.client`` that provider add-ons extend.
    """

    priority: int
    label: object
    handler: Callable


def via_client(method):
    """A handler that calls ``client.<method>(task, adapter)``, so that add-ons overriding that
    method of ``cloud.client`` (e.g. Dropbox's ``_task_reverse``) take part."""

    def handler(client, task, adapter):
        return getattr(client, method)(task, adapter)

    handler.__name__ = "via_client_%s" % method
    return handler


class Deferred(Exception):
    """The task cannot run yet (e.g. its folder is not created): try again soon, no penalty."""

    def __init__(self, reason, delay=30):
        super().__init__(reason)
        self.delay = delay


def covers(pending_payloads, payload):
    """The merging rule (R-Q-6), the only one: a new task is redundant with the pending tasks
    of the same type, folder and attachment when one is pending and the new task carries no
    payload, or one pending task has exactly its payload.

    Handlers read the current state when they run, so one pending rename covers any number of
    renames (A→B→C is one rename to C), and one upload covers later edits."""
    if not pending_payloads:
        return None
    if not payload:
        return 0
    for index, pending in enumerate(pending_payloads):
        if pending == payload:
            return index
    return None


class TaskBatch:
    """Tasks queued together (one planning run of one client, or one ``_enqueue``): what is
    already pending is read once, redundant tasks are merged by :func:`covers`, and the new
    tasks are created in one go by ``flush()``.

    ``only=(task_type, folder, attachment)`` reads the pending tasks of that one key only."""

    def __init__(self, Task, client, only=None):
        self.Task = Task
        self.client = client
        self.types = Task._task_types()
        self.pending = {}  # key -> [(payload, task or None)]
        domain = [("client_id", "=", client.id), ("state", "=", "pending")]
        if only:
            key = self.key(*only)
            domain += [("type", "=", key[0]), ("folder_id", "=", key[1]),
                       ("attachment_id", "=", key[2])]
        for task in Task.search(domain):
            key = (task.type, task.folder_id.id, task.attachment_id.id)
            self.pending.setdefault(key, []).append((task.payload or {}, task))
        self.new = []

    @staticmethod
    def key(task_type, folder=None, attachment=None):
        return (task_type, folder.id if folder else False, attachment.id if attachment else False)

    def add(self, task_type, folder=None, attachment=None, payload=None):
        """Queue a task unless it is redundant. Returns the pending task it merged into when
        that one is stored already, else None."""
        key = self.key(task_type, folder, attachment)
        entries = self.pending.setdefault(key, [])
        index = covers([entry[0] for entry in entries], payload)
        if index is not None:
            return entries[index][1]
        entries.append((payload or {}, None))
        self.new.append({
            "type": task_type, "priority": self.types[task_type].priority,
            "client_id": self.client.id, "folder_id": key[1], "attachment_id": key[2],
            "payload": payload or {},
        })
        return None

    def flush(self):
        """Create the queued tasks; returns them."""
        tasks = self.Task.browse()
        if self.new:
            tasks = self.Task.create(self.new)
            self.new = []
            self.Task._wake_runner()
        return tasks


class _TransfersAhead:
    """The uploads of one run whose network part is sent ahead, in a :class:`TransferPool`
    made when a batch first has one (a client with ``transfer_concurrency`` 1 never has)."""

    def __init__(self, Task):
        self.Task = Task
        self.pool = None
        self.considered = set()  # task ids looked at (sent ahead or left to their handler)

    def claim_margin(self):
        """Claim the next batch when this few tasks are left, so the threads keep busy."""
        return CLAIM_BATCH // 2 if self.pool is not None else 0

    def started(self, task_id):
        return self.pool is not None and self.pool.submitted(task_id)

    def start(self, claimed):
        fresh = [task_id for task_id, _folders in claimed if task_id not in self.considered]
        if not fresh:
            return
        self.considered.update(fresh)
        tasks = self.Task.browse(fresh).exists().filtered(
            lambda t: t.type in ("file_upload", "reverse"))
        env = self.Task.env
        for client in tasks.client_id:
            if client.state != "connected" or client.sudo().transfer_concurrency <= 1:
                continue
            mine = tasks.filtered(lambda t, c=client: t.client_id == c)
            transfers = env["cloud.engine.direct"]._upload_transfers(
                client, mine.filtered(lambda t: t.type == "file_upload"), client._get_adapter())
            transfers.update(env["cloud.engine.reverse"]._reverse_transfers(
                client, mine.filtered(lambda t: t.type == "reverse")))
            if not transfers:
                continue
            if self.pool is None:
                self.pool = TransferPool()
            if not self.pool.has_client(client.id):
                self.pool.add_client(client.id, client._transfer_adapters(),
                                     client._transfer_limit())
            for task_id, transfer in transfers.items():
                self.pool.submit(task_id, client.id, transfer)

    def structure_changed(self):
        """A folder task ran: uploads waiting for it may be sent ahead now."""
        if self.pool is not None:
            self.considered = {task_id for task_id in self.considered
                               if self.pool.submitted(task_id)}
        else:
            self.considered = set()

    def answers(self, task_id):
        return self.pool.answers(task_id) if self.pool is not None else {}

    def close(self):
        if self.pool is not None:
            self.pool.close()


class CloudTask(models.Model):
    """Persistent queue of sync work (R-Q-1..6)."""

    _name = "cloud.task"
    _description = "Cloud sync task"
    _order = "priority, id"

    type = fields.Selection(selection="_selection_type", required=True, index=True)
    priority = fields.Integer(required=True, default=20, index=True)
    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    folder_id = fields.Many2one("cloud.folder", ondelete="cascade", index=True)
    attachment_id = fields.Many2one("ir.attachment", ondelete="cascade", index=True)
    payload = fields.Json(default=dict)
    state = fields.Selection([("pending", "Pending"), ("running", "Running"),
                              ("done", "Done"), ("failed", "Failed"),
                              ("cancelled", "Cancelled")],
                             default="pending", required=True, index=True)
    attempts = fields.Integer(default=0)
    deferrals = fields.Integer(
        default=0, help="How many times the task waited for something else (e.g. its folder) "
                        "without failing; past a limit it fails and is logged.")
    next_attempt = fields.Datetime(default=fields.Datetime.now, index=True)
    lease_until = fields.Datetime(help="A running task whose lease ran out was abandoned by a "
                                       "crashed worker and is taken again.")
    claim_token = fields.Char(copy=False, help="The batch this running task was claimed in: "
                                               "tasks of one batch run in their order, so the "
                                               "first one still running when the lease ran out "
                                               "is the one its worker was running.")
    last_error = fields.Text()
    started_at = fields.Datetime()
    done_at = fields.Datetime(index=True)

    def _auto_init(self):
        result = super()._auto_init()
        # the claim reads each client's ready tasks in this index's order and stops after one
        # batch: its cost does not grow with the length of the queue (issue 15)
        create_index(self.env.cr, "cloud_task_claim_index", self._table,
                     ["client_id", "priority", "id"], where="state = 'pending'")
        return result

    # ------------------------------------------------------------------------------------
    # The task table: type -> priority, label, handler (extended by add-ons)
    # ------------------------------------------------------------------------------------
    @api.model
    def _task_types(self):
        """``{type: TaskType(priority, label, handler)}``. Lower priority runs first (R-Q-1,
        R-REV-2): reverse, then structure, then files, then backward. An add-on adds its own
        types (or wraps a handler) by extending this method with ``super()``."""
        direct = self.env["cloud.engine.direct"]
        backward = self.env["cloud.engine.backward"]
        return {
            "reverse": TaskType(5, _lt("Bring a file back into Odoo"),
                                via_client("_task_reverse")),
            "folder_create": TaskType(10, _lt("Create folder"), direct._task_folder_create),
            "folder_rename": TaskType(10, _lt("Rename folder"), direct._task_folder_rename),
            "folder_move": TaskType(10, _lt("Move folder"), direct._task_folder_move),
            "file_upload": TaskType(20, _lt("Upload file"), direct._task_file_upload),
            "file_update": TaskType(20, _lt("Upload new version"), direct._task_file_update),
            "file_move": TaskType(20, _lt("Move file"), direct._task_file_move),
            # before "file_update", whose new version keeps the cloud file's name
            "file_rename": TaskType(15, _lt("Rename file"), direct._task_file_rename),
            "file_delete": TaskType(25, _lt("Delete file"), direct._task_file_delete),
            "folder_delete": TaskType(26, _lt("Delete folder"), direct._task_folder_delete),
            "backward": TaskType(30, _lt("Backward sync"), backward._task_backward),
        }

    @api.model
    def _selection_type(self):
        return [(key, str(task_type.label)) for key, task_type in self._task_types().items()]

    # ------------------------------------------------------------------------------------
    # Enqueueing, with merging of redundant tasks (R-Q-6)
    # ------------------------------------------------------------------------------------
    @api.model
    def _enqueue(self, client, task_type, folder=None, attachment=None, payload=None):
        """Queue a task unless the same one is already waiting (then return that one); the
        merging rule is :func:`covers`, shared with the planner's batches."""
        batch = TaskBatch(self, client, only=(task_type, folder, attachment))
        existing = batch.add(task_type, folder=folder, attachment=attachment, payload=payload)
        return existing if existing is not None else batch.flush()

    def action_retry(self):
        self.check_access("write")
        self.write({"state": "pending", "attempts": 0, "deferrals": 0,
                    "next_attempt": fields.Datetime.now(), "last_error": False})
        return True

    def action_cancel(self):
        self.check_access("write")
        self.filtered(lambda t: t.state in ("pending", "failed")).write({"state": "cancelled"})
        return True

    # ------------------------------------------------------------------------------------
    # Runner (R-Q-3, R-Q-4, R-Q-5)
    # ------------------------------------------------------------------------------------
    @api.model
    def _time_budget(self):
        """Seconds a run may use: configured, else 80% of Odoo's real-time limit for crons."""
        param = self.env["ir.config_parameter"].sudo().get_param("cloud_base.run_time_budget")
        if param:
            return float(param)
        limit = config.get("limit_time_real_cron") or 0
        if limit <= 0:
            limit = config.get("limit_time_real") or 120
        return max(10.0, limit * 0.8)

    @api.model
    def _can_commit(self):
        """False on a test's own transaction, and when the caller said so with the
        ``cloud_no_commit`` context key."""
        cr = self.env.cr
        if self.env.context.get("cloud_no_commit") or isinstance(cr, TestCursor):
            return False
        test = odoo.modules.module.current_test
        return test is None or cr is not getattr(test, "cr", None)

    @api.model
    def _commit(self):
        """Commit after each step (R-Q-3): a crash or time-out loses at most one task."""
        if self._can_commit():
            # the queue's design: one task per transaction
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _filters(self, client_ids=None, task_types=None, alias="t", column="client_id"):
        """The run's restriction to some clients and task types, as SQL."""
        parts = []
        if client_ids:
            parts.append(SQL("AND %s IN %s", SQL.identifier(alias, column), tuple(client_ids)))
        if task_types:
            parts.append(SQL("AND %s IN %s", SQL.identifier(alias, "type"), tuple(task_types)))
        return SQL(" ").join(parts)

    @api.model
    def _recover_abandoned(self, client_ids=None, task_types=None):
        """Running tasks whose lease ran out were left by a worker that stopped (crash, restart,
        time-out) and go back to the queue. Tasks of a batch run in their order, so in each
        batch the first one still running is the one the worker was running: that counts as
        a failed attempt (after ``_max_attempts`` such stops it fails for good); the others
        never started and return without penalty."""
        with mute_logger("odoo.sql_db"):  # a lost race is expected and handled by the caller
            self.env.cr.execute(SQL("""
                SELECT t.id, t.claim_token FROM cloud_task t
                 WHERE t.state = 'running' AND t.lease_until < %(now)s %(filters)s
                 ORDER BY t.priority, t.id
                   FOR UPDATE OF t SKIP LOCKED
            """, now=fields.Datetime.now(), filters=self._filters(client_ids, task_types)))
            rows = self.env.cr.fetchall()
        if not rows:
            return
        seen, stopped, unstarted = set(), [], []
        for task_id, token in rows:
            if token is None or token not in seen:
                stopped.append(task_id)
            else:
                unstarted.append(task_id)
            seen.add(token)
        now = fields.Datetime.now()
        self.browse(unstarted).write({"state": "pending", "lease_until": False,
                                      "claim_token": False})
        max_attempts = self._max_attempts()
        for task in self.browse(stopped):
            task.attempts += 1
            if task.attempts >= max_attempts:
                # a task that stops its worker every time is not run again
                task._fail(self.env._("The worker running this task stopped %s times (a crash, a "
                             "restart or a time-out); it is not run again. Retry it once the "
                             "cause is fixed.", task.attempts))
            else:
                task.write({"state": "pending", "lease_until": False, "claim_token": False,
                            "next_attempt": now})
        self.flush_model()

    @api.model
    def _claim(self, limit=CLAIM_BATCH, client_ids=None, task_types=None):
        """Claim up to ``limit`` runnable tasks of connected clients, oldest first by
        priority: row-locked (``FOR UPDATE SKIP LOCKED``) so that concurrent runners on other
        workers or servers skip them, marked running with a lease and one claim token, and
        committed. Returns ``[(task id, folder ids to prefetch)]`` in the order to run them.

        For each connected client the query walks ``cloud_task_claim_index`` and stops after
        ``limit`` rows, so a claim costs the same with ten or a hundred thousand tasks
        waiting, whatever waits for a client that is not connected."""
        self.flush_model()
        self.env["cloud.client"].flush_model(["state"])
        self._recover_abandoned(client_ids, task_types)
        # the clock of this process, not the transaction's start (long runs, tests)
        now = fields.Datetime.now()
        lease = now + datetime.timedelta(seconds=self._time_budget() * 2)
        with mute_logger("odoo.sql_db"):  # a lost race is expected and handled by the caller
            self.env.cr.execute(SQL("""
                UPDATE cloud_task t
                   SET state = 'running', started_at = %(now)s, lease_until = %(lease)s,
                       claim_token = %(token)s, write_date = %(now)s, write_uid = %(uid)s
                  FROM (SELECT p.id, p.folder_id
                          FROM cloud_client c
                         CROSS JOIN LATERAL (
                               SELECT p.id, p.folder_id, p.priority FROM cloud_task p
                                WHERE p.client_id = c.id AND p.state = 'pending'
                                  AND p.next_attempt <= %(now)s %(filters)s
                                ORDER BY p.priority, p.id
                                LIMIT %(limit)s
                                  FOR UPDATE OF p SKIP LOCKED) p
                         WHERE c.state = 'connected' %(clients)s
                         ORDER BY p.priority, p.id
                         LIMIT %(limit)s) picked
                  LEFT JOIN cloud_folder f ON f.id = picked.folder_id
                 WHERE t.id = picked.id
             RETURNING t.id, t.priority, f.id, f.parent_path
            """, now=now, lease=lease, token=uuid.uuid4().hex[:16], uid=self.env.uid,
                limit=limit, filters=self._filters(task_types=task_types, alias="p"),
                clients=self._filters(client_ids, alias="c", column="id")))
            rows = self.env.cr.fetchall()
        self.invalidate_model(["state", "started_at", "lease_until", "claim_token",
                               "write_date", "write_uid"])
        buffer = self.env["cloud.log"]._buffered_now()
        if buffer is not None and len(buffer.ready) >= limit:
            buffer.flush(self.env)  # the lines of the previous batch, in this transaction
        self._commit()
        claimed = []
        rows.sort(key=lambda row: (row[1], row[0]))  # priority, id
        for task_id, _priority, folder_id, parent_path in rows:
            folders = [int(i) for i in (parent_path or "").split("/") if i]
            claimed.append((task_id, folders or ([folder_id] if folder_id else [])))
        return claimed

    @api.model
    def _acquire_next(self, client_ids=None, task_types=None):
        """Claim the next runnable task alone (see :meth:`_claim`)."""
        claimed = self._claim(1, client_ids, task_types)
        return self.browse(claimed[0][0] if claimed else [])

    @api.model
    def _release(self, task_ids):
        """Claimed tasks this run will not start go back to the queue, without penalty."""
        if task_ids:
            self.flush_model()
            self.env.cr.execute("""
                UPDATE cloud_task SET state = 'pending', lease_until = NULL, claim_token = NULL
                 WHERE id IN %s AND state = 'running'
            """, [tuple(task_ids)])
            self.invalidate_model(["state", "lease_until", "claim_token"])

    @api.model
    def _run_queue(self, time_budget=None, client_ids=None, max_tasks=None, task_types=None):
        """Run tasks until the queue is empty, the budget is spent or ``max_tasks`` ran.

        Tasks are claimed in batches (:meth:`_claim`); each one runs and commits its result in
        its own transaction (R-Q-3); success log lines are written once per batch. The
        network part of the batch's uploads runs ahead in a pool of threads (issue 15 §1,
        :mod:`..lib.transfers`): a task finds its answers waiting when its turn comes."""
        budget = time_budget if time_budget is not None else self._time_budget()
        deadline = time.monotonic() + budget
        done = 0
        claimed = []
        more_to_claim = True
        finished = False
        ahead = _TransfersAhead(self)
        with self.env["cloud.log"]._buffered() as logs:
            try:
                while max_tasks is None or done < max_tasks:
                    if time.monotonic() >= deadline:
                        # what was sent ahead is committed; the rest waits for the next run
                        if not claimed or not ahead.started(claimed[0][0]):
                            break
                    elif not claimed or (more_to_claim
                                         and len(claimed) <= ahead.claim_margin()):
                        wanted = CLAIM_BATCH if max_tasks is None \
                            else min(CLAIM_BATCH, max_tasks - done - len(claimed))
                        if wanted > 0:
                            try:
                                batch = self._claim(wanted, client_ids, task_types)
                            except psycopg2.errors.SerializationFailure:
                                # another runner claimed a row between our snapshot and our
                                # lock (repeatable read): start a fresh transaction, look again
                                if not self._can_commit():
                                    raise
                                self.env.cr.rollback()
                                continue
                            more_to_claim = len(batch) == wanted
                            claimed += batch
                    if not claimed:
                        break
                    if time.monotonic() < deadline:
                        ahead.start(claimed)
                    task_id, folder_ids = claimed.pop(0)
                    answers = ahead.answers(task_id)
                    task = self.browse(task_id)
                    if folder_ids:
                        # the task's folder and its ancestors in one read (handlers and log
                        # lines need their names and cloud ids)
                        Folder = self.env["cloud.folder"]
                        Folder.browse(folder_ids).fetch(self._prefetched_fields(Folder))
                    try:
                        connected = task.client_id.state == "connected"
                    except MissingError:
                        continue  # deleted since the claim (with its attachment or folder)
                    if not connected:
                        # e.g. its authorization was lost by an earlier task of the batch
                        self._release([task_id])
                        self._commit()
                        continue
                    task_type = task.type
                    task._execute(answers=answers)
                    self._commit()
                    logs.keep()
                    done += 1
                    if task_type.startswith("folder_"):
                        ahead.structure_changed()
                finished = True
            finally:
                ahead.close()
                self._end_run([task_id for task_id, _folders in claimed], logs,
                              failing=not finished)
        return done

    @api.model
    def _prefetched_fields(self, model):
        """The fields the ORM reads together when one of them is needed."""
        return [name for name, field in model._fields.items()
                if field.store and field.prefetch is True]

    @api.model
    def _end_run(self, unstarted, logs, failing=False):
        """Release what the run claimed but did not start and write its last log lines;
        after an error, in a fresh transaction (the failed one is rolled back)."""
        if failing:
            logs.drop()
            if not self._can_commit():
                return  # the caller's transaction is the test's: it decides
            self.env.cr.rollback()
        self._release(unstarted)
        logs.flush(self.env)
        self._commit()

    @api.model
    def _cron_run_queue(self):
        done = self._run_queue()
        # while work remains, Odoo runs the job again at once instead of at its next interval
        self.env["ir.cron"]._notify_progress(done=done, remaining=self._ready_count())

    @api.model
    def _ready_count(self):
        """Tasks a run could take now (pending, due, of a connected client)."""
        return self.search_count([("state", "=", "pending"),
                                  ("next_attempt", "<=", fields.Datetime.now()),
                                  ("client_id.state", "=", "connected")])

    @api.model
    def _wake_runner(self):
        """Tasks were queued outside a queue run: the run cron starts at once rather than at
        its next interval (one trigger per transaction; a run in progress reports its own
        progress instead)."""
        if self.env["cloud.log"]._buffered_now() is not None:
            return
        flags = self.env.cr.precommit.data
        if flags.get("cloud_base.runner_woken"):
            return
        flags["cloud_base.runner_woken"] = True
        cron = self.env.ref("cloud_base.cron_run_queue", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _execute(self, answers=None):
        """Run the task's handler and record its result, in the current transaction (the
        runner commits it). A failing handler leaves nothing behind: its transaction is
        rolled back (a savepoint when the runner may not commit). ``answers``: what a
        transfer thread already asked the provider for this task."""
        self.ensure_one()
        client = self.client_id
        handler = self._task_types()[self.type].handler
        logs = self.env["cloud.log"]._buffered_now()
        adapter = None
        try:
            base = client.sudo()._merge_base()
            adapter = client._sync_adapter(base, answers)
            if logs is not None and self._can_commit():
                # inside a run (the runner commits after each task): the task's transaction
                # is its own, a failure rolls all of it back
                try:
                    handler(client, self, adapter)
                    self._remove_unused_uploads(client, adapter)
                    base.flush()  # the merge base changes with the task's other writes
                    self.env.flush_all()  # a database error belongs to the task
                except Exception:
                    self.env.cr.rollback()
                    raise
            else:
                with self.env.cr.savepoint():
                    handler(client, self, adapter)
                    self._remove_unused_uploads(client, adapter)
                    base.flush()
        except Exception as exc:  # noqa: BLE001 - every failure is retried or surfaced
            if logs is not None:
                logs.drop()
            self._handle_failure(exc)
            return
        finally:
            if answers:  # downloads made ahead for the task and not taken are removed
                (adapter or Prefetched(None, answers)).discard()
        self._mark_done()
        self._ended()

    def _remove_unused_uploads(self, client, adapter):
        """A file a transfer thread uploaded for this task that its handler did not take is
        known to nobody (no attachment, no merge base entry): it is removed, else a backward
        sync would bring it into Odoo as a new file."""
        unused = adapter.unused_uploads() if hasattr(adapter, "unused_uploads") else []
        if not unused:
            return
        known = set(self.env["ir.attachment"].sudo().search(
            [("cloud_item_id", "in", [item.id for item in unused])]).mapped("cloud_item_id"))
        for item in unused:
            if item.id in known or adapter.merge_base.get(item.id) is not None:
                continue
            try:
                adapter.delete(item.id)
            except cloud.CloudError as exc:
                client._log("warning", self.env._(
                    "%(name)s was uploaded twice; the extra copy could not be removed: "
                    "%(error)s", name=item.name, error=exc), path=item.id, task=self)

    def _handle_failure(self, exc):
        client = self.client_id
        if is_throttled(exc) and not getattr(exc, "counted_by_limit", False):
            client._transfer_limit().throttled(exc.retry_after)  # fewer transfers at once
        if isinstance(exc, Paused):
            # not started: the client waits for the provider's delay, the task loses nothing
            self.write({"state": "pending", "last_error": str(exc), "lease_until": False,
                        "next_attempt": fields.Datetime.now()
                        + datetime.timedelta(seconds=exc.retry_after or 1)})
        elif isinstance(exc, Deferred):
            deferrals = self.deferrals + 1
            if deferrals > self._max_deferrals():
                self.deferrals = deferrals
                self._fail(self.env._("Waited too long (%(n)s times): %(reason)s", n=deferrals,
                             reason=exc))
                return
            self.write({"state": "pending", "last_error": str(exc), "deferrals": deferrals,
                        "lease_until": False,
                        "next_attempt": fields.Datetime.now()
                        + datetime.timedelta(seconds=exc.delay)})
        elif isinstance(exc, cloud.AuthExpired):
            # R-CON-3: keep the task as it is; the whole client waits for Reconnect
            self.write({"state": "pending", "last_error": str(exc), "lease_until": False})
            client._mark_reconnect_needed(exc)
        else:
            self._retry_or_fail(exc)

    def _mark_done(self):
        """The task succeeded: one UPDATE, no ORM round trip (the hot path of a run)."""
        self.flush_recordset()
        now = fields.Datetime.now()
        self.env.cr.execute("""
            UPDATE cloud_task
               SET state = 'done', done_at = %s, last_error = NULL, lease_until = NULL,
                   write_date = %s, write_uid = %s
             WHERE id = %s
        """, [now, now, self.env.uid, self.id])
        self.invalidate_recordset(["state", "done_at", "last_error", "lease_until",
                                   "write_date", "write_uid"])

    @api.model
    def _max_attempts(self):
        return int(self.env["ir.config_parameter"].sudo().get_param(
            "cloud_base.max_attempts", 6))

    @api.model
    def _max_deferrals(self):
        return int(self.env["ir.config_parameter"].sudo().get_param(
            "cloud_base.max_deferrals", 200))

    def _fail(self, message, path=None):
        """The task stops for good: failed, visible in the logs (R-LOG-2)."""
        self.write({"state": "failed", "last_error": message, "lease_until": False})
        self.client_id._log("error", self.env._("%(task)s failed: %(error)s", task=self._describe(),
                                       error=message),
                            record=self._subject(), path=path, task=self)
        self._ended()

    def _ended(self):
        """The task is done or failed for good: what waits on it learns it (a reset ends,
        finished or reported)."""
        if self.type in ("reverse", "file_delete", "folder_delete") \
                and self.client_id.reset_pending:
            self.env["cloud.engine.reverse"]._check_reset_done(self.client_id)

    def _retry_or_fail(self, exc):
        attempts = self.attempts + 1
        max_attempts = self._max_attempts()
        message = str(exc) if isinstance(exc, cloud.CloudError) else "%s: %s" % (
            type(exc).__name__, exc)
        if not isinstance(exc, cloud.CloudError):
            _logger.exception("Cloud task %s (%s) crashed", self.id, self.type)
        retryable = not isinstance(exc, (cloud.InvalidRequest,))
        if attempts >= max_attempts or not retryable:
            self.write({"state": "failed", "attempts": attempts, "last_error": message,
                        "lease_until": False})
            self.client_id._log("error", self.env._(
                "%(task)s failed after %(n)s attempts: %(error)s",
                task=self._describe(), n=attempts, error=message),
                                record=self._subject(), path=getattr(exc, "path", None),
                                task=self)
            self._ended()
            return
        retry_after = getattr(exc, "retry_after", None)
        delay = retry_after if retry_after else min(60 * 2 ** (attempts - 1), MAX_BACKOFF)
        self.write({"state": "pending", "attempts": attempts, "last_error": message,
                    "lease_until": False,
                    "next_attempt": fields.Datetime.now() + datetime.timedelta(seconds=delay)})
        self.client_id._log("warning", self.env._(
            "%(task)s will be retried in %(delay)s s: %(error)s",
            task=self._describe(), delay=int(delay),
            error=message),
                            record=self._subject(), path=getattr(exc, "path", None), task=self)

    def _describe(self):
        task_type = self._task_types().get(self.type)
        label = str(task_type.label) if task_type else self.type
        target = self.attachment_id.name or self.folder_id.name or (self.payload or {}).get(
            "name") or ""
        return "%s %s" % (label, target) if target else label

    def _subject(self):
        if self.attachment_id:
            return self.attachment_id
        if self.folder_id and self.folder_id.res_model and self.folder_id.res_id:
            record = self.env[self.folder_id.res_model].browse(self.folder_id.res_id).exists()
            return record or None
        return None

    # ------------------------------------------------------------------------------------
    # Cleaner (R-Q-2)
    # ------------------------------------------------------------------------------------
    @api.model
    def _cron_clean(self):
        days = int(self.env["ir.config_parameter"].sudo().get_param(
            "cloud_base.task_retention_days", 7))
        limit = fields.Datetime.now() - datetime.timedelta(days=days)
        self.search([("state", "in", ("done", "cancelled")), ("write_date", "<", limit)]).unlink()
        self.env["cloud.log"]._gc_old_logs()
        self.env["cloud.upload.session"]._purge_expired()
        self._clean_incoming()

    @api.model
    def _clean_incoming(self, age=86400):
        """Downloads a killed worker left in the filestore's ``cloud-incoming`` folder (a
        reverse task removes its own, done or failed): older than a day, nobody uses them."""
        folder = self.env["ir.attachment"]._cloud_incoming_folder()
        if not os.path.isdir(folder):
            return
        cutoff = time.time() - age
        for entry in os.scandir(folder):
            if entry.name.startswith("restore-") and entry.is_file() \
                    and entry.stat().st_mtime < cutoff:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
