"""ownCloud / Nextcloud as a provider of ``cloud.client`` (R-CON-1, R-CON-5, R-CON-6, R-LINK-1)."""
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.cloud_base.lib import adapter as cloud

from ..lib.owncloud_adapter import OwnCloudAdapter

_logger = logging.getLogger(__name__)

#: settings whose change means: check the connection again, rebuild the adapter
OWNCLOUD_FIELDS = {"owncloud_url", "owncloud_login", "owncloud_password",
                   "owncloud_public_links"}
CREDENTIAL_FIELDS = {"owncloud_url", "owncloud_login", "owncloud_password"}


class CloudClient(models.Model):
    _inherit = "cloud.client"

    provider = fields.Selection(selection_add=[("owncloud", "ownCloud / Nextcloud")],
                                ondelete={"owncloud": "cascade"})
    owncloud_url = fields.Char(
        "Server URL", groups="base.group_system",
        help="Address of the ownCloud or Nextcloud server, as in the browser, without "
             "/index.php (e.g. https://cloud.example.com or https://example.com/nextcloud).")
    owncloud_login = fields.Char(
        "Login", groups="base.group_system",
        help="The user whose files Odoo manages (a dedicated account is best).")
    owncloud_password = fields.Char(
        "App password", compute="_compute_secret_fields", inverse="_inverse_secret_fields",
        groups="base.group_system",
        help="An app password created for Odoo in the user's security settings. It is stored "
             "apart, readable by system administrators only, and never shown again: leave the "
             "field empty to keep the stored one.")
    owncloud_password_set = fields.Boolean(
        "App password stored", compute="_compute_owncloud_password_set",
        groups="base.group_system")
    owncloud_public_links = fields.Boolean(
        "Public share links", groups="base.group_system",
        help="Give each synced file a public share link (anyone with the link can download "
             "it). Off: attachments link to the file in the ownCloud/Nextcloud web interface, "
             "which asks for a login.")

    # ------------------------------------------------------------------------------------
    # Secrets (R-CON-5)
    # ------------------------------------------------------------------------------------
    def _secret_fields(self):
        return super()._secret_fields() + ["owncloud_password"]

    def _compute_owncloud_password_set(self):
        for client in self:
            client.owncloud_password_set = bool(client.sudo()._get_secret("owncloud_password"))

    # ------------------------------------------------------------------------------------
    # Adapter
    # ------------------------------------------------------------------------------------
    def _build_adapter_owncloud(self):
        self.ensure_one()
        client = self.sudo()
        if not (client.owncloud_url and client.owncloud_login):
            raise UserError(_("Enter the server URL and the login of %s.", client.name))
        password = client._get_secret("owncloud_password")
        if not password:
            raise UserError(_("Enter the app password of %s.", client.name))
        options = client.options or {}
        try:
            adapter = OwnCloudAdapter(
                client.owncloud_url, client.owncloud_login, password,
                timeout=options.get("timeout", 60), page_size=options.get("page_size", 500),
                chunk_threshold=options.get("chunk_threshold"),
                chunk_size=options.get("chunk_size"),
                endpoint=options.get("owncloud_endpoint", "auto"),
                chunking=options.get("owncloud_chunking", "auto"),
                public_links=client.owncloud_public_links,
                lookup_limit=options.get("owncloud_lookup_limit"))
        except cloud.CloudError as exc:
            raise UserError(self._owncloud_message(exc)) from exc
        if client.change_cursor:
            # the cursor's snapshot knows every managed folder's path: no tree walk is needed
            # to find them again after a restart
            adapter.seed_paths(client.change_cursor)
        return adapter

    @api.model_create_multi
    def create(self, vals_list):
        clients = super().create(vals_list)
        for client, vals in zip(clients, vals_list, strict=True):
            if client.provider == "owncloud" and CREDENTIAL_FIELDS & set(vals):
                client._owncloud_check_on_save()
        return clients

    def _adapter_fields(self):
        return super()._adapter_fields() | OWNCLOUD_FIELDS

    def write(self, vals):
        res = super().write(vals)
        if (CREDENTIAL_FIELDS | {"provider"}) & set(vals):
            for client in self.filtered(lambda c: c.provider == "owncloud"):
                client._owncloud_check_on_save()
        return res

    # ------------------------------------------------------------------------------------
    # Connection checks: a clear message on the form (R-CON-1)
    # ------------------------------------------------------------------------------------
    def _owncloud_message(self, exc):
        """What a person should read for a failed connection attempt: what is wrong and what
        to do, never the server URL, the login or a message of the server (the message can
        reach users who may not see the settings, R-SEC-3). The server log keeps the
        details."""
        _logger.info("ownCloud/Nextcloud client %s (id %s): connection failed: %s",
                     self.sudo().name, self.id, exc)
        if isinstance(exc, cloud.AuthExpired):
            return _("The server refused the login with this app password. Check the login in "
                     "the client settings and create a new app password (Nextcloud: Personal "
                     "settings > Security > Devices & sessions; ownCloud: Settings > Security "
                     "> App passwords).")
        if isinstance(exc, cloud.Transient):
            return _("The ownCloud/Nextcloud server cannot be reached right now (%(reason)s). "
                     "Check the server URL in the client settings and that the server is "
                     "running, then try again.", reason=self._owncloud_reason(exc))
        if isinstance(exc, cloud.InvalidRequest) and exc.code == "bad_url":
            return _("The server URL must start with http:// or https:// (e.g. "
                     "https://cloud.example.com). Check it in the client settings.")
        if isinstance(exc, (cloud.NotFound, cloud.InvalidRequest)):
            return _("No ownCloud or Nextcloud server answers at the server URL of this "
                     "client. Check the server URL in the client settings (the address shown "
                     "in the browser, e.g. https://cloud.example.com, without /index.php).")
        return _("The connection to the ownCloud/Nextcloud server failed (%(reason)s). Check "
                 "the server URL and the login in the client settings.",
                 reason=self._owncloud_reason(exc))

    @api.model
    def _owncloud_reason(self, exc):
        """A short reason that quotes nothing the server said (it may name the URL/login)."""
        reasons = {
            "timeout": _("no answer in time"),
            "connection_error": _("the connection failed"),
            "maintenance": _("the server is in maintenance mode"),
            423: _("locked"),
            429: _("too many requests"),
        }
        if exc.code in reasons:
            return reasons[exc.code]
        if isinstance(exc.code, int):
            return _("HTTP error %s", exc.code)
        return _("error of type %s", exc.__class__.__name__)

    def _owncloud_check(self):
        """Check URL, login and password against the server; raise UserError if wrong."""
        self.ensure_one()
        client = self.sudo()
        if not (client.owncloud_url and client.owncloud_login
                and client._get_secret("owncloud_password")):
            raise UserError(_("Enter the server URL, the login and an app password."))
        client._drop_adapter()
        try:
            return client._get_adapter().check_connection()
        except cloud.CloudError as exc:
            raise UserError(client._owncloud_message(exc)) from exc

    def _owncloud_check_on_save(self):
        """Settings were saved: test them, and say on the form what is wrong."""
        self.ensure_one()
        client = self.sudo()
        if not (client.owncloud_url and client.owncloud_login
                and client._get_secret("owncloud_password")):
            return
        try:
            facts = client._owncloud_check()
        except UserError as exc:
            vals = {"state_message": str(exc.args[0])}
            if client.state != "archived":
                vals["state"] = "error" if client.state in ("connected", "error") else "draft"
            client.write(vals)
            return
        if client.state_message:
            client.write({"state_message": False})
        return facts

    def action_owncloud_test(self):
        self._check_manager_rights()  # before any request to the server (R-SEC-3)
        self.ensure_one()
        facts = self._owncloud_check()
        self.sudo().write({"state_message": False})
        return self._notify(_("Connection works: %(account)s (%(product)s %(version)s).",
                              account=facts.get("account"), product=facts.get("product"),
                              version=facts.get("version") or ""))

    def action_connect(self):
        self._check_manager_rights()
        for client in self.filtered(lambda c: c.provider == "owncloud"):
            try:
                client._owncloud_check()
            except UserError as exc:
                client.sudo().write({"state": "error", "state_message": str(exc.args[0])})
                client._log("error", _("Connection failed: %s", exc.args[0]))
                raise
        return super().action_connect()

    # ------------------------------------------------------------------------------------
    # Links (R-LINK-1)
    # ------------------------------------------------------------------------------------
    def _item_url(self, adapter, item):
        if self.provider == "owncloud" and self.sudo().owncloud_public_links \
                and not item.is_folder:
            try:
                return adapter.share_link(item.id)
            except cloud.CloudError as exc:
                _logger.info("No public link for %s: %s", item.id, exc)
        return super()._item_url(adapter, item)
