"""The Graph adapter's own plumbing, against the Graph emulator: msal's discovery fetched once
per process and authority, the drive root by its alias."""
import threading

import pytest

from cloud_emulators.graph import GraphEmulator

from odoo.addons.cloud_onedrive.lib import graph_adapter
from odoo.addons.cloud_onedrive.lib.graph_adapter import (
    ONEDRIVE_SCOPES, DiscoveryCache, GraphAdapter, discovery_cache,
)
from odoo.addons.cloud_onedrive.tests.harness import consent_cache


@pytest.fixture
def emu():
    emulator = GraphEmulator().start()
    # a port used by an earlier emulator of this process must not bring its cache along
    graph_adapter._DISCOVERY_CACHES.pop((emulator.base_url, graph_adapter.AUTHORITY), None)
    yield emulator
    threading.Thread(target=emulator.stop, daemon=True).start()


def test_discovery_fetched_once_by_the_adapters_of_a_process(emu):
    cache = consent_cache(emu, ONEDRIVE_SCOPES)
    for _n in range(3):
        adapter = GraphAdapter(emu.client_id, emu.client_secret, token_cache=cache,
                               base_url=emu.base_url, timeout=10)
        assert adapter.check_connection()["account_id"] == emu.me_drive_id
    assert emu.counters["openid_config"] == 1  # the consent's application included
    assert emu.counters["me"] == 3
    assert discovery_cache(emu.base_url, graph_adapter.AUTHORITY) is \
        discovery_cache(emu.base_url, graph_adapter.AUTHORITY)


def test_root_folder_found_or_made_through_the_root_alias(emu):
    adapter = GraphAdapter(emu.client_id, emu.client_secret,
                           token_cache=consent_cache(emu, ONEDRIVE_SCOPES),
                           base_url=emu.base_url, timeout=10)
    made = adapter.ensure_root("Odoo")
    assert made.parent_id == emu.root_id()  # the real id, not the alias
    assert adapter.ensure_root("Odoo").id == made.id
    assert emu.counters["create_folder"] == 1
    assert emu.counters["item"] == 2  # one lookup each time: no request for the root's id


def test_discovery_cache_keeps_discovery_answers_only():
    cache = DiscoveryCache()
    cache["GET https://login.microsoftonline.com/common/v2.0/.well-known/openid-"
          "configuration hash=x 2xx"] = "config"
    cache["POST https://login.microsoftonline.com/common/oauth2/v2.0/token hash=y 400"] = "no"
    cache["_index_"] = (["seq"], {"k": (1, 0)})
    assert len(cache) == 2 and not any(k.startswith("POST") for k in cache)
    sequence, timestamps = cache.get("_index_")
    sequence.append("changed elsewhere")
    timestamps["other"] = (2, 0)
    assert cache.get("_index_") == (["seq"], {"k": (1, 0)})  # a copy each time


def test_empty_listing_of_a_known_folder_needs_no_second_request(emu):
    adapter = GraphAdapter(emu.client_id, emu.client_secret,
                           token_cache=consent_cache(emu, ONEDRIVE_SCOPES),
                           base_url=emu.base_url, timeout=10)
    folder = adapter.ensure_root("Odoo")
    items_before = emu.counters["item"]
    assert adapter.list_children(folder.id) == ([], None)
    assert emu.counters["item"] == items_before
    # a file (or an id this adapter never saw) is still told from an empty folder
    file_id = emu.add_file("/Odoo/a.txt", b"a")
    with pytest.raises(Exception, match="Not a folder"):
        adapter.list_children(file_id)
    fresh = GraphAdapter(emu.client_id, emu.client_secret,
                         token_cache=consent_cache(emu, ONEDRIVE_SCOPES),
                         base_url=emu.base_url, timeout=10)
    empty_id = emu.add_folder("/Odoo/Empty")
    assert fresh.list_children(empty_id) == ([], None)
    assert emu.counters["item"] == items_before + 2
