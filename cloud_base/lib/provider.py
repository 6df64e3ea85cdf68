"""What a storage provider declares to the core, once (the provider registry).

A provider add-on defines one :class:`Provider` subclass and registers an instance by
extending ``cloud.client._cloud_providers()``. The core asks the registry for the selection
of providers, logos, settings and secret fields, how to build the adapter, how to explain a
failed connection, how to run the OAuth consent (auth ``"oauth"``), and the provider's
capabilities; it never looks for methods named after the provider.

Hooks receive the client record as superuser (``client`` is ``cloud.client`` with ``sudo()``):
only the core calls them, after it checked the caller's rights.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """Facts about a storage the engines and tests rely on."""

    #: how the provider hashes content: "dropbox" (block content hash), "sha1", "md5",
    #: "quickxor" (OneDrive business), "etag" (opaque version tag), or None
    hash_kind: str = None
    #: several items of the same name may live in one folder (Google Drive)
    duplicate_names: bool = False
    #: "a.txt" and "A.txt" are two different items
    case_sensitive: bool = True
    #: longest item name, counted in ``name_length_unit`` ("chars" or "bytes" of UTF-8)
    name_max_length: int = 255
    name_length_unit: str = "chars"
    #: "native" (the provider reports changes since a cursor) or "snapshot" (the adapter
    #: compares listings, e.g. WebDAV ETags)
    change_feed: str = "native"
    #: the provider can make share links for files
    share_links: bool = False
    #: the links the provider makes are the suite's to undo (R-SEC-5): it records each one it
    #: created (``cloud.shared.link``) and its adapter implements ``revoke_link``; the core
    #: revokes them on reset and when their file comes back into Odoo
    revokes_links: bool = False
    #: team / shared spaces (Dropbox team space, SharePoint libraries, shared drives)
    shared_spaces: bool = False


@dataclass(frozen=True)
class OAuthSpec:
    """How the shared OAuth flow of the core (``cloud_client_oauth``) serves a provider."""

    #: the redirect path the provider's guide tells administrators to register
    redirect_path: str
    #: the secret key under which the refresh token (or token cache) is kept
    token_secret: str
    #: send a PKCE challenge (S256); providers may also decide per client
    pkce: bool = True


class OAuthRefused(Exception):
    """The provider refused or could not finish the authorization: the message is shown to
    the administrator on the callback page."""


class Provider:
    """One storage provider. Subclass it in the provider add-on; override what applies."""

    #: selection key stored in ``cloud.client.provider``
    key = None
    #: name shown in the provider selection
    label = None
    #: URL of the logo (kanban cards, attachment badges, folder links)
    logo = "/cloud_base/static/src/img/providers/cloud.svg"
    #: "login" (credentials typed in the form) or "oauth" (the consent round trip)
    auth = "login"
    #: client fields holding this provider's settings: a change rebuilds the adapter
    settings_fields = frozenset()
    #: fields whose values are secrets kept in ``cloud.client.secret`` (computed, write-only)
    secret_fields = ()
    capabilities = Capabilities()
    oauth = None

    # -- adapter -----------------------------------------------------------------------------
    def build_adapter(self, client):
        """A connected adapter (``lib.adapter.CloudAdapter``) for the client's settings."""
        raise NotImplementedError("%s gives no adapter" % type(self).__name__)

    # -- settings and connection -------------------------------------------------------------
    def settings_saved(self, client, changed):
        """Settings of this provider were created or changed (``changed``: field names)."""

    def prepare_connect(self, client):
        """Before the core checks the connection and creates the root folder; may raise
        ``lib.adapter.CloudError`` to refuse a setting the account does not allow."""

    def account_fingerprint(self, client, facts):
        """What identifies the account ``check_connection()`` reached (``facts``): a client
        keeps its files in one account and refuses another while files are synced."""
        return facts.get("account_id") or facts.get("account")

    def error_message(self, client, error):
        """What an administrator reads for a failed connection (no secret, no server
        address: user-readable places show it)."""
        return str(error)

    # -- files -------------------------------------------------------------------------------
    def item_url(self, client, adapter, item):
        """The link stored on a synced file's attachment; None: the adapter's own. A link
        the suite created there is recorded with ``cloud.shared.link._record()`` (providers
        that declare ``capabilities.revokes_links``)."""
        return None

    def item_released(self, client, item_id):
        """A file went back into Odoo for good (reverse sync): forget what the provider keeps
        about it (the core revokes its recorded shared links itself)."""

    def reset_finishing(self, client):
        """The client's reset brought every file back; clean up before it is disconnected
        (the core revokes the recorded shared links itself)."""

    # -- OAuth (auth == "oauth") -------------------------------------------------------------
    def uses_pkce(self, client):
        """Send a PKCE challenge for this client (e.g. not when an app secret is set)."""
        return bool(self.oauth and self.oauth.pkce)

    def redirect_uri(self, client):
        """A redirect URL the administrator set on the client; None: the default one
        (``web.base.url`` + ``oauth.redirect_path``)."""
        return None

    def authorization_url(self, client, state, code_challenge, redirect_uri):
        """``(url, extra)``: the consent page to send the administrator to, and what the
        callback will need (kept single-use with the attempt)."""
        raise NotImplementedError

    def callback_state(self, params):
        """The core's signed state inside the provider's callback parameters."""
        return params.get("state") or ""

    def finish_authorization(self, client, params, pending, redirect_uri):
        """Exchange the callback's code; return ``{"token": ..., "account": ...}`` or raise
        :class:`OAuthRefused`. ``pending`` holds ``extra`` and ``code_verifier``."""
        raise NotImplementedError

    def __repr__(self):
        return "<Provider %s>" % self.key
