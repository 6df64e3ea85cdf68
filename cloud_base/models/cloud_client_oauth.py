"""The OAuth consent round trip, shared by every provider whose auth is "oauth" (R-CON-1/2/3).

Connect sends the administrator to the provider's consent page with a ``state`` this
database signed, bound to the client, the user and the database, valid for a few minutes and
single-use (a server-side record of the attempt holds its nonce and the PKCE verifier; a new
click replaces it). The provider answers on one of the redirect URLs of
``controllers/oauth.py``; the callback checks the state, lets the provider exchange the code,
keeps the token in the secrets model and connects the client. A token the provider refuses
later puts the client in *Reconnect needed* (``_mark_reconnect_needed``), queue kept.
"""
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools.misc import hmac as odoo_hmac

from ..lib import adapter as cloud
from ..lib.provider import OAuthRefused

_logger = logging.getLogger(__name__)

#: how long a Connect click stays valid
STATE_LIFETIME = 15 * 60
STATE_SCOPE = "cloud_base.oauth_state"
PENDING_SECRET = "oauth_pending"


def pkce_pair():
    """``(verifier, S256 challenge)`` of RFC 7636."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


class CloudClientOAuth(models.Model):
    _inherit = "cloud.client"

    # -- tokens --------------------------------------------------------------------------------
    def _oauth_token(self):
        """The stored refresh token (or token cache) of an OAuth client, or False."""
        self.ensure_one()
        spec = self._provider().oauth
        return self._get_secret(spec.token_secret) if spec else False

    def _oauth_save_token(self, token):
        """Keep a token the provider rotated or refreshed (e.g. a serialized token cache)."""
        self.ensure_one()
        self._set_secret(self._provider().oauth.token_secret, token)

    def _oauth_consent_needed(self):
        self.ensure_one()
        provider = self._provider_registry().get(self.provider)
        if not provider or provider.auth != "oauth" or self.env.context.get("cloud_oauth_done"):
            return False
        return self.state == "reconnect" or not self.sudo()._oauth_token()

    def _oauth_redirect_uri(self, provider):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return provider.redirect_uri(self.sudo()) or (base.rstrip("/")
                                                      + provider.oauth.redirect_path)

    # -- signed state (R-CON-2) --------------------------------------------------------------
    def _oauth_sign(self, payload):
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":"))
                                        .encode()).decode().rstrip("=")
        return "%s.%s" % (body, odoo_hmac(self.env(su=True), STATE_SCOPE, body))

    @api.model
    def _oauth_verify(self, signed):
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

    # -- the round trip --------------------------------------------------------------------------
    def action_oauth_authorize(self):
        """Go through the provider's consent page again (other account, new permissions)."""
        self._check_manager_rights()
        self.ensure_one()
        return self._oauth_authorize_action()

    def _oauth_authorize_action(self):
        self.ensure_one()
        self._check_manager_rights()
        client = self.sudo()
        provider = client._provider()
        if provider.auth != "oauth":
            raise UserError(self.env._("%s does not use an authorization page.", provider.label))
        nonce = secrets.token_urlsafe(24)
        payload = {"c": client.id, "u": self.env.uid, "n": nonce,
                   "x": int(time.time()) + STATE_LIFETIME, "d": self.env.cr.dbname}
        verifier, challenge = pkce_pair() if provider.uses_pkce(client) else (None, None)
        url, extra = provider.authorization_url(client, client._oauth_sign(payload), challenge,
                                                client._oauth_redirect_uri(provider))
        # the single-use server-side record of this attempt; a new click replaces it (the
        # older link stops working)
        client._set_secret(PENDING_SECRET, json.dumps({
            "nonce": nonce, "verifier": verifier, "extra": extra or {}, "uid": self.env.uid,
            "expires": payload["x"]}))
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    @api.model
    def _oauth_providers_at(self, path=None):
        """OAuth providers answering at ``path`` (all OAuth providers when None)."""
        return [p for p in self._cloud_providers() if p.auth == "oauth" and p.oauth
                and (path is None or p.oauth.redirect_path == path)]

    @api.model
    def _oauth_callback(self, params, path=None):
        """Finish the round trip. Returns ``(client, error message)``; never connects a client
        other than the one the signed state names, for the user who started it."""
        providers = self._oauth_providers_at(path)
        label = providers[0].label if len(providers) == 1 else self.env._("the provider")
        payload = provider = None
        for candidate in providers:
            signed = candidate.callback_state(params)
            if signed:
                payload, provider = self._oauth_verify(signed), candidate
                if payload:
                    break
        if provider is None:
            return None, self.env._("The answer from %s carries no valid state.", label)
        if not payload or payload.get("d") != self.env.cr.dbname:
            return None, self.env._("The state of this answer was not issued by this database.")
        if payload.get("u") != self.env.uid:
            return None, self.env._("This authorization was started by another user.")
        client = self.sudo().browse(payload.get("c")).exists()
        if not client or client.provider != provider.key:
            return None, self.env._("The cloud client of this authorization no longer exists.")
        pending_raw = client._get_secret(PENDING_SECRET)
        pending = json.loads(pending_raw) if pending_raw else {}
        if not pending or not hmac.compare_digest(str(pending.get("nonce", "")),
                                                  str(payload.get("n", ""))):
            return client, self.env._("This authorization link was already used or replaced by a "
                             "newer one. Press Connect again.")
        client._set_secret(PENDING_SECRET, False)  # consumed now, whatever happens next
        if payload.get("x", 0) < time.time():
            return client, self.env._("This authorization link has expired. Press Connect again.")
        try:
            result = provider.finish_authorization(
                client, dict(params), {"code_verifier": pending.get("verifier"),
                                       **(pending.get("extra") or {})},
                client._oauth_redirect_uri(provider))
        except OAuthRefused as exc:
            return client, str(exc)
        except Exception as exc:  # noqa: BLE001 - token endpoint errors, network
            _logger.info("%s token exchange failed for client %s: %s", provider.label,
                         client.id, type(exc).__name__)
            return client, self.env._("Could not obtain a token from %(provider)s (%(error)s).",
                             provider=provider.label, error=type(exc).__name__)
        if not result.get("token"):
            return client, self.env._("%s gave no refresh token (offline access was not granted).",
                             provider.label)
        previous_token = client._oauth_token()
        previous_values = {name: client[name] for name in result.get("values") or {}}
        client._set_secret(provider.oauth.token_secret, result["token"])
        if result.get("values"):
            client.write(result["values"])
        try:
            client.with_context(cloud_oauth_done=True).action_connect()
        except UserError as exc:
            cause = exc.__cause__
            if isinstance(cause, cloud.CloudError) and cause.code == "account_changed":
                # another account than the one holding the synced files: keep the former
                # token, so that nothing syncs against the wrong account
                client._set_secret(provider.oauth.token_secret, previous_token)
                client.write(previous_values)
            return client, str(exc)
        return client, None
