"""Google Drive specifics the shared suites cannot say: the shared drive chosen by name or
from the list, clear errors (wrong shared drive, API not enabled, refresh refused), files of
the same name made by people, Google-native documents."""
import threading

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests import emulators  # noqa: F401 - cloud_emulators importable
from odoo.addons.cloud_base.tests.common import CloudTestMixin

from cloud_emulators.gdrive import DriveEmulator

from odoo.addons.cloud_base.lib import adapter as cloud

from odoo.addons.cloud_gdrive.models.cloud_client import TOKEN_SECRET

from .common import connect_with_grant, gdrive_client_values


@tagged("post_install", "-at_install")
class TestGoogleDriveProvider(CloudTestMixin, TransactionCase):

    def setUp(self):
        super().setUp()
        self.emu = DriveEmulator().start()
        self.addCleanup(lambda: threading.Thread(target=self.emu.stop, daemon=True).start())
        self.team = self.emu.add_shared_drive("Team files")
        self.emu.add_shared_drive("Archive")

    def make_client(self, **vals):
        return self.env["cloud.client"].create(gdrive_client_values(self.emu, **vals))

    def test_r_con_6_shared_drive_typed_by_name(self):
        client = connect_with_grant(self.make_client(
            gdrive_use_shared_drive=True, gdrive_shared_drive_name="Team files"), self.emu)
        self.assertEqual(client.state, "connected")
        self.assertEqual(client.gdrive_shared_drive_id, self.team)
        self.assertIn("/Odoo", self.emu.tree(root=self.team))
        self.assertNotIn("/Odoo", self.emu.tree())  # not in My Drive

    def test_r_con_6_wrong_shared_drive_then_chosen_from_list(self):
        client = self.make_client(gdrive_use_shared_drive=True,
                                  gdrive_shared_drive_name="Tema files")
        client._set_secret(TOKEN_SECRET, self.emu.issue_tokens()["refresh_token"])
        with self.assertRaises(UserError) as err:
            client.with_context(cloud_oauth_done=True).action_connect()
        self.assertIn("No single shared drive is named 'Tema files'", str(err.exception))
        self.assertIn("Archive, Team files", str(err.exception))
        self.assertNotEqual(client.state, "connected")
        client.action_gdrive_fetch_drives()  # the form's button, once authorized
        drives = self.env["cloud.gdrive.drive"].search([("client_id", "=", client.id)])
        self.assertEqual(sorted(drives.mapped("name")), ["Archive", "Team files"])
        client.write({"gdrive_shared_drive_choice_id": drives.filtered(
            lambda d: d.name == "Team files").id})
        self.assertEqual(client.gdrive_shared_drive_id, self.team)
        client.action_connect()
        self.assertEqual(client.state, "connected")
        self.assertIn("/Odoo", self.emu.tree(root=self.team))

    def test_r_con_6_shared_drive_removed_later_is_a_clear_error(self):
        client = self.make_client(gdrive_use_shared_drive=True,
                                  gdrive_shared_drive_id="0AmissingDriveUk9PVA")
        with self.assertRaises(UserError) as err:
            connect_with_grant(client, self.emu)
        self.assertIn("shared drive was not found", str(err.exception))

    def test_r_log_2_drive_api_not_enabled_is_explained(self):
        self.emu.fail("about.get", 403, "accessNotConfigured", "Google Drive API has not "
                      "been used in project 1234 before or it is disabled.", count=5)
        with self.assertRaises(UserError) as err:
            connect_with_grant(self.make_client(), self.emu)
        self.assertIn("Google Drive API is not enabled", str(err.exception))

    def test_r_con_3_refresh_refused_reconnect_needed_queue_kept(self):
        client = connect_with_grant(self.make_client(), self.emu)
        partner = self.Partner.create({"name": "Ann"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        self.emu.revoke_refresh_tokens()
        self.emu.expire_access_tokens()
        client._prepare_direct()
        self.run_queue()
        self.assertEqual(client.state, "reconnect")
        pending = self.env["cloud.task"].search([("client_id", "=", client.id),
                                                 ("state", "=", "pending")])
        self.assertTrue(pending, "the queue is kept for after the reconnection")
        connect_with_grant(client, self.emu)
        self.run_queue()
        self.assertEqual(client.state, "connected")
        self.assertIn("/Odoo/Contacts/Ann", self.emu.tree())

    def test_r_safe_3_same_names_made_by_people_are_both_imported(self):
        client = connect_with_grant(self.make_client(), self.emu)
        partner = self.Partner.create({"name": "Ann"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        client._prepare_direct()
        self.run_queue()
        folder = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                  ("res_id", "=", partner.id)])
        one = self.emu.add_file("scan.pdf", b"first", parent=folder.cloud_id)
        two = self.emu.add_file("scan.pdf", b"second", parent=folder.cloud_id)
        client._enqueue_backward()
        self.run_queue()
        attachments = self.env["ir.attachment"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertEqual(sorted(attachments.mapped("cloud_item_id")), sorted([one, two]))
        self.assertEqual(sorted(a.raw for a in attachments), [b"first", b"second"])
        # a further cycle plans nothing new and makes no third file
        client._prepare_direct()
        self.run_queue()
        self.assertEqual(len(self.emu.find("scan.pdf", parent=folder.cloud_id)), 2)

    def test_adapter_exports_google_docs_and_refuses_forms(self):
        client = connect_with_grant(self.make_client(), self.emu)
        adapter = client._get_adapter()
        doc = self.emu.add_google_doc("Minutes", "hello")
        data = b"".join(adapter.download(doc))
        self.assertTrue(data.startswith(b"EXPORT:application/vnd.openxmlformats"))
        form = self.emu.add_google_doc("Survey", "", mime_type="application/vnd.google-apps.form")
        with self.assertRaises(cloud.InvalidRequest) as err:
            b"".join(adapter.download(form))
        self.assertIn("cannot be exported", str(err.exception))
        self.assertIn(form, str(err.exception))  # the link names the document

    def test_r_rev_3_reset_exports_google_docs_and_keeps_forms_as_links(self):
        client = connect_with_grant(self.make_client(), self.emu)
        partner = self.Partner.create({"name": "Ann"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        client._prepare_direct()
        self.run_queue()
        folder = self.env["cloud.folder"].search([("client_id", "=", client.id),
                                                  ("res_id", "=", partner.id)])
        self.emu.add_google_doc("Minutes", "hello", parent=folder.cloud_id)
        self.emu.add_google_doc("Survey", "", parent=folder.cloud_id,
                                mime_type="application/vnd.google-apps.form")
        client._enqueue_backward()
        self.run_queue()
        docs = self.env["ir.attachment"].search([("res_model", "=", "res.partner"),
                                                 ("res_id", "=", partner.id)])
        self.assertEqual(sorted(docs.mapped("name")), ["Minutes", "Survey"])
        client.action_reset()
        self.run_queue()
        minutes = docs.filtered(lambda a: a.name.startswith("Minutes"))
        survey = docs - minutes
        self.assertEqual((minutes.name, minutes.type), ("Minutes.docx", "binary"))
        self.assertEqual(minutes.mimetype, "application/vnd.openxmlformats-officedocument."
                                           "wordprocessingml.document")
        self.assertTrue(minutes.raw.startswith(b"EXPORT:"))
        self.assertEqual((survey.type, survey.cloud_item_id), ("url", False))
        self.assertTrue(survey.url)
        warning = self.env["cloud.log"].search([("client_id", "=", client.id),
                                                ("level", "=", "warning"),
                                                ("message", "ilike", "Survey stays a link")])
        self.assertTrue(warning)
        self.assertEqual(client.state, "draft")  # the reset finished

    def test_rule_folder_trashed_before_its_rename_ran_is_made_again_with_its_content(self):
        """Found by the convergence suite (seed 13: rule_folder_name, backward,
        cloud_delete_managed_folder): a person trashes the rule folder while its rename is
        still to come. The rename finds it gone and remakes the rule folder alone; Drive does
        not report the folders trashed with it, so the object folders kept pointing at the
        trash. The feed now reports what the merge base knows below a trashed folder."""
        client = connect_with_grant(self.make_client(), self.emu)
        ann, bob = self.Partner.create([{"name": "Ann"}, {"name": "Bob"}])
        rule = self.rule_for(client, domain="[('id', 'in', %s)]" % [ann.id, bob.id])

        def cycle():
            for _ in range(3):
                client._prepare_direct()
                self.run_queue()
                client._enqueue_backward()
                self.run_queue()
                self.fast_forward()
        cycle()
        rule.folder_name = "People"
        client._enqueue_backward()
        self.run_queue()
        self.emu.trash(rule.folder_id.cloud_id)  # still "Contacts" in Drive
        cycle()
        self.assertEqual(sorted(self.emu.tree()),
                         ["/Odoo", "/Odoo/People", "/Odoo/People/Ann", "/Odoo/People/Bob"])
        for folder in self.env["cloud.folder"].search([("client_id", "=", client.id)]):
            self.assertFalse(self.emu.item(folder.cloud_id).get("trashed"), folder.name)
