"""The ownCloud/Nextcloud emulator, driven through the real ``pyocclient`` (and ``requests``
for what pyocclient does not do)."""
import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import owncloud
import pytest
import requests

from cloud_emulators.common import Fault
from cloud_emulators.owncloud import OwnCloudEmulator

USER, PASSWORD = "admin", "s3cret"
OC = "{http://owncloud.org/ns}"
PROPS = ["{DAV:}getetag", OC + "fileid", OC + "size", OC + "permissions", OC + "checksums",
         "{DAV:}getlastmodified", "{DAV:}getcontentlength", "{DAV:}resourcetype"]


@pytest.fixture
def emulator():
    emu = OwnCloudEmulator(users={USER: PASSWORD, "bob": "bobpw"}).start()
    yield emu
    emu.stop()


@pytest.fixture
def client(emulator):
    oc = owncloud.Client(emulator.base_url)
    oc.login(USER, PASSWORD)
    return oc


def dav(emulator, path=""):
    return emulator.base_url + "/remote.php/dav/files/%s/%s" % (USER, path.lstrip("/"))


def webdav(emulator, path=""):
    return emulator.base_url + "/remote.php/webdav/" + path.lstrip("/")


def by_name(infos):
    return {info.get_name(): info for info in infos}


def etag(client, path):
    return client.file_info(path).get_etag()


def sabre_message(response):
    root = ET.fromstring(response.content)
    assert root.tag == "{DAV:}error"
    return (root.find("{http://sabredav.org/ns}exception").text,
            root.find("{http://sabredav.org/ns}message").text)


# -- discovery / auth -------------------------------------------------------------------------
def test_status_and_capabilities(emulator, client):
    status = requests.get(emulator.base_url + "/status.php").json()
    assert status["installed"] is True and status["productname"] == "Nextcloud"
    assert status["version"].startswith("28.")
    assert client.get_version() == "28.0.1"
    caps = client.get_capabilities()
    assert caps["dav"]["chunking"] == "1.0" and "files_sharing" in caps
    res = requests.get(emulator.base_url + "/ocs/v2.php/cloud/capabilities?format=json",
                       headers={"OCS-APIREQUEST": "true"}, auth=(USER, PASSWORD))
    assert res.status_code == 200
    ocs = res.json()["ocs"]
    assert ocs["meta"]["statuscode"] == 200
    assert ocs["data"]["capabilities"]["files"]["bigfilechunking"] is True
    res = requests.get(emulator.base_url + "/ocs/v1.php/cloud/capabilities",
                       headers={"OCS-APIREQUEST": "true"})
    assert ET.fromstring(res.content).find("meta/statuscode").text == "100"


def test_wrong_password_is_refused(emulator):
    with pytest.raises(owncloud.HTTPResponseError) as err:
        owncloud.Client(emulator.base_url).login(USER, "wrong")
    assert err.value.status_code == 401
    res = requests.request("PROPFIND", webdav(emulator), auth=(USER, "wrong"))
    assert res.status_code == 401 and "Basic" in res.headers["WWW-Authenticate"]
    assert sabre_message(res)[0] == "Sabre\\DAV\\Exception\\NotAuthenticated"
    token = emulator.add_app_password(USER)
    app = owncloud.Client(emulator.base_url)
    app.login(USER, token)
    assert app.list("/") == []


# -- files ------------------------------------------------------------------------------------
def test_mkdir_put_list_get(client, emulator):
    assert client.mkdir("Docs")
    assert client.mkdir("Docs/Sub")
    assert client.put_file_contents("Docs/a.txt", b"hello")
    assert client.put_file_contents("Docs/Sub/b.bin", b"x" * 100)
    assert client.get_file_contents("Docs/a.txt") == b"hello"
    listing = by_name(client.list("Docs", depth=1, properties=PROPS))
    assert set(listing) == {"a.txt", "Sub"}
    assert listing["Sub"].is_dir() and not listing["a.txt"].is_dir()
    a = listing["a.txt"].attributes
    assert a[OC + "size"] == "5" and a["{DAV:}getcontentlength"] == "5"
    assert a[OC + "permissions"] == "RGDNVW"
    assert listing["Sub"].attributes[OC + "size"] == "100"
    assert client.file_info("Docs", properties=PROPS).attributes[OC + "size"] == "105"
    # oc:checksums is a nested element: check it with a raw PROPFIND
    body = ('<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
            '<oc:checksums/><oc:fileid/><oc:id/></d:prop></d:propfind>')
    res = requests.request("PROPFIND", webdav(emulator, "Docs/a.txt"), data=body,
                           headers={"Depth": "0"}, auth=(USER, PASSWORD))
    assert res.status_code == 207
    checksum = ET.fromstring(res.content).find(".//" + OC + "checksum").text
    assert "SHA1:" + hashlib.sha1(b"hello").hexdigest() in checksum
    assert "MD5:" + hashlib.md5(b"hello").hexdigest() in checksum
    fileid = ET.fromstring(res.content).find(".//" + OC + "fileid").text
    assert ET.fromstring(res.content).find(".//" + OC + "id").text.startswith(
        "%08d" % int(fileid))
    assert emulator.tree(USER) == {"/Docs": ("folder", 105), "/Docs/Sub": ("folder", 100),
                                   "/Docs/Sub/b.bin": ("file", 100),
                                   "/Docs/a.txt": ("file", 5)}
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.file_info("missing.txt")
    assert err.value.status_code == 404


def test_mkcol_and_put_errors(client, emulator):
    client.mkdir("A")
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.mkdir("A")
    assert err.value.status_code == 405
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.mkdir("missing/B")
    assert err.value.status_code == 409
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.put_file_contents("missing/x.txt", b"x")
    assert err.value.status_code == 409
    res = requests.put(webdav(emulator, "A/new.txt"), data=b"1", auth=(USER, PASSWORD))
    assert res.status_code == 201 and res.headers["OC-FileId"] and res.headers["ETag"]
    res = requests.put(webdav(emulator, "A/new.txt"), data=b"2", auth=(USER, PASSWORD))
    assert res.status_code == 204


def test_if_none_match_star_refuses_whatever_exists(client, emulator):
    """Sabre checks preconditions before the method: ``If-None-Match: *`` is 412 on an
    existing file or folder, and lets a new name through."""
    client.mkdir("B")
    only_new = {"If-None-Match": "*"}
    res = requests.put(webdav(emulator, "B/one.txt"), data=b"1", auth=(USER, PASSWORD),
                       headers=only_new)
    assert res.status_code == 201
    for path in ("B/one.txt", "B"):
        res = requests.put(webdav(emulator, path), data=b"2", auth=(USER, PASSWORD),
                           headers=only_new)
        assert res.status_code == 412
        assert b"PreconditionFailed" in res.content
    assert client.get_file_contents("B/one.txt") == b"1"


def test_propfind_depth_infinity_refused(client, emulator):
    client.mkdir("A")
    res = requests.request("PROPFIND", webdav(emulator, "/"), headers={"Depth": "infinity"},
                           auth=(USER, PASSWORD))
    assert res.status_code == 403
    assert sabre_message(res)[1] == "PROPFIND with Depth: infinity is not allowed"
    with pytest.raises(owncloud.HTTPResponseError):
        client.list("/", depth="infinity")


def test_fileid_stable_across_move_and_rename(client, emulator):
    client.mkdir("Projects")
    client.mkdir("Projects/Alpha")
    client.put_file_contents("Projects/Alpha/spec.txt", b"v1")
    props = [OC + "fileid", "{DAV:}getetag"]
    folder_id = client.file_info("Projects/Alpha", props).attributes[OC + "fileid"]
    file_info = client.file_info("Projects/Alpha/spec.txt", props)
    file_id = file_info.attributes[OC + "fileid"]
    assert client.move("Projects/Alpha/spec.txt", "Projects/Alpha/spec-renamed.txt")
    renamed = client.file_info("Projects/Alpha/spec-renamed.txt", props)
    assert renamed.attributes[OC + "fileid"] == file_id
    assert renamed.get_etag() == file_info.get_etag()  # content unchanged
    client.mkdir("Archive")
    assert client.move("Projects/Alpha", "Archive/Alpha2")
    assert client.file_info("Archive/Alpha2", props).attributes[OC + "fileid"] == folder_id
    moved = client.file_info("Archive/Alpha2/spec-renamed.txt", props)
    assert moved.attributes[OC + "fileid"] == file_id
    assert emulator.item_by_fileid(USER, file_id)["path"] == "/Archive/Alpha2/spec-renamed.txt"
    assert client.copy("Archive/Alpha2", "Projects/Copy")
    copied = client.file_info("Projects/Copy/spec-renamed.txt", props)
    assert copied.attributes[OC + "fileid"] != file_id
    assert client.get_file_contents("Projects/Copy/spec-renamed.txt") == b"v1"
    assert client.delete("Projects/Copy")
    assert "/Projects/Copy" not in emulator.tree(USER)
    # Overwrite: F refuses an existing target, T replaces it
    client.put_file_contents("Projects/x.txt", b"x")
    headers = {"Destination": webdav(emulator, "Archive/Alpha2/spec-renamed.txt"),
               "Overwrite": "F"}
    res = requests.request("MOVE", webdav(emulator, "Projects/x.txt"), headers=headers,
                           auth=(USER, PASSWORD))
    assert res.status_code == 412
    headers["Overwrite"] = "T"
    res = requests.request("MOVE", webdav(emulator, "Projects/x.txt"), headers=headers,
                           auth=(USER, PASSWORD))
    assert res.status_code == 204
    assert client.get_file_contents("Archive/Alpha2/spec-renamed.txt") == b"x"


def test_etag_propagation(client, emulator):
    for folder in ("A", "A/B", "A/B/C", "A/Sibling", "Other"):
        client.mkdir(folder)
    client.put_file_contents("A/Sibling/s.txt", b"s")
    paths = ["/", "A", "A/B", "A/B/C", "A/Sibling", "Other", "A/Sibling/s.txt"]
    before = {p: etag(client, p) for p in paths}
    client.put_file_contents("A/B/C/deep.txt", b"deep")
    after = {p: etag(client, p) for p in paths}
    for changed in ("/", "A", "A/B", "A/B/C"):
        assert after[changed] != before[changed], changed
    for same in ("A/Sibling", "Other", "A/Sibling/s.txt"):
        assert after[same] == before[same], same
    # the listing of the root shows the same thing at depth 1
    root = by_name(client.list("/", depth=1, properties=["{DAV:}getetag"]))
    assert root["A"].get_etag() == after["A"] and root["Other"].get_etag() == after["Other"]
    # a delete deep below changes the ancestors too
    client.delete("A/B/C/deep.txt")
    assert etag(client, "A/B") != after["A/B"] and etag(client, "Other") == after["Other"]


def test_web_ui_helpers_update_etags_and_ids(client, emulator):
    emulator.mkdir(USER, "/Shared/Team")
    info = emulator.put(USER, "/Shared/Team/notes.md", b"# notes")
    assert client.get_file_contents("Shared/Team/notes.md") == b"# notes"
    shared_etag = etag(client, "Shared")
    emulator.put(USER, "/Shared/Team/notes.md", b"# notes v2")
    assert etag(client, "Shared") != shared_etag
    moved = emulator.move(USER, "/Shared/Team/notes.md", "/Shared/notes.md")
    assert moved["fileid"] == info["fileid"]
    fileid = client.file_info("Shared/notes.md", [OC + "fileid"]).attributes[OC + "fileid"]
    assert int(fileid) == info["fileid"]
    emulator.delete(USER, "/Shared/notes.md")
    assert emulator.item_by_fileid(USER, info["fileid"]) is None
    assert emulator.tree("bob") == {}


# -- uploads ----------------------------------------------------------------------------------
def test_legacy_chunking_v1(client, emulator, tmp_path):
    data = os.urandom(2500)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    client.mkdir("Up")
    assert client.put_file("Up/big.bin", str(local), chunked=True, chunk_size=1000)
    assert client.get_file_contents("Up/big.bin") == data
    chunk_puts = [r for r in emulator.requests if r[0] == "PUT" and "-chunking-" in r[2]]
    assert len(chunk_puts) == 3
    assert emulator.tree(USER)["/Up/big.bin"] == ("file", 2500)
    assert set(emulator.tree(USER)) == {"/Up", "/Up/big.bin"}  # no chunk left behind


def test_chunking_v2(client, emulator):
    auth = (USER, PASSWORD)
    base = emulator.base_url + "/remote.php/dav/uploads/%s/web-1234" % USER
    client.mkdir("Up")
    dest = dav(emulator, "Up/v2.bin")
    assert requests.request("MKCOL", base, auth=auth,
                            headers={"Destination": dest}).status_code == 201
    parts = [b"a" * 700, b"b" * 700, b"c" * 100]
    for index, part in enumerate(parts, start=1):
        res = requests.put("%s/%05d" % (base, index), data=part, auth=auth)
        assert res.status_code == 201
    res = requests.request("MOVE", base + "/.file", auth=auth,
                           headers={"Destination": dest, "OC-Total-Length": "9999"})
    assert res.status_code == 400
    res = requests.request("MOVE", base + "/.file", auth=auth,
                           headers={"Destination": dest, "OC-Total-Length": "1500",
                                    "X-OC-MTime": "1700000000"})
    assert res.status_code == 201 and res.headers["OC-FileId"]
    assert client.get_file_contents("Up/v2.bin") == b"".join(parts)
    info = client.file_info("Up/v2.bin")
    assert info.get_last_modified().year == 2023
    assert requests.put(base + "/00001", data=b"x", auth=auth).status_code == 409  # gone
    assert emulator.counters["uploads/PUT"] == 4


def test_checksum_quota_lock(client, emulator):
    auth = (USER, PASSWORD)
    client.mkdir("D")
    res = requests.put(webdav(emulator, "D/c.txt"), data=b"abc", auth=auth,
                       headers={"OC-Checksum": "SHA1:" + "0" * 40})
    assert res.status_code == 400 and "checksum" in sabre_message(res)[1]
    res = requests.put(webdav(emulator, "D/c.txt"), data=b"abc", auth=auth,
                       headers={"OC-Checksum": "SHA1:" + hashlib.sha1(b"abc").hexdigest()})
    assert res.status_code == 201
    emulator.set_quota(USER, 100)
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.put_file_contents("D/big.bin", b"x" * 200)
    assert err.value.status_code == 507
    assert client.put_file_contents("D/small.bin", b"x" * 50)
    emulator.set_quota(USER, None)
    emulator.lock_item("/D/c.txt", user=USER)
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.put_file_contents("D/c.txt", b"new")
    assert err.value.status_code == 423
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.delete("D")
    assert err.value.status_code == 423
    assert client.get_file_contents("D/c.txt") == b"abc"  # reads still work
    emulator.unlock("/D/c.txt", user=USER)
    assert client.put_file_contents("D/c.txt", b"new")


# -- shares -----------------------------------------------------------------------------------
def test_public_link_shares(client, emulator):
    client.mkdir("Pub")
    client.put_file_contents("Pub/report.pdf", b"%PDF-1.4")
    share = client.share_file_with_link("Pub/report.pdf")
    assert share.get_token() and share.get_link().endswith("/s/" + share.get_token())
    shares = client.get_shares("Pub/report.pdf")
    assert [s.get_id() for s in shares] == [share.get_id()]
    assert shares[0].get_share_type() == 3 and shares[0].get_path() == "/Pub/report.pdf"
    assert client.get_shares("Pub") == []
    assert requests.get(share.get_link() + "/download").content == b"%PDF-1.4"
    # the share follows the file when it moves
    client.move("Pub/report.pdf", "Pub/final.pdf")
    assert client.get_shares("Pub/final.pdf")[0].get_id() == share.get_id()
    res = requests.get(emulator.base_url + "/ocs/v2.php/apps/files_sharing/api/v1/shares",
                       params={"path": "/Pub/final.pdf", "format": "json"},
                       headers={"OCS-APIREQUEST": "true"}, auth=(USER, PASSWORD))
    assert res.json()["ocs"]["data"][0]["token"] == share.get_token()
    assert client.delete_share(share.get_id())
    assert client.get_shares("Pub/final.pdf") == []
    with pytest.raises(owncloud.OCSResponseError) as err:
        client.get_shares("nope.txt")
    assert err.value.status_code == 404


# -- endpoints, faults ------------------------------------------------------------------------
def test_new_dav_endpoint_when_chunking_not_advertised():
    with OwnCloudEmulator(users={USER: PASSWORD}, dav_chunking=None) as emu:
        oc = owncloud.Client(emu.base_url)
        oc.login(USER, PASSWORD)
        assert "/remote.php/dav/files/" in oc._webdav_url
        oc.mkdir("X")
        oc.put_file_contents("X/y.txt", b"y")
        assert [f.get_name() for f in oc.list("X")] == ["y.txt"]
        oc.move("X/y.txt", "X/z.txt")
        assert oc.get_file_contents("X/z.txt") == b"y"
        res = requests.request("PROPFIND", emu.base_url + "/remote.php/dav/files/other/",
                               auth=(USER, PASSWORD), headers={"Depth": "0"})
        assert res.status_code == 404


def test_faults(client, emulator):
    emulator.inject("PUT", Fault("status", status=503))
    with pytest.raises(owncloud.HTTPResponseError) as err:
        client.put_file_contents("f.txt", b"1")
    assert err.value.status_code == 503
    assert client.put_file_contents("f.txt", b"1")
    emulator.inject("MKCOL", Fault("drop_after_apply"))
    with pytest.raises(requests.ConnectionError):
        client.mkdir("Ambiguous")
    assert emulator.tree(USER)["/Ambiguous"] == ("folder", 0)  # it was applied
    emulator.inject("PROPFIND", Fault("timeout", delay=0.3))
    with pytest.raises(requests.RequestException):
        requests.request("PROPFIND", webdav(emulator), auth=(USER, PASSWORD), timeout=0.1)
    emulator.inject("ocs/shares", Fault("status", status=500))
    with pytest.raises(owncloud.HTTPResponseError):
        client.share_file_with_link("f.txt")


# -- disk mode, CLI ---------------------------------------------------------------------------
def test_disk_backed_mode_survives_restart(tmp_path):
    root = tmp_path / "cloud"
    with OwnCloudEmulator(users={USER: PASSWORD}, root_dir=str(root)) as emu:
        oc = owncloud.Client(emu.base_url)
        oc.login(USER, PASSWORD)
        oc.mkdir("Invoices")
        oc.put_file_contents("Invoices/INV-001.pdf", b"pdf bytes")
        info = oc.file_info("Invoices/INV-001.pdf", [OC + "fileid", "{DAV:}getetag"])
        share = oc.share_file_with_link("Invoices/INV-001.pdf")
    assert (root / USER / "Invoices" / "INV-001.pdf").read_bytes() == b"pdf bytes"
    with OwnCloudEmulator(users={USER: PASSWORD}, root_dir=str(root)) as emu:
        oc = owncloud.Client(emu.base_url)
        oc.login(USER, PASSWORD)
        again = oc.file_info("Invoices/INV-001.pdf", [OC + "fileid", "{DAV:}getetag"])
        assert again.attributes == info.attributes
        assert oc.get_shares("Invoices/INV-001.pdf")[0].get_token() == share.get_token()
        folder_etag = etag(oc, "Invoices")
        # a person edits a file and drops a new one directly on disk
        (root / USER / "Invoices" / "INV-001.pdf").write_bytes(b"edited by hand")
        (root / USER / "Invoices" / "INV-002.pdf").write_bytes(b"new")
        edited = oc.file_info("Invoices/INV-001.pdf", [OC + "fileid", "{DAV:}getetag"])
        assert edited.attributes[OC + "fileid"] == info.attributes[OC + "fileid"]
        assert edited.get_etag() != info.get_etag()
        assert etag(oc, "Invoices") != folder_etag
        assert sorted(f.get_name() for f in oc.list("Invoices")) == ["INV-001.pdf",
                                                                     "INV-002.pdf"]
        oc.move("Invoices/INV-002.pdf", "INV-002.pdf")
        assert (root / USER / "INV-002.pdf").read_bytes() == b"new"
        assert not (root / USER / "Invoices" / "INV-002.pdf").exists()
        with open(root / ".owncloud-emulator.json") as handle:
            assert USER in json.load(handle)["users"]


def test_cli_serves(tmp_path):
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloud_emulators.owncloud", "--port", "0", "--root",
         str(tmp_path), "--user", USER, "--password", PASSWORD],
        cwd=tests_dir, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" on ")[1].split()[0]
        assert requests.get(url + "/status.php", timeout=5).json()["installed"] is True
        oc = owncloud.Client(url)
        oc.login(USER, PASSWORD)
        oc.put_file_contents("hello.txt", b"hi")
        assert (tmp_path / USER / "hello.txt").read_bytes() == b"hi"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_names_longer_than_255_bytes_refused(emulator, client):
    """Like the servers (PHP ``strlen``): the limit counts bytes, so 128 'é' (256 bytes)
    are refused where 255 ASCII characters pass."""
    auth = (USER, PASSWORD)
    ok = "a" * 255
    assert requests.put(dav(emulator, ok), data=b"x", auth=auth, timeout=10).status_code == 201
    too_long = "é" * 128
    for response in (
            requests.put(dav(emulator, too_long), data=b"x", auth=auth, timeout=10),
            requests.request("MKCOL", dav(emulator, too_long), auth=auth, timeout=10),
            requests.request("MOVE", dav(emulator, ok), auth=auth, timeout=10,
                             headers={"Destination": dav(emulator, too_long)})):
        assert response.status_code == 400
        assert "File name is too long" in response.text
    assert client.file_info("/" + ok) is not None


def _uploads(emulator, rest=""):
    return emulator.base_url + "/remote.php/dav/uploads/%s/%s" % (USER, rest)


@pytest.mark.parametrize("refusal", [None, 404, 405, 501])
def test_server_without_chunking_v2(refusal):
    """Still advertised, but the DAV tree has no ``uploads`` collection: Sabre answers 409 to
    a MKCOL below it and 404 to anything else; or a front server answers ``refusal``."""
    with OwnCloudEmulator(users={USER: PASSWORD}, chunking_v2=False,
                          chunking_refusal=refusal) as emulator:
        auth = (USER, PASSWORD)
        caps = owncloud.Client(emulator.base_url)
        caps.login(USER, PASSWORD)
        assert caps.get_capabilities()["dav"]["chunking"] == "1.0"
        mkcol = requests.request("MKCOL", _uploads(emulator, "u1"), auth=auth, timeout=10)
        put = requests.put(_uploads(emulator, "u1/00001"), data=b"x", auth=auth, timeout=10)
        move = requests.request("MOVE", _uploads(emulator, "u1/.file"), auth=auth, timeout=10,
                                headers={"Destination": dav(emulator, "f.bin")})
        if refusal is None:
            assert (mkcol.status_code, put.status_code, move.status_code) == (409, 404, 404)
            assert "Parent node does not exist" in mkcol.text
        else:
            assert {mkcol.status_code, put.status_code, move.status_code} == {refusal}
        assert not emulator._uploads and not emulator.exists(USER, "/f.bin")
        # plain WebDAV keeps working
        assert requests.put(dav(emulator, "f.bin"), data=b"x", auth=auth,
                            timeout=10).status_code == 201


def test_server_without_chunking_v1():
    """``OC-Chunked`` ignored: the piece becomes a file of its chunk name; with a refusal
    status the PUT answers it and nothing is stored."""
    auth, headers = (USER, PASSWORD), {"OC-Chunked": "1"}
    with OwnCloudEmulator(users={USER: PASSWORD}, chunking_v1=False) as emulator:
        response = requests.put(webdav(emulator, "a.bin-chunking-42-2-0"), data=b"abc",
                                auth=auth, headers=headers, timeout=10)
        assert response.status_code == 201 and response.headers.get("OC-FileId")
        assert emulator.get(USER, "/a.bin-chunking-42-2-0") == b"abc"
        assert not emulator.exists(USER, "/a.bin") and not emulator._chunks_v1
    with OwnCloudEmulator(users={USER: PASSWORD}, chunking_v1=False,
                          chunking_refusal=405) as emulator:
        response = requests.put(webdav(emulator, "a.bin-chunking-42-2-0"), data=b"abc",
                                auth=auth, headers=headers, timeout=10)
        assert response.status_code == 405
        assert emulator.tree(USER) == {}


def test_cli_chunking_options():
    from cloud_emulators import owncloud as module

    seen = {}

    class Stop(Exception):
        pass

    def fake_start(self):
        seen.update(v2=self.chunking_v2, v1=self.chunking_v1, refusal=self.chunking_refusal)
        raise Stop

    original = module.OwnCloudEmulator.start
    module.OwnCloudEmulator.start = fake_start
    try:
        with pytest.raises(Stop):
            module.main(["--port", "0", "--no-chunking-v2", "--no-chunking-v1",
                         "--chunking-refusal", "405"])
    finally:
        module.OwnCloudEmulator.start = original
    assert seen == {"v2": False, "v1": False, "refusal": 405}
