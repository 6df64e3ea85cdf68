"""Google Drive as a provider of cloud.client: its settings and its declaration to the registry
(adapter, OAuth consent with offline access and PKCE, My Drive or a shared drive, link
policy R-SEC-5)."""
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib import http as cloud_http
from odoo.addons.cloud_base.lib.provider import Capabilities, OAuthRefused, OAuthSpec, Provider

from ..lib.gdrive_adapter import (
    HOST_PREFIXES, SCOPE, SESSION_LIFETIME, TOKEN_URI, GoogleDriveAdapter,
)

_logger = logging.getLogger(__name__)

try:
    from google_auth_oauthlib.flow import Flow
except ImportError:  # pragma: no cover - the manifest declares the dependency
    Flow = None

AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_SECRET = "gdrive_refresh_token"

LINK_POLICY_SELECTION = [
    ("none", "No sharing"),
    ("domain", "Anyone in the Google Workspace domain"),
    ("anyone", "Anyone with the link"),
]
#: the domains of personal (consumer) Google accounts: no Workspace domain to share with
CONSUMER_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class GoogleDriveProvider(Provider):
    key = "gdrive"
    label = "Google Drive"
    logo = "/cloud_gdrive/static/src/img/gdrive.svg"
    auth = "oauth"
    settings_fields = frozenset({
        "gdrive_client_id", "gdrive_client_secret", "gdrive_use_shared_drive",
        "gdrive_shared_drive_id", "gdrive_link_policy", "gdrive_link_domain"})
    secret_fields = ("gdrive_client_secret",)
    capabilities = Capabilities(hash_kind="md5", duplicate_names=True, case_sensitive=True,
                                name_max_length=255, name_length_unit="chars",
                                change_feed="native", share_links=True, revokes_links=True,
                                shared_spaces=True)
    oauth = OAuthSpec(redirect_path="/google_drive_token", token_secret=TOKEN_SECRET,
                      pkce=True)

    # -- adapter -----------------------------------------------------------------------------
    def build_adapter(self, client):
        refresh_token = client._oauth_token()
        if not refresh_token:
            raise cloud.AuthExpired(client.env._("Not authorized by Google yet: press Connect."),
                                    code="no_refresh_token")
        if not client.gdrive_client_id:
            raise cloud.InvalidRequest(client.env._(
                "The OAuth client id of the Google Cloud project is missing."),
                code="no_client_id")
        if client.gdrive_use_shared_drive and not client.gdrive_shared_drive_id:
            raise cloud.InvalidRequest(client.env._(
                "Choose the shared drive (press 'Fetch shared drives' once connected), or "
                "untick 'Shared drive' to use My Drive."), code="shared_drive_missing")
        options = client.options or {}
        policy = client.gdrive_link_policy or "none"
        return GoogleDriveAdapter(
            refresh_token=refresh_token, client_id=client.gdrive_client_id,
            client_secret=client._get_secret("gdrive_client_secret") or None,
            drive_id=client.gdrive_shared_drive_id if client.gdrive_use_shared_drive else None,
            base_url=client.api_base_url or None, link_policy=policy,
            # empty: the connected account's own domain
            link_domain=client.gdrive_link_domain
            or (client.gdrive_account or "").rpartition("@")[2] or None,
            page_size=options.get("page_size", 1000),
            chunk_threshold=options.get("chunk_threshold"),
            chunk_size=options.get("chunk_size"),
            rate_limit_retries=options.get("rate_limit_retries", 3),
            chunk_retries=options.get("chunk_retries", 3),
            session_store=client._upload_session_store(SESSION_LIFETIME))

    def account_fingerprint(self, client, facts):
        """The Google account and the drive: another shared drive is another storage."""
        account = facts.get("account_id") or facts.get("account")
        if not account:
            return None
        return "%s/%s" % (account, facts.get("drive_id") or "my-drive")

    # -- connection --------------------------------------------------------------------------
    def prepare_connect(self, client):
        """The account is known before anything is made in Drive: the domain link policy
        is refused on a personal account (or for another domain), and the shared drive
        typed by name is looked up."""
        self._check_account(client)
        self._resolve_shared_drive(client)

    def _check_account(self, client):
        try:
            adapter = client._get_adapter()
        except cloud.InvalidRequest:  # e.g. the shared drive is still to be looked up
            adapter = client._gdrive_plain_adapter()
        facts = adapter.check_connection()
        email = (facts.get("account") or "").strip()
        vals = {}
        if email and client.gdrive_account != email:
            vals["gdrive_account"] = email
        if client.gdrive_link_policy == "domain":
            own = email.rpartition("@")[2].lower()
            domain = (client.gdrive_link_domain or "").strip().lower() or own
            problem = client._gdrive_link_domain_problem(email, domain)
            if problem:
                raise cloud.InvalidRequest(problem, code="link_policy_domain")
            if client.gdrive_link_domain != domain:
                vals["gdrive_link_domain"] = domain
        if vals:
            client.write(vals)

    def _resolve_shared_drive(self, client):
        """A shared drive typed by name (or not chosen yet) is looked up among the account's
        shared drives; a wrong name is refused with the names that exist."""
        if not client.gdrive_use_shared_drive or client.gdrive_shared_drive_id:
            return
        drives = client._gdrive_fetch_drives()
        wanted = (client.gdrive_shared_drive_name or "").strip()
        names = ", ".join(sorted(d.get("name") or d["id"] for d in drives)) or "-"
        if wanted:
            matches = [d for d in drives if d.get("name") == wanted]
            if len(matches) == 1:
                client.write({"gdrive_shared_drive_id": matches[0]["id"]})
                return
            raise cloud.InvalidRequest(client.env._(
                "No single shared drive is named '%(name)s' for this Google account. Its "
                "shared drives: %(names)s. Type the name exactly, or press 'Fetch shared "
                "drives' and choose it in the list.", name=wanted, names=names),
                code="shared_drive_not_found", path=wanted)
        raise cloud.InvalidRequest(client.env._(
            "Choose the shared drive (this account's shared drives: %s): press 'Fetch shared "
            "drives' and pick it in the list, or type its name.", names),
            code="shared_drive_missing")

    def error_message(self, client, error):
        return str(error)

    # -- links (R-SEC-5; the core revokes those the suite created) ---------------------------
    def item_url(self, client, adapter, item):
        """Under the domain/anyone policies the file is shared first (a permission the
        suite records, to remove it later); folders are never shared."""
        if (client.gdrive_link_policy or "none") == "none" or item.is_folder:
            return None  # the adapter's own: the item's page in Drive
        try:
            url, created = adapter.share(item.id)
        except cloud.CloudError as exc:
            _logger.warning("Google Drive client %s: no shared link for %s: %s", client.id,
                            item.id, exc)
            client._log("warning", client.env._(
                "The file %(item)s could not be shared per the link policy: %(error)s",
                item=item.name, error=exc), path=item.id)
            return None
        if created:
            client.env["cloud.shared.link"]._record(client, item.id, created)
        return url

    # -- OAuth consent (the round trip itself is the core's) ---------------------------------
    def _flow(self, client, redirect_uri, code_verifier=None):
        if Flow is None:
            raise UserError(client.env._("The Python package 'google-auth-oauthlib' is not "
                                         "installed."))
        config = {"web": {"client_id": client.gdrive_client_id,
                          "client_secret": client._get_secret("gdrive_client_secret") or "",
                          "auth_uri": AUTH_URI, "token_uri": TOKEN_URI,
                          "redirect_uris": [redirect_uri]}}
        flow = Flow.from_client_config(config, scopes=[SCOPE], redirect_uri=redirect_uri,
                                       code_verifier=code_verifier,
                                       autogenerate_code_verifier=False)
        if client.api_base_url:
            # oauthlib checks the production (https) URL; only the prepared request goes
            # to the emulator
            session = flow.oauth2session
            original = session.send
            base_url = client.api_base_url

            def send(prepared, **kwargs):
                prepared.url = cloud_http.rewrite_url(prepared.url, base_url, HOST_PREFIXES)
                return original(prepared, **kwargs)

            session.send = send
        return flow

    def authorization_url(self, client, state, code_challenge, redirect_uri):
        if not client.gdrive_client_id:
            raise UserError(client.env._("Enter the OAuth client id and secret of your Google "
                                         "Cloud project first."))
        flow = self._flow(client, redirect_uri)
        extra = {}
        if code_challenge:
            extra = {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        # offline + consent: Google gives a refresh token, also to an account that had
        # consented before
        url, _state = flow.authorization_url(access_type="offline", prompt="consent",
                                             include_granted_scopes="true", state=state,
                                             **extra)
        if client.api_base_url:
            url = cloud_http.rewrite_url(url, client.api_base_url, HOST_PREFIXES)
        return url, {}

    def finish_authorization(self, client, params, pending, redirect_uri):
        if params.get("error"):
            if params["error"] == "access_denied":
                raise OAuthRefused(client.env._("Access to Google Drive was not granted."))
            raise OAuthRefused(client.env._("Google refused the authorization: %s",
                                            params["error"]))
        if not params.get("code"):
            raise OAuthRefused(client.env._("Google's answer carries no authorization code."))
        flow = self._flow(client, redirect_uri, code_verifier=pending.get("code_verifier"))
        try:
            token = flow.fetch_token(code=params["code"])
        except Exception as exc:  # noqa: BLE001 - oauthlib's errors, network
            description = getattr(exc, "description", None) or type(exc).__name__
            raise OAuthRefused(client.env._("Google refused the authorization code: %s",
                                 description)) from exc
        scope = token.get("scope") or ""
        granted = set(scope.split() if isinstance(scope, str) else scope)
        if granted and SCOPE not in granted:
            raise OAuthRefused(client.env._(
                "Google granted only %(scopes)s: the full Drive scope (%(needed)s) is needed. "
                "Press Connect again and tick every permission.",
                scopes=", ".join(sorted(granted)), needed=SCOPE))
        if not token.get("refresh_token"):
            raise OAuthRefused(client.env._(
                "Google sent no refresh token, so Odoo could not keep syncing unattended. "
                "Remove this app's access at https://myaccount.google.com/permissions, then "
                "press Connect again."))
        return {"token": token["refresh_token"]}


GDRIVE = GoogleDriveProvider()


class CloudClientGoogleDrive(models.Model):
    _inherit = "cloud.client"

    gdrive_client_id = fields.Char(
        "OAuth client id", groups="base.group_system",
        help="Google Cloud console > APIs & Services > Credentials: the client id of the "
             "OAuth client of type 'Web application'.")
    gdrive_client_secret = fields.Char(
        "OAuth client secret", compute="_compute_secret_fields",
        inverse="_inverse_secret_fields", groups="base.group_system",
        help="The client secret of that OAuth client. Once saved it is never shown again; "
             "type a new one to replace it.")
    gdrive_client_secret_set = fields.Boolean("Google client secret saved",
                                              compute="_compute_gdrive_status")
    gdrive_token_set = fields.Boolean("Google Drive authorized", compute="_compute_gdrive_status")
    gdrive_use_shared_drive = fields.Boolean(
        "Shared drive", groups="base.group_system",
        help="Keep the files in a shared drive of your Google Workspace instead of the "
             "connected account's My Drive.")
    gdrive_shared_drive_choice_id = fields.Many2one(
        "cloud.gdrive.drive", "Shared drive to use", groups="base.group_system",
        domain="[('client_id', '=', id)]",
        help="The shared drives the connected account is a member of (press 'Fetch shared "
             "drives' to refresh the list).")
    gdrive_shared_drive_name = fields.Char(
        "Shared drive name", groups="base.group_system",
        help="The shared drive's name, exactly as Drive shows it (or choose it in the list).")
    gdrive_shared_drive_id = fields.Char("Shared drive id", readonly=True, copy=False,
                                         groups="base.group_system")
    gdrive_link_policy = fields.Selection(
        LINK_POLICY_SELECTION, "Sharing of synced files", default="none",
        groups="base.group_system",
        help="No sharing: each attachment links to the file in Drive; opening it needs a "
             "Google account with access. Domain: the file is made readable by everyone in "
             "the Google Workspace domain of the connected account (not possible with a "
             "personal Google account). Anyone: readable by anyone who gets the link. "
             "Folders are never shared. Sharing Odoo added is removed when the client is "
             "reset or a file comes back into Odoo; sharing people added stays.")
    gdrive_link_domain = fields.Char(
        "Workspace domain", groups="base.group_system",
        help="The connected account's own Google Workspace domain, e.g. example.com (domain "
             "sharing only; empty: the domain of the connected account).")
    gdrive_account = fields.Char("Google account", readonly=True, copy=False,
                                 groups="base.group_system",
                                 help="The e-mail of the Google account Odoo is connected to.")

    @api.model
    def _cloud_providers(self):
        return super()._cloud_providers() + [GDRIVE]

    @api.constrains("gdrive_link_policy", "gdrive_link_domain", "gdrive_account")
    def _check_gdrive_link_policy(self):
        for client in self.sudo():
            if client.provider != "gdrive" or client.gdrive_link_policy != "domain" \
                    or not client.gdrive_account:
                continue
            problem = client._gdrive_link_domain_problem(
                client.gdrive_account, (client.gdrive_link_domain or "").strip().lower())
            if problem:
                raise ValidationError(problem)

    def _gdrive_link_domain_problem(self, email, domain):
        """Why Drive would refuse domain sharing for the account ``email`` (None: fine)."""
        own = (email or "").rpartition("@")[2].lower()
        if own in CONSUMER_DOMAINS:
            return self.env._(
                "Sharing with a domain needs a Google Workspace account, but %(client)s is "
                "connected to the personal Google account %(account)s. Choose 'No sharing' "
                "(or, deliberately, 'Anyone with the link').", client=self.name,
                account=email)
        if domain and own and domain != own:
            return self.env._(
                "Google Drive shares with the connected account's own Workspace domain "
                "(%(own)s) only, not with %(domain)s.", own=own, domain=domain)
        return None

    def _gdrive_plain_adapter(self):
        """An adapter of the client's authorization that shares nothing (for what is read
        before the client's own adapter can be built)."""
        client = self.sudo()
        refresh_token = client._oauth_token()
        if not refresh_token:
            raise cloud.AuthExpired(self.env._("Not authorized by Google yet: press Connect."),
                                    code="no_refresh_token")
        return GoogleDriveAdapter(
            refresh_token=refresh_token, client_id=client.gdrive_client_id,
            client_secret=client._get_secret("gdrive_client_secret") or None,
            base_url=client.api_base_url or None, rate_limit_retries=1)

    def _compute_gdrive_status(self):
        for client in self:
            if client.provider != "gdrive" or not client.id:
                client.gdrive_client_secret_set = client.gdrive_token_set = False
                continue
            client.gdrive_client_secret_set = bool(client._get_secret("gdrive_client_secret"))
            client.gdrive_token_set = bool(client._get_secret(TOKEN_SECRET))

    def write(self, vals):
        if "gdrive_shared_drive_choice_id" in vals:
            choice = self.env["cloud.gdrive.drive"].sudo().browse(
                vals["gdrive_shared_drive_choice_id"]).exists()
            vals = dict(vals, gdrive_shared_drive_id=choice.drive_id or False,
                        gdrive_shared_drive_name=choice.name or False)
        elif "gdrive_shared_drive_name" in vals and "gdrive_shared_drive_id" not in vals:
            new_name = (vals["gdrive_shared_drive_name"] or "").strip()
            if any((c.gdrive_shared_drive_name or "").strip() != new_name
                   for c in self.sudo()):
                vals = dict(vals, gdrive_shared_drive_id=False)  # look the new name up
        if vals.get("gdrive_use_shared_drive") is False:
            vals = dict(vals, gdrive_shared_drive_id=False)
        return super().write(vals)

    def _gdrive_fetch_drives(self):
        """Refresh the list of shared drives the connected account is a member of."""
        self.ensure_one()
        client = self.sudo()
        if not client._oauth_token():
            raise cloud.AuthExpired(self.env._("Connect the client first: the list of shared "
                                               "drives is read with its authorization."),
                                    code="no_refresh_token")
        drives = client._gdrive_plain_adapter().list_shared_drives()
        Drive = self.env["cloud.gdrive.drive"].sudo()
        known = {d.drive_id: d for d in Drive.search([("client_id", "=", client.id)])}
        for drive in drives:
            if drive["id"] in known:
                if known[drive["id"]].name != drive.get("name"):
                    known.pop(drive["id"]).name = drive.get("name")
                else:
                    known.pop(drive["id"])
            else:
                Drive.create({"client_id": client.id, "drive_id": drive["id"],
                              "name": drive.get("name") or drive["id"]})
        for stale in known.values():
            if stale != client.gdrive_shared_drive_choice_id:
                stale.unlink()
        return drives

    def action_gdrive_fetch_drives(self):
        self._check_manager_rights()
        for client in self:
            try:
                client._gdrive_fetch_drives()
            except cloud.CloudError as exc:
                raise UserError(self.env._("Could not list the shared drives: %s", exc)) \
                    from exc
        return True
