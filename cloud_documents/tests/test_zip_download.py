"""Download many as one zip (R-DOC-2): written while it is sent, access decided as the user on
every file, local and synced files read piece by piece, names unique inside the archive."""
import gc
import io
import logging
import os
import tempfile
import tracemalloc
import zipfile

from odoo.tests import new_test_user, tagged

from odoo.addons.cloud_base.tests.test_ui_tours import CloudTourCase

_logger = logging.getLogger(__name__)

ZIP_URL = "/cloud_documents/zip"
MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestZipDownload(CloudTourCase):

    def setUp(self):
        super().setUp()
        Groups = self.env["res.groups"]
        self.staff, self.board = Groups.create([{"name": "Zip staff"}, {"name": "Zip board"}])
        self.clerk = new_test_user(self.env, login="zip_clerk", groups="base.group_user")
        self.clerk.groups_id |= self.staff
        Folder = self.env["cloud.documents.folder"]
        self.finance = Folder.create({"name": "Finance",
                                      "read_group_ids": [(6, 0, self.staff.ids)]})
        self.payroll = Folder.create({"name": "Payroll", "parent_id": self.finance.id})
        self.empty = Folder.create({"name": "Empty", "parent_id": self.finance.id})
        self.minutes = Folder.create({"name": "Board minutes", "parent_id": self.finance.id,
                                      "own_access": True,
                                      "read_group_ids": [(6, 0, self.board.ids)]})
        self.plan = self.put(self.finance, "plan.txt", b"the plan " * 100)
        self.put(self.finance, "Plan.TXT", b"another plan")
        self.photo = self.put(self.payroll, "photo.png", b"\x89PNG not really")
        self.secret = self.put(self.minutes, "minutes.txt", b"secret minutes")

    def put(self, folder, name, data):
        return self.env["ir.attachment"].create({"name": name, "raw": data,
                                                 "documents_folder_id": folder.id})

    def download(self, folder_ids=(), attachment_ids=(), **kwargs):
        self.env.flush_all()
        return self.opener.get(self.base_url() + ZIP_URL, params={
            "folder_ids": ",".join(map(str, folder_ids)),
            "attachment_ids": ",".join(map(str, attachment_ids))}, timeout=120, **kwargs)

    def archive(self, response):
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        self.assertIsNone(archive.testzip())
        return archive

    def test_folder_tree_zipped_with_what_the_user_reads(self):
        self.authenticate("zip_clerk", "zip_clerk")
        response = self.download([self.finance.id])
        self.assertIn("Finance.zip", response.headers["Content-Disposition"])
        archive = self.archive(response)
        self.assertEqual(sorted(archive.namelist()), [
            "Finance/", "Finance/Empty/", "Finance/Payroll/", "Finance/Payroll/photo.png",
            "Finance/Plan (2).TXT", "Finance/plan.txt"])
        self.assertEqual(archive.read("Finance/plan.txt"), b"the plan " * 100)
        self.assertEqual(archive.read("Finance/Plan (2).TXT"), b"another plan")
        self.assertEqual(archive.read("Finance/Payroll/photo.png"), b"\x89PNG not really")
        # compressed already: stored; text: deflated
        self.assertEqual(archive.getinfo("Finance/Payroll/photo.png").compress_type,
                         zipfile.ZIP_STORED)
        self.assertEqual(archive.getinfo("Finance/plan.txt").compress_type,
                         zipfile.ZIP_DEFLATED)
        # the board's subfolder is not the clerk's to read: neither its name nor its files
        self.authenticate("admin", "admin")
        admin_names = self.archive(self.download([self.finance.id])).namelist()
        self.assertIn("Finance/Board minutes/minutes.txt", admin_names)

    def test_selected_files_get_unique_names(self):
        other = self.put(self.payroll, "plan.txt", b"payroll plan")
        self.authenticate("zip_clerk", "zip_clerk")
        archive = self.archive(self.download(attachment_ids=[self.plan.id, other.id]))
        self.assertEqual(archive.namelist(), ["plan.txt", "plan (2).txt"])
        self.assertEqual(archive.read("plan (2).txt"), b"payroll plan")

    def test_file_the_user_may_not_read_refuses_the_download(self):
        self.authenticate("zip_clerk", "zip_clerk")
        with self.assertLogs("odoo.http", "WARNING"):
            response = self.download(attachment_ids=[self.plan.id, self.secret.id])
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"secret minutes", response.content)
        with self.assertLogs("odoo.http", "WARNING"):
            response = self.download([self.minutes.id])
        self.assertEqual(response.status_code, 403)
        # not logged in: the login page, no file
        self.authenticate(None, None)
        response = self.download(attachment_ids=[self.plan.id], allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)

    def test_big_file_zipped_with_bounded_memory(self):
        size = 50 * MIB
        piece = os.urandom(MIB)
        big = self.env["ir.attachment"].create({
            "name": "big.bin", "raw": piece * 50, "mimetype": "application/octet-stream",
            "documents_folder_id": self.payroll.id})
        self.assertTrue(big.store_fname)
        self.authenticate("zip_clerk", "zip_clerk")
        self.env.flush_all()
        gc.collect()
        received = 0
        with tempfile.TemporaryFile() as out:
            tracemalloc.start()
            try:
                with self.download(attachment_ids=[big.id], stream=True) as response:
                    self.assertEqual(response.status_code, 200)
                    for data in response.iter_content(256 * 1024):
                        out.write(data)
                        received += len(data)
                _current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            _logger.info("Zip download of a 50 MiB file: peak of traced memory %.1f MiB",
                         peak / MIB)
            self.assertGreater(received, size)  # random bytes do not deflate
            self.assertLess(peak, 16 * MIB, "the zip download holds %d bytes at once" % peak)
            out.seek(0)
            with zipfile.ZipFile(out) as archive:
                self.assertEqual(archive.getinfo("big.bin").file_size, size)
                with archive.open("big.bin") as member:
                    self.assertEqual(member.read(MIB), piece)
                    self.assertEqual(sum(len(d) for d in iter(lambda: member.read(MIB), b"")),
                                     size - MIB)

    def test_synced_files_read_from_the_cloud(self):
        client, store = self.make_client("Zip Storage")
        self.finance.client_id = client
        client._prepare_direct()
        self.run_queue()
        client._prepare_direct()
        self.run_queue()
        self.plan.invalidate_recordset()
        self.photo.invalidate_recordset()
        self.assertTrue(self.plan._cloud_content_is_remote())
        self.assertTrue(self.photo._cloud_content_is_remote())
        local = self.put(self.payroll, "local.txt", b"not yet uploaded")
        self.authenticate("zip_clerk", "zip_clerk")
        archive = self.archive(self.download([self.finance.id]))
        # (the cloud told the two plans apart: its names are the files' names now)
        self.assertEqual(archive.read("Finance/%s" % self.plan.name), b"the plan " * 100)
        self.assertEqual(archive.read("Finance/Payroll/photo.png"), b"\x89PNG not really")
        self.assertEqual(archive.read("Finance/Payroll/local.txt"), b"not yet uploaded")
        self.assertTrue(local.exists())
        # the cloud copy gone: the download is cut short, never a zip silently missing a file
        store.remove(self.photo.cloud_item_id)
        with self.assertLogs("odoo.addons.cloud_documents", "ERROR"):
            with self.download([self.finance.id], stream=True) as response:
                data = b""
                try:
                    for piece in response.iter_content(64 * 1024):
                        data += piece
                except Exception:  # noqa: BLE001 - the connection is cut: what we test
                    data = None
        if data is not None:
            with self.assertRaises(zipfile.BadZipFile):
                zipfile.ZipFile(io.BytesIO(data)).namelist()

    def test_synced_record_folder_zipped_as_the_user(self):
        """The read-only section of the file manager: a record's cloud folder as one zip,
        refused when the record is not the user's to read."""
        client, _store = self.make_client("Zip Records")
        self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id,
            "folder_name": "Contacts", "client_id": client.id,
            "domain": "[('name', 'like', 'Zip ')]"})
        other_company = self.env["res.company"].create({"name": "Zip Other Co"})
        Partner = self.env["res.partner"]
        acme = Partner.create({"name": "Zip Acme"})
        hidden = Partner.create({"name": "Zip Hidden", "company_id": other_company.id})
        for partner in acme | hidden:
            self.env["ir.attachment"].create({"name": "card.txt", "raw": b"card of %s" % (
                partner.name.encode()), "res_model": partner._name, "res_id": partner.id})
        for _round in range(2):
            client._prepare_direct()
            self.run_queue()
        acme_folder, hidden_folder = (self.env["cloud.folder"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
            ("kind", "=", "object")]) for partner in (acme, hidden))
        self.authenticate("zip_clerk", "zip_clerk")
        self.env.flush_all()
        response = self.opener.get(self.base_url() + ZIP_URL, timeout=60,
                                   params={"cloud_folder_ids": acme_folder.id})
        self.assertIn("Zip%20Acme.zip", response.headers.get("Content-Disposition", ""))
        archive = self.archive(response)
        self.assertEqual(archive.namelist(), ["Zip Acme/", "Zip Acme/card.txt"])
        self.assertEqual(archive.read("Zip Acme/card.txt"), b"card of Zip Acme")
        with self.assertLogs("odoo.http", "WARNING"):
            response = self.opener.get(self.base_url() + ZIP_URL, timeout=60,
                                       params={"cloud_folder_ids": hidden_folder.id})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"Zip Hidden", response.content)
