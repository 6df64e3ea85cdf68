"""Dropbox as a provider of cloud.client: its settings and its declaration to the registry
(adapter, OAuth consent, link policy R-SEC-5, team members R-CON-6)."""
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.provider import Capabilities, OAuthRefused, OAuthSpec, Provider

from ..lib.dropbox_adapter import DropboxAdapter, make_session, rewrite_url

_logger = logging.getLogger(__name__)

try:
    import dropbox
except ImportError:  # pragma: no cover
    dropbox = None

#: scopes asked for (Dropbox's own names); the app in the App Console must have them ticked
DROPBOX_SCOPES = [
    "account_info.read",
    "files.metadata.read", "files.metadata.write",
    "files.content.read", "files.content.write",
    "sharing.read", "sharing.write",
]
#: extra scopes of a team-linked app: read the member list, act as a member
DROPBOX_TEAM_SCOPES = ["members.read", "team_data.member"]
CSRF_SESSION_KEY = "dropbox-auth-csrf-token"

#: R-SEC-5: the link policy of a Dropbox client
LINK_POLICY_SELECTION = [
    ("none", "No shared links"),
    ("team", "Team-only shared links"),
    ("public", "Public shared links"),
]
LINK_POLICY_HELP = (
    "Which link Odoo stores for each synced file. "
    "No shared links: a plain https://www.dropbox.com/home/<path> link, nothing is shared "
    "(a Dropbox login with access to the file is needed). "
    "Team-only shared links: a Dropbox shared link only members of your Dropbox team can open "
    "(team/Business accounts only). "
    "Public shared links: anyone who gets the link can open the file. "
    "Empty: decided when connecting (team-only for team accounts, none otherwise). "
    "Links created by Odoo are revoked when the client is reset or a file is brought back "
    "into Odoo.")


class DropboxProvider(Provider):
    key = "dropbox"
    label = "Dropbox"
    logo = "/cloud_dropbox/static/src/img/dropbox.svg"
    auth = "oauth"
    settings_fields = frozenset({
        "dropbox_app_key", "dropbox_app_secret", "dropbox_team", "dropbox_team_member",
        "dropbox_team_member_id", "dropbox_use_team_root", "dropbox_link_policy"})
    secret_fields = ("dropbox_app_secret",)
    capabilities = Capabilities(hash_kind="dropbox", case_sensitive=False,
                                name_max_length=255, name_length_unit="chars",
                                change_feed="native", share_links=True, revokes_links=True,
                                shared_spaces=True)
    oauth = OAuthSpec(redirect_path="/dropbox_token", token_secret="dropbox_refresh_token")

    # -- adapter -----------------------------------------------------------------------------
    def build_adapter(self, client):
        refresh_token = client._oauth_token()
        if not refresh_token:
            raise cloud.AuthExpired(
                client.env._("Not authorized by Dropbox yet: press Connect."),
                code="no_refresh_token")
        if not client.dropbox_app_key:
            raise cloud.InvalidRequest(client.env._("The Dropbox app key is missing."),
                                       code="no_app_key")
        if client.dropbox_team and not self._member_id(client):
            self._resolve_member(client, refresh_token)
        options = client.options or {}
        return DropboxAdapter(
            refresh_token=refresh_token, app_key=client.dropbox_app_key,
            app_secret=client._get_secret("dropbox_app_secret"), team=client.dropbox_team,
            team_member_id=self._member_id(client) or None,
            use_team_root=client.dropbox_use_team_root, base_url=client.api_base_url or None,
            # R-SEC-5: an undecided policy never means public links
            link_policy=client.dropbox_link_policy or "none",
            page_size=options.get("page_size", 1000),
            chunk_threshold=options.get("chunk_threshold"),
            chunk_size=options.get("chunk_size"),
            max_retries_on_rate_limit=options.get("max_retries_on_rate_limit", 0))

    @staticmethod
    def _member_id(client):
        member = (client.dropbox_team_member or "").strip()
        if member.startswith("dbmid:"):
            return member
        return client.dropbox_team_member_id or False

    def _resolve_member(self, client, refresh_token):
        """Find the team member id of the member e-mail (team accounts)."""
        email = (client.dropbox_team_member or "").strip()
        if not email:
            raise cloud.InvalidRequest(
                client.env._("Choose the team member whose Dropbox holds the files."),
                code="team_member_missing")
        team = dropbox.DropboxTeam(
            oauth2_refresh_token=refresh_token, app_key=client.dropbox_app_key,
            app_secret=client._get_secret("dropbox_app_secret") or None,
            session=make_session(client.api_base_url or None), max_retries_on_error=0,
            max_retries_on_rate_limit=0, timeout=60)
        try:
            infos = team.team_members_get_info_v2(
                [dropbox.team.UserSelectorArg.email(email)]).members_info
        except Exception as exc:  # noqa: BLE001
            from ..lib.dropbox_adapter import ValidationError as SdkValidationError, translate
            if isinstance(exc, SdkValidationError):  # refused by the SDK before any request
                raise cloud.InvalidRequest(
                    client.env._("The team member %s is neither an e-mail address nor a team "
                                 "member id (dbmid:...).", email),
                    code="team_member_invalid", path=email) from exc
            raise translate(exc, path=email) from exc
        for info in infos:
            if info.is_member_info():
                member_id = info.get_member_info().profile.team_member_id
                client.write({"dropbox_team_member_id": member_id})
                return member_id
        raise cloud.NotFound(client.env._("No team member with the e-mail %s", email),
                             code="team_member_not_found", path=email)

    # -- connection: the account decides the link policy (R-SEC-5) -----------------------------
    def prepare_connect(self, client):
        is_team = client._get_adapter().is_team_account()
        kind = "team" if is_team else "personal"
        policy = client.dropbox_link_policy
        if policy == "team" and not is_team:
            # refused before anything is created: no half-configured client
            raise cloud.InvalidRequest(client._dropbox_team_refused_message(),
                                       code="link_policy_team_on_personal")
        vals = {}
        if client.dropbox_account_kind != kind:
            vals["dropbox_account_kind"] = kind
        if not policy:
            vals["dropbox_link_policy"] = "team" if is_team else "none"
        if vals:
            client.write(vals)  # a new policy rebuilds the adapter (a settings field)

    # -- links the suite created (R-SEC-5; the core revokes them) ----------------------------
    def item_url(self, client, adapter, item):
        try:
            url = adapter.web_url(item)
        except cloud.CloudError:
            return False
        created = adapter.pop_created_link(item.id, url) if url else None
        if created:
            client.env["cloud.shared.link"]._record(client, item.id, created)
        return url

    # -- OAuth consent (the round trip itself is the core's) ---------------------------------
    def uses_pkce(self, client):
        return not client._get_secret("dropbox_app_secret")  # PKCE only without a secret

    def redirect_uri(self, client):
        return client.dropbox_redirect_url or None

    def _flow(self, client, session_store, redirect_uri, pkce):
        if dropbox is None:
            raise UserError(client.env._("The Python package 'dropbox' is not installed."))
        scopes = list(DROPBOX_SCOPES)
        if client.dropbox_team:
            scopes += DROPBOX_TEAM_SCOPES
        flow = dropbox.DropboxOAuth2Flow(
            client.dropbox_app_key, redirect_uri, session_store, CSRF_SESSION_KEY,
            consumer_secret=client._get_secret("dropbox_app_secret") or None,
            use_pkce=pkce, token_access_type="offline", scope=scopes,
            timeout=60)
        flow.requests_session = make_session(client.api_base_url or None)
        return flow

    def authorization_url(self, client, state, code_challenge, redirect_uri):
        if not client.dropbox_app_key:
            raise UserError(client.env._("Enter the app key of your Dropbox app first."))
        store = {}
        flow = self._flow(client, store, redirect_uri, pkce=bool(code_challenge))
        flow.code_challenge = code_challenge  # the core's PKCE pair, not the SDK's
        url = flow.start(url_state=state)
        if client.api_base_url:
            url = rewrite_url(url, client.api_base_url)
        return url, {"csrf": store[CSRF_SESSION_KEY]}

    def callback_state(self, params):
        # Dropbox answers "<its CSRF token>|<our state>"
        _csrf, sep, signed = (params.get("state") or "").partition("|")
        return signed if sep else ""

    def finish_authorization(self, client, params, pending, redirect_uri):
        verifier = pending.get("code_verifier")
        flow = self._flow(client, {CSRF_SESSION_KEY: pending["csrf"]}, redirect_uri,
                          pkce=bool(verifier))
        flow.code_verifier = verifier
        try:
            result = flow.finish(params)
        except dropbox.oauth.NotApprovedException as exc:
            raise OAuthRefused(client.env._("Access to Dropbox was not granted.")) from exc
        except (dropbox.oauth.BadRequestException, dropbox.oauth.CsrfException,
                dropbox.oauth.BadStateException, dropbox.oauth.ProviderException) as exc:
            raise OAuthRefused(client.env._("Dropbox refused the authorization: %s", exc)) from exc
        return {"token": result.refresh_token,
                "values": {"dropbox_account": result.account_id}}


DROPBOX = DropboxProvider()


class CloudClientDropbox(models.Model):
    _inherit = "cloud.client"

    dropbox_app_key = fields.Char("App key", groups="base.group_system",
                                  help="The app key shown in the Dropbox App Console.")
    dropbox_app_secret = fields.Char(
        "App secret", compute="_compute_secret_fields", inverse="_inverse_secret_fields",
        groups="base.group_system",
        help="The app secret of the Dropbox app. Leave empty to connect with PKCE only. "
             "Once saved it is never shown again; type a new one to replace it.")
    dropbox_app_secret_set = fields.Boolean("App secret saved",
                                            compute="_compute_dropbox_status")
    dropbox_token_set = fields.Boolean("Dropbox authorized", compute="_compute_dropbox_status")
    dropbox_redirect_url = fields.Char(
        "Dropbox redirect URL", groups="base.group_system",
        help="Must be listed under 'Redirect URIs' in the Dropbox App Console. Empty: "
             "<web.base.url>/dropbox_token.")
    dropbox_team = fields.Boolean(
        "Team account", groups="base.group_system",
        help="The app is linked to a whole Dropbox team (Business): the files live in the "
             "space of one team member, chosen below.")
    dropbox_team_member = fields.Char(
        "Team member", groups="base.group_system",
        help="E-mail (or team member id, dbmid:...) of the member whose Dropbox holds the "
             "files.")
    dropbox_team_member_id = fields.Char("Team member id", readonly=True, copy=False,
                                         groups="base.group_system")
    dropbox_use_team_root = fields.Boolean(
        "Use the team space", groups="base.group_system",
        help="Put the root folder in the team space instead of the member's own folder.")
    dropbox_link_policy = fields.Selection(
        LINK_POLICY_SELECTION, "Dropbox link policy", groups="base.group_system",
        help=LINK_POLICY_HELP)
    dropbox_account_kind = fields.Selection(
        [("personal", "Personal"), ("team", "Team (Business)")], "Dropbox account kind",
        readonly=True, copy=False, groups="base.group_system",
        help="Known once connected: whether the Dropbox account belongs to a team.")
    dropbox_account = fields.Char("Dropbox account", readonly=True, copy=False)

    @api.model
    def _cloud_providers(self):
        return super()._cloud_providers() + [DROPBOX]

    def _compute_dropbox_status(self):
        for client in self:
            if client.provider != "dropbox" or not client.id:
                client.dropbox_app_secret_set = client.dropbox_token_set = False
                continue
            client.dropbox_app_secret_set = bool(client._get_secret("dropbox_app_secret"))
            client.dropbox_token_set = bool(client._get_secret("dropbox_refresh_token"))

    def write(self, vals):
        if "dropbox_team_member" in vals and "dropbox_team_member_id" not in vals:
            new_member = (vals["dropbox_team_member"] or "").strip()
            if any((c.dropbox_team_member or "").strip() != new_member for c in self.sudo()):
                # the id found for the former e-mail is not the new member's: look it up again
                vals = dict(vals, dropbox_team_member_id=False)
        return super().write(vals)

    @api.constrains("dropbox_link_policy", "dropbox_account_kind")
    def _check_dropbox_link_policy(self):
        for client in self.sudo():
            if client.provider == "dropbox" and client.dropbox_link_policy == "team" \
                    and client.dropbox_account_kind == "personal":
                raise ValidationError(client._dropbox_team_refused_message())

    def _dropbox_team_refused_message(self):
        return self.env._(
            "Team-only links need a Dropbox team (Business) account, but %(client)s is "
            "connected to a personal Dropbox account. Choose 'No shared links' (or, "
            "deliberately, 'Public shared links').", client=self.name)
