"""Dropbox provider of cloud.client: settings, OAuth (R-CON-1/2/3/6) and the adapter."""
import base64
import hmac
import json
import logging
import secrets
import time

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import hmac as odoo_hmac

from odoo.addons.cloud_base.lib import adapter as cloud

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
#: how long a Connect click stays valid
STATE_LIFETIME = 15 * 60
STATE_SCOPE = "cloud_dropbox.oauth_state"
CSRF_SESSION_KEY = "dropbox-auth-csrf-token"

#: client fields whose change rebuilds the adapter
DROPBOX_ADAPTER_FIELDS = {"dropbox_app_key", "dropbox_app_secret", "dropbox_team",
                          "dropbox_team_member", "dropbox_team_member_id",
                          "dropbox_use_team_root", "dropbox_link_policy"}

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


class CloudClientDropbox(models.Model):
    _inherit = "cloud.client"

    provider = fields.Selection(selection_add=[("dropbox", "Dropbox")],
                                ondelete={"dropbox": "cascade"})
    dropbox_app_key = fields.Char("App key", groups="base.group_system",
                                  help="The app key shown in the Dropbox App Console.")
    dropbox_app_secret = fields.Char(
        "App secret", compute="_compute_secret_fields", inverse="_inverse_secret_fields",
        groups="base.group_system",
        help="The app secret of the Dropbox app. Leave empty to connect with PKCE only. "
             "Once saved it is never shown again; type a new one to replace it.")
    dropbox_app_secret_set = fields.Boolean("App secret saved",
                                            compute="_compute_dropbox_status")
    dropbox_token_set = fields.Boolean("Authorized", compute="_compute_dropbox_status")
    dropbox_redirect_url = fields.Char(
        "Redirect URL", groups="base.group_system",
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
        LINK_POLICY_SELECTION, "Link policy", groups="base.group_system", help=LINK_POLICY_HELP)
    dropbox_account_kind = fields.Selection(
        [("personal", "Personal"), ("team", "Team (Business)")], "Dropbox account kind",
        readonly=True, copy=False, groups="base.group_system",
        help="Known once connected: whether the Dropbox account belongs to a team.")
    dropbox_account = fields.Char("Dropbox account", readonly=True, copy=False)

    # ------------------------------------------------------------------------------------
    # Secrets (R-CON-5)
    # ------------------------------------------------------------------------------------
    def _secret_fields(self):
        return super()._secret_fields() + ["dropbox_app_secret"]

    def _compute_dropbox_status(self):
        for client in self:
            if client.provider != "dropbox" or not client.id:
                client.dropbox_app_secret_set = client.dropbox_token_set = False
                continue
            client.dropbox_app_secret_set = bool(client._get_secret("dropbox_app_secret"))
            client.dropbox_token_set = bool(client._get_secret("dropbox_refresh_token"))

    def _adapter_fields(self):
        return super()._adapter_fields() | DROPBOX_ADAPTER_FIELDS

    def write(self, vals):
        if "dropbox_team_member" in vals and "dropbox_team_member_id" not in vals:
            new_member = (vals["dropbox_team_member"] or "").strip()
            if any((c.dropbox_team_member or "").strip() != new_member for c in self.sudo()):
                # the id found for the former e-mail is not the new member's: look it up again
                vals = dict(vals, dropbox_team_member_id=False)
        return super().write(vals)

    # ------------------------------------------------------------------------------------
    # Link policy (R-SEC-5)
    # ------------------------------------------------------------------------------------
    @api.constrains("dropbox_link_policy", "dropbox_account_kind")
    def _check_dropbox_link_policy(self):
        for client in self.sudo():
            if client.provider == "dropbox" and client.dropbox_link_policy == "team" \
                    and client.dropbox_account_kind == "personal":
                raise ValidationError(client._dropbox_team_refused_message())

    def _dropbox_team_refused_message(self):
        return _("Team-only links need a Dropbox team (Business) account, but %(client)s is "
                 "connected to a personal Dropbox account. Choose 'No shared links' (or, "
                 "deliberately, 'Public shared links').", client=self.name)

    def _connect(self):
        if self.provider != "dropbox":
            return super()._connect()
        client = self.sudo()
        adapter = self._get_adapter()
        is_team = adapter.is_team_account()
        kind = "team" if is_team else "personal"
        policy = client.dropbox_link_policy
        if policy == "team" and not is_team:
            # refused before anything is created: no half-configured client
            raise cloud.InvalidRequest(self._dropbox_team_refused_message(),
                                       code="link_policy_team_on_personal")
        vals = {}
        if client.dropbox_account_kind != kind:
            vals["dropbox_account_kind"] = kind
        if not policy:
            vals["dropbox_link_policy"] = "team" if is_team else "none"
        if vals:
            client.write(vals)
            if "dropbox_link_policy" in vals:
                # the adapter was built with the undecided policy: rebuild it
                self._drop_adapter()
        return super()._connect()

    def _item_url(self, adapter, item):
        url = super()._item_url(adapter, item)
        if self.provider == "dropbox" and url and hasattr(adapter, "pop_created_link"):
            created = adapter.pop_created_link(item.id, url)
            if created:
                self.env["cloud.dropbox.link"].sudo().create({
                    "client_id": self.id, "item_id": item.id, "url": created})
        return url

    def _dropbox_revoke_links(self, links):
        """Revoke links the suite created; a failure is logged, never blocks the caller."""
        if not links:
            return
        try:
            adapter = self._get_adapter()
        except (cloud.CloudError, UserError) as exc:
            _logger.warning("Dropbox client %s: cannot revoke %s shared links: %s",
                            self.id, len(links), exc)
            self._log("warning", _("%(count)s Dropbox shared links could not be revoked: "
                                   "%(error)s", count=len(links), error=exc))
            return
        for link in links:
            try:
                adapter.revoke_link(link.url)
            except cloud.CloudError as exc:
                _logger.warning("Dropbox client %s: could not revoke the shared link of %s: "
                                "%s", self.id, link.item_id, exc)
                self._log("warning", _("The Dropbox shared link %(url)s could not be "
                                       "revoked: %(error)s", url=link.url, error=exc),
                          path=link.item_id)
                continue
            link.unlink()

    def _task_reverse(self, task, adapter):
        attachment = task.attachment_id.sudo()
        item_id = attachment.cloud_item_id if attachment else False
        result = super()._task_reverse(task, adapter)
        if self.provider == "dropbox" and item_id:
            still_synced = self.env["ir.attachment"].sudo().search_count([
                ("cloud_client_id", "=", self.id), ("cloud_item_id", "=", item_id)])
            if not still_synced:
                self._dropbox_revoke_links(self.env["cloud.dropbox.link"].sudo().search([
                    ("client_id", "=", self.id), ("item_id", "=", item_id)]))
        return result

    def _finish_reset(self):
        if self.provider == "dropbox" and self.state in ("connected", "error"):
            # links of files that went away meanwhile (replaced versions, deleted files)
            self._dropbox_revoke_links(self.env["cloud.dropbox.link"].sudo().search([
                ("client_id", "=", self.id)]))
        return super()._finish_reset()

    # ------------------------------------------------------------------------------------
    # Adapter
    # ------------------------------------------------------------------------------------
    def _dropbox_member_id(self):
        member = (self.dropbox_team_member or "").strip()
        if member.startswith("dbmid:"):
            return member
        return self.dropbox_team_member_id or False

    def _dropbox_adapter_kwargs(self):
        options = self.options or {}
        return dict(
            app_key=self.dropbox_app_key, app_secret=self._get_secret("dropbox_app_secret"),
            team=self.dropbox_team, team_member_id=self._dropbox_member_id() or None,
            use_team_root=self.dropbox_use_team_root, base_url=self.api_base_url or None,
            # R-SEC-5: an undecided policy never means public links
            link_policy=self.dropbox_link_policy or "none",
            page_size=options.get("page_size", 1000),
            chunk_threshold=options.get("chunk_threshold"),
            chunk_size=options.get("chunk_size"),
            max_retries_on_rate_limit=options.get("max_retries_on_rate_limit", 0))

    def _build_adapter_dropbox(self):
        refresh_token = self._get_secret("dropbox_refresh_token")
        if not refresh_token:
            raise cloud.AuthExpired(_("Not authorized by Dropbox yet: press Connect."),
                                    code="no_refresh_token")
        if not self.dropbox_app_key:
            raise cloud.InvalidRequest(_("The Dropbox app key is missing."), code="no_app_key")
        if self.dropbox_team and not self._dropbox_member_id():
            self._dropbox_resolve_member(refresh_token)
        return DropboxAdapter(refresh_token=refresh_token, **self._dropbox_adapter_kwargs())

    def _dropbox_resolve_member(self, refresh_token):
        """Find the team member id of the member e-mail (team accounts)."""
        email = (self.dropbox_team_member or "").strip()
        if not email:
            raise cloud.InvalidRequest(_("Choose the team member whose Dropbox holds the files."),
                                       code="team_member_missing")
        team = dropbox.DropboxTeam(
            oauth2_refresh_token=refresh_token, app_key=self.dropbox_app_key,
            app_secret=self._get_secret("dropbox_app_secret") or None,
            session=make_session(self.api_base_url or None), max_retries_on_error=0,
            max_retries_on_rate_limit=0, timeout=60)
        try:
            infos = team.team_members_get_info_v2(
                [dropbox.team.UserSelectorArg.email(email)]).members_info
        except Exception as exc:  # noqa: BLE001
            from ..lib.dropbox_adapter import ValidationError, translate
            if isinstance(exc, ValidationError):  # refused by the SDK before any request
                raise cloud.InvalidRequest(
                    _("The team member %s is neither an e-mail address nor a team member id "
                      "(dbmid:...).", email), code="team_member_invalid", path=email) from exc
            raise translate(exc, path=email) from exc
        for info in infos:
            if info.is_member_info():
                member_id = info.get_member_info().profile.team_member_id
                self.sudo().write({"dropbox_team_member_id": member_id})
                return member_id
        raise cloud.NotFound(_("No team member with the e-mail %s", email),
                             code="team_member_not_found", path=email)

    # ------------------------------------------------------------------------------------
    # Connect / Reconnect (R-CON-1, R-CON-3)
    # ------------------------------------------------------------------------------------
    def action_connect(self):
        self._check_manager_rights()  # before the signed state or any call (R-SEC-3)
        dropbox_clients = self.filtered(lambda c: c.provider == "dropbox")
        if dropbox_clients and not self.env.context.get("dropbox_oauth_done"):
            self.ensure_one()
            if self.state == "reconnect" or not self._get_secret("dropbox_refresh_token"):
                return self._dropbox_authorize_action()
        return super().action_connect()

    def action_dropbox_authorize(self):
        """Go through Dropbox's consent page again (e.g. other account or new scopes)."""
        self._check_manager_rights()
        self.ensure_one()
        return self._dropbox_authorize_action()

    def _dropbox_redirect_uri(self):
        if self.dropbox_redirect_url:
            return self.dropbox_redirect_url
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return base.rstrip("/") + "/dropbox_token"

    def _dropbox_flow(self, session_store, app_secret, use_pkce):
        scopes = list(DROPBOX_SCOPES)
        if self.dropbox_team:
            scopes += DROPBOX_TEAM_SCOPES
        flow = dropbox.DropboxOAuth2Flow(
            self.dropbox_app_key, self._dropbox_redirect_uri(), session_store, CSRF_SESSION_KEY,
            consumer_secret=app_secret or None, use_pkce=use_pkce,
            token_access_type="offline", scope=scopes, timeout=60)
        flow.requests_session = make_session(self.api_base_url or None)
        return flow

    # -- signed state (R-CON-2) ---------------------------------------------------------------
    def _dropbox_sign(self, payload):
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":"))
                                        .encode()).decode().rstrip("=")
        signature = odoo_hmac(self.env(su=True), STATE_SCOPE, body)
        return "%s.%s" % (body, signature)

    @api.model
    def _dropbox_verify(self, signed):
        """The payload of a state this database signed, or None."""
        body, _sep, signature = (signed or "").rpartition(".")
        if not body or not signature:
            return None
        expected = odoo_hmac(self.env(su=True), STATE_SCOPE, body)
        if not hmac.compare_digest(expected, signature):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None

    def _dropbox_authorize_action(self):
        self.ensure_one()
        self.check_access("write")
        client = self.sudo()
        if dropbox is None:
            raise UserError(_("The Python package 'dropbox' is not installed."))
        if not client.dropbox_app_key:
            raise UserError(_("Enter the app key of your Dropbox app first."))
        app_secret = client._get_secret("dropbox_app_secret")
        nonce = secrets.token_urlsafe(24)
        payload = {"c": client.id, "u": self.env.uid, "n": nonce,
                   "x": int(time.time()) + STATE_LIFETIME, "d": self.env.cr.dbname}
        store = {}
        flow = client._dropbox_flow(store, app_secret, use_pkce=not app_secret)
        url = flow.start(url_state=client._dropbox_sign(payload))
        # single-use server-side record of this attempt: nonce, CSRF token, PKCE verifier;
        # a new Connect click replaces it (the older link stops working)
        client._set_secret("dropbox_oauth_pending", json.dumps({
            "nonce": nonce, "csrf": store[CSRF_SESSION_KEY], "verifier": flow.code_verifier,
            "uid": self.env.uid, "expires": payload["x"]}))
        if client.api_base_url:
            url = rewrite_url(url, client.api_base_url)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    @api.model
    def _dropbox_oauth_callback(self, params):
        """Finish the OAuth round trip. Returns ``(client, error message)``; never connects a
        client other than the one the signed state names, for the user who started it."""
        state = params.get("state") or ""
        csrf, sep, signed = state.partition("|")
        if not sep:
            return None, _("The answer from Dropbox carries no valid state.")
        payload = self._dropbox_verify(signed)
        if not payload or payload.get("d") != self.env.cr.dbname:
            return None, _("The state of this answer was not issued by this database.")
        if payload.get("u") != self.env.uid:
            return None, _("This authorization was started by another user.")
        client = self.sudo().browse(payload.get("c")).exists()
        if not client or client.provider != "dropbox":
            return None, _("The cloud client of this authorization no longer exists.")
        pending_raw = client._get_secret("dropbox_oauth_pending")
        pending = json.loads(pending_raw) if pending_raw else {}
        if not pending or not hmac.compare_digest(str(pending.get("nonce", "")),
                                                  str(payload.get("n", ""))) \
                or not hmac.compare_digest(str(pending.get("csrf", "")), csrf):
            return client, _("This authorization link was already used or replaced by a "
                             "newer one. Press Connect again.")
        # consumed now, whatever happens next (single use)
        client._set_secret("dropbox_oauth_pending", False)
        if payload.get("x", 0) < time.time():
            return client, _("This authorization link has expired. Press Connect again.")
        app_secret = client._get_secret("dropbox_app_secret")
        flow = client._dropbox_flow({CSRF_SESSION_KEY: pending["csrf"]}, app_secret,
                                    use_pkce=bool(pending.get("verifier")))
        if pending.get("verifier"):
            flow.code_verifier = pending["verifier"]
        try:
            result = flow.finish(dict(params))
        except dropbox.oauth.NotApprovedException:
            return client, _("Access to Dropbox was not granted.")
        except (dropbox.oauth.BadRequestException, dropbox.oauth.CsrfException,
                dropbox.oauth.BadStateException, dropbox.oauth.ProviderException) as exc:
            return client, _("Dropbox refused the authorization: %s", exc)
        except Exception as exc:  # noqa: BLE001 - token endpoint errors, network
            _logger.info("Dropbox token exchange failed for client %s: %s", client.id,
                         type(exc).__name__)
            return client, _("Could not obtain a token from Dropbox (%s).", type(exc).__name__)
        if not result.refresh_token:
            return client, _("Dropbox gave no refresh token (offline access was not granted).")
        client._set_secret("dropbox_refresh_token", result.refresh_token)
        client.write({"dropbox_account": result.account_id})
        try:
            client.with_context(dropbox_oauth_done=True).action_connect()
        except UserError as exc:
            return client, str(exc)
        return client, None


class CloudDropboxLink(models.Model):
    """A Dropbox shared link the suite created (R-SEC-5): revoked on reset or when its file is
    brought back into Odoo."""
    _name = "cloud.dropbox.link"
    _description = "Dropbox shared link created by the sync suite"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    item_id = fields.Char("Dropbox item id", required=True, index=True)
    url = fields.Char(required=True)
