import itertools
import logging
import os
import threading

import odoo
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import config

from ..lib import adapter as cloud
from ..lib.memory_adapter import MemoryAdapter, get_store
from ..lib.merge_base import RecordingAdapter
from ..lib.names import cut, level_cap
from ..lib.provider import Capabilities, Provider
from ..lib.transfers import MAX_TRANSFER_CONCURRENCY, AdapterPool, AdaptiveLimit, Prefetched
from .cloud_item import DatabaseMergeBase
from .cloud_upload_session import DatabaseUploadSessions

_logger = logging.getLogger(__name__)

# Adapters are kept per process and client so that SDK sessions and refreshed tokens are reused
# between tasks; any change of the client's settings drops the cached one.
_ADAPTERS = {}
_ADAPTERS_LOCK = threading.Lock()
#: (database, client id) -> AdaptiveLimit of its parallel transfers
_LIMITS = {}

#: a developer's explicit permission to use the in-memory storage outside the test suite
MEMORY_STORAGE_FLAG = "CLOUD_BASE_ALLOW_MEMORY_STORAGE"


def memory_storage_allowed(env):
    """The in-memory storage keeps files in one process's RAM (R-SEC-6): tests only, or a
    developer who asked for it (environment variable ``CLOUD_BASE_ALLOW_MEMORY_STORAGE=1``)."""
    return bool(config["test_enable"] or env.registry.in_test_mode()
                or os.environ.get(MEMORY_STORAGE_FLAG) == "1")


class MemoryProvider(Provider):
    """The in-memory storage of the test suite (R-SEC-6)."""

    key = "memory"
    label = "Local test storage (in memory, tests only)"
    logo = "/cloud_base/static/src/img/providers/memory.svg"
    capabilities = Capabilities(hash_kind="sha256", change_feed="native")

    def build_adapter(self, client):
        if not memory_storage_allowed(client.env):
            raise UserError(client.env._(
                "The in-memory storage is for the test suite only; choose a cloud provider "
                "for the client %s.", client.name))
        store_name = client.api_base_url or "%s-client-%s" % (client.env.cr.dbname, client.id)
        options = client.options or {}
        return MemoryAdapter(get_store(store_name), page_size=options.get("page_size", 100),
                             chunk_threshold=options.get("chunk_threshold"),
                             chunk_size=options.get("chunk_size"))


MEMORY_PROVIDER = MemoryProvider()
#: client fields whose change rebuilds the adapter, whatever the provider
GENERIC_LOGO = "/cloud_base/static/src/img/providers/cloud.svg"
ADAPTER_FIELDS = frozenset({"provider", "api_base_url", "options", "root_folder_name", "state"})
#: client fields whose change may point a connected client to another account
ACCOUNT_FIELDS = frozenset({"provider", "api_base_url"})


class CloudClient(models.Model):
    _name = "cloud.client"
    _description = "Cloud storage client"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    provider = fields.Selection(
        selection="_selection_provider", required=True, tracking=True,
        help="Where the files go. Each provider add-on (Dropbox, OneDrive/SharePoint, Google "
             "Drive, ownCloud/Nextcloud) adds its own entry.")
    provider_auth = fields.Char(compute="_compute_provider_auth",
                                help="How the provider authenticates: login or oauth.")
    state = fields.Selection(
        [("draft", "Not connected"), ("connected", "Connected"),
         ("reconnect", "Reconnect needed"), ("error", "Error"), ("archived", "Archived")],
        default="draft", required=True, readonly=True, copy=False, tracking=True)
    state_message = fields.Char(readonly=True, copy=False, groups="base.group_system",
                                help="Why the client is not connected, as the provider said.")
    root_folder_name = fields.Char(
        default="Odoo", required=True,
        help="Top folder of everything the suite creates in this storage.")
    api_base_url = fields.Char(
        "API base URL", groups="base.group_system",
        help="Leave empty in production. Set to the address of a local emulator of the "
             "provider's API (tests and demo).")
    options = fields.Json(default=dict, groups="base.group_system")
    log_enabled = fields.Boolean(
        "Log actions", default=True,
        help="Write a sync log line for each action. Errors are always logged.")
    mass_delete_share = fields.Float(
        "Mass-deletion guard (%)", default=50.0,
        help="A backward sync that would delete more than this share of the client's synced "
             "files stops and waits for an administrator's confirmation.")
    mass_delete_min_files = fields.Integer(
        "Guard applies from", default=10,
        help="The mass-deletion guard only applies to clients with at least this many synced "
             "files.")
    transfer_concurrency = fields.Integer(
        "Parallel transfers", default=8,
        help="How many uploads a queue run sends to this cloud at the same time. The suite "
             "halves it for a while when the provider asks to slow down (429/503) and grows "
             "it back as transfers succeed. 1 sends one file after the other.")
    deletion_confirmation_needed = fields.Boolean(readonly=True, copy=False)
    deletion_confirmation_given = fields.Boolean(readonly=True, copy=False)
    root_folder_id = fields.Many2one("cloud.folder", readonly=True, copy=False)
    change_cursor = fields.Char(readonly=True, copy=False, groups="base.group_system")
    account_fingerprint = fields.Char(
        readonly=True, copy=False, groups="base.group_system",
        help="Identifies the storage account the client connected to: its synced files live "
             "there, so another account is refused until the client is reset.")
    last_backward_sync = fields.Datetime(readonly=True, copy=False)
    rule_ids = fields.One2many("cloud.sync.rule", "client_id", string="Sync rules")
    task_pending_count = fields.Integer(compute="_compute_queue_status", string="Pending")
    task_running_count = fields.Integer(compute="_compute_queue_status", string="Running")
    task_failed_count = fields.Integer(compute="_compute_queue_status", string="Failed")
    task_done_today_count = fields.Integer(compute="_compute_queue_status", string="Done today")
    provider_logo_url = fields.Char(compute="_compute_provider_logo_url")
    color = fields.Integer(compute="_compute_provider_logo_url")
    rule_count = fields.Integer(compute="_compute_rule_count", string="Rules")

    # ------------------------------------------------------------------------------------
    # Queue status (R-LOG-3): one grouped query for all clients
    # ------------------------------------------------------------------------------------
    def _compute_queue_status(self):
        stats = {}
        if self.ids:
            self.env["cloud.task"].flush_model()
            self.env.cr.execute("""
                SELECT client_id,
                       count(*) FILTER (WHERE state = 'pending'),
                       count(*) FILTER (WHERE state = 'running'),
                       count(*) FILTER (WHERE state = 'failed'),
                       count(*) FILTER (WHERE state = 'done'
                                        AND done_at >= date_trunc('day', now() at time zone 'UTC'))
                  FROM cloud_task WHERE client_id IN %s GROUP BY client_id
            """, [tuple(self.ids)])
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for client in self:
            pending, running, failed, done = stats.get(client.id, (0, 0, 0, 0))
            client.task_pending_count = pending
            client.task_running_count = running
            client.task_failed_count = failed
            client.task_done_today_count = done

    # ------------------------------------------------------------------------------------
    # Provider registry: each provider add-on adds its Provider here, nothing else
    # ------------------------------------------------------------------------------------
    @api.model
    def _cloud_providers(self):
        """The installed providers (``lib.provider.Provider`` instances). A provider add-on
        registers itself by extending this list."""
        return [MEMORY_PROVIDER]

    @api.model
    def _selection_provider(self):
        return [(p.key, p.label) for p in self._cloud_providers()]

    @api.model
    def _provider_registry(self):
        return {p.key: p for p in self._cloud_providers()}

    @api.depends("provider")
    def _compute_provider_auth(self):
        registry = self._provider_registry()
        for client in self:
            provider = registry.get(client.provider)
            client.provider_auth = provider.auth if provider else False

    def _provider(self):
        """This client's provider; UserError when its add-on is not installed."""
        self.ensure_one()
        provider = self._provider_registry().get(self.provider)
        if provider is None:
            raise UserError(self.env._("The provider %s is not installed.", self.provider))
        return provider

    # ------------------------------------------------------------------------------------
    # Secrets (R-CON-5): providers declare computed fields backed by cloud.client.secret
    # ------------------------------------------------------------------------------------
    def _secret_fields(self):
        """Names of the fields whose values are secrets, over all providers."""
        return [name for p in self._cloud_providers() for name in p.secret_fields]

    def _compute_secret_fields(self):
        # never give a secret back to the browser: the fields read as empty
        for client in self:
            for name in client._secret_fields():
                client[name] = False

    def _inverse_secret_fields(self):
        for client in self:
            for name in client._secret_fields():
                if client[name]:
                    client._set_secret(name, client[name])

    def _get_secret(self, key):
        self.ensure_one()
        return self.env["cloud.client.secret"]._get(self, key)

    def _set_secret(self, key, value):
        self.ensure_one()
        self.env["cloud.client.secret"]._set(self, key, value)
        self._drop_adapter()

    # ------------------------------------------------------------------------------------
    # Adapter
    # ------------------------------------------------------------------------------------
    def _get_adapter(self, slot=0):
        """The storage adapter of this client (cached per process). ``slot`` > 0: another
        adapter of the same settings, for a transfer thread (SDK sessions are not all safe to
        share between threads)."""
        self.ensure_one()
        key = (self.env.cr.dbname, self.id) + ((slot,) if slot else ())
        with _ADAPTERS_LOCK:
            adapter = _ADAPTERS.get(key)
        if adapter is None:
            adapter = self._provider().build_adapter(self.sudo())
            with _ADAPTERS_LOCK:
                _ADAPTERS[key] = adapter
        return adapter

    def _upload_session_store(self, lifetime):
        """Where this client's adapter keeps its unfinished upload sessions (a crash-safe
        store, ``cloud.upload.session``); ``lifetime``: seconds the provider keeps a session
        when it does not say."""
        self.ensure_one()
        # a test's own transaction (TransactionCase): no second connection sees its records
        test = odoo.modules.module.current_test
        test_mode = self.env.registry.in_test_mode()
        in_test_transaction = self.env.cr is getattr(test, "cr", None) and not test_mode
        return DatabaseUploadSessions(self.env.cr.dbname, self.id, lifetime,
                                      env=self.env if in_test_transaction else None,
                                      thread_bound=test_mode)

    def _merge_base(self):
        """What this client's engines know of its cloud tree (``cloud.item``)."""
        self.ensure_one()
        return DatabaseMergeBase(self.env, self.id)

    def _sync_adapter(self, base=None, answers=None):
        """The adapter the engines drive: mutations and feed pages are recorded in the merge
        base ``base`` (this client's by default); the caller flushes it before committing.
        ``answers``: what a transfer thread already asked the provider for this task
        (:class:`~..lib.transfers.Prefetched`)."""
        adapter = self._get_adapter()
        if answers:
            adapter = Prefetched(adapter, answers)
        return RecordingAdapter(adapter, base or self._merge_base())

    def _measured_upload_rate(self, sample=500):
        """``(files per second, bytes per second)`` of this client's latest uploads (the span
        from the first start to the last end of its ``sample`` newest upload tasks), or None
        before it has uploaded enough to tell."""
        self.ensure_one()
        self.env["cloud.task"].flush_model(["client_id", "type", "state", "started_at",
                                            "done_at", "attachment_id"])
        self.env.cr.execute("""
            SELECT count(*), COALESCE(sum(a.file_size), 0),
                   EXTRACT(EPOCH FROM max(t.done_at) - min(t.started_at))
              FROM (SELECT attachment_id, started_at, done_at FROM cloud_task
                     WHERE client_id = %s AND type = 'file_upload' AND state = 'done'
                       AND started_at IS NOT NULL
                     ORDER BY done_at DESC LIMIT %s) t
              LEFT JOIN ir_attachment a ON a.id = t.attachment_id
        """, [self.id, sample])
        count, size, seconds = self.env.cr.fetchone()
        if count < 10 or not seconds or seconds <= 0:
            return None
        return count / float(seconds), max(float(size), 1.0) / float(seconds)

    def _forget_cloud_tree(self):
        """The change feed starts afresh (another account, a reset): the cursor and the merge
        base go together."""
        for client in self.sudo():
            client._merge_base().clear()
        self.env["cloud.upload.session"]._purge_clients(self)
        self.sudo().write({"change_cursor": False})

    def _drop_adapter(self):
        dropped = {(self.env.cr.dbname, client.id) for client in self}
        with _ADAPTERS_LOCK:
            for key in [key for key in _ADAPTERS if key[:2] in dropped]:
                del _ADAPTERS[key]
            for key in [key for key in _LIMITS if key in dropped]:
                del _LIMITS[key]

    def _transfer_limit(self):
        """The :class:`AdaptiveLimit` of this client's parallel transfers in this process
        (it remembers a provider's request to slow down from one run to the next)."""
        self.ensure_one()
        key = (self.env.cr.dbname, self.id)
        maximum = max(1, self.sudo().transfer_concurrency or 1)
        with _ADAPTERS_LOCK:
            limit = _LIMITS.get(key)
            if limit is None:
                limit = _LIMITS[key] = AdaptiveLimit(maximum)
        if limit.maximum != maximum:
            limit.set_maximum(maximum)
        return limit

    def _transfer_adapters(self):
        """The adapters this client's transfer threads use (:class:`AdapterPool`)."""
        self.ensure_one()
        size = max(1, self.sudo().transfer_concurrency or 1)
        slots = itertools.count(1)
        return AdapterPool(self._get_adapter(), lambda: self._get_adapter(next(slots)), size)

    @api.constrains("transfer_concurrency")
    def _check_transfer_concurrency(self):
        for client in self:
            if not 1 <= client.transfer_concurrency <= MAX_TRANSFER_CONCURRENCY:
                raise ValidationError(self.env._(
                    "Parallel transfers must be between 1 and %s.", MAX_TRANSFER_CONCURRENCY))

    @api.constrains("provider")
    def _check_provider_allowed(self):
        if any(c.provider == "memory" for c in self) and not memory_storage_allowed(self.env):
            raise ValidationError(self.env._(
                "The in-memory storage is for the test suite only: files kept there live in "
                "one server process's memory and are lost on restart. Choose a cloud "
                "provider (install its add-on first if it is not listed)."))

    @api.model_create_multi
    def create(self, vals_list):
        clients = super().create(vals_list)
        clients._drop_adapter()  # ids are reused after a rollback
        for client, vals in zip(clients, vals_list, strict=True):
            client._settings_saved(set(vals))
        return clients

    def _adapter_fields(self):
        """Fields whose change invalidates the cached adapter."""
        return ADAPTER_FIELDS.union(*(p.settings_fields for p in self._cloud_providers()))

    def write(self, vals):
        res = super().write(vals)
        if self._adapter_fields() & set(vals):
            self._drop_adapter()
            for client in self:
                client._settings_saved(set(vals))
        return res

    def _settings_saved(self, changed):
        """Tell the client's provider that its settings were saved (e.g. to test them), and
        check that a connected client still reaches its account."""
        provider = self._provider_registry().get(self.provider)
        if provider and (changed & (provider.settings_fields | {"provider"})):
            provider.settings_saved(self.sudo(), changed)
        if provider and changed & (provider.settings_fields | ACCOUNT_FIELDS):
            self._verify_account()

    # ------------------------------------------------------------------------------------
    # Connection (R-CON-1, R-CON-3)
    # ------------------------------------------------------------------------------------
    def _check_manager_rights(self):
        """Every button of a client may call the provider or write as superuser: check the
        caller may change the client before anything else (R-SEC-3)."""
        self.check_access("write")

    def action_connect(self):
        """Check the credentials, create the root folder, start the change feed. OAuth
        providers first send the administrator to the consent page when no token is held
        or the token was refused."""
        self._check_manager_rights()
        for client in self:
            if client._oauth_consent_needed():
                client.ensure_one()
                return client._oauth_authorize_action()
        for client in self:
            client._drop_adapter()
            try:
                client._connect()
            except cloud.CloudError as exc:
                # the core's own refusal of another account says what to do (R-SAFE-5); the
                # provider's reading of it would name a connection problem instead
                message = (exc.message if exc.code == "account_changed"
                           else client._provider().error_message(client.sudo(), exc))
                client._record_connection_failure(exc, message)
                raise UserError(self.env._("Could not connect %(client)s: %(error)s",
                                  client=client.name, error=message)) from exc
            except UserError as exc:  # settings the provider cannot work with
                client._record_connection_failure(exc, exc.args[0])
                raise
        return True

    def action_test_connection(self):
        """Check the saved settings against the provider, without connecting (R-CON-1)."""
        self._check_manager_rights()
        self.ensure_one()
        self._drop_adapter()
        try:
            facts = self._get_adapter().check_connection()
        except cloud.CloudError as exc:
            raise UserError(self._provider().error_message(self.sudo(), exc)) from exc
        if self.sudo().state_message:
            self.sudo().write({"state_message": False})
        details = ", ".join(str(facts[key]) for key in ("account", "product", "version")
                            if facts.get(key))
        return self._notify(self.env._("Connection works: %s.", details or self.name))

    def _record_connection_failure(self, error, message=None):
        """Keep the failure on the client and in the logs although the UserError that follows
        rolls the request back: written through a cursor of its own, outside tests."""
        vals = {"state": "reconnect" if isinstance(error, cloud.AuthExpired) else "error",
                "state_message": message or str(error)}
        if self.state == "draft":
            vals["state"] = "draft"  # never connected: nothing to reconnect yet
        if not self.env["cloud.task"]._can_commit():
            self.write(vals)
            self._log("error", self.env._("Connection failed: %s", error))
            return
        with self.env.registry.cursor() as cr:
            client = self.with_env(self.env(cr=cr))
            client.write(vals)
            client._log("error", self.env._("Connection failed: %s", error))

    def _connect(self):
        self._provider().prepare_connect(self.sudo())
        base = self.sudo()._merge_base()
        adapter = self._sync_adapter(base)
        account = adapter.check_connection()
        self._check_same_account(account)
        root = self._ensure_root_folder()
        first_link = not root.cloud_id
        item = adapter.ensure_root(root.name)
        vals = {"cloud_id": item.id, "cloud_name": item.name, "state": "synced"}
        if first_link:
            # a reconnect after a reset, or a storage used before: what is there is picked up
            vals["found_in_cloud"] = self.env["cloud.engine.direct"]._holds_items(adapter, item)
        root.write(vals)
        vals = {"state": "connected", "state_message": False}
        if not self.sudo().change_cursor:
            vals["change_cursor"] = adapter.latest_cursor(item.id)
        base.flush()
        self.sudo().write(vals)
        self._log("success", self.env._("Connected to %s", account.get("account") or self.provider))
        return account

    # ------------------------------------------------------------------------------------
    # The account a client's files live in: a change is refused while files are synced
    # ------------------------------------------------------------------------------------
    def _has_synced_files(self):
        self.ensure_one()
        return bool(self.env["ir.attachment"].sudo().search_count([
            ("cloud_client_id", "=", self.id), ("cloud_kind", "=", "file")], limit=1))

    def _account_changed_error(self):
        return cloud.InvalidRequest(self.env._(
            "These settings reach another account than the one the files of %(client)s were "
            "synced to; syncing with it would treat every synced file as deleted. Restore the "
            "previous settings (or authorize the previous account again), or reset the client "
            "first to bring its files back into Odoo.", client=self.name),
            code="account_changed")

    def _check_same_account(self, facts):
        """Remember which account the client uses; refuse another one while it has synced
        files (they live in the first account: a sync with the other would delete them)."""
        client = self.sudo()
        fingerprint = client._provider().account_fingerprint(client, facts)
        if not fingerprint or fingerprint == client.account_fingerprint:
            return
        if client.account_fingerprint and client._has_synced_files():
            raise client._account_changed_error()
        if client.account_fingerprint:
            # another, empty account: its change feed and its folder tree start afresh
            client._forget_cloud_tree()
            client._forget_former_account()
            client.write({"reset_folder_ids": False})
            _logger.info("Cloud client %s now uses another account", client.id)
        client.write({"account_fingerprint": fingerprint})

    def _forget_former_account(self):
        """Another account was accepted (no file was synced to the former one): the folder
        ids, folder links and queued work of the former account mean nothing in the new one;
        the next direct sync builds the tree there. The former account keeps its content."""
        self.ensure_one()
        self.env["cloud.task"].search([("client_id", "=", self.id),
                                       ("state", "in", ("pending", "failed"))]).write(
            {"state": "cancelled"})
        self.env["ir.attachment"].sudo().search([
            ("cloud_client_id", "=", self.id), ("cloud_kind", "=", "folder")])._cloud_forget()
        folders = self.env["cloud.folder"].search([("client_id", "=", self.id)])
        self.env["cloud.sync.rule"].search([("folder_id", "in", folders.ids)]).folder_id = False
        self.sudo().write({"root_folder_id": False})
        folders.unlink()

    def _verify_account(self):
        """Settings of a connected client changed: check they still reach its account, else
        stop the client before any sync runs with them."""
        for client in self.sudo().filtered(lambda c: c.state == "connected"
                                           and c.account_fingerprint):
            client._drop_adapter()
            try:
                facts = client._get_adapter().check_connection()
                client._check_same_account(facts)
            except (cloud.CloudError, UserError) as exc:
                message = (exc.message if isinstance(exc, cloud.CloudError)
                           and exc.code == "account_changed"
                           else client._provider().error_message(client, exc)
                           if isinstance(exc, cloud.CloudError) else exc.args[0])
                client.write({"state": "error", "state_message": message})
                client._log("error", self.env._("Settings changed: %s", message))

    def _ensure_root_folder(self):
        self.ensure_one()
        root = self.root_folder_id
        name = self._root_name()
        if not root:
            root = self.env["cloud.folder"].create({
                "name": name, "client_id": self.id, "kind": "root"})
            self.root_folder_id = root
        elif root.name != name:
            root.name = name
        return root

    def _root_name(self):
        """The root folder's name: the setting, cut to its share of a provider's path limit
        (``lib.names.level_cap``)."""
        planner = self.env["cloud.engine.planner"]
        max_path = planner._path_limit(self)
        if not max_path:
            return self.root_folder_name
        cap = level_cap(max_path, "root", planner._name_limit(self))
        return cut(self.root_folder_name, cap, planner._name_unit(self)).rstrip() \
            or self.root_folder_name

    def _mark_reconnect_needed(self, error):
        """Credentials gone: stop this client's sync, keep its queue, tell administrators."""
        for client in self.filtered(lambda c: c.state == "connected"):
            client.write({"state": "reconnect", "state_message": str(error)})
            client._log("error", self.env._("Authorization lost (%s). Press Reconnect; queued work "
                                   "will resume where it stopped.", error))
            admins = self.env.ref("base.group_system").sudo().users.partner_id
            client.sudo().message_post(
                body=self.env._("The cloud client %(name)s needs to be reconnected: %(error)s",
                       name=client.name, error=error),
                partner_ids=admins.ids, subtype_xmlid="mail.mt_comment")

    def action_reconnect(self):
        self._check_manager_rights()
        return self.action_connect()

    # ------------------------------------------------------------------------------------
    # Manual buttons (R-Q-2)
    # ------------------------------------------------------------------------------------
    def _check_connected(self):
        for client in self:
            if client.state != "connected":
                raise UserError(self.env._("The client %s is not connected.", client.name))

    def action_sync_now(self):
        self._check_manager_rights()
        self._check_connected()
        for client in self:
            client._prepare_direct()
        return self._notify(self.env._("Direct sync queued."))

    def action_backward_sync_now(self):
        self._check_manager_rights()
        self._check_connected()
        for client in self:
            client._enqueue_backward()
        return self._notify(self.env._("Backward sync queued."))

    def action_confirm_deletions(self):
        """Let the next backward run apply a mass deletion it stopped at (R-SAFE-2)."""
        self._check_manager_rights()
        self.write({"deletion_confirmation_given": True})
        self._enqueue_backward()
        return True

    def _client_action(self, xmlid):
        """A window action of ``xmlid`` restricted to this client."""
        self.ensure_one()
        self._check_manager_rights()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("client_id", "=", self.id)]
        return action

    def action_open_tasks(self):
        return self._client_action("cloud_base.action_cloud_task")

    def action_retry_failed(self):
        self._check_manager_rights()
        self.env["cloud.task"].search([("client_id", "in", self.ids),
                                       ("state", "=", "failed")]).action_retry()
        return True

    def _notify(self, message):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"message": message, "type": "success", "sticky": False}}

    # ------------------------------------------------------------------------------------
    # Logs (R-LOG-1/2)
    # ------------------------------------------------------------------------------------
    def _log(self, level, message, record=None, path=None, task=None):
        self.ensure_one()
        if level != "error" and not self.log_enabled:
            return
        if self.env.cr.readonly:
            # read-only requests (e.g. /web/content) cannot write: the server log keeps it
            _logger.warning("Cloud client %s: %s (%s)", self.name, message, path or "")
            return
        self.env["cloud.log"]._add({
            "client_id": self.id, "level": level, "message": message,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "path": path, "task_type": task.type if task else False,
        })

    @api.model
    def _uninstall_provider(self, key):
        """Uninstall hook of a provider add-on: its clients' files come back into Odoo first
        (refused, and so the uninstall stopped, when some cannot), then its clients go with
        their folders, tasks, logs and secrets."""
        self._release_before_uninstall([key])
        self.with_context(active_test=False).search([("provider", "=", key)]).unlink()

    # ------------------------------------------------------------------------------------
    # Crons (R-Q-2)
    # ------------------------------------------------------------------------------------
    @api.model
    def _plan_soon(self):
        """Something planning decides changed (a synced record renamed): the planning cron
        runs at once rather than at its next interval (once per transaction, and not while a
        call is already waiting)."""
        flags = self.env.cr.precommit.data
        if flags.get("cloud_base.planning_soon"):
            return
        flags["cloud_base.planning_soon"] = True
        cron = self.env.ref("cloud_base.cron_prepare_queue", raise_if_not_found=False)
        if not cron:
            return
        cron = cron.sudo()
        if not self.env["ir.cron.trigger"].sudo().search_count([
                ("cron_id", "=", cron.id), ("call_at", "<=", fields.Datetime.now())], limit=1):
            cron._trigger()

    @api.model
    def _cron_prepare_queue(self):
        """Plan every connected client; a client whose planning fails is logged and the
        others are planned all the same."""
        for client in self.search([("state", "=", "connected")]):
            try:
                with self.env.cr.savepoint():
                    client._prepare_direct()
                    client._enqueue_backward()
            except Exception as exc:  # noqa: BLE001 - one client must not stop the others
                _logger.exception("Planning of cloud client %s failed", client.id)
                client._log("error", self.env._(
                    "Planning failed, the other clients went on: %s", exc))
            else:
                self.env["cloud.task"]._commit()

    # ------------------------------------------------------------------------------------
    # What the web client shows: logos, counters, shortcuts
    # ------------------------------------------------------------------------------------
    @api.model
    def _provider_logo_url(self, provider):
        """Logo of a provider (kanban cards, badges, attachment thumbnails)."""
        spec = self._provider_registry().get(provider)
        return spec.logo if spec else GENERIC_LOGO

    @api.depends("provider", "state")
    def _compute_provider_logo_url(self):
        colors = {"connected": 10, "reconnect": 2, "error": 1, "draft": 0, "archived": 0}
        for client in self:
            client.provider_logo_url = client._provider_logo_url(client.provider)
            client.color = colors.get(client.state, 0)

    def _compute_rule_count(self):
        for client in self:
            client.rule_count = len(client.rule_ids)

    def action_open_rules(self):
        action = self._client_action("cloud_base.action_cloud_sync_rule")
        action["context"] = {"default_client_id": self.id}
        return action

    def action_open_logs(self):
        return self._client_action("cloud_base.action_cloud_log")

    def action_open_failed_tasks(self):
        action = self.action_open_tasks()
        action["context"] = {"search_default_failed": 1}
        return action

    def action_retry_failed_notify(self):
        self._check_manager_rights()
        count = self.env["cloud.task"].search_count([("client_id", "in", self.ids),
                                                     ("state", "=", "failed")])
        self.action_retry_failed()
        return self._notify(self.env._("%s failed task(s) queued again.", count))
