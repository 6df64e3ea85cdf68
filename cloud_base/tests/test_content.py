import base64
import glob
import os
import tempfile
import threading

from odoo.tests import HttpCase, tagged

from odoo.addons.cloud_base.lib.adapter import Transient
from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store


@tagged("post_install", "-at_install")
class TestContentAccess(HttpCase):
    """R-UI-3/R-UI-4: synced files stay readable through Odoo, after its access checks."""

    def setUp(self):
        super().setUp()
        import uuid
        self.store_name = "http-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, self.store_name)
        self.client = self.env["cloud.client"].create({
            "name": "Memory", "provider": "memory", "api_base_url": self.store_name})
        self.client.action_connect()
        self.partner = self.env["res.partner"].create({"name": "Visible"})
        self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id, "folder_name": "Contacts",
            "client_id": self.client.id, "domain": "[('id', '=', %d)]" % self.partner.id})
        png = base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        self.png = png
        self.image = self.env["ir.attachment"].create({
            "name": "pixel.png", "raw": png, "res_model": "res.partner",
            "res_id": self.partner.id, "mimetype": "image/png"})
        self.client._prepare_direct()
        self.env["cloud.task"]._run_queue(time_budget=60)
        self.image.invalidate_recordset()

    def test_download_and_preview_through_odoo(self):
        self.assertEqual(self.image.type, "url")
        self.assertFalse(self.image.store_fname)
        self.assertEqual(self.image.raw, self.png)
        self.authenticate("admin", "admin")
        response = self.url_open("/web/content/%d?download=true" % self.image.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.png)
        response = self.url_open("/web/image/%d" % self.image.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.png)

    def test_large_file_sent_while_it_arrives_from_the_cloud(self):
        """Issue 15 §5: the first bytes reach the browser before the cloud sent the rest; a
        Range is served; no temporary file."""
        data = bytes(range(256)) * 8192  # 2 MiB: eight pieces of the in-memory download
        big = self.env["ir.attachment"].create({
            "name": "stream.bin", "raw": data, "res_model": "res.partner",
            "res_id": self.partner.id, "mimetype": "application/octet-stream"})
        self.client._prepare_direct()
        self.env["cloud.task"]._run_queue(time_budget=60)
        big.invalidate_recordset()
        adapter = self.client._get_adapter()
        original = type(adapter).download
        release = threading.Event()
        sent = []

        def slow_download(self_, item_id):
            for n, piece in enumerate(original(self_, item_id)):
                if n == 1:
                    release.wait(20)  # the cloud stalls after its first piece
                sent.append(len(piece))
                yield piece

        self.patch(type(adapter), "download", slow_download)
        self.authenticate("admin", "admin")
        url = "%s/web/content/%d?download=true" % (self.base_url(), big.id)
        response = self.opener.get(url, stream=True, timeout=20)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(int(response.headers["Content-Length"]), len(data))
        first = response.raw.read(1024)
        self.assertEqual(first, data[:1024])
        self.assertEqual(len(sent), 1)  # only the first piece has left the cloud
        release.set()
        self.assertEqual(first + response.raw.read(), data)
        response = self.opener.get(url, headers={"Range": "bytes=300000-300099"}, timeout=20)
        self.assertEqual(response.status_code, 206)
        self.assertEqual(response.content, data[300000:300100])

    def test_large_file_streamed_without_temporary_file(self):
        data = bytes(range(256)) * 40000  # 10 MiB, not an image
        big = self.env["ir.attachment"].create({
            "name": "big.bin", "raw": data, "res_model": "res.partner",
            "res_id": self.partner.id, "mimetype": "application/octet-stream"})
        self.client._prepare_direct()
        self.env["cloud.task"]._run_queue(time_budget=60)
        big.invalidate_recordset()
        self.assertEqual(big.type, "url")
        pattern = os.path.join(tempfile.gettempdir(), "odoo-cloud-*")
        before = set(glob.glob(pattern))
        self.authenticate("admin", "admin")
        response = self.url_open("/web/content/%d?download=true" % big.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, data)
        self.assertEqual(set(glob.glob(pattern)), before)  # nothing left behind
        # the cloud is down: a clear error, not an empty file
        self.client._get_adapter().faults.inject("download", Transient("server down"))
        response = self.url_open("/web/content/%d?download=true" % big.id)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(set(glob.glob(pattern)), before)

    def test_no_access_no_content(self):
        self.authenticate(None, None)
        response = self.url_open("/web/content/%d?download=true" % self.image.id)
        self.assertNotEqual(response.content, self.png)
        self.assertIn(response.status_code, (403, 404, 303))
        self.assertEqual(len(get_store(self.store_name).content), 1)
