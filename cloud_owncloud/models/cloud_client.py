"""ownCloud / Nextcloud as a provider of ``cloud.client`` (R-CON-1, R-CON-5, R-CON-6, R-LINK-1)."""
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.provider import Capabilities, Provider

from ..lib.owncloud_adapter import OwnCloudAdapter

_logger = logging.getLogger(__name__)

#: settings whose change means: check the connection again
CREDENTIAL_FIELDS = frozenset({"owncloud_url", "owncloud_login", "owncloud_password"})


class OwnCloudProvider(Provider):
    key = "owncloud"
    label = "ownCloud / Nextcloud"
    logo = "/cloud_owncloud/static/src/img/owncloud.svg"
    settings_fields = CREDENTIAL_FIELDS | {"owncloud_public_links"}
    secret_fields = ("owncloud_password",)
    capabilities = Capabilities(hash_kind="sha1", case_sensitive=True, name_max_length=250,
                                name_length_unit="bytes", change_feed="snapshot",
                                share_links=True, revokes_links=True)

    def build_adapter(self, client):
        if not (client.owncloud_url and client.owncloud_login):
            raise UserError(client.env._("Enter the server URL and the login of %s.",
                                         client.name))
        password = client._get_secret("owncloud_password")
        if not password:
            raise UserError(client.env._("Enter the app password of %s.", client.name))
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
            raise UserError(client._owncloud_message(exc)) from exc
        # the merge base knows every managed folder's path: no tree walk is needed to find
        # them again after a restart
        adapter.seed_hints(client._merge_base().entries(), client.root_folder_id.cloud_id)
        return adapter

    def settings_saved(self, client, changed):
        if changed & (CREDENTIAL_FIELDS | {"provider"}):
            client._owncloud_check_on_save()

    def account_fingerprint(self, client, facts):
        # the same login on another server (or another instance on the same host) is another
        # account
        return "%s@%s" % (client.owncloud_login, (client.owncloud_url or "").rstrip("/"))

    def error_message(self, client, error):
        return client._owncloud_message(error)

    def item_url(self, client, adapter, item):
        if client.owncloud_public_links and not item.is_folder:
            try:
                url = adapter.share_link(item.id)
            except cloud.CloudError as exc:
                _logger.info("No public link for %s: %s", item.id, exc)
                return None
            created = adapter.pop_created_share(item.id)
            if created:  # the suite made it: revoked on reset or when the file comes back
                client.env["cloud.shared.link"]._record(client, item.id, created[0],
                                                        created[1])
            return url
        return None


OWNCLOUD = OwnCloudProvider()


class CloudClient(models.Model):
    _inherit = "cloud.client"

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

    @api.model
    def _cloud_providers(self):
        return super()._cloud_providers() + [OWNCLOUD]

    def _compute_owncloud_password_set(self):
        for client in self:
            client.owncloud_password_set = bool(client.sudo()._get_secret("owncloud_password"))

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
            return self.env._(
                "The server refused the login with this app password. Check the login in "
                "the client settings and create a new app password (Nextcloud: Personal "
                "settings > Security > Devices & sessions; ownCloud: Settings > Security "
                "> App passwords).")
        if isinstance(exc, cloud.Transient):
            return self.env._(
                "The ownCloud/Nextcloud server cannot be reached right now (%(reason)s). "
                "Check the server URL in the client settings and that the server is "
                "running, then try again.", reason=self._owncloud_reason(exc))
        if isinstance(exc, cloud.InvalidRequest) and exc.code == "bad_url":
            return self.env._("The server URL must start with http:// or https:// (e.g. "
                     "https://cloud.example.com). Check it in the client settings.")
        if isinstance(exc, (cloud.NotFound, cloud.InvalidRequest)):
            return self.env._("No ownCloud or Nextcloud server answers at the server URL of this "
                     "client. Check the server URL in the client settings (the address shown "
                     "in the browser, e.g. https://cloud.example.com, without /index.php).")
        return self.env._(
            "The connection to the ownCloud/Nextcloud server failed (%(reason)s). Check "
            "the server URL and the login in the client settings.",
            reason=self._owncloud_reason(exc))

    @api.model
    def _owncloud_reason(self, exc):
        """A short reason that quotes nothing the server said (it may name the URL/login)."""
        reasons = {
            "timeout": self.env._("no answer in time"),
            "connection_error": self.env._("the connection failed"),
            "maintenance": self.env._("the server is in maintenance mode"),
            423: self.env._("locked"),
            429: self.env._("too many requests"),
        }
        if exc.code in reasons:
            return reasons[exc.code]
        if isinstance(exc.code, int):
            return self.env._("HTTP error %s", exc.code)
        return self.env._("error of type %s", exc.__class__.__name__)

    def _owncloud_check(self):
        """Check URL, login and password against the server; raise UserError if wrong."""
        self.ensure_one()
        client = self.sudo()
        if not (client.owncloud_url and client.owncloud_login
                and client._get_secret("owncloud_password")):
            raise UserError(self.env._("Enter the server URL, the login and an app password."))
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
