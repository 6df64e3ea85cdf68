"""HTTP plumbing of cloud_base/lib/http.py: host rewriting, timeouts, Retry-After."""
import datetime
import email.utils

import pytest
import requests
from requests.adapters import BaseAdapter

from odoo.addons.cloud_base.lib.errors import Transient
from odoo.addons.cloud_base.lib.http import (
    ProviderSession, parse_retry_after, retry_after_of, rewrite_url, transport_error,
)

HOSTS = {"api.example.com": "/api", "content.example.com": "/content"}


class Recorder(BaseAdapter):
    """A transport that answers 200 and remembers what it was asked."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, timeout=None, **kwargs):
        self.sent.append((request.url, timeout))
        response = requests.Response()
        response.status_code = 200
        response.url = request.url
        response._content = b"ok"
        response.request = request
        return response

    def close(self):
        pass


def _recording(session):
    recorder = Recorder()
    session.mount("http://", recorder)
    session.mount("https://", recorder)
    return recorder


def test_rewrite_url():
    base = "http://127.0.0.1:9000/"
    assert rewrite_url("https://api.example.com/2/files/x?a=1", base, HOSTS) == \
        "http://127.0.0.1:9000/api/2/files/x?a=1"
    assert rewrite_url("https://API.example.com/2", base, HOSTS) == "http://127.0.0.1:9000/api/2"
    # other hosts, plain http, or no emulator: unchanged
    assert rewrite_url("https://elsewhere.com/2", base, HOSTS) == "https://elsewhere.com/2"
    assert rewrite_url("http://api.example.com/2", base, HOSTS) == "http://api.example.com/2"
    assert rewrite_url("https://api.example.com/2", None, HOSTS) == "https://api.example.com/2"


def test_provider_session_redirects_known_hosts_and_ignores_proxies():
    session = ProviderSession(base_url="http://127.0.0.1:9000", host_prefixes=HOSTS)
    recorder = _recording(session)
    session.post("https://content.example.com/2/files/download", data=b"x")
    session.get("https://other.example.org/page")
    assert [url for url, _ in recorder.sent] == [
        "http://127.0.0.1:9000/content/2/files/download", "https://other.example.org/page"]
    assert session.trust_env is False
    assert ProviderSession(timeout=5).trust_env is True  # production keeps the proxies


def test_provider_session_timeout_applies_unless_given():
    session = ProviderSession(timeout=7)
    recorder = _recording(session)
    session.get("https://a.example.com/")
    session.get("https://a.example.com/", timeout=2)
    session.request("GET", "https://a.example.com/", None, None, None, None, None, None, 3)
    assert [timeout for _, timeout in recorder.sent] == [7, 2, 3]
    untimed = ProviderSession()
    recorder = _recording(untimed)
    untimed.get("https://a.example.com/")
    assert recorder.sent[0][1] is None  # the SDK passes its own


def test_parse_retry_after():
    now = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(30) == 30.0
    later = email.utils.format_datetime(now + datetime.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now=now) == 90.0
    earlier = email.utils.format_datetime(now - datetime.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, now=now) == 0.0
    for junk in (None, "", "soon", "Mon, 99 Foo 2026"):
        assert parse_retry_after(junk) is None
    assert retry_after_of({"Retry-After": "5"}) == 5.0
    assert retry_after_of(requests.structures.CaseInsensitiveDict({"retry-after": "4"})) == 4.0
    assert retry_after_of(None) is None and retry_after_of({}) is None


@pytest.mark.parametrize("exc,code", [
    (requests.ReadTimeout("slow"), "timeout"),
    (requests.ConnectTimeout("slow"), "timeout"),
    (requests.ConnectionError("refused"), "connection_error"),
    (requests.exceptions.InvalidURL("bad"), "request"),
])
def test_transport_error(exc, code):
    error = transport_error(exc, "/a", connection="Cannot reach the server")
    assert isinstance(error, Transient) and error.code == code and error.path == "/a"
    if code == "connection_error":
        assert error.message == "Cannot reach the server"
    if code == "request":
        assert error.message == "Request failed: InvalidURL"


def test_transport_error_ignores_other_exceptions():
    assert transport_error(ValueError("x")) is None


def test_transport_error_wording_of_an_adapter():
    lost = "Connection to Dropbox lost: %s"
    for exc in (requests.ConnectionError("x"), requests.exceptions.ChunkedEncodingError("y")):
        error = transport_error(exc, "/p", timeout="Dropbox did not answer in time",
                                connection=lost, other=lost, other_code="connection_error")
        assert error.code == "connection_error"
        assert error.message == "Connection to Dropbox lost: %s" % type(exc).__name__
    # a connect timeout is a timeout (it is a ConnectionError too)
    assert transport_error(requests.ConnectTimeout("z")).code == "timeout"
