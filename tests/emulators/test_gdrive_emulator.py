"""The Google Drive emulator, driven only through the real SDKs: google-api-python-client over
google-auth-httplib2, google-auth credentials, google-auth-oauthlib's Flow."""
import hashlib
import io
import os
import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import google.auth.exceptions
import google_auth_httplib2
import httplib2
import pytest
import requests
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload, MediaIoBaseUpload

from cloud_emulators.gdrive import FOLDER, GOOGLE_DOC, DriveEmulator, make_http, mount_rewrites

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

SCOPES = ["https://www.googleapis.com/auth/drive"]
REDIRECT = "https://odoo.example.com/cloud/oauth/callback"
TOKEN_URI = "https://oauth2.googleapis.com/token"
KIB = 1024


def stop_soon(emulator):
    """Stop in the background: the server's shutdown waits for its 0.5 s poll."""
    threading.Thread(target=emulator.stop, daemon=True).start()


@pytest.fixture
def emu():
    emulator = DriveEmulator().start()
    yield emulator
    stop_soon(emulator)


def make_service(emu, creds):
    http = google_auth_httplib2.AuthorizedHttp(creds, http=make_http(emu.base_url))
    return build("drive", "v3", http=http, static_discovery=True, cache_discovery=False)


@pytest.fixture
def creds(emu):
    tokens = emu.issue_tokens()
    return Credentials(tokens["access_token"], refresh_token=tokens["refresh_token"],
                       token_uri=TOKEN_URI, client_id=emu.client_id,
                       client_secret=emu.client_secret, scopes=SCOPES)


@pytest.fixture
def drive(emu, creds):
    return make_service(emu, creds)


def reason_of(excinfo):
    return excinfo.value.error_details[0]["reason"]


def upload(drive, name, data, parents=None, resumable=False, chunksize=256 * KIB,
           mimetype="application/octet-stream", **kwargs):
    body = {"name": name}
    if parents:
        body["parents"] = parents
    media = MediaIoBaseUpload(io.BytesIO(data), mimetype, resumable=resumable,
                              chunksize=chunksize)
    request = drive.files().create(body=body, media_body=media,
                                   fields="id,name,size,md5Checksum,parents", **kwargs)
    if not resumable:
        return request.execute()
    response = None
    while response is None:
        _, response = request.next_chunk()
    return response


def mkdir(drive, name, parent=None, **kwargs):
    body = {"name": name, "mimeType": FOLDER}
    if parent:
        body["parents"] = [parent]
    return drive.files().create(body=body, fields="id", **kwargs).execute()["id"]


# -- OAuth -----------------------------------------------------------------------------------
def authorize(flow):
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    session = flow.oauth2session
    resp = session.get(url, allow_redirects=False)
    assert resp.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}
    assert params["state"] == state
    return params


def test_flow_with_emulator_urls(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    flow = Flow.from_client_config(emu.client_config(REDIRECT), SCOPES, redirect_uri=REDIRECT)
    params = authorize(flow)
    assert flow.code_verifier  # PKCE on by default
    token = flow.fetch_token(code=params["code"])
    assert token["refresh_token"] and token["token_type"] == "Bearer"
    creds = flow.credentials
    service = make_service(emu, creds)
    assert service.files().get(fileId="root").execute()["id"] == emu.root_id
    # the refresh goes to the emulator's token_uri of the client config
    emu.expire_access_tokens()
    assert service.files().get(fileId="root").execute()["name"] == "My Drive"
    assert emu.counters["token"] == 2


def test_flow_with_production_urls_and_pkce(emu):
    config = {"web": {"client_id": emu.client_id, "client_secret": emu.client_secret,
                      "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                      "token_uri": TOKEN_URI, "redirect_uris": [REDIRECT]}}
    flow = Flow.from_client_config(config, SCOPES, redirect_uri=REDIRECT)
    mount_rewrites(flow.oauth2session, emu.base_url)
    params = authorize(flow)
    with pytest.raises(InvalidGrantError, match="Invalid code verifier"):
        flow.fetch_token(code=params["code"], code_verifier="x" * 64)
    params = authorize(flow)
    flow.fetch_token(code=params["code"])
    assert flow.credentials.token.startswith("ya29.")
    emu.approve = False
    url, _ = flow.authorization_url()
    location = flow.oauth2session.get(url, allow_redirects=False).headers["Location"]
    assert "error=access_denied" in location


def test_refresh_and_revoked_refresh_token(emu, creds, drive):
    emu.expire_access_tokens()
    assert drive.files().get(fileId="root").execute()["id"] == emu.root_id
    assert emu.counters["token"] == 1
    emu.revoke_refresh_tokens()
    emu.expire_access_tokens()
    with pytest.raises(google.auth.exceptions.RefreshError) as excinfo:
        drive.files().get(fileId="root").execute()
    assert "invalid_grant" in str(excinfo.value)


def test_unauthenticated_error_shape(emu):
    service = build("drive", "v3", http=make_http(emu.base_url), static_discovery=True,
                    cache_discovery=False)
    with pytest.raises(HttpError) as excinfo:
        service.files().list().execute()
    assert excinfo.value.resp.status == 401 and reason_of(excinfo) == "required"


# -- files -----------------------------------------------------------------------------------
def test_multipart_body_ending_in_carriage_return(emu, drive):
    # regression: a body whose last byte is \r lost it when the part was parsed
    for data in (b"abc\r", b"\r", b"x\r\n", b"\n\r"):
        f = upload(drive, "cr.bin", data)
        assert emu.content(f["id"]) == data and f["size"] == str(len(data))


def test_folders_multipart_and_fields(emu, drive):
    created = drive.files().create(body={"name": "Odoo", "mimeType": FOLDER}).execute()
    assert set(created) == {"kind", "id", "name", "mimeType"}  # default fields
    folder = created["id"]
    data = os.urandom(3000) + b"\n--boundary-like\r\n\n" + os.urandom(100)
    f = upload(drive, "invoice.pdf", data, [folder], mimetype="application/pdf")
    assert f["size"] == str(len(data)) and f["parents"] == [folder]
    assert f["md5Checksum"] == hashlib.md5(data).hexdigest()
    assert emu.content(f["id"]) == data
    got = drive.files().get(fileId=f["id"], fields="id,name,mimeType,size,modifiedTime,"
                            "webViewLink,parents,md5Checksum,trashed").execute()
    assert got["mimeType"] == "application/pdf" and got["trashed"] is False
    assert got["webViewLink"] == "https://drive.google.com/file/d/%s/view?usp=drivesdk" % f["id"]
    assert got["modifiedTime"].endswith("Z")
    full = drive.files().get(fileId=folder, fields="*").execute()
    assert full["webViewLink"].endswith("/folders/" + folder) and "size" not in full
    # duplicate names are allowed
    mkdir(drive, "Odoo")
    assert len(emu.find("Odoo")) == 2
    with pytest.raises(HttpError) as excinfo:
        drive.files().get(fileId="nope").execute()
    assert excinfo.value.resp.status == 404 and reason_of(excinfo) == "notFound"


def test_resumable_upload_and_chunked_download(emu, drive):
    folder = mkdir(drive, "Big")
    data = os.urandom(3 * 256 * KIB + 777)
    f = upload(drive, "big.bin", data, [folder], resumable=True)
    assert f["size"] == str(len(data)) and emu.content(f["id"]) == data
    assert emu.upload_chunk_sizes == [256 * KIB] * 3 + [777]
    assert emu.counters["files.upload"] == 1 and emu.counters["upload_chunk"] == 4
    buf = io.BytesIO()
    downloader = MediaIoBaseDownload(buf, drive.files().get_media(fileId=f["id"]),
                                     chunksize=300 * KIB)
    done, rounds = False, 0
    while not done:
        _, done = downloader.next_chunk()
        rounds += 1
    assert buf.getvalue() == data and rounds == 3
    # chunks must be multiples of 256 KiB (except the last)
    with pytest.raises(HttpError) as excinfo:
        upload(drive, "bad.bin", data, [folder], resumable=True, chunksize=100 * KIB)
    assert excinfo.value.resp.status == 400
    # update content through a resumable session
    new = os.urandom(256 * KIB + 5)
    request = drive.files().update(fileId=f["id"], media_body=MediaIoBaseUpload(
        io.BytesIO(new), "application/octet-stream", resumable=True, chunksize=256 * KIB),
        fields="id,size")
    response = None
    while response is None:
        _, response = request.next_chunk()
    assert response == {"id": f["id"], "size": str(len(new))}
    assert emu.content(f["id"]) == new
    # empty file
    empty = upload(drive, "empty.txt", b"", [folder], resumable=True)
    assert empty["size"] == "0"


def test_resumable_session_status_and_expiry(emu, drive):
    """A session tells how far it got (``bytes */total``: 308 and ``Range``); once past its
    lifetime (about a week) it is unknown: 404, the upload starts again."""
    data = os.urandom(2 * 256 * KIB + 10)
    request = drive.files().create(body={"name": "big.bin"}, media_body=MediaIoBaseUpload(
        io.BytesIO(data), "application/octet-stream", resumable=True, chunksize=256 * KIB),
        fields="id")
    _, response = request.next_chunk()
    assert response is None and request.resumable_uri
    status = {"Content-Range": "bytes */%d" % len(data), "Content-Length": "0"}
    resp, _ = drive._http.request(request.resumable_uri, "PUT", body=b"", headers=status)
    assert resp.status == 308 and resp["range"] == "bytes=0-%d" % (256 * KIB - 1)
    emu.expire_upload_sessions()
    resp, _ = drive._http.request(request.resumable_uri, "PUT", body=b"", headers=status)
    assert resp.status == 404


def test_google_doc_export(emu, drive):
    doc = emu.add_google_doc("Notes", "hello doc")
    with pytest.raises(HttpError) as excinfo:
        drive.files().get_media(fileId=doc).execute()
    assert excinfo.value.resp.status == 403 and reason_of(excinfo) == "fileNotDownloadable"
    assert drive.files().export(fileId=doc, mimeType="text/plain").execute() == b"hello doc"
    assert drive.files().export(fileId=doc, mimeType="application/pdf").execute()
    with pytest.raises(HttpError) as excinfo:
        drive.files().export(fileId=doc, mimeType="image/png").execute()
    assert excinfo.value.resp.status == 400
    meta = drive.files().get(fileId=doc, fields="mimeType,webViewLink,size").execute()
    assert meta == {"mimeType": GOOGLE_DOC,
                    "webViewLink": "https://docs.google.com/document/d/%s/edit?usp=drivesdk"
                    % doc}
    plain = emu.add_file("a.txt", b"x")
    with pytest.raises(HttpError) as excinfo:
        drive.files().export(fileId=plain, mimeType="text/plain").execute()
    assert reason_of(excinfo) == "fileNotExportable"


def test_list_q_paging_and_fields(emu, drive):
    folder = mkdir(drive, "Docs")
    names = ["a.txt", "it's.txt", "back\\slash.txt", "c.txt", "d.txt"]
    for name in names:
        upload(drive, name, name.encode(), [folder], mimetype="text/plain")
    sub = mkdir(drive, "Sub", folder)
    trashed = upload(drive, "old.txt", b"old", [folder])
    drive.files().update(fileId=trashed["id"], body={"trashed": True}).execute()
    upload(drive, "elsewhere.txt", b"e")

    def lst(q, **kwargs):
        out, token, pages = [], None, 0
        while True:
            resp = drive.files().list(q=q, pageToken=token, **kwargs).execute()
            out += resp["files"]
            pages += 1
            token = resp.get("nextPageToken")
            if not token:
                return out, pages

    base = "'%s' in parents and trashed = false" % folder
    files, pages = lst(base, pageSize=2, fields="nextPageToken, files(id, name, mimeType, "
                       "parents, md5Checksum, size, modifiedTime, webViewLink)")
    assert pages == 3 and len(files) == 6
    assert {f["name"] for f in files} == set(names) | {"Sub"}
    assert all(f["parents"] == [folder] for f in files)
    files, _ = lst(base)
    assert set(files[0]) == {"kind", "id", "name", "mimeType"}  # default fields
    with_trash, _ = lst("'%s' in parents" % folder)
    assert len(with_trash) == 7  # trashed files are listed unless excluded
    escaped = lambda n: n.replace("\\", "\\\\").replace("'", "\\'")  # noqa: E731
    for name in ("it's.txt", "back\\slash.txt"):
        files, _ = lst(base + " and name = '%s'" % escaped(name))
        assert [f["name"] for f in files] == [name]
    folders, _ = lst(base + " and mimeType = '%s'" % FOLDER)
    assert [f["id"] for f in folders] == [sub]
    not_folders, _ = lst(base + " and mimeType != '%s'" % FOLDER)
    assert len(not_folders) == 5
    roots, _ = lst("'root' in parents and trashed = false")
    assert {f["name"] for f in roots} == {"Docs", "elsewhere.txt"}
    either, _ = lst("(name = 'a.txt' or name contains 'slash') and not trashed = true")
    assert len(either) == 2
    ordered = drive.files().list(q=base, orderBy="folder,name desc").execute()["files"]
    assert ordered[0]["name"] == "Sub" and ordered[1]["name"] == "it's.txt"
    with pytest.raises(HttpError) as excinfo:
        drive.files().list(q="name = 'unterminated").execute()
    assert excinfo.value.resp.status == 400 and reason_of(excinfo) == "invalid"
    with pytest.raises(HttpError) as excinfo:
        drive.files().list(q=base, pageToken="garbage").execute()
    assert reason_of(excinfo) == "invalid"


def test_update_move_trash_delete(emu, drive):
    a = mkdir(drive, "A")
    b = mkdir(drive, "B")
    f = upload(drive, "doc.txt", b"hello", [a])["id"]
    moved = drive.files().update(fileId=f, addParents=b, removeParents=a, body={"name": "d2"},
                                 fields="id,name,parents").execute()
    assert moved == {"id": f, "name": "d2", "parents": [b]}
    with pytest.raises(HttpError) as excinfo:
        drive.files().update(fileId=b, addParents=b, removeParents=emu.root_id).execute()
    assert excinfo.value.resp.status == 400
    drive.files().update(fileId=a, body={"trashed": True}).execute()
    assert drive.files().get(fileId=a, fields="trashed").execute() == {"trashed": True}
    drive.files().update(fileId=a, body={"trashed": False}).execute()
    assert drive.files().delete(fileId=b).execute() == ""
    for gone in (b, f):
        with pytest.raises(HttpError) as excinfo:
            drive.files().get(fileId=gone).execute()
        assert reason_of(excinfo) == "notFound"
    assert emu.tree() == {"/A": None}


def test_shared_drives(emu, drive):
    team = emu.add_shared_drive("Team")
    emu.add_shared_drive("Other")
    drives = drive.drives().list().execute()["drives"]
    assert [d["name"] for d in drives] == ["Team", "Other"]
    assert drive.drives().get(driveId=team).execute()["name"] == "Team"
    with pytest.raises(HttpError) as excinfo:  # supportsAllDrives is required
        mkdir(drive, "Odoo", team)
    assert excinfo.value.resp.status == 404
    folder = mkdir(drive, "Odoo", team, supportsAllDrives=True)
    f = upload(drive, "x.txt", b"x", [folder], supportsAllDrives=True)
    meta = drive.files().get(fileId=f["id"], fields="driveId,parents",
                             supportsAllDrives=True).execute()
    assert meta == {"driveId": team, "parents": [folder]}
    with pytest.raises(HttpError):
        drive.files().get(fileId=f["id"]).execute()
    listed = drive.files().list(q="'%s' in parents and trashed = false" % folder,
                                corpora="drive", driveId=team, includeItemsFromAllDrives=True,
                                supportsAllDrives=True).execute()["files"]
    assert [x["name"] for x in listed] == ["x.txt"]
    everything = drive.files().list(corpora="drive", driveId=team,
                                    includeItemsFromAllDrives=True,
                                    supportsAllDrives=True).execute()["files"]
    assert len(everything) == 2
    assert drive.files().list().execute()["files"] == []  # My Drive corpus only
    with pytest.raises(HttpError) as excinfo:
        drive.files().list(corpora="drive", driveId=team, supportsAllDrives=True).execute()
    assert excinfo.value.resp.status == 403
    assert emu.tree(team) == {"/Odoo": None, "/Odoo/x.txt": b"x"}
    # changes of a shared drive
    token = drive.changes().getStartPageToken(driveId=team,
                                              supportsAllDrives=True).execute()
    drive.files().update(fileId=f["id"], body={"name": "y.txt"},
                         supportsAllDrives=True).execute()
    changes = drive.changes().list(pageToken=token["startPageToken"], driveId=team,
                                   supportsAllDrives=True, includeItemsFromAllDrives=True
                                   ).execute()["changes"]
    assert [(c["fileId"], c["file"]["name"]) for c in changes] == [(f["id"], "y.txt")]


def follow_changes(drive, token, **kwargs):
    out, pages = [], 0
    fields = ("nextPageToken, newStartPageToken, changes(fileId, removed, file(id, name, "
              "mimeType, parents, trashed, md5Checksum))")
    while True:
        resp = drive.changes().list(pageToken=token, fields=fields, **kwargs).execute()
        pages += 1
        out += resp["changes"]
        if "newStartPageToken" in resp:
            return out, resp["newStartPageToken"], pages
        token = resp["nextPageToken"]


def test_changes_semantics(emu, drive):
    docs = mkdir(drive, "Docs")
    sub = mkdir(drive, "Sub", docs)
    deep = upload(drive, "deep.txt", b"d", [sub])["id"]
    keep = upload(drive, "keep.txt", b"k", [docs])["id"]
    gone = upload(drive, "gone.txt", b"g", [docs])["id"]
    junk = upload(drive, "junk.txt", b"j", [docs])["id"]
    start = drive.changes().getStartPageToken().execute()["startPageToken"]
    changes, token, _ = follow_changes(drive, start)
    assert changes == [] and token == start
    archive = mkdir(drive, "Archive")
    drive.files().update(fileId=sub, addParents=archive, removeParents=docs).execute()
    drive.files().update(fileId=keep, body={"name": "kept.txt"}).execute()
    drive.files().update(fileId=keep, body={"name": "kept2.txt"}).execute()
    drive.files().delete(fileId=gone).execute()
    drive.files().update(fileId=junk, body={"trashed": True}).execute()
    changes, token, pages = follow_changes(drive, token, pageSize=2)
    assert pages == 3
    by_id = {c["fileId"]: c for c in changes}
    assert len(changes) == len(by_id) == 5  # one change per file, latest state
    assert deep not in by_id  # a moved folder's descendants are not reported
    assert by_id[sub]["file"]["parents"] == [archive]
    assert by_id[keep]["file"]["name"] == "kept2.txt"
    assert by_id[gone]["removed"] is True and "file" not in by_id[gone]
    assert by_id[junk]["removed"] is False and by_id[junk]["file"]["trashed"] is True
    assert by_id[archive]["file"]["mimeType"] == FOLDER
    changes, token2, _ = follow_changes(drive, token)
    assert changes == [] and token2 == token
    emu.invalidate_page_tokens()
    with pytest.raises(HttpError) as excinfo:
        drive.changes().list(pageToken="1").execute()
    assert excinfo.value.resp.status == 400 and reason_of(excinfo) == "invalid"


# -- faults ----------------------------------------------------------------------------------
def test_rate_limits_and_server_errors(emu, drive):
    emu.rate_limit("files.list")
    with pytest.raises(HttpError) as excinfo:
        drive.files().list().execute()
    assert excinfo.value.resp.status == 429 and reason_of(excinfo) == "userRateLimitExceeded"
    assert excinfo.value.error_details[0]["domain"] == "usageLimits"
    emu.rate_limit("files.get", status=403)
    with pytest.raises(HttpError) as excinfo:
        drive.files().get(fileId="root").execute()
    assert excinfo.value.resp.status == 403 and reason_of(excinfo) == "rateLimitExceeded"
    emu.server_error("files.get", status=503)
    request = drive.files().get(fileId="root")
    request._sleep = lambda seconds: None  # execute(num_retries) backs off with sleep
    assert request.execute(num_retries=2)["id"] == emu.root_id
    assert emu.counters["files.get"] == 3
    emu.not_found("files.get", "abc")
    with pytest.raises(HttpError) as excinfo:
        drive.files().get(fileId="root").execute()
    assert reason_of(excinfo) == "notFound"


def test_storage_quota(emu, drive):
    emu.storage_quota_exceeded("files.upload")
    with pytest.raises(HttpError) as excinfo:
        upload(drive, "a.bin", b"abc")
    assert excinfo.value.resp.status == 403 and reason_of(excinfo) == "storageQuotaExceeded"
    emu.quota_limit = 10
    upload(drive, "a.bin", b"x" * 10)
    with pytest.raises(HttpError) as excinfo:
        upload(drive, "b.bin", b"y", resumable=True)
    assert reason_of(excinfo) == "storageQuotaExceeded"
    about = drive.about().get(fields="storageQuota").execute()
    assert about["storageQuota"] == {"usage": "10", "usageInDrive": "10",
                                     "usageInDriveTrash": "0", "limit": "10"}


def test_drop_after_apply(emu, drive):
    # httplib2 itself re-sends a request whose connection dropped before the answer: a
    # non-idempotent create may then happen twice (Drive allows duplicate names).
    emu.drop_after_apply("files.create")
    mkdir(drive, "Once")
    assert len(emu.find("Once")) == 2
    emu.drop_after_apply("files.create", count=2)
    with pytest.raises((httplib2.HttpLib2Error, OSError)):
        mkdir(drive, "Twice")
    assert len(emu.find("Twice")) == 2


def service_of(emu, user):
    """A Drive service with the tokens of ``user``'s consent."""
    tokens = emu.issue_tokens(user=user)
    return make_service(emu, Credentials(
        tokens["access_token"], refresh_token=tokens["refresh_token"], token_uri=TOKEN_URI,
        client_id=emu.client_id, client_secret=emu.client_secret, scopes=SCOPES))


def test_accounts_have_their_own_drive(emu, drive):
    other = emu.add_user(display_name="Bo")
    bo = service_of(emu, other)
    about = bo.about().get(fields="user(emailAddress, permissionId, me)").execute()["user"]
    assert about == {"emailAddress": other.email, "permissionId": other.id, "me": True}
    assert drive.about().get(fields="user(permissionId)").execute()["user"]["permissionId"] \
        == emu.default_user.id != other.id
    assert bo.files().get(fileId="root", fields="id").execute()["id"] == other.root_id
    mine = mkdir(drive, "Mine")
    with pytest.raises(HttpError) as excinfo:  # another account's item: as if absent
        bo.files().get(fileId=mine, fields="id").execute()
    assert excinfo.value.resp.status == 404
    assert bo.files().list(q="name = 'Mine'", fields="files(id)").execute()["files"] == []
    token = bo.changes().getStartPageToken().execute()["startPageToken"]
    mkdir(drive, "Later")
    assert bo.changes().list(pageToken=token, fields="changes(fileId)").execute()[
        "changes"] == []
    team = emu.add_shared_drive("Team")  # the default account's
    assert bo.drives().list(fields="drives(id)").execute()["drives"] == []
    with pytest.raises(HttpError):
        bo.drives().get(driveId=team, fields="id").execute()


def test_permissions_create_list_delete(emu, drive):
    file_id = upload(drive, "a.txt", b"alpha")["id"]
    created = drive.permissions().create(
        fileId=file_id, body={"type": "anyone", "role": "reader", "allowFileDiscovery": False},
        fields="id, type, role, allowFileDiscovery").execute()
    assert created == {"id": "anyoneWithLink", "type": "anyone", "role": "reader",
                       "allowFileDiscovery": False}
    stranger = service_of(emu, emu.add_user())
    assert stranger.files().get(fileId=file_id, fields="name").execute()["name"] == "a.txt"
    # a link grant opens the file, it does not list it
    assert stranger.files().list(q="name = 'a.txt'", fields="files(id)").execute()[
        "files"] == []
    listed = drive.permissions().list(fileId=file_id, fields="permissions(id, type, role, "
                                      "emailAddress)").execute()["permissions"]
    assert listed == [{"id": emu.default_user.id, "type": "user", "role": "owner",
                       "emailAddress": emu.default_user.email},
                      {"id": "anyoneWithLink", "type": "anyone", "role": "reader"}]
    assert drive.files().get(fileId=file_id, fields="shared").execute()["shared"] is True
    with pytest.raises(HttpError) as excinfo:  # only who may share manages the sharing
        stranger.permissions().delete(fileId=file_id, permissionId="anyoneWithLink").execute()
    assert reason_of(excinfo) == "insufficientFilePermissions"
    for change in (lambda: stranger.files().update(fileId=file_id, body={"name": "b"}),
                   lambda: stranger.files().delete(fileId=file_id)):
        with pytest.raises(HttpError) as excinfo:  # a link lets one read, not change
            change().execute()
        assert reason_of(excinfo) == "insufficientFilePermissions"
    with pytest.raises(HttpError) as excinfo:
        drive.permissions().delete(fileId=file_id, permissionId=emu.default_user.id).execute()
    assert reason_of(excinfo) == "cannotRemoveOwner"
    drive.permissions().delete(fileId=file_id, permissionId="anyoneWithLink").execute()
    with pytest.raises(HttpError) as excinfo:
        stranger.files().get(fileId=file_id, fields="name").execute()
    assert excinfo.value.resp.status == 404
    with pytest.raises(HttpError) as excinfo:
        drive.permissions().delete(fileId=file_id, permissionId="anyoneWithLink").execute()
    assert reason_of(excinfo) == "notFound"


def test_permission_errors(emu, drive):
    file_id = upload(drive, "a.txt", b"alpha")["id"]
    for body, reason in (({"role": "reader"}, "required"), ({"type": "anyone"}, "required"),
                         ({"type": "anyone", "role": "boss"}, "invalid"),
                         ({"type": "user", "role": "reader"}, "required"),
                         ({"type": "user", "role": "owner",
                           "emailAddress": "x@example.org"}, "forbidden"),
                         ({"type": "domain", "role": "reader"}, "required"),
                         # a consumer account has no Workspace domain to share with
                         ({"type": "domain", "role": "reader", "domain": "example.com"},
                          "invalid")):
        with pytest.raises(HttpError) as excinfo:
            drive.permissions().create(fileId=file_id, body=body).execute()
        assert reason_of(excinfo) == reason, body
    assert emu.permissions(file_id) == []


def test_domain_permission_of_a_workspace_account():
    emu = DriveEmulator(workspace_domain="example.com").start()
    try:
        drive = service_of(emu, emu.default_user)
        file_id = upload(drive, "a.txt", b"alpha")["id"]
        perm = drive.permissions().create(
            fileId=file_id, body={"type": "domain", "role": "reader", "domain": "example.com"},
            fields="id, type, domain, allowFileDiscovery").execute()
        assert perm["type"] == "domain" and perm["domain"] == "example.com"
        assert perm["id"].endswith("k") and perm["allowFileDiscovery"] is False
        assert emu.can_open(file_id, emu.add_user(workspace_domain="example.com"))
        assert not emu.can_open(file_id, emu.add_user(workspace_domain="other.org"))
        assert not emu.can_open(file_id, emu.add_user())
        with pytest.raises(HttpError) as excinfo:  # not the account's own domain
            drive.permissions().create(fileId=file_id, body={
                "type": "domain", "role": "reader", "domain": "other.org"}).execute()
        assert reason_of(excinfo) == "invalid"
    finally:
        stop_soon(emu)


def test_batch_of_metadata_calls(emu, drive):
    ids = [upload(drive, "f%d.txt" % n, b"x")["id"] for n in range(3)]
    answers = {}

    def collect(request_id, response, exception):
        answers[request_id] = exception or response

    batch = drive.new_batch_http_request(callback=collect)
    for file_id in ids + ["missing"]:
        batch.add(drive.files().get(fileId=file_id, fields="id, name"))
    batch.add(drive.files().update(fileId=ids[0], body={"name": "renamed.txt"},
                                   fields="name"))
    emu.counters.clear()
    batch.execute()
    assert emu.counters["batch"] == 1 and emu.counters["files.get"] == 4
    assert [answers[str(n)]["name"] for n in (1, 2, 3)] == ["f0.txt", "f1.txt", "f2.txt"]
    assert isinstance(answers["4"], HttpError) and answers["4"].resp.status == 404
    assert answers["5"] == {"name": "renamed.txt"}
    # a fault planned for a route reaches the part, not the whole batch
    emu.rate_limit("files.get", status=403)
    answers.clear()
    batch = drive.new_batch_http_request(callback=collect)
    for file_id in ids:
        batch.add(drive.files().get(fileId=file_id, fields="id"))
    batch.execute()
    assert answers["1"].resp.status == 403 and answers["2"] == {"id": ids[1]}


def test_batch_limits(emu, drive):
    file_id = upload(drive, "a.txt", b"alpha")["id"]
    batch = drive.new_batch_http_request()
    for _ in range(101):
        batch.add(drive.files().get(fileId=file_id, fields="id"))
    with pytest.raises(HttpError) as excinfo:
        batch.execute()
    assert excinfo.value.resp.status == 400
    answers = {}
    batch = drive.new_batch_http_request(
        callback=lambda rid, resp, exc: answers.__setitem__(rid, exc))
    batch.add(drive.files().get_media(fileId=file_id))
    batch.execute()
    assert answers["1"].resp.status == 400  # no media in a batch


def test_cli_starts():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    proc = subprocess.Popen([sys.executable, "-m", "cloud_emulators.gdrive", "--port", "0"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stdout.readline()
        assert "gdrive emulator on http://127.0.0.1:" in line
        base = line.split()[3]
        resp = requests.post(base + "/oauth2/token", data={"grant_type": "refresh_token"},
                             timeout=5)
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    finally:
        proc.terminate()
        proc.wait(5)
