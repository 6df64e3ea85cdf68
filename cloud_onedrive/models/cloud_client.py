"""OneDrive / SharePoint as a provider of cloud.client: its settings and its declaration to
the registry (adapter, OAuth consent through msal, SharePoint site and library, links)."""
import logging
import re
import warnings
from urllib.parse import urlsplit

import odoo
from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.provider import Capabilities, OAuthRefused, OAuthSpec, Provider

from ..lib.graph_adapter import (
    AUTHORITY, ONEDRIVE_SCOPES, SESSION_LIFETIME, SHAREPOINT_SCOPES, GraphAdapter,
    discovery_cache, drive_path_of, make_session, msal, rewrite_url,
)

_logger = logging.getLogger(__name__)

TOKEN_SECRET = "onedrive_token_cache"
LINK_POLICY_SELECTION = [
    ("none", "No sharing links"),
    ("organization", "Organization-only view links"),
    ("anonymous", "Anonymous view links"),
]
TENANT = re.compile(r"^[A-Za-z0-9.-]{1,100}$")


def site_spec(site_url, site_path):
    """``(hostname, server-relative path)`` of a SharePoint site from the form's settings:
    ``https://tenant.sharepoint.com/`` + ``sites/name`` | ``teams/name`` | ``name`` (a bare
    name means ``sites/name``); a site URL that already holds the path is accepted too."""
    url = (site_url or "").strip()
    if url and "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = (site_path or "").strip().strip("/") or parts.path.strip("/")
    if path and "/" not in path:
        path = "sites/" + path
    return host, path


class OneDriveProvider(Provider):
    key = "onedrive"
    label = "OneDrive / SharePoint"
    logo = "/cloud_onedrive/static/src/img/onedrive.svg"
    auth = "oauth"
    settings_fields = frozenset({
        "onedrive_client_id", "onedrive_client_secret", "onedrive_tenant", "onedrive_kind",
        "onedrive_site_url", "onedrive_site_path", "onedrive_library_id",
        "onedrive_link_policy"})
    secret_fields = ("onedrive_client_secret",)
    capabilities = Capabilities(hash_kind="quickxor", case_sensitive=False,
                                name_max_length=255, name_length_unit="chars",
                                change_feed="native", share_links=True, revokes_links=True,
                                shared_spaces=True)
    # msal runs its own PKCE inside the auth code flow it keeps with the attempt
    oauth = OAuthSpec(redirect_path="/one_drive_token", token_secret=TOKEN_SECRET, pkce=False)

    # -- adapter -----------------------------------------------------------------------------
    def build_adapter(self, client):
        cache = client._oauth_token()
        if not cache:
            raise cloud.AuthExpired(
                client.env._("Not authorized by Microsoft yet: press Connect."),
                code="no_token")
        self._check_app(client)
        sharepoint = client.onedrive_kind == "sharepoint"
        options = client.options or {}
        return GraphAdapter(
            client.onedrive_client_id, client._get_secret("onedrive_client_secret"),
            token_cache=cache, token_saver=self._token_saver(client),
            drive_id=client.onedrive_library_id.drive_id or None if sharepoint else None,
            sharepoint=sharepoint, link_policy=client.onedrive_link_policy or "none",
            base_url=client.api_base_url or None, authority=self._authority(client),
            page_size=options.get("page_size", 200),
            chunk_threshold=options.get("chunk_threshold"),
            chunk_size=options.get("chunk_size"),
            session_store=client._upload_session_store(SESSION_LIFETIME),
            drive_path=client.onedrive_drive_path or None)

    @staticmethod
    def _authority(client):
        return AUTHORITY.rsplit("/", 1)[0] + "/" + (client.onedrive_tenant or "common").strip()

    def _check_app(self, client):
        if not client.onedrive_client_id:
            raise cloud.InvalidRequest(client.env._(
                "Enter the application (client) id of your Entra ID app registration."),
                code="no_client_id")
        if not client._get_secret("onedrive_client_secret"):
            raise cloud.InvalidRequest(client.env._(
                "Enter the client secret of your Entra ID app registration."),
                code="no_client_secret")

    @staticmethod
    def _token_saver(client):
        """Keep the token cache msal refreshed or rotated, in a transaction of its own (a
        rotated refresh token must survive a rollback of the task that refreshed it)."""
        dbname, client_id, test_env = client.env.cr.dbname, client.id, client.env

        def save(serialized):
            registry = Registry(dbname)
            if odoo.modules.module.current_test and not registry.in_test_mode():
                # a test's own transaction: no second connection may see its records
                test_env["cloud.client.secret"]._set(
                    test_env["cloud.client"].browse(client_id), TOKEN_SECRET, serialized)
                return
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["cloud.client.secret"]._set(env["cloud.client"].browse(client_id),
                                                TOKEN_SECRET, serialized)
        return save

    # -- connection: SharePoint site and library -----------------------------------------------
    def settings_saved(self, client, changed):
        if changed & {"onedrive_kind", "onedrive_library_id", "onedrive_site_url",
                      "onedrive_site_path", "api_base_url", "provider"} \
                and client.onedrive_drive_path:
            client.onedrive_drive_path = False  # another drive: its path is read again

    def prepare_connect(self, client):
        if client.onedrive_kind != "sharepoint":
            return
        adapter = client._get_adapter()
        if adapter.me_drive_type() == "personal":
            raise cloud.InvalidRequest(client.env._(
                "SharePoint needs a work or school (Microsoft 365) account, but a personal "
                "Microsoft account authorized this client. Choose OneDrive, or press "
                "Authorize again and sign in with a work account."),
                code="personal_account")
        host, path = site_spec(client.onedrive_site_url, client.onedrive_site_path)
        if not host:
            raise cloud.InvalidRequest(client.env._(
                "Enter the SharePoint site URL, e.g. https://contoso.sharepoint.com/."),
                code="no_site")
        try:
            site = adapter.find_site(host, path)
        except cloud.NotFound as exc:
            raise cloud.InvalidRequest(client.env._(
                "There is no SharePoint site at https://%(host)s/%(path)s (or this account "
                "may not see it): check the site URL and the site path.",
                host=host, path=path), code="site_not_found") from exc
        libraries = adapter.site_libraries(site["id"])
        chosen = client._onedrive_store_libraries(site, libraries)
        if not libraries:
            raise cloud.InvalidRequest(client.env._(
                "The site %s has no document library this account can use.",
                site.get("displayName") or path), code="no_library")
        if not chosen:
            if len(libraries) == 1:
                client.write({"onedrive_library_id": client.onedrive_library_ids.id})
                return
            raise cloud.InvalidRequest(client.env._(
                "Choose the document library of the site %(site)s (%(names)s), then press "
                "Connect again.", site=site.get("displayName") or path,
                names=", ".join(lib["name"] for lib in libraries)), code="choose_library")

    def account_fingerprint(self, client, facts):
        return facts.get("account_id")  # the drive (library) holding the files

    def error_message(self, client, error):
        code = getattr(error, "code", None)
        if code == "accessDenied":
            return client.env._(
                     "Microsoft Graph denied access. Check that the app registration has "
                     "the delegated permissions Files.ReadWrite.All and Sites.ReadWrite.All "
                     "(granted by an administrator where the tenant requires it) and that "
                     "the account may write in this drive.")
        if isinstance(error, cloud.AuthExpired):
            return client.env._("Microsoft refused the authorization (%s): press Reconnect.", code)
        return str(error)

    # -- links (R-LINK-1, R-SEC-5; the core revokes those the suite created) -----------------
    def item_url(self, client, adapter, item):
        if (client.onedrive_link_policy or "none") == "none" or item.is_folder:
            return None  # webUrl: Office documents open in Office for the web
        try:
            url = adapter.share_link(item.id)
        except cloud.CloudError as exc:
            _logger.info("OneDrive client %s: no sharing link for %s: %s", client.id,
                         item.id, exc)
            return None
        created = adapter.pop_created_link(item.id, url)
        if created:
            permission_id, created_url = created
            client.env["cloud.shared.link"]._record(client, item.id, permission_id,
                                                    created_url)
        return url

    # -- OAuth consent (the round trip itself is the core's) ---------------------------------
    def _app(self, client, cache=None):
        if msal is None:
            raise UserError(client.env._("The Python package 'msal' is not installed."))
        self_check = client.onedrive_client_id and client._get_secret("onedrive_client_secret")
        if not self_check:
            raise UserError(client.env._(
                "Enter the application (client) id and the client secret of your Entra ID "
                "app registration first."))
        try:
            return msal.ConfidentialClientApplication(
                client.onedrive_client_id,
                client_credential=client._get_secret("onedrive_client_secret"),
                authority=self._authority(client), token_cache=cache,
                http_client=make_session(client.api_base_url or None),
                http_cache=discovery_cache(client.api_base_url or None,
                                           self._authority(client)))
        except ValueError as exc:
            raise UserError(client.env._("Microsoft refused the settings: %s", exc)) from exc

    @staticmethod
    def _scopes(client):
        return list(SHAREPOINT_SCOPES if client.onedrive_kind == "sharepoint"
                    else ONEDRIVE_SCOPES)

    def authorization_url(self, client, state, code_challenge, redirect_uri):
        with warnings.catch_warnings():
            # msal recommends response_mode=form_post; the redirect URL is the core's GET
            # route (query), and the state it carries is signed and single use
            warnings.filterwarnings("ignore", message="response_mode=", category=UserWarning)
            flow = self._app(client).initiate_auth_code_flow(
                self._scopes(client), redirect_uri=redirect_uri, state=state,
                prompt="select_account")
        url = flow["auth_uri"]
        if client.api_base_url:
            url = rewrite_url(url, client.api_base_url)
        return url, {"flow": flow}

    def redirect_uri(self, client):
        return client.onedrive_redirect_url or None

    def finish_authorization(self, client, params, pending, redirect_uri):
        if params.get("error"):
            reason = (params.get("error_description") or params["error"]).split(" Trace ID")[0]
            raise OAuthRefused(client.env._("Access to Microsoft was not granted: %s",
                                            reason[:300]))
        cache = msal.SerializableTokenCache()
        app = self._app(client, cache)
        try:
            result = app.acquire_token_by_auth_code_flow(pending.get("flow") or {}, params)
        except ValueError as exc:  # state or flow mismatch
            raise OAuthRefused(client.env._(
                "Microsoft's answer does not match this authorization: %s", exc)) from exc
        if "error" in result:
            reason = (result.get("error_description") or result["error"]).split(" Trace ID")[0]
            raise OAuthRefused(client.env._("Microsoft refused the authorization: %s",
                                            reason[:300]))
        claims = result.get("id_token_claims") or {}
        account = claims.get("preferred_username") or claims.get("email") or \
            claims.get("name") or ""
        return {"token": cache.serialize(), "values": {"onedrive_account": account}}


ONEDRIVE = OneDriveProvider()


class CloudClientOneDrive(models.Model):
    _inherit = "cloud.client"

    onedrive_client_id = fields.Char(
        "Application (client) id", groups="base.group_system",
        help="Shown on the Overview page of the app registration in Microsoft Entra ID.")
    onedrive_client_secret = fields.Char(
        "Client secret", compute="_compute_secret_fields", inverse="_inverse_secret_fields",
        groups="base.group_system",
        help="The Value of a client secret of the app registration (not its Secret ID). Once "
             "saved it is never shown again; type a new one to replace it.")
    onedrive_secret_set = fields.Boolean("Microsoft client secret saved",
                                         compute="_compute_onedrive_status")
    onedrive_token_set = fields.Boolean("OneDrive authorized", compute="_compute_onedrive_status")
    onedrive_tenant = fields.Char(
        "Tenant", default="common", groups="base.group_system",
        help="common: work, school and personal accounts (multitenant app). Or your tenant "
             "id / domain (contoso.onmicrosoft.com) for a single-tenant app.")
    onedrive_redirect_url = fields.Char(
        "OneDrive redirect URL", groups="base.group_system",
        help="Must be listed as a Web redirect URI of the app registration. Empty: "
             "<web.base.url>/one_drive_token.")
    onedrive_kind = fields.Selection(
        [("onedrive", "OneDrive (the signed-in user's drive)"),
         ("sharepoint", "SharePoint document library")], "Storage", default="onedrive",
        groups="base.group_system")
    onedrive_site_url = fields.Char(
        "SharePoint site URL", groups="base.group_system",
        help="The tenant's SharePoint address, e.g. https://contoso.sharepoint.com/")
    onedrive_site_path = fields.Char(
        "Site path", groups="base.group_system",
        help="sites/name, teams/name, or just the site name (sites/ is assumed).")
    onedrive_site_id = fields.Char("Site id", readonly=True, copy=False,
                                   groups="base.group_system")
    onedrive_library_ids = fields.One2many("cloud.onedrive.library", "client_id",
                                           "Libraries of the site", readonly=True)
    onedrive_library_id = fields.Many2one(
        "cloud.onedrive.library", "Document library", groups="base.group_system",
        domain="[('client_id', '=', id)]", copy=False,
        help="Filled from the site's libraries once connected: press Connect, then choose.")
    onedrive_link_policy = fields.Selection(
        LINK_POLICY_SELECTION, "OneDrive link policy", default="none", groups="base.group_system",
        help="Which link Odoo stores for each synced file. No sharing links: the file's own "
             "address (Office documents open in Office for the web; a Microsoft login with "
             "access is needed). Organization-only: a view link anyone in your organization "
             "can open (work or school accounts). Anonymous: anyone with the link can open "
             "the file.")
    onedrive_account = fields.Char("Microsoft account", readonly=True, copy=False)
    onedrive_drive_path = fields.Char(
        "Drive path", readonly=True, copy=False, groups="base.group_system",
        help="The server-relative path of the drive or library (from the last connection): "
             "OneDrive and SharePoint count it in their limit of 400 characters per path, "
             "so names are cut to fit what it leaves.")

    @api.model
    def _cloud_providers(self):
        return super()._cloud_providers() + [ONEDRIVE]

    def _connect(self):
        account = super()._connect()
        if self.provider == "onedrive" and account.get("web_url"):
            path = drive_path_of(account["web_url"])
            if self.sudo().onedrive_drive_path != path:
                self.sudo().onedrive_drive_path = path
        return account

    def _compute_onedrive_status(self):
        for client in self:
            if client.provider != "onedrive" or not client.id:
                client.onedrive_secret_set = client.onedrive_token_set = False
                continue
            client.onedrive_secret_set = bool(client._get_secret("onedrive_client_secret"))
            client.onedrive_token_set = bool(client._get_secret(TOKEN_SECRET))

    @api.constrains("onedrive_tenant")
    def _check_onedrive_tenant(self):
        for client in self.sudo():
            if client.onedrive_tenant and not TENANT.match(client.onedrive_tenant.strip()):
                raise UserError(self.env._(
                    "The tenant is 'common', a tenant id or a domain such as "
                    "contoso.onmicrosoft.com."))

    def _onedrive_store_libraries(self, site, libraries):
        """Keep the site's libraries (the selection of the form); the chosen one if it is
        still among them, else none."""
        self.ensure_one()
        Library = self.env["cloud.onedrive.library"].sudo()
        known = {lib.drive_id: lib for lib in self.onedrive_library_ids}
        chosen = self.onedrive_library_id
        for data in libraries:
            vals = {"name": data.get("name") or data["id"], "web_url": data.get("webUrl")}
            if data["id"] in known:
                known.pop(data["id"]).write(vals)
            else:
                Library.create(dict(vals, client_id=self.id, drive_id=data["id"]))
        vals = {}
        if chosen and chosen.drive_id in known:
            vals["onedrive_library_id"] = False
            chosen = Library
        if self.onedrive_site_id != site["id"]:
            vals["onedrive_site_id"] = site["id"]
        if vals:
            self.write(vals)
        if known:
            Library.browse([lib.id for lib in known.values()]).unlink()
        return chosen

    def action_onedrive_load_libraries(self):
        """Read the site's libraries again (another site, a new library)."""
        self._check_manager_rights()
        self.ensure_one()
        client = self.sudo()
        try:
            client._provider().prepare_connect(client)
        except cloud.CloudError as exc:
            if exc.code != "choose_library":
                raise UserError(client._provider().error_message(client, exc)) from exc
        return True
