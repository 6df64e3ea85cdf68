"""Dropbox adapter specifics beyond the contract suite, against the emulator."""
import io

import pytest

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

from odoo.addons.cloud_base.lib.adapter import AuthExpired, RateLimited, ResetNeeded, Transient
from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter
from odoo.addons.cloud_dropbox.lib.dropbox_adapter import TOP_ID, DropboxAdapter


@pytest.fixture
def emu():
    emulator = DropboxEmulator().start()
    yield emulator
    emulator.stop()


def make(emu, grant=None, **kw):
    grant = grant or emu.issue_token(refresh=True)
    return DropboxAdapter(refresh_token=grant["refresh_token"], app_key=DEFAULT_APP_KEY,
                          app_secret=DEFAULT_APP_SECRET, base_url=emu.base_url, **kw)


def test_too_many_write_operations_is_rate_limited(emu):
    adapter = make(emu)
    root = adapter.ensure_root("Odoo")
    emu.rate_limit("files/create_folder_v2", retry_after=30, reason="too_many_write_operations")
    before = emu.counters["files/create_folder_v2"]
    with pytest.raises(RateLimited) as err:
        adapter.create_folder(root.id, "x")
    assert err.value.retry_after == 30 and err.value.code == "too_many_write_operations"
    assert emu.counters["files/create_folder_v2"] == before + 1  # the SDK did not retry by itself


def test_wrong_app_secret_is_auth_expired(emu):
    grant = emu.issue_token(refresh=True)
    adapter = DropboxAdapter(refresh_token=grant["refresh_token"], app_key=DEFAULT_APP_KEY,
                             app_secret="wrong", base_url=emu.base_url)
    with pytest.raises(AuthExpired):
        adapter.check_connection()


def test_revoked_refresh_token_is_auth_expired(emu):
    adapter = make(emu)
    adapter.check_connection()
    emu.revoke_refresh_tokens()
    emu.expire_access_tokens()
    with pytest.raises(AuthExpired):
        adapter.ensure_root("Odoo")


def test_upload_hash_checked_and_damaged_copy_removed(emu, monkeypatch):
    adapter = make(emu)
    root = adapter.ensure_root("Odoo")
    real = DropboxEmulator._meta

    def lying(self, node):
        meta = real(self, node)
        if meta[".tag"] == "file":
            meta["content_hash"] = "f" * 64
        return meta

    monkeypatch.setattr(DropboxEmulator, "_meta", lying)
    with pytest.raises(Transient) as err:
        adapter.upload(root.id, "a.txt", io.BytesIO(b"data"), 4)
    assert err.value.code == "hash_mismatch"
    monkeypatch.setattr(DropboxEmulator, "_meta", real)
    assert adapter.find_child(root.id, "a.txt") is None


def test_team_member_and_team_root_headers():
    with DropboxEmulator(team_space=True) as emu:
        member = emu.add_team_member("Ann Other")
        adapter = make(emu, emu.issue_token(refresh=True, team=True), team=True,
                       team_member_id=member, use_team_root=True)
        assert adapter.check_connection()["account"].startswith("Ann Other")
        adapter.ensure_root("Odoo")
        assert {h["select_user"] for h in emu.seen_headers} == {member}
        assert emu.seen_headers[-1]["path_root"] == \
            '{".tag": "root", "root": "%s"}' % emu.root_namespace_id


def test_links(emu):
    adapter = make(emu)
    root = adapter.ensure_root("Odoo")
    file = adapter.upload(root.id, "a b.txt", io.BytesIO(b"x"), 1)
    link = adapter.web_url(file)
    assert link.startswith("https://www.dropbox.com/scl/fi/")
    assert adapter.share_link(file.id) == link  # already exists: reused
    assert emu.links[file.id]["visibility"] == "public"
    plain = make(emu, no_shared_links=True)
    assert plain.web_url(file) == "https://www.dropbox.com/home/Odoo/a%20b.txt"
    assert plain.web_url(root) == "https://www.dropbox.com/home/Odoo"
    assert adapter.get_item(TOP_ID).is_folder


def test_deletions_resolve_through_the_merge_base_and_root_rename_asks_for_reset(emu):
    base = MemoryMergeBase()
    adapter = RecordingAdapter(make(emu), base)
    root = adapter.ensure_root("Odoo")
    cursor = adapter.latest_cursor(root.id)
    # made by the engines after the cursor: the feed never listed them, the base knows them
    folder = adapter.create_folder(root.id, "A")
    file = adapter.upload(folder.id, "f.txt", io.BytesIO(b"f"), 1)
    emu.delete("/Odoo/A")
    other = RecordingAdapter(make(emu), base)  # another worker, same cursor, same base
    page = other.changes(root.id, cursor)
    assert {(c.id, c.deleted) for c in page.changes} == {(folder.id, True), (file.id, True)}
    assert base.get(folder.id) is None and base.get(file.id) is None
    assert len(page.cursor) < 1000  # the Dropbox cursor, not a map of the tree
    emu.move("/Odoo", "/Odoo renamed")
    with pytest.raises(ResetNeeded):
        adapter.changes(root.id, page.cursor)
