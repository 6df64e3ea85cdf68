"""New versions and version checks (issue 11, loss paths): a new version is uploaded and
verified before the old one goes; files without a provider hash do not look changed on every
backward run; the checksum (HTTP ETag) of a cloud file follows its cloud version."""
from odoo.tests import tagged

from odoo.addons.cloud_base.lib import adapter as cloud

from .common import CloudCase


@tagged("post_install", "-at_install")
class TestVersions(CloudCase):

    def setUp(self):
        super().setUp()
        self.make_rule()
        self.partner = self.Partner.create({"name": "Versions"})
        self.doc = self.attach(self.partner, "plan.txt", b"version one")
        self.sync()
        self.assertSynced(self.doc, b"version one")

    def files_named(self, name):
        folder = self.folder_of(self.partner)
        return [c for c in self.store.children(folder.cloud_id) if c.name == name]

    def test_new_version_uploaded_before_the_old_one_is_deleted(self):
        old_id = self.doc.cloud_item_id
        self.doc.write({"raw": b"version two"})
        self.adapter.faults.inject("upload", cloud.Transient("server down"), count=3)
        self.run_queue()
        # the upload failed: the old version is still in the cloud, the new one in Odoo
        self.assertEqual(self.store.content[old_id], b"version one")
        self.doc.invalidate_recordset()
        self.assertEqual(self.doc.raw, b"version two")
        self.adapter.faults.clear()
        self.fast_forward()
        self.run_queue()
        self.assertSynced(self.doc, b"version two")
        self.assertEqual(self.doc.name, "plan.txt")
        self.assertEqual(len(self.files_named("plan.txt")), 1)
        self.assertEqual(len(self.store.children(self.folder_of(self.partner).cloud_id)), 1)

    def test_interrupted_replacement_is_finished_and_never_imported(self):
        self.doc.write({"raw": b"version two"})
        # the new version is uploaded, then deleting the old one fails
        self.adapter.faults.inject("delete", cloud.Transient("timeout"), count=3)
        self.run_queue()
        self.backward()  # the version being uploaded is no new file of the record
        found = self.Attachment.search([("res_id", "=", self.partner.id),
                                        ("res_model", "=", "res.partner")])
        self.assertEqual(len(found), 1, found.mapped("name"))
        self.adapter.faults.clear()
        self.fast_forward()
        self.run_queue()
        self.assertSynced(self.doc, b"version two")
        names = [c.name for c in self.store.children(self.folder_of(self.partner).cloud_id)]
        self.assertEqual(names, ["plan.txt"])

    def test_no_provider_hash_no_spurious_change(self):
        # a storage that gives no content hash (e.g. WebDAV without checksums)
        self.store.update(self.doc.cloud_item_id, hash=None)
        self.doc.sudo().with_context(cloud_sync=True).write({"cloud_hash": False})
        logs = self.env["cloud.log"].search_count([])
        self.backward()
        self.assertFalse(self.env["cloud.log"].search([("id", ">", 0),
                                                       ("message", "like", "updated from")]))
        self.backward()
        self.assertEqual(self.env["cloud.log"].search_count([
            ("message", "like", "File updated")]), 0)
        self.assertGreaterEqual(self.env["cloud.log"].search_count([]), logs)
        # an Odoo edit replaces the cloud version: no conflict copy
        self.doc.write({"raw": b"edited in Odoo"})
        self.run_queue()
        self.assertSynced(self.doc, b"edited in Odoo")
        self.assertFalse(self.Attachment.search([("name", "like", "conflict")]))

    def test_checksum_follows_the_cloud_version(self):
        before = self.doc.checksum
        self.assertTrue(before)
        data = b"changed in the cloud"
        self.store.content[self.doc.cloud_item_id] = data
        self.store.update(self.doc.cloud_item_id, size=len(data),
                          hash=cloud.sha256_hex([data]))
        self.backward()
        self.doc.invalidate_recordset()
        self.assertEqual(self.doc.raw, data)
        self.assertTrue(self.doc.checksum)
        self.assertNotEqual(self.doc.checksum, before)
