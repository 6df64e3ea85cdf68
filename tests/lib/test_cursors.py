"""State-carrying cursors of cloud_base/lib/cursors.py."""
import base64
import zlib

import pytest

from odoo.addons.cloud_base.lib.cursors import decode_state, encode_state
from odoo.addons.cloud_base.lib.errors import ResetNeeded


def test_round_trip_keeps_the_state():
    state = {"r": "id:1", "m": {"": "id:1", "café/ü": "id:2"}, "n": [1, None]}
    for level, ascii_only in ((9, False), (6, True)):
        cursor = encode_state("x1.", state, level=level, ensure_ascii=ascii_only)
        assert cursor.startswith("x1.") and cursor.isascii()
        assert decode_state("x1.", cursor) == state
    # the same state makes the same cursor (a cursor read twice gives the same changes)
    assert encode_state("x1.", state) == encode_state("x1.", dict(state))


@pytest.mark.parametrize("cursor", [
    None, 42, "", "x1.", "y1." + "abc", "x1.!!!not base64", "x1.é",
    "x1." + base64.urlsafe_b64encode(b"not zlib").decode(),
    "x1." + base64.urlsafe_b64encode(zlib.compress(b"{not json")).decode(),
    "x1." + base64.urlsafe_b64encode(zlib.compress(b"[1, 2]")).decode(),
    "x1." + base64.urlsafe_b64encode(zlib.compress(b"\xff\xfe")).decode(),
])
def test_unreadable_cursors_mean_reset(cursor):
    with pytest.raises(ResetNeeded) as err:
        decode_state("x1.", cursor, message="Malformed change cursor")
    assert err.value.code == "reset" and err.value.message == "Malformed change cursor"


def test_validation():
    cursor = encode_state("x1.", {"v": 1, "m": {}})
    assert decode_state("x1.", cursor, validate=lambda s: s["v"] == 1)["v"] == 1
    for validate in (lambda s: s["v"] == 2, lambda s: s["missing"], lambda s: int("x")):
        with pytest.raises(ResetNeeded):
            decode_state("x1.", cursor, validate=validate)


def test_cursors_stored_before_the_shared_module_still_read():
    """Cursors in databases were made by the adapters' own code (ownCloud: compact JSON, UTF-8,
    zlib 9; Dropbox: compact ASCII JSON, zlib 6): the shared code makes the same text."""
    import json

    state = {"v": 1, "r": "12", "rp": "/Odoo/Café", "fp": None, "p": [], "d": {}, "f": {}}
    owncloud = "oc1:" + base64.urlsafe_b64encode(zlib.compress(json.dumps(
        state, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), 9)).decode("ascii")
    assert encode_state("oc1:", state, level=9) == owncloud
    assert decode_state("oc1:", owncloud) == state
    dbx_state = {"r": "id:a", "p": "/odoo/café", "c": "AAE", "m": {"": "id:a"}}
    dropbox = "dbx1." + base64.urlsafe_b64encode(zlib.compress(json.dumps(
        dbx_state, separators=(",", ":")).encode(), 6)).decode()
    assert encode_state("dbx1.", dbx_state, level=6, ensure_ascii=True) == dropbox
    assert decode_state("dbx1.", dropbox) == dbx_state
