"""HTTP plumbing shared by the adapters: one ``requests`` session, timeouts, Retry-After, and
the redirection of a provider's production hosts to a loopback emulator.

Production URLs stay in the SDKs and in the adapters; for tests and the demo, a client's "API
base URL" makes :class:`ProviderSession` send each known host to ``<base_url>/<prefix>``
(``https://api.dropboxapi.com/2/x`` -> ``<base_url>/api/2/x``). Only ``https`` URLs of the hosts
named in the map are rewritten; anything else goes where it was going.
"""
from __future__ import annotations

import contextlib
import datetime
import email.utils
from urllib.parse import urlsplit

import requests

from .errors import Transient


def rewrite_url(url, base_url, host_prefixes):
    """``https://<known host>/path?query`` -> ``<base_url><prefix>/path?query``; any other URL
    (another host, not https, no ``base_url``) unchanged. ``host_prefixes`` maps lower-case
    host names to path prefixes (``{"api.dropboxapi.com": "/api"}``)."""
    if not base_url:
        return url
    parts = urlsplit(url)
    prefix = host_prefixes.get((parts.hostname or "").lower())
    if parts.scheme != "https" or prefix is None:
        return url
    return base_url.rstrip("/") + prefix + parts.path + ("?" + parts.query if parts.query else "")


class ProviderSession(requests.Session):
    """A ``requests.Session`` that never waits forever and can talk to an emulator.

    :param timeout: default ``timeout`` of every request that names none (None: the caller, e.g.
        the SDK, always passes its own)
    :param base_url: with ``host_prefixes``, the emulator the provider's hosts are sent to;
        such a session ignores proxy settings of the environment (the emulator is local)
    :param host_prefixes: ``{host: path prefix}`` of the hosts to redirect (see
        :func:`rewrite_url`)
    """

    def __init__(self, timeout=None, base_url=None, host_prefixes=None):
        super().__init__()
        self.timeout = timeout
        self.base_url = base_url.rstrip("/") if base_url else None
        self.host_prefixes = dict(host_prefixes or {})
        if self.base_url and self.host_prefixes:
            self.trust_env = False

    def rewrite(self, url):
        return rewrite_url(url, self.base_url, self.host_prefixes)

    def request(self, method, url, *args, **kwargs):
        if self.timeout is not None and len(args) < 7:  # args[6] would be ``timeout``
            kwargs.setdefault("timeout", self.timeout)
        return super().request(method, self.rewrite(url), *args, **kwargs)


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header value: a number of seconds, or an HTTP
    date (0 once it has passed); None when absent or unreadable. ``now``: an aware datetime,
    for tests."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    with contextlib.suppress(ValueError):  # not seconds: an HTTP date, read below
        return max(0.0, float(value))
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (parsed - now).total_seconds())


def retry_after_of(headers):
    """:func:`parse_retry_after` of the ``Retry-After`` header of ``headers`` (a mapping,
    case-insensitive for ``requests``' headers; None or empty allowed)."""
    return parse_retry_after((headers or {}).get("Retry-After"))


def transport_error(exc, path=None, timeout="The server did not answer in time",
                    connection="Connection to the server failed or was lost",
                    other="Request failed: %s", other_code="request"):
    """The :class:`Transient` for a ``requests`` transport failure (timeout, connection lost or
    refused, any other ``RequestException``), with the adapter's own wording; None for an
    exception that is not one. Codes: ``timeout``, ``connection_error``, ``other_code``; a
    message holding ``%s`` gets the exception's class name."""
    def text(message):
        return message % exc.__class__.__name__ if "%s" in message else message

    if isinstance(exc, requests.Timeout):
        return Transient(text(timeout), code="timeout", path=path)
    if isinstance(exc, requests.ConnectionError):
        return Transient(text(connection), code="connection_error", path=path)
    if isinstance(exc, requests.RequestException):
        return Transient(text(other), code=other_code, path=path)
    return None
