"""The Graph emulator, driven only through the real SDKs: msal for OAuth, requests (through the
rewriting session) for Graph routes."""
import base64
import hashlib
import os
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs, quote, urlsplit

import msal
import pytest
import requests

from cloud_emulators.graph import GraphEmulator, make_session, quickxorhash

GRAPH = "https://graph.microsoft.com/v1.0"
SCOPES = ["Files.ReadWrite.All"]
REDIRECT = "https://odoo.example.com/cloud/oauth/callback"
KIB = 1024

pytestmark = pytest.mark.filterwarnings("ignore:response_mode='form_post'")


@pytest.fixture
def emu():
    emulator = GraphEmulator().start()
    yield emulator
    stop_soon(emulator)


def stop_soon(emulator):
    """Stop in the background: the server's shutdown waits for its 0.5 s poll."""
    threading.Thread(target=emulator.stop, daemon=True).start()


@pytest.fixture
def session(emu):
    return make_session(emu.base_url)


def make_app(emu, session, secret=None):
    return msal.ConfidentialClientApplication(
        emu.client_id, client_credential=secret or emu.client_secret,
        authority="https://login.microsoftonline.com/common",
        token_cache=msal.SerializableTokenCache(), http_client=session)


def login(app, session, scopes=SCOPES):
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT)
    resp = session.get(flow["auth_uri"], allow_redirects=False)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    auth_response = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return flow, auth_response


@pytest.fixture
def app(emu, session):
    return make_app(emu, session)


@pytest.fixture
def token(app, session):
    flow, auth_response = login(app, session)
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result
    return result


@pytest.fixture
def api(session, token):
    """requests helper with the bearer token: api("GET", "/me/drive", ...)."""
    def call(method, path, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", "Bearer " + token["access_token"])
        url = path if path.startswith("http") else GRAPH + path
        return session.request(method, url, headers=headers, **kwargs)
    return call


# -- QuickXorHash ----------------------------------------------------------------------------
def reference_quickxorhash(data):
    """Literal port of Microsoft's C# reference (3 x 64-bit cells, the last one 32 bits)."""
    width, shift, last_bits = 160, 11, 32
    cells = [0, 0, 0]
    vector_index, offset = 0, 0
    for i in range(min(len(data), width)):
        is_last = vector_index == len(cells) - 1
        bits = last_bits if is_last else 64
        if offset <= bits - 8:
            for j in range(i, len(data), width):
                cells[vector_index] ^= (data[j] << offset) & 0xFFFFFFFFFFFFFFFF
        else:
            index2 = 0 if is_last else vector_index + 1
            low = bits - offset
            xored = 0
            for j in range(i, len(data), width):
                xored ^= data[j]
            cells[vector_index] ^= (xored << offset) & 0xFFFFFFFFFFFFFFFF
            cells[index2] ^= xored >> low
        offset += shift
        while offset >= bits:
            vector_index = 0 if is_last else vector_index + 1
            offset -= bits
    out = bytearray(cells[0].to_bytes(8, "little") + cells[1].to_bytes(8, "little") +
                    cells[2].to_bytes(8, "little")[:4])
    for i, b in enumerate(len(data).to_bytes(8, "little")):
        out[12 + i] ^= b
    return base64.b64encode(bytes(out)).decode()


def test_quickxorhash_vectors_and_reference():
    vectors = [("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
               ("tbQ=", "taAFAAAAAAAAAAAAAgAAAAAAAAA="), ("0pZP", "0rDEEwAAAAAAAAAAAwAAAAAAAAA="),
               ("jRRDVA==", "jaDAEKgAAAAAAAAABAAAAAAAAAA="),
               ("/aNzzCFPS/A=", "/RjFHJgRgicsAR4ACAAAAAAAAAA=")]
    for raw, expected in vectors:
        assert quickxorhash(base64.b64decode(raw)) == expected
    for size in (159, 160, 161, 1000, 4099):
        data = os.urandom(size)
        assert quickxorhash(data) == reference_quickxorhash(data)


# -- OAuth through msal ----------------------------------------------------------------------
def test_auth_code_flow_and_refresh(emu, app, session):
    flow, auth_response = login(app, session)
    assert auth_response["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["token_type"] == "Bearer" and result["expires_in"] > 0
    assert result["id_token_claims"]["preferred_username"] == emu.user["userPrincipalName"]
    assert app.get_accounts()[0]["username"] == emu.user["userPrincipalName"]
    assert app.token_cache.has_state_changed
    assert emu.counters["openid_config"] == 1 and emu.counters["token"] == 1
    # cached token served silently; refresh token grant works
    silent = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0])
    assert silent["access_token"] == result["access_token"]
    refreshed = app.acquire_token_by_refresh_token(result["refresh_token"], SCOPES)
    assert refreshed["access_token"] != result["access_token"]
    me = session.get(GRAPH + "/me", headers={
        "Authorization": "Bearer " + refreshed["access_token"]}).json()
    assert me["id"] == emu.user["id"]
    # the code is single use
    again = make_app(emu, session).acquire_token_by_auth_code_flow(flow, auth_response)
    assert again["error"] == "invalid_grant" and 54005 in again["error_codes"]


def test_accounts_of_the_tenant_sign_in_to_their_own_drive(emu, session):
    """/me and /me/drive are those of the account the token was issued to."""
    other_id = emu.add_user("Other User", "other.user@contoso.onmicrosoft.com")
    emu.signing_in = other_id
    app = make_app(emu, session)
    flow, auth_response = login(app, session)
    emu.signing_in = None
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["id_token_claims"]["preferred_username"] == \
        "other.user@contoso.onmicrosoft.com"
    headers = {"Authorization": "Bearer " + result["access_token"]}
    assert session.get(GRAPH + "/me", headers=headers).json()["id"] == other_id
    drive = session.get(GRAPH + "/me/drive", headers=headers).json()
    assert drive["id"] == emu.user_drive_id(other_id) != emu.me_drive_id
    assert drive["owner"]["user"]["id"] == other_id
    # a refreshed token stays the same account's
    refreshed = app.acquire_token_by_refresh_token(result["refresh_token"], SCOPES)
    headers = {"Authorization": "Bearer " + refreshed["access_token"]}
    assert session.get(GRAPH + "/me/drive", headers=headers).json()["id"] == drive["id"]
    # the default user still reaches its own drive
    mine = emu.issue_tokens()
    me = session.get(GRAPH + "/me/drive", headers={
        "Authorization": "Bearer " + mine["access_token"]}).json()
    assert me["id"] == emu.me_drive_id


def test_pkce_checked(emu, app, session):
    flow, auth_response = login(app, session)
    flow["code_verifier"] = "x" * 43
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert result["error"] == "invalid_grant"


def test_state_mismatch_and_denied(emu, app, session):
    flow, auth_response = login(app, session)
    with pytest.raises(ValueError):
        app.acquire_token_by_auth_code_flow(flow, dict(auth_response, state="forged"))
    emu.approve = False
    flow, auth_response = login(app, session)
    assert auth_response["error"] == "access_denied"
    assert app.acquire_token_by_auth_code_flow(flow, auth_response)["error"] == "access_denied"


def test_bad_client_secret(emu, session):
    app = make_app(emu, session, secret="wrong")
    flow, auth_response = login(app, session)
    assert app.acquire_token_by_auth_code_flow(flow, auth_response)["error"] == "invalid_client"


def test_revoked_refresh_token(emu, app, token):
    emu.revoke_refresh_tokens()
    result = app.acquire_token_by_refresh_token(token["refresh_token"], SCOPES)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]
    assert result["error_description"].startswith("AADSTS50173")


def test_access_token_expiry_and_silent_refresh(emu, app, session, token):
    hdr = {"Authorization": "Bearer " + token["access_token"]}
    assert session.get(GRAPH + "/me/drive", headers=hdr).status_code == 200
    emu.expire_access_tokens()
    resp = session.get(GRAPH + "/me/drive", headers=hdr)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in resp.headers
    fresh = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0], force_refresh=True)
    assert session.get(GRAPH + "/me/drive", headers={
        "Authorization": "Bearer " + fresh["access_token"]}).status_code == 200


def test_short_lived_tokens_refresh_through_cache(session):
    emu = GraphEmulator(access_token_lifetime=60).start()
    try:
        s = make_session(emu.base_url)
        app = make_app(emu, s)
        flow, auth_response = login(app, s)
        first = app.acquire_token_by_auth_code_flow(flow, auth_response)
        assert first["expires_in"] == 60
        # msal refreshes tokens that expire within 5 minutes
        second = app.acquire_token_silent(SCOPES, account=app.get_accounts()[0])
        assert second["access_token"] != first["access_token"]
        assert emu.counters["token"] == 2
    finally:
        stop_soon(emu)


def test_missing_bearer(session):
    resp = session.get(GRAPH + "/me/drive")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"


# -- drives and sites ------------------------------------------------------------------------
def test_drives_and_sites(emu, api):
    me = api("GET", "/me/drive").json()
    assert me["id"] == emu.me_drive_id and me["driveType"] == "business"
    assert api("GET", "/drives/" + me["id"]).json()["name"] == "OneDrive"
    site = api("GET", "/sites/contoso.sharepoint.com:/sites/Team").json()
    assert site["id"] == emu.default_site_id and site["displayName"] == "Team"
    assert api("GET", "/sites/contoso.sharepoint.com:/sites/Team:/drives").status_code == 200
    libraries = api("GET", "/sites/%s/drives" % site["id"]).json()["value"]
    assert [d["name"] for d in libraries] == ["Documents", "Archive"]
    assert all(d["driveType"] == "documentLibrary" for d in libraries)
    assert api("GET", "/sites/root").json()["id"] == site["id"]
    missing = api("GET", "/sites/contoso.sharepoint.com:/sites/Nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"
    assert api("GET", "/drives/b!nope").status_code == 404
    # items work in a library too
    lib = libraries[1]["id"]
    created = api("POST", "/drives/%s/root/children" % lib,
                  json={"name": "Docs", "folder": {}})
    assert created.status_code == 201
    assert emu.tree(lib) == {"/Docs": None}


# -- items -----------------------------------------------------------------------------------
def test_folders_conflicts_and_path_addressing(emu, api):
    drive = emu.me_drive_id
    resp = api("POST", "/me/drive/root/children",
               json={"name": "Odoo", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"})
    assert resp.status_code == 201
    odoo = resp.json()
    assert odoo["folder"]["childCount"] == 0
    assert odoo["parentReference"] == {"driveId": drive, "driveType": "business",
                                       "id": emu.root_id(), "path": "/drive/root:"}
    clash = api("POST", "/me/drive/root/children",
                json={"name": "odoo", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "nameAlreadyExists"
    renamed = api("POST", "/me/drive/root/children",
                  json={"name": "Odoo", "folder": {},
                        "@microsoft.graph.conflictBehavior": "rename"}).json()
    assert renamed["name"] == "Odoo 1"
    sub = api("POST", "/drives/%s/items/%s/children" % (drive, odoo["id"]),
              json={"name": "Sales Orders", "folder": {}}).json()
    by_path = api("GET", "/drives/%s/root:/Odoo/Sales Orders" % drive).json()
    assert by_path["id"] == sub["id"]
    assert by_path["parentReference"]["path"] == "/drive/root:/Odoo"
    by_rel = api("GET", "/drives/%s/items/%s:/Sales%%20Orders:" % (drive, odoo["id"])).json()
    assert by_rel["id"] == sub["id"]
    children = api("GET", "/drives/%s/root:/Odoo:/children" % drive).json()["value"]
    assert [c["name"] for c in children] == ["Sales Orders"]
    missing = api("GET", "/drives/%s/root:/Odoo/Nope" % drive)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "itemNotFound"
    assert api("GET", "/drives/%s/items/nope" % drive).status_code == 404
    assert emu.tree() == {"/Odoo": None, "/Odoo/Sales Orders": None, "/Odoo 1": None}


def test_children_paging(emu, api):
    folder = emu.add_folder("/Many")
    for i in range(7):
        emu.add_file("/Many/f%02d.txt" % i, b"x" * i)
    names = []
    url = "/me/drive/items/%s/children?$top=3" % folder
    pages = 0
    while url:
        body = api("GET", url).json()
        names += [c["name"] for c in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(GRAPH + "/drives/")
        pages += 1
    assert pages == 3 and names == ["f%02d.txt" % i for i in range(7)]
    assert emu.counters["children"] == 3


def test_simple_upload_download_hashes(emu, api, session):
    folder = emu.add_folder("/Docs")
    data = os.urandom(5000)
    resp = api("PUT", "/me/drive/items/%s:/report.pdf:/content" % folder, data=data)
    assert resp.status_code == 201
    item = resp.json()
    assert item["size"] == 5000 and item["file"]["mimeType"] == "application/pdf"
    assert item["file"]["hashes"]["quickXorHash"] == quickxorhash(data)
    assert item["file"]["hashes"]["sha256Hash"] == hashlib.sha256(data).hexdigest().upper()
    assert item["eTag"] and item["cTag"] and item["webUrl"].startswith("https://")
    assert item["parentReference"]["id"] == folder
    assert emu.simple_upload_sizes == [5000]
    # replace keeps the id, changes eTag/cTag
    again = api("PUT", "/me/drive/items/%s:/report.pdf:/content" % folder, data=b"v2")
    assert again.status_code == 200 and again.json()["id"] == item["id"]
    assert again.json()["cTag"] != item["cTag"]
    fail = api("PUT", "/me/drive/items/%s:/report.pdf:/content"
               "?@microsoft.graph.conflictBehavior=fail" % folder, data=b"v3")
    assert fail.status_code == 409
    by_id = api("PUT", "/me/drive/items/%s/content" % item["id"], data=b"v4")
    assert by_id.status_code == 200 and emu.content(item["id"]) == b"v4"
    # download: 302 to a pre-authenticated URL
    redirect = api("GET", "/me/drive/items/%s/content" % item["id"], allow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert requests.get(location).content == b"v4"
    assert api("GET", "/me/drive/items/%s/content" % item["id"]).content == b"v4"
    ranged = requests.get(location, headers={"Range": "bytes=1-"})
    assert ranged.status_code == 206 and ranged.content == b"4"
    assert emu.counters["download"] == 2 and emu.counters["download_url"] == 3
    # if-match
    stale = api("DELETE", "/me/drive/items/" + item["id"], headers={"If-Match": item["eTag"]})
    assert stale.status_code == 412


def test_upload_session(emu, api, session):
    folder = emu.add_folder("/Big")
    data = os.urandom(2 * 320 * KIB + 1234)
    created = api("POST", "/me/drive/items/%s:/big.bin:/createUploadSession" % folder,
                  json={"item": {"@microsoft.graph.conflictBehavior": "rename"}})
    assert created.status_code == 200
    upload_url = created.json()["uploadUrl"]
    assert created.json()["nextExpectedRanges"] == ["0-"]
    total = len(data)

    def put(start, end, headers=None):
        hdrs = {"Content-Range": "bytes %d-%d/%d" % (start, end, total)}
        hdrs.update(headers or {})
        return requests.put(upload_url, data=data[start:end + 1], headers=hdrs)

    with_auth = put(0, 320 * KIB - 1, {"Authorization": "Bearer " + "x"})
    assert with_auth.status_code == 401
    bad_size = put(0, 100 * KIB - 1)
    assert bad_size.status_code == 400
    first = put(0, 320 * KIB - 1)
    assert first.status_code == 202
    assert first.json()["nextExpectedRanges"] == ["%d-" % (320 * KIB)]
    gap = put(640 * KIB, total - 1)
    assert gap.status_code == 416
    assert requests.get(upload_url).json()["nextExpectedRanges"] == ["%d-" % (320 * KIB)]
    assert put(320 * KIB, 640 * KIB - 1).status_code == 202
    final = put(640 * KIB, total - 1)
    assert final.status_code == 201
    item = final.json()
    assert item["name"] == "big.bin" and item["size"] == total
    assert item["file"]["hashes"]["quickXorHash"] == quickxorhash(data)
    assert emu.content(item["id"]) == data
    assert emu.upload_chunk_sizes == [320 * KIB, 320 * KIB, total - 640 * KIB]
    assert requests.put(upload_url, data=b"x",
                        headers={"Content-Range": "bytes 0-0/1"}).status_code == 404
    # conflictBehavior fail at session creation, rename at commit
    fail = api("POST", "/me/drive/items/%s:/big.bin:/createUploadSession" % folder,
               json={"item": {"@microsoft.graph.conflictBehavior": "fail"}})
    assert fail.status_code == 409 and fail.json()["error"]["code"] == "nameAlreadyExists"
    url2 = api("POST", "/me/drive/root:/Big/big.bin:/createUploadSession",
               json={"item": {"@microsoft.graph.conflictBehavior": "rename"}}
               ).json()["uploadUrl"]
    done = requests.put(url2, data=b"small", headers={"Content-Range": "bytes 0-4/5"})
    assert done.status_code == 201 and done.json()["name"] == "big 1.bin"
    # replace an existing file through a session: 200, same id
    url3 = api("POST", "/me/drive/items/%s/createUploadSession" % item["id"],
               json={}).json()["uploadUrl"]
    replaced = requests.put(url3, data=b"new", headers={"Content-Range": "bytes 0-2/3"})
    assert replaced.status_code == 200 and replaced.json()["id"] == item["id"]
    # cancel / expiry
    url4 = api("POST", "/me/drive/root:/Big/c.bin:/createUploadSession", json={}).json()
    assert requests.delete(url4["uploadUrl"]).status_code == 204
    url5 = api("POST", "/me/drive/root:/Big/d.bin:/createUploadSession", json={}).json()
    emu.expire_upload_sessions()
    assert requests.get(url5["uploadUrl"]).status_code == 404


def test_move_rename_delete_links(emu, api):
    a = emu.add_folder("/A")
    b = emu.add_folder("/B")
    f = emu.add_file("/A/doc.txt", b"hello")
    emu.add_file("/B/doc.txt", b"other")
    moved = api("PATCH", "/me/drive/items/" + f, json={"parentReference": {"id": b}})
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "nameAlreadyExists"
    moved = api("PATCH", "/me/drive/items/" + f,
                json={"name": "doc2.txt", "parentReference": {"id": b}})
    assert moved.status_code == 200 and moved.json()["parentReference"]["id"] == b
    renamed = api("PATCH", "/me/drive/items/" + a, json={"name": "A renamed"}).json()
    assert renamed["name"] == "A renamed"
    into_self = api("PATCH", "/me/drive/items/" + b, json={"parentReference": {"id": b}})
    assert into_self.status_code == 400
    assert api("DELETE", "/me/drive/items/" + a).status_code == 204
    assert api("GET", "/me/drive/items/" + a).status_code == 404
    assert emu.tree() == {"/B": None, "/B/doc.txt": b"other", "/B/doc2.txt": b"hello"}
    link = api("POST", "/me/drive/items/%s/createLink" % f,
               json={"type": "view", "scope": "anonymous"})
    assert link.status_code == 201
    perm = link.json()
    assert perm["link"]["type"] == "view" and perm["link"]["scope"] == "anonymous"
    assert perm["link"]["webUrl"].startswith("https://") and perm["roles"] == ["read"]
    same = api("POST", "/me/drive/items/%s/createLink" % f,
               json={"type": "view", "scope": "anonymous"})
    assert same.status_code == 200 and same.json()["link"]["webUrl"] == perm["link"]["webUrl"]
    org = api("POST", "/me/drive/items/%s/createLink" % f,
              json={"type": "view", "scope": "organization"}).json()
    assert org["link"]["scope"] == "organization"
    emu.allow_anonymous_links = False
    assert api("POST", "/me/drive/items/%s/createLink" % b,
               json={"type": "view", "scope": "anonymous"}).status_code == 403


def test_sharing_link_permissions_listed_and_deleted(emu, api):
    folder = emu.add_folder("/A")
    f = emu.add_file("/A/doc.txt", b"hello")
    link = api("POST", "/me/drive/items/%s/createLink" % f,
               json={"type": "view", "scope": "anonymous"}).json()
    shared = api("POST", "/me/drive/items/%s/createLink" % folder,
                 json={"type": "view", "scope": "organization"}).json()
    perms = api("GET", "/me/drive/items/%s/permissions" % f).json()["value"]
    by_id = {p["id"]: p for p in perms}
    assert by_id[link["id"]]["link"]["webUrl"] == link["link"]["webUrl"]
    assert "inheritedFrom" not in by_id[link["id"]]
    assert by_id[shared["id"]]["inheritedFrom"]["id"] == folder
    owner, = [p for p in perms if p["roles"] == ["owner"]]
    # neither the owner's nor an inherited permission can be deleted on the file
    assert api("DELETE", "/me/drive/items/%s/permissions/%s" % (f, owner["id"])) \
        .status_code == 403
    assert api("DELETE", "/me/drive/items/%s/permissions/%s" % (f, shared["id"])) \
        .status_code == 400
    one = api("GET", "/me/drive/items/%s/permissions/%s" % (f, link["id"]))
    assert one.status_code == 200 and one.json()["roles"] == ["read"]
    assert api("DELETE", "/me/drive/items/%s/permissions/%s" % (f, link["id"])) \
        .status_code == 204
    assert emu.counters["delete_permission"] == 3
    gone = api("GET", "/me/drive/items/%s/permissions/%s" % (f, link["id"]))
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "itemNotFound"
    ids = {p["id"] for p in api("GET", "/me/drive/items/%s/permissions" % f).json()["value"]}
    assert link["id"] not in ids and shared["id"] in ids
    # a new link is another permission
    again = api("POST", "/me/drive/items/%s/createLink" % f,
                json={"type": "view", "scope": "anonymous"})
    assert again.status_code == 201 and again.json()["id"] != link["id"]


def test_full_path_limit_of_400_characters(emu, api):
    """The decoded server-relative path counts: the drive's own path, then the item's."""
    drive_path = "/personal/test_user_contoso_onmicrosoft_com/Documents"
    assert emu.item(emu.root_id())["webUrl"].endswith(drive_path)
    room = 400 - len(drive_path)  # for "/A/B..." below the drive's root
    a = emu.add_folder("/" + "a" * 200)
    fits = "b" * (room - 201 - 1)  # "/" + 200 + "/" + name == room
    ok = api("POST", "/me/drive/items/%s/children" % a, json={"name": fits, "folder": {}})
    assert ok.status_code == 201
    too_long = api("POST", "/me/drive/items/%s/children" % a,
                   json={"name": fits + "x", "folder": {}})
    assert too_long.status_code == 400 and "400 characters" in too_long.json()["error"]["message"]
    put = api("PUT", "/me/drive/items/%s:/%s:/content" % (a, quote("é" * (room - 202))),
              data=b"x")  # decoded characters count, not their percent-encoding
    assert put.status_code == 201
    put = api("PUT", "/me/drive/items/%s:/%s:/content" % (a, fits + "xy"), data=b"x")
    assert put.status_code == 400
    session = api("POST", "/me/drive/items/%s:/%s:/createUploadSession" % (a, fits + "xy"),
                  json={"item": {"name": fits + "xy"}})
    assert session.status_code == 400
    # a rename or a move that would make a path below too long is refused
    longer = api("PATCH", "/me/drive/items/" + a, json={"name": "a" * 201})
    assert longer.status_code == 400
    c = emu.add_folder("/c")
    moved = api("PATCH", "/me/drive/items/" + a, json={"parentReference": {"id": c}})
    assert moved.status_code == 400
    assert api("PATCH", "/me/drive/items/" + a, json={"name": "short"}).status_code == 200


# -- delta -----------------------------------------------------------------------------------
def follow_delta(api, url):
    items, pages = [], 0
    while True:
        body = api("GET", url).json()
        pages += 1
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


def test_delta_semantics(emu, api):
    docs = emu.add_folder("/Docs")
    sub = emu.add_folder("/Docs/Sub")
    deep = emu.add_file("/Docs/Sub/deep.txt", b"d")
    top_file = emu.add_file("/Docs/top.txt", b"t")
    gone = emu.add_file("/gone.txt", b"g")
    items, delta_link, pages = follow_delta(api, "/me/drive/root/delta?$top=2")
    assert pages == 3
    assert delta_link.startswith(GRAPH + "/drives/")
    ids = [i["id"] for i in items]
    assert ids[0] == emu.root_id() and "root" in items[0]
    assert set(ids) == {emu.root_id(), docs, sub, deep, top_file, gone}
    assert ids.index(docs) < ids.index(sub) < ids.index(deep)  # parents first
    assert all("path" not in i["parentReference"] for i in items)
    # nothing changed
    items, delta_link, _ = follow_delta(api, delta_link)
    assert items == []
    # rename a file, move the folder Sub, delete a file
    api("PATCH", "/me/drive/items/" + top_file, json={"name": "top2.txt"})
    archive = api("POST", "/me/drive/root/children",
                  json={"name": "Archive", "folder": {}}).json()["id"]
    api("PATCH", "/me/drive/items/" + sub, json={"parentReference": {"id": archive}})
    api("DELETE", "/me/drive/items/" + gone)
    api("PUT", "/me/drive/items/%s/content" % top_file, data=b"t2")
    items, delta_link, _ = follow_delta(api, delta_link)
    by_id = {i["id"]: i for i in items}
    assert deep not in by_id  # descendants of a moved folder are not emitted
    assert by_id[sub]["parentReference"]["id"] == archive
    assert by_id[top_file]["name"] == "top2.txt" and by_id[top_file]["size"] == 2
    assert by_id[gone]["deleted"] == {}
    assert len(items) == 4  # latest state, once per item
    # a deleted folder: the folder carries the deleted facet
    api("DELETE", "/me/drive/items/" + archive)
    items, delta_link, _ = follow_delta(api, delta_link)
    assert [i["id"] for i in items] == [archive] and "deleted" in items[0]
    # token=latest, then resync
    latest = api("GET", "/me/drive/root/delta?token=latest").json()
    assert latest["value"] == [] and "@odata.deltaLink" in latest
    emu.expire_delta_tokens()
    gone_resp = api("GET", delta_link)
    assert gone_resp.status_code == 410
    assert gone_resp.json()["error"]["code"] == "resyncRequired"


def test_folder_delta_on_personal_drive_only(emu, api):
    odoo = emu.add_folder("/Odoo")
    inside = emu.add_file("/Odoo/a.txt", b"a")
    emu.add_file("/elsewhere.txt", b"e")
    refused = api("GET", "/me/drive/items/%s/delta" % odoo)  # a business drive
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalidRequest"
    emu._drives[emu.me_drive_id].drive_type = "personal"
    items, delta_link, _ = follow_delta(api, "/me/drive/items/%s/delta" % odoo)
    assert [i["id"] for i in items] == [odoo, inside]  # the folder, then what it holds
    assert "/items/%s/delta?token=" % odoo in delta_link
    # changes elsewhere are not reported; a move out of the folder comes as deleted
    other = emu.add_folder("/Other")
    emu.add_file("/Other/b.txt", b"b")
    moved_in = emu.add_file("/Other/in.txt", b"i")
    api("PATCH", "/me/drive/items/" + moved_in, json={"parentReference": {"id": odoo}})
    api("PATCH", "/me/drive/items/" + inside, json={"parentReference": {"id": other}})
    items, delta_link, _ = follow_delta(api, delta_link)
    by_id = {i["id"]: i for i in items}
    assert set(by_id) == {moved_in, inside}
    assert "deleted" in by_id[inside] and "deleted" not in by_id[moved_in]
    # moved back: alive again
    api("PATCH", "/me/drive/items/" + inside, json={"parentReference": {"id": odoo}})
    items, delta_link, _ = follow_delta(api, delta_link)
    assert [(i["id"], "deleted" in i) for i in items] == [(inside, False)]
    # the token of one folder is not another's, nor the drive's
    wrong = api("GET", delta_link.replace(odoo, other))
    assert wrong.status_code == 400
    latest = api("GET", "/me/drive/items/%s/delta?token=latest" % odoo).json()
    assert latest["value"] == [] and "/items/%s/delta" % odoo in latest["@odata.deltaLink"]


# -- faults ----------------------------------------------------------------------------------
def test_throttling_and_errors(emu, api):
    emu.throttle("children", retry_after=7)
    resp = api("GET", "/me/drive/root/children")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert resp.json()["error"]["code"] == "activityLimitReached"
    assert api("GET", "/me/drive/root/children").status_code == 200
    emu.throttle("delta", status=503, retry_after=None)
    resp = api("GET", "/me/drive/root/delta")
    assert resp.status_code == 503 and "Retry-After" not in resp.headers
    emu.quota_exceeded("content")
    resp = api("PUT", "/me/drive/root:/q.txt:/content", data=b"abc")
    assert resp.status_code == 507 and resp.json()["error"]["code"] == "quotaLimitReached"
    # a real quota too
    emu.set_quota(10)
    resp = api("PUT", "/me/drive/root:/q.txt:/content", data=b"x" * 11)
    assert resp.status_code == 507
    assert api("GET", "/me/drive").json()["quota"]["remaining"] == 10


def test_token_fault_surfaces_in_msal(emu, app, session):
    flow, auth_response = login(app, session)
    emu.throttle("token", retry_after=1, status=503)
    with pytest.raises(msal.exceptions.MsalServiceError):
        app.acquire_token_by_auth_code_flow(flow, auth_response)


def test_drop_after_apply(emu, api):
    emu.drop_after_apply("create_folder")
    with pytest.raises(requests.ConnectionError):
        api("POST", "/me/drive/root/children", json={"name": "Ghost", "folder": {}})
    assert emu.tree() == {"/Ghost": None}  # applied although the client saw no answer
    assert emu.requests[-1][1:] == ("create_folder", "/graph/v1.0/me/drive/root/children", None)


def test_cli_starts():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    proc = subprocess.Popen([sys.executable, "-m", "cloud_emulators.graph", "--port", "0"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert "graph emulator on http://127.0.0.1:" in line
        base = line.split()[3]
        deadline = time.time() + 5
        resp = requests.get(base + "/login/common/v2.0/.well-known/openid-configuration",
                            timeout=deadline - time.time())
        assert resp.json()["token_endpoint"].startswith("https://login.microsoftonline.com/")
    finally:
        proc.terminate()
        proc.wait(5)
