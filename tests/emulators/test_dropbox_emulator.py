"""The Dropbox emulator, driven only through the real ``dropbox`` SDK."""
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import dropbox
import pytest
import requests
from dropbox import files, sharing
from dropbox.common import PathRoot
from dropbox.content_hash import content_hash as sdk_content_hash
from dropbox.exceptions import ApiError, AuthError, BadInputError, InternalServerError, \
    PathRootError, RateLimitError

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator, \
    content_hash, make_session


@pytest.fixture
def emu():
    emulator = DropboxEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()


def client(emu, token=None, **kwargs):
    token = token or emu.issue_token()["access_token"]
    kwargs.setdefault("max_retries_on_rate_limit", 0)
    kwargs.setdefault("max_retries_on_error", 0)
    return dropbox.Dropbox(token, session=make_session(emu.base_url), **kwargs)


@pytest.fixture
def dbx(emu):
    return client(emu)


# -- account ---------------------------------------------------------------------------------
def test_current_account(emu, dbx):
    acc = dbx.users_get_current_account()
    assert len(acc.account_id) == 40
    assert isinstance(acc.root_info, dropbox.common.UserRootInfo)
    assert acc.root_info.root_namespace_id == emu.root_namespace_id
    assert acc.email == "emu.user@example.com"
    usage = dbx.users_get_space_usage()
    assert usage.used == 0


def test_team_space_root_info_and_path_root():
    with DropboxEmulator(team_space=True) as emu:
        dbx = client(emu)
        acc = dbx.users_get_current_account()
        assert isinstance(acc.root_info, dropbox.common.TeamRootInfo)
        assert acc.root_info.root_namespace_id != acc.root_info.home_namespace_id
        assert acc.team.id == emu.team_id
        team_dbx = dbx.with_path_root(PathRoot.root(acc.root_info.root_namespace_id))
        team_dbx.files_create_folder_v2("/Shared")
        assert emu.seen_headers[-1]["path_root"] == \
            '{".tag": "root", "root": "%s"}' % acc.root_info.root_namespace_id
        with pytest.raises(PathRootError):
            dbx.with_path_root(PathRoot.root("999")).files_list_folder("")


# -- folders, uploads, downloads -------------------------------------------------------------
def test_create_folder_and_conflict(emu, dbx):
    res = dbx.files_create_folder_v2("/Odoo/Invoices")
    assert res.metadata.path_display == "/Odoo/Invoices"
    assert res.metadata.id.startswith("id:")
    assert emu.tree() == {"/Odoo": "folder", "/Odoo/Invoices": "folder"}
    with pytest.raises(ApiError) as exc:
        dbx.files_create_folder_v2("/odoo/INVOICES")  # case-insensitive
    err = exc.value.error
    assert err.is_path() and err.get_path().is_conflict()
    assert err.get_path().get_conflict().is_folder()
    assert exc.value.user_message_text is None


def test_upload_download_and_content_hash(emu, dbx):
    data = b"x" * (4 * 1024 * 1024 + 10)  # two blocks
    md = dbx.files_upload(data, "/Docs/Big.bin")
    local = hashlib.sha256(hashlib.sha256(data[:4 * 1024 * 1024]).digest() +
                           hashlib.sha256(data[4 * 1024 * 1024:]).digest()).hexdigest()
    assert md.content_hash == local == sdk_content_hash(data) == content_hash(data)
    assert md.size == len(data) and len(md.rev) >= 9
    assert md.path_lower == "/docs/big.bin" and md.path_display == "/Docs/Big.bin"
    meta, resp = dbx.files_download("/docs/big.BIN")
    assert resp.content == data and meta.id == md.id and meta.rev == md.rev
    by_id, resp = dbx.files_download(md.id)
    assert by_id.path_display == "/Docs/Big.bin"
    assert emu.tree()["/Docs/Big.bin"] == len(data)
    assert emu.item(md.id)["content_hash"] == local
    assert emu.content("/docs/big.bin") == data


def test_upload_modes(emu, dbx):
    first = dbx.files_upload(b"one", "/a.txt")
    # identical content in add mode: the existing file, no conflict
    assert dbx.files_upload(b"one", "/a.txt").rev == first.rev
    with pytest.raises(ApiError) as exc:
        dbx.files_upload(b"two", "/A.TXT")
    err = exc.value.error
    assert err.is_path() and err.get_path().reason.get_conflict().is_file()
    renamed = dbx.files_upload(b"two", "/a.txt", autorename=True)
    assert renamed.path_display == "/a (1).txt"
    over = dbx.files_upload(b"three", "/a.txt", mode=files.WriteMode.overwrite)
    assert over.id == first.id and over.rev != first.rev
    upd = dbx.files_upload(b"four", "/a.txt", mode=files.WriteMode.update(over.rev))
    assert upd.id == first.id
    with pytest.raises(ApiError) as exc:
        dbx.files_upload(b"five", "/a.txt", mode=files.WriteMode.update(over.rev))
    assert exc.value.error.get_path().reason.get_conflict().is_file()
    with pytest.raises(ApiError) as exc:
        dbx.files_upload(b"x", "/a.txt/child.txt")
    assert exc.value.error.get_path().reason.get_conflict().is_file_ancestor()
    with pytest.raises(ApiError) as exc:
        dbx.files_upload(b"x", "/desktop.ini")
    assert exc.value.error.get_path().reason.is_disallowed_name()


def test_download_and_metadata_errors(dbx):
    dbx.files_create_folder_v2("/F")
    with pytest.raises(ApiError) as exc:
        dbx.files_download("/missing.txt")
    assert exc.value.error.get_path().is_not_found()
    with pytest.raises(ApiError) as exc:
        dbx.files_download("/F")
    assert exc.value.error.get_path().is_not_file()
    with pytest.raises(ApiError) as exc:
        dbx.files_get_metadata("/nope")
    assert exc.value.error.get_path().is_not_found()
    md = dbx.files_get_metadata("/f")
    assert isinstance(md, files.FolderMetadata) and md.path_display == "/F"


def test_raw_validation(emu):
    token = emu.issue_token()["access_token"]
    s = make_session(emu.base_url)
    url = "https://api.dropboxapi.com/2/files/get_metadata"
    auth = {"Authorization": "Bearer " + token}
    r = s.post(url, data=b"{not json", headers=dict(auth, **{"Content-Type": "application/json"}))
    assert r.status_code == 400 and "could not decode input as JSON" in r.text
    r = s.post(url, json={"path": "relative"}, headers=auth)
    assert r.status_code == 400 and "did not match pattern" in r.text
    r = s.post(url, json={"path": "/x"}, headers=auth)
    assert r.status_code == 409 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"error_summary": "path/not_found/..",
                        "error": {".tag": "path", "path": {".tag": "not_found"}}}
    r = s.post(url, json={"path": "/x"})
    assert r.status_code == 400 and "Authorization" in r.text
    # an RPC route on the content host is refused
    r = s.post("https://content.dropboxapi.com/2/files/get_metadata", json={"path": "/x"},
               headers=auth)
    assert r.status_code == 400
    r = s.post("https://api.dropboxapi.com/2/files/create_folder_v2", json={"path": "/a//b"},
               headers=auth)
    assert r.status_code == 409 and r.json()["error_summary"].startswith("path/malformed_path")


def test_raw_error_shapes(emu):
    grant = emu.issue_token()
    s = make_session(emu.base_url)
    auth = {"Authorization": "Bearer " + grant["access_token"]}
    arg = '{"path": "/c.txt", "mode": "add", "autorename": false}'
    up = "https://content.dropboxapi.com/2/files/upload"
    headers = dict(auth, **{"Dropbox-API-Arg": arg, "Content-Type": "application/octet-stream"})
    assert s.post(up, data=b"1", headers=headers).status_code == 200
    r = s.post(up, data=b"2", headers=headers)
    assert r.status_code == 409
    body = r.json()
    assert body["error_summary"] == "path/conflict/file/.."
    assert body["error"]["reason"] == {".tag": "conflict", "conflict": {".tag": "file"}}
    emu.rate_limit("files/upload", retry_after=3)
    r = s.post(up, data=b"2", headers=headers)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["error"] == {"reason": {".tag": "too_many_requests"}, "retry_after": 3}
    emu.expire_access_tokens()
    r = s.post("https://api.dropboxapi.com/2/users/get_current_account", headers=auth)
    assert r.status_code == 401 and r.headers["Content-Type"] == "application/json"
    assert r.json() == {"error_summary": "expired_access_token/..",
                        "error": {".tag": "expired_access_token"}}
    emu.revoke_refresh_tokens()
    r = s.post("https://api.dropboxapi.com/oauth2/token",
               data={"grant_type": "refresh_token", "refresh_token": "nope"},
               auth=(DEFAULT_APP_KEY, DEFAULT_APP_SECRET))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_non_ascii_names(dbx):
    md = dbx.files_upload("é".encode(), "/Café/Ünïcødé 名前.txt")
    assert md.path_display == "/Café/Ünïcødé 名前.txt" and md.path_lower == "/café/ünïcødé 名前.txt"
    meta, resp = dbx.files_download("/CAFÉ/ünïcødé 名前.txt")
    assert meta.name == "Ünïcødé 名前.txt" and resp.content == "é".encode()
    assert [e.name for e in dbx.files_list_folder("/café").entries] == ["Ünïcødé 名前.txt"]


def test_root_path_rules(dbx):
    with pytest.raises(BadInputError) as exc:
        dbx.files_list_folder("/")
    assert "empty string" in exc.value.message
    assert dbx.files_list_folder("").entries == []


# -- upload sessions -------------------------------------------------------------------------
def test_chunked_session_upload_with_offset_error(emu, dbx):
    chunk = 4 * 1024 * 1024
    data = bytes(range(256)) * (chunk * 2 // 256) + b"tail"
    start = dbx.files_upload_session_start(data[:chunk])
    cursor = files.UploadSessionCursor(start.session_id, chunk)
    dbx.files_upload_session_append_v2(data[chunk:2 * chunk], cursor)
    # retry of the same append (stale offset): incorrect_offset with the correct one
    with pytest.raises(ApiError) as exc:
        dbx.files_upload_session_append_v2(data[chunk:2 * chunk], cursor)
    err = exc.value.error
    assert err.is_incorrect_offset() and err.get_incorrect_offset().correct_offset == 2 * chunk
    with pytest.raises(ApiError) as exc:
        dbx.files_upload_session_finish(
            data[2 * chunk:], files.UploadSessionCursor(start.session_id, 5),
            files.CommitInfo("/big/file.bin"))
    lookup = exc.value.error.get_lookup_failed()
    assert lookup.get_incorrect_offset().correct_offset == 2 * chunk
    md = dbx.files_upload_session_finish(
        data[2 * chunk:], files.UploadSessionCursor(start.session_id, 2 * chunk),
        files.CommitInfo("/big/file.bin", mode=files.WriteMode.overwrite))
    assert md.size == len(data) and md.content_hash == sdk_content_hash(data)
    assert emu.content(md.id) == data
    with pytest.raises(ApiError) as exc:  # a finished session is gone
        dbx.files_upload_session_append_v2(b"x", files.UploadSessionCursor(start.session_id,
                                                                           len(data)))
    assert exc.value.error.is_not_found()
    # a closed session refuses appends
    s2 = dbx.files_upload_session_start(b"abc", close=True)
    with pytest.raises(ApiError) as exc:
        dbx.files_upload_session_append_v2(b"d", files.UploadSessionCursor(s2.session_id, 3))
    assert exc.value.error.is_closed()


# -- listing & pagination --------------------------------------------------------------------
def test_list_folder_recursive_and_pagination(dbx):
    dbx.files_create_folder_v2("/p")
    for i in range(7):
        dbx.files_upload(b"%d" % i, "/p/f%d.txt" % i)
    dbx.files_upload(b"deep", "/p/sub/deep.txt")
    flat = dbx.files_list_folder("/p")
    assert sorted(e.name for e in flat.entries) == ["f%d.txt" % i for i in range(7)] + ["sub"]
    assert not flat.has_more
    page = dbx.files_list_folder("", recursive=True, limit=3)
    seen = list(page.entries)
    assert page.has_more and len(page.entries) == 3
    while page.has_more:
        page = dbx.files_list_folder_continue(page.cursor)
        seen.extend(page.entries)
    paths = [e.path_lower for e in seen]
    assert len(paths) == len(set(paths)) == 10
    assert paths.index("/p") < paths.index("/p/sub") < paths.index("/p/sub/deep.txt")
    # the final cursor is a change cursor: nothing new yet
    nothing = dbx.files_list_folder_continue(page.cursor)
    assert nothing.entries == [] and not nothing.has_more
    with pytest.raises(ApiError) as exc:
        dbx.files_list_folder("/p/f1.txt")
    assert exc.value.error.get_path().is_not_folder()


# -- change feed -----------------------------------------------------------------------------
def _delta(dbx, cursor):
    entries = []
    while True:
        res = dbx.files_list_folder_continue(cursor)
        entries.extend(res.entries)
        cursor = res.cursor
        if not res.has_more:
            return entries, cursor


def test_change_feed_move_rename_delete(emu, dbx):
    dbx.files_create_folder_v2("/src")
    f = dbx.files_upload(b"a", "/src/a.txt")
    dbx.files_upload(b"b", "/src/inner/b.txt")
    cursor = dbx.files_list_folder("", recursive=True).cursor
    latest = dbx.files_list_folder_get_latest_cursor("", recursive=True).cursor

    # rename a file (move within the same folder)
    moved = dbx.files_move_v2("/src/a.txt", "/src/A2.txt").metadata
    assert moved.id == f.id
    entries, cursor = _delta(dbx, cursor)
    assert [type(e).__name__ for e in entries] == ["DeletedMetadata", "FileMetadata"]
    assert entries[0].path_lower == "/src/a.txt" and not hasattr(entries[0], "id")
    assert entries[1].path_display == "/src/A2.txt" and entries[1].id == f.id
    assert _delta(dbx, latest)[0][1].id == f.id  # get_latest_cursor works too

    # folder move lists every descendant at its new path
    src_id = dbx.files_get_metadata("/src").id
    dbx.files_move_v2("/src", "/dst/moved")
    entries, cursor = _delta(dbx, cursor)
    kinds = [(type(e).__name__, e.path_lower) for e in entries]
    assert ("DeletedMetadata", "/src") in kinds
    new = {e.path_lower: e for e in entries if not isinstance(e, files.DeletedMetadata)}
    assert {"/dst", "/dst/moved", "/dst/moved/a2.txt", "/dst/moved/inner",
            "/dst/moved/inner/b.txt"} <= set(new)
    assert new["/dst/moved"].id == src_id and new["/dst/moved/a2.txt"].id == f.id
    assert kinds.index(("DeletedMetadata", "/src")) < kinds.index(("FolderMetadata",
                                                                   "/dst/moved"))

    # delete: one deleted entry for the folder
    res = dbx.files_delete_v2("/dst/moved/inner")
    assert res.metadata.name == "inner"
    entries, cursor = _delta(dbx, cursor)
    assert [(type(e).__name__, e.path_lower) for e in entries] == \
        [("DeletedMetadata", "/dst/moved/inner")]
    with pytest.raises(ApiError) as exc:
        dbx.files_delete_v2("/dst/moved/inner")
    assert exc.value.error.get_path_lookup().is_not_found()

    # server-side changes by "another client" show up too, coalesced per path
    emu.put_file("/dst/other.txt", b"1")
    emu.put_file("/dst/other.txt", b"2")
    entries, cursor = _delta(dbx, cursor)
    assert len(entries) == 1 and entries[0].size == 1
    assert emu.change_log()[-1][1:] == ("file", "/dst/other.txt")


def test_change_feed_scoped_cursor(dbx):
    dbx.files_create_folder_v2("/in")
    dbx.files_create_folder_v2("/out")
    cursor = dbx.files_list_folder("/in", recursive=True).cursor
    dbx.files_upload(b"x", "/out/x.txt")
    dbx.files_upload(b"y", "/in/y.txt")
    dbx.files_move_v2("/out/x.txt", "/in/x.txt")
    entries, _ = _delta(dbx, cursor)
    assert sorted(e.path_lower for e in entries) == ["/in/x.txt", "/in/y.txt"]


def test_move_errors(dbx):
    dbx.files_create_folder_v2("/a/b")
    dbx.files_upload(b"1", "/t.txt")
    with pytest.raises(ApiError) as exc:
        dbx.files_move_v2("/nope", "/x")
    assert exc.value.error.get_from_lookup().is_not_found()
    with pytest.raises(ApiError) as exc:
        dbx.files_move_v2("/a", "/a/b/c")
    assert exc.value.error.is_cant_move_folder_into_itself()
    with pytest.raises(ApiError) as exc:
        dbx.files_move_v2("/t.txt", "/a/b")
    assert exc.value.error.get_to().get_conflict().is_folder()
    auto = dbx.files_move_v2("/t.txt", "/a/b", autorename=True).metadata
    assert auto.path_display == "/a/b (1)"
    copy = dbx.files_copy_v2("/a/b (1)", "/copy.txt").metadata
    assert copy.id != auto.id and copy.content_hash == auto.content_hash


def test_expired_cursor_reset(emu, dbx):
    cursor = dbx.files_list_folder("", recursive=True).cursor
    emu.expire_cursors()
    with pytest.raises(ApiError) as exc:
        dbx.files_list_folder_continue(cursor)
    assert exc.value.error.is_reset()
    fresh = dbx.files_list_folder("", recursive=True).cursor
    assert dbx.files_list_folder_continue(fresh).entries == []


def test_longpoll(emu, dbx):
    cursor = dbx.files_list_folder_get_latest_cursor("").cursor
    emu.longpoll_max_wait = 0.2
    assert dbx.files_list_folder_longpoll(cursor, timeout=30).changes is False
    dbx.files_upload(b"1", "/n.txt")
    assert dbx.files_list_folder_longpoll(cursor, timeout=30).changes is True


# -- sharing ---------------------------------------------------------------------------------
def test_shared_links(emu, dbx):
    md = dbx.files_upload(b"pdf", "/Reports/r.pdf")
    link = dbx.sharing_create_shared_link_with_settings("/Reports/r.pdf")
    assert isinstance(link, sharing.FileLinkMetadata)
    assert link.url.startswith("https://www.dropbox.com/scl/fi/") and link.id == md.id
    assert link.link_permissions.can_revoke
    with pytest.raises(ApiError) as exc:
        dbx.sharing_create_shared_link_with_settings("/Reports/r.pdf")
    err = exc.value.error
    assert err.is_shared_link_already_exists()
    assert err.get_shared_link_already_exists().get_metadata().url == link.url
    listed = dbx.sharing_list_shared_links(path="/reports/r.pdf", direct_only=True)
    assert [shared.url for shared in listed.links] == [link.url]
    # a personal (basic) account may only ask for public links, as on Dropbox
    with pytest.raises(ApiError) as exc:
        dbx.sharing_create_shared_link_with_settings(
            "/Reports", sharing.SharedLinkSettings(
                requested_visibility=sharing.RequestedVisibility.team_only))
    assert exc.value.error.is_settings_error()
    folder_link = dbx.sharing_create_shared_link_with_settings("/Reports")
    assert isinstance(folder_link, sharing.FolderLinkMetadata)
    assert folder_link.link_permissions.resolved_visibility.is_public()
    everything = dbx.sharing_list_shared_links()
    assert {shared.url for shared in everything.links} == {link.url, folder_link.url}
    inherited = dbx.sharing_list_shared_links(path="/Reports/r.pdf")
    assert len(inherited.links) == 2
    # the public link serves the bytes
    public = make_session(emu.base_url).get(link.url.replace("dl=0", "dl=1"))
    assert public.content == b"pdf"
    dbx.sharing_revoke_shared_link(link.url)
    assert [shared.url for shared in dbx.sharing_list_shared_links().links] == \
        [folder_link.url]
    with pytest.raises(ApiError) as exc:
        dbx.sharing_create_shared_link_with_settings("/missing")
    assert exc.value.error.get_path().is_not_found()


# -- faults ----------------------------------------------------------------------------------
def test_rate_limit(emu, dbx):
    emu.rate_limit("files/upload", retry_after=2)
    with pytest.raises(RateLimitError) as exc:
        dbx.files_upload(b"1", "/r.txt")
    assert exc.value.backoff == 2 and exc.value.error.reason.is_too_many_requests()
    assert dbx.files_upload(b"1", "/r.txt").size == 1
    # the SDK's own backoff honours Retry-After
    emu.rate_limit("files/get_metadata", retry_after=1, reason="too_many_write_operations")
    patient = client(emu, max_retries_on_rate_limit=1)
    t0 = time.monotonic()
    assert patient.files_get_metadata("/r.txt").name == "r.txt"
    assert time.monotonic() - t0 >= 1
    assert emu.counters["files/get_metadata"] == 2


def test_server_error_and_insufficient_space(emu, dbx):
    emu.server_error("files/create_folder_v2", status=503)
    with pytest.raises(InternalServerError) as exc:
        dbx.files_create_folder_v2("/x")
    assert exc.value.status_code == 503
    emu.insufficient_space()
    with pytest.raises(ApiError) as exc:
        dbx.files_upload(b"data", "/big.bin")
    assert exc.value.error.get_path().reason.is_insufficient_space()
    emu.set_quota(10)
    start = dbx.files_upload_session_start(b"0123456789AB")
    with pytest.raises(ApiError) as exc:
        dbx.files_upload_session_finish(b"", files.UploadSessionCursor(start.session_id, 12),
                                        files.CommitInfo("/q.bin"))
    assert exc.value.error.get_path().is_insufficient_space()


def test_drop_after_apply_then_retry(emu, dbx):
    emu.drop_after_apply("files/create_folder_v2")
    with pytest.raises(requests.exceptions.ConnectionError):
        dbx.files_create_folder_v2("/Applied")
    with pytest.raises(ApiError) as exc:  # the retry finds it
        dbx.files_create_folder_v2("/Applied")
    assert exc.value.error.get_path().get_conflict().is_folder()
    emu.drop_after_apply("files/upload")
    with pytest.raises(requests.exceptions.ConnectionError):
        dbx.files_upload(b"payload", "/up.txt")
    again = dbx.files_upload(b"payload", "/up.txt")  # same content: no conflict
    assert again.size == 7 and emu.tree()["/up.txt"] == 7


# -- auth ------------------------------------------------------------------------------------
def test_expired_and_invalid_tokens(emu):
    dbx = client(emu)
    emu.expire_access_tokens()
    with pytest.raises(AuthError) as exc:
        dbx.users_get_current_account()
    assert exc.value.error.is_expired_access_token()
    with pytest.raises(AuthError) as exc:
        client(emu, token="sl.bogus").users_get_current_account()
    assert exc.value.error.is_invalid_access_token()


def test_refresh_token_flow(emu):
    grant = emu.issue_token(refresh=True)
    dbx = dropbox.Dropbox(oauth2_refresh_token=grant["refresh_token"], app_key=DEFAULT_APP_KEY,
                          app_secret=DEFAULT_APP_SECRET, session=make_session(emu.base_url),
                          max_retries_on_rate_limit=0)
    assert dbx.users_get_current_account().account_id == grant["account_id"]
    assert emu.counters["oauth2/token"] == 1
    first = dbx._oauth2_access_token
    emu.expire_access_tokens()  # 401 expired -> the SDK refreshes once and retries
    dbx.files_create_folder_v2("/after-refresh")
    assert dbx._oauth2_access_token != first and emu.counters["oauth2/token"] == 2
    # wrong secret
    bad = dropbox.Dropbox(oauth2_refresh_token=grant["refresh_token"], app_key=DEFAULT_APP_KEY,
                          app_secret="wrong", session=make_session(emu.base_url))
    with pytest.raises(BadInputError):
        bad.users_get_current_account()
    # revoked refresh token: refresh fails with invalid_grant -> AuthError
    emu.revoke_refresh_tokens(revoke_access_tokens=False)
    emu.expire_access_tokens()
    with pytest.raises(AuthError) as exc:
        dbx.users_get_current_account()
    assert exc.value.error.is_invalid_access_token()
    emu.revoke_refresh_tokens()


def test_token_revoke(emu, dbx):
    dbx.auth_token_revoke()
    with pytest.raises(AuthError) as exc:
        dbx.users_get_current_account()
    assert exc.value.error.is_invalid_access_token()


def _authorize(emu, flow):
    url = flow.start(url_state="back=/odoo")
    assert url.startswith("https://www.dropbox.com/oauth2/authorize?")
    resp = make_session(emu.base_url).get(url, allow_redirects=False)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_oauth_code_flow_with_secret(emu):
    web_session = {}
    flow = dropbox.DropboxOAuth2Flow(DEFAULT_APP_KEY, "http://localhost:8069/cb", web_session,
                                     "dropbox-csrf", consumer_secret=DEFAULT_APP_SECRET,
                                     token_access_type="offline")
    flow.requests_session = make_session(emu.base_url)
    params = _authorize(emu, flow)
    result = flow.finish(params)
    assert result.url_state == "back=/odoo" and result.refresh_token
    assert result.account_id == emu.account["account_id"] and result.expires_at
    assert emu.token_requests[-1]["client_secret"] == DEFAULT_APP_SECRET
    dbx = dropbox.Dropbox(result.access_token, session=make_session(emu.base_url))
    assert dbx.users_get_current_account().email == emu.account["email"]
    # a code is single use
    flow2 = dropbox.DropboxOAuth2Flow(DEFAULT_APP_KEY, "http://localhost:8069/cb",
                                      {"dropbox-csrf": params["state"].split("|")[0]},
                                      "dropbox-csrf", consumer_secret=DEFAULT_APP_SECRET)
    flow2.requests_session = make_session(emu.base_url)
    with pytest.raises(requests.HTTPError):
        flow2.finish(params)


def test_oauth_pkce_flow_and_refresh_without_secret(emu):
    flow = dropbox.DropboxOAuth2Flow(DEFAULT_APP_KEY, "http://localhost:8069/cb", {}, "csrf",
                                     use_pkce=True, token_access_type="offline")
    flow.requests_session = make_session(emu.base_url)
    params = _authorize(emu, flow)
    assert emu.authorize_requests[-1]["code_challenge_method"] == "S256"
    result = flow.finish(params)
    assert "client_secret" not in emu.token_requests[-1]
    dbx = dropbox.Dropbox(oauth2_refresh_token=result.refresh_token, app_key=DEFAULT_APP_KEY,
                          session=make_session(emu.base_url))
    assert dbx.users_get_current_account().account_id == emu.account["account_id"]


def test_oauth_pkce_wrong_verifier(emu):
    flow = dropbox.DropboxOAuth2Flow(DEFAULT_APP_KEY, "http://localhost:8069/cb", {}, "csrf",
                                     use_pkce=True, token_access_type="offline")
    flow.requests_session = make_session(emu.base_url)
    params = _authorize(emu, flow)
    flow.code_verifier = "x" * 60
    with pytest.raises(requests.HTTPError) as exc:
        flow.finish(params)
    assert exc.value.response.json()["error"] == "invalid_grant"


def test_oauth_denied(emu):
    emu.authorize_behavior = "deny"
    flow = dropbox.DropboxOAuth2Flow(DEFAULT_APP_KEY, "http://localhost:8069/cb", {}, "csrf",
                                     consumer_secret=DEFAULT_APP_SECRET)
    flow.requests_session = make_session(emu.base_url)
    params = _authorize(emu, flow)
    with pytest.raises(dropbox.oauth.NotApprovedException):
        flow.finish(params)


# -- team ------------------------------------------------------------------------------------
def test_team_token_as_user(emu):
    member = emu.add_team_member("Ann Other")
    token = emu.issue_token(team=True)["access_token"]
    team = dropbox.DropboxTeam(token, session=make_session(emu.base_url),
                               max_retries_on_rate_limit=0)
    as_ann = team.as_user(member)
    acc = as_ann.users_get_current_account()
    assert acc.name.display_name == "Ann Other" and acc.team_member_id == member
    as_ann.files_create_folder_v2("/TeamWork")
    assert emu.seen_headers[-1]["select_user"] == member
    with pytest.raises(AuthError) as exc:
        team.as_user("dbmid:unknown").users_get_current_account()
    assert exc.value.error.is_invalid_select_user()
    plain = dropbox.Dropbox(token, session=make_session(emu.base_url))
    with pytest.raises(BadInputError):  # a team token needs Select-User
        plain.users_get_current_account()


def test_team_members_get_info_v2(emu):
    from dropbox.team import UserSelectorArg
    ann = emu.add_team_member("Ann Other", email="Ann.Other@example.com", external_id="ext-ann")
    token = emu.issue_token(team=True)["access_token"]
    team = dropbox.DropboxTeam(token, session=make_session(emu.base_url),
                               max_retries_on_rate_limit=0, max_retries_on_error=0)
    result = team.team_members_get_info_v2([
        UserSelectorArg.email("ann.other@EXAMPLE.com"),  # e-mails match case-insensitively
        UserSelectorArg.team_member_id(ann),
        UserSelectorArg.external_id("ext-ann"),
        UserSelectorArg.email("emu.user@example.com"),
        UserSelectorArg.email("nobody@example.com"),
        UserSelectorArg.team_member_id("dbmid:unknown"),
    ])
    infos = result.members_info
    assert len(infos) == 6  # one answer per selector, in order
    for info in infos[:3]:
        assert info.is_member_info()
        profile = info.get_member_info().profile
        assert profile.team_member_id == ann
        assert profile.email == "Ann.Other@example.com"
        assert profile.external_id == "ext-ann"
        assert profile.name.display_name == "Ann Other"
        assert profile.status.is_active() and profile.membership_type.is_full()
        assert profile.account_id.startswith("dbid:") and profile.joined_on is not None
        assert profile.root_folder_id == emu.root_namespace_id
        assert info.get_member_info().roles == []
    admin = infos[3].get_member_info()
    assert admin.profile.team_member_id == emu.account["team_member_id"]
    assert [r.name for r in admin.roles] == ["Team"]
    assert infos[4].is_id_not_found() and infos[4].get_id_not_found() == "nobody@example.com"
    assert infos[5].is_id_not_found() and infos[5].get_id_not_found() == "dbmid:unknown"
    # the id found acts as the member through Dropbox-API-Select-User
    found = infos[0].get_member_info().profile.team_member_id
    assert team.as_user(found).users_get_current_account().email == "Ann.Other@example.com"
    assert emu.seen_headers[-1]["select_user"] == ann
    assert team.team_members_get_info_v2([]).members_info == []


def test_team_members_get_info_v2_team_token_only(emu):
    from dropbox.team import UserSelectorArg
    member = emu.add_team_member("Ann Other")
    selector = [UserSelectorArg.email("ann.other@example.com")]
    # a user token: 400 "DfB team management function", like the real service
    user = dropbox.DropboxTeam(emu.issue_token()["access_token"],
                               session=make_session(emu.base_url), max_retries_on_error=0)
    with pytest.raises(BadInputError) as exc:
        user.team_members_get_info_v2(selector)
    assert "team management function" in exc.value.message
    # a team token acting as a member has no team routes: refused with Select-User
    token = emu.issue_token(team=True)["access_token"]
    r = requests.post(emu.base_url + "/api/2/team/members/get_info_v2",
                      json={"members": [{".tag": "email", "email": "ann.other@example.com"}]},
                      headers={"Authorization": "Bearer " + token,
                               "Dropbox-API-Select-User": member}, timeout=10)
    assert r.status_code == 400 and "select user" in r.text
    # not on the content host
    r = requests.post(emu.base_url + "/content/2/team/members/get_info_v2",
                      json={"members": []}, headers={"Authorization": "Bearer " + token},
                      timeout=10)
    assert r.status_code == 400
    # malformed selector
    r = requests.post(emu.base_url + "/api/2/team/members/get_info_v2",
                      json={"members": [{".tag": "uid", "uid": "1"}]},
                      headers={"Authorization": "Bearer " + token}, timeout=10)
    assert r.status_code == 400 and "unknown tag 'uid'" in r.text
    # expired / unknown team token: 401 like the other routes
    with pytest.raises(AuthError) as exc:
        dropbox.DropboxTeam("nope", session=make_session(emu.base_url),
                            max_retries_on_error=0).team_members_get_info_v2(selector)
    assert exc.value.error.is_invalid_access_token()
    # a scoped team token needs members.read
    scoped = emu.issue_token(team=True, scope="team_data.member")["access_token"]
    with pytest.raises(AuthError) as exc:
        dropbox.DropboxTeam(scoped, session=make_session(emu.base_url),
                            max_retries_on_error=0).team_members_get_info_v2(selector)
    assert exc.value.error.is_missing_scope()
    assert exc.value.error.get_missing_scope().required_scope == "members.read"
    # the team route did not leak into users/get_current_account
    acc = dropbox.DropboxTeam(token, session=make_session(emu.base_url)).as_user(member) \
        .users_get_current_account()
    assert acc.team_member_id == member
