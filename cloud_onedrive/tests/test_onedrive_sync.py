"""What only OneDrive/SharePoint can say: connection refusals, token refresh and refusal
(R-CON-3), chunked uploads through faults, links."""
import io
import logging
import os
import tracemalloc

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud
from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter

from ..lib.graph_adapter import MiB
from .common import OneDriveCase
from .harness import token_refused

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestOneDriveSync(OneDriveCase):

    def test_r_dir_2_files_synced_and_verified(self):
        client = self.make_client()
        self.rule_for(client)
        partner = self.env["res.partner"].create({"name": "Ann"})
        attachment = self.attach(partner, "report.pdf", b"%PDF-1.4 report")
        self.sync(client)
        self.assertSynced(attachment, b"%PDF-1.4 report")
        self.assertIn("/Odoo/Contacts/Ann/report.pdf", self.emu.tree())

    def test_r_con_6_sharepoint_site_missing_refused(self):
        client = self.make_client("sharepoint", connect=False, onedrive_site_path="sites/Nope")
        with self.assertRaisesRegex(UserError, "no SharePoint site"):
            client.action_connect()
        self.assertEqual(client.state, "draft")
        self.assertFalse(self.emu.find("/Odoo", self.emu.site_drive_ids[0]))

    def test_r_con_6_sharepoint_with_personal_account_refused(self):
        self.emu._drives[self.emu.me_drive_id].drive_type = "personal"
        client = self.make_client("sharepoint", connect=False)
        with self.assertRaisesRegex(UserError, "work or school"):
            client.action_connect()
        self.assertEqual(client.state, "draft")

    def test_r_con_6_sharepoint_single_library_chosen(self):
        site = self.emu.add_site("contoso.sharepoint.com", "/teams/Sales", "Sales")
        client = self.make_client("sharepoint", onedrive_site_path="teams/Sales")
        self.assertEqual(client.state, "connected")
        self.assertEqual(client.onedrive_library_id.name, "Documents")
        self.assertEqual(client.onedrive_site_id, site)
        self.assertIn("/Odoo", self.emu.tree(client.onedrive_library_id.drive_id))

    def test_r_con_3_access_token_refreshed_and_cache_kept(self):
        client = self.make_client()
        before = client._get_secret("onedrive_token_cache")
        self.emu.expire_access_tokens()
        adapter = client._get_adapter()
        adapter._token = None  # what a new process would know
        self.assertTrue(adapter.check_connection()["account"])
        self.assertNotEqual(client._get_secret("onedrive_token_cache"), before)

    def test_r_con_3_refresh_refused_reconnect_needed_queue_kept(self):
        client = self.make_client()
        self.rule_for(client)
        self.env["res.partner"].create({"name": "Bob"})
        client._prepare_direct()
        pending = self.env["cloud.task"].search_count([("client_id", "=", client.id),
                                                       ("state", "=", "pending")])
        self.assertTrue(pending)
        self.emu.expire_access_tokens()
        self.emu.revoke_refresh_tokens()
        client._get_adapter()._token = None
        self.run_queue()
        self.assertEqual(client.state, "reconnect")
        self.assertEqual(self.env["cloud.task"].search_count([
            ("client_id", "=", client.id), ("state", "=", "pending")]), pending)

    def test_refresh_refused_is_auth_expired(self):
        client = self.make_client()
        adapter = client._get_adapter()
        self.emu.fail("me", 401, "InvalidAuthenticationToken", "expired")
        self.emu.inject("token", token_refused())
        with self.assertRaises(cloud.AuthExpired):
            adapter.check_connection()

    def test_large_upload_in_chunks_through_5xx_and_429(self):
        """50 MiB in 10 MiB fragments (multiples of 320 KiB); one fragment fails with a 5xx
        and one is throttled; the upload resends them and is verified; memory stays
        bounded (the figure is printed)."""
        client = self.make_client()
        adapter = RecordingAdapter(client._get_adapter(), MemoryMergeBase())
        root = adapter.ensure_root("Odoo")
        size = 50 * MiB
        data = os.urandom(size)
        self.emu.throttle("upload_chunk", retry_after=0, count=1)
        sizes_before = len(self.emu.upload_chunk_sizes)
        self.emu.inject("upload_chunk", _fault_502())
        stream = _ReadSizes(data)
        tracemalloc.start()
        try:
            item = adapter.upload(root.id, "big.bin", stream, size)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # the emulator runs in this process and keeps the session's bytes (a buffer, then
        # the file): what is above them is the adapter's
        own = peak - 2 * size
        _logger.info("OneDrive 50 MiB upload: peak traced memory %.1f MiB, of which the "
                     "adapter about %.1f MiB; largest read from the stream %.1f MiB",
                     peak / MiB, own / MiB, max(stream.sizes) / MiB)
        self.assertLessEqual(max(stream.sizes), 10 * MiB)
        self.assertLess(own, 40 * MiB)
        self.assertEqual(item.size, size)
        self.assertEqual(self.emu.content(item.id), data)
        chunks = self.emu.upload_chunk_sizes[sizes_before:]
        self.assertEqual(sum(chunks), size)
        self.assertTrue(all(c % (320 * 1024) == 0 for c in chunks[:-1]))
        self.assertEqual(max(chunks), 10 * MiB)

    def test_r_link_1_office_document_opens_in_web(self):
        client = self.make_client()
        adapter = client._get_adapter()
        root = adapter.ensure_root("Odoo")
        item = adapter.upload(root.id, "Plan.docx", io.BytesIO(b"docx"), 4)
        self.assertIn("Plan.docx", adapter.web_url(item))
        client.onedrive_link_policy = "organization"
        link = client._provider().item_url(client, client._get_adapter(), item)
        self.assertIn("sharepoint.com/:u:", link)


class _ReadSizes(io.BytesIO):
    """A stream that remembers how much each read asked for."""

    def __init__(self, data):
        super().__init__(data)
        self.sizes = []

    def read(self, size=-1):
        self.sizes.append(len(self.getbuffer()) if size is None or size < 0 else size)
        return super().read(size)


def _fault_502():
    from cloud_emulators.common import Fault
    from cloud_emulators.graph import graph_error
    response = graph_error(502, "generalException", "Bad gateway")
    return Fault("status", count=1, status=502, body=response.body, headers=response.headers)
