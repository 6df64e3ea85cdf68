"""Security of the core (R-SEC-*): what an internal, non-admin user can and cannot do.

Run alone with ``--test-tags=security``.
"""
import glob
import os
import tempfile
from unittest.mock import patch

import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config, mute_logger

from odoo.addons.cloud_base.lib import name_template
from odoo.addons.cloud_base.lib.adapter import Transient
from odoo.addons.cloud_base.models.cloud_client import MEMORY_STORAGE_FLAG
from odoo.addons.cloud_base.models.ir_attachment import CloudReadError

from .common import CloudCase, CloudTestMixin


def _internal_user(env, login):
    return new_test_user(env, login=login, groups="base.group_user,base.group_partner_manager",
                         name=login.title())


@tagged("security", "post_install", "-at_install")
class TestEngineOwnsCloudFields(CloudCase):
    """R-SEC-1: only the engine sets the cloud fields of an attachment, and deletes in the
    cloud only what it recorded."""

    def setUp(self):
        super().setUp()
        self.user = _internal_user(self.env, "sec_user")
        self.make_rule()
        self.partner = self.Partner.create({"name": "Acme"})
        self.synced = self.attach(self.partner, "contract.pdf", b"signed")
        self.sync()
        self.assertSynced(self.synced, b"signed")
        self.root_id = self.client.root_folder_id.cloud_id

    def test_r_sec_1_user_cannot_forge_a_cloud_attachment(self):
        Attachment = self.env["ir.attachment"].with_user(self.user)
        forged = {"name": "x", "res_model": "res.partner", "res_id": self.partner.id,
                  "type": "url", "cloud_client_id": self.client.id, "cloud_kind": "file",
                  "cloud_item_id": self.root_id}
        with self.assertRaises(AccessError):
            Attachment.create(forged)
        # the engine's context key is no pass for a user: only the superuser holds it
        with self.assertRaises(AccessError):
            Attachment.with_context(cloud_sync=True).create(forged)
        # an import reports the refusal and creates nothing
        result = Attachment.load(["name", "cloud_item_id", "cloud_kind"],
                                 [["y", self.root_id, "file"]])
        self.assertFalse(result["ids"])
        self.assertTrue(result["messages"])
        self.assertEqual(self.Attachment.search_count([("cloud_item_id", "=", self.root_id)]), 0)

    def test_r_sec_1_user_cannot_repoint_or_clear_cloud_fields(self):
        mine = self.attach(self.partner, "mine.txt", b"mine").with_user(self.user)
        with self.assertRaises(AccessError):
            mine.write({"cloud_item_id": self.root_id, "cloud_kind": "file",
                        "cloud_client_id": self.client.id})
        with self.assertRaises(AccessError):
            self.synced.with_user(self.user).write({"cloud_item_id": False})
        # ordinary edits still work, and the new version is queued for upload
        self.synced.with_user(self.user).write({"name": "contract-v2.pdf"})

    def test_r_sec_1_copy_is_a_local_file(self):
        copy = self.synced.with_user(self.user).copy()
        self.assertFalse(copy.cloud_item_id)
        self.assertFalse(copy.cloud_client_id)
        self.assertEqual(copy.type, "binary")
        self.assertEqual(copy.raw, b"signed")
        # deleting the copy deletes nothing in the cloud
        item = self.synced.cloud_item_id
        copy.unlink()
        self.run_queue()
        self.assertIn(item, self.store.content)

    def test_r_sec_1_unlink_deletes_only_the_recorded_item(self):
        item = self.synced.cloud_item_id
        self.synced.with_user(self.user).unlink()
        tasks = self.Task.search([("type", "=", "file_delete"), ("state", "=", "pending")])
        self.assertEqual([t.payload["cloud_id"] for t in tasks], [item])
        self.run_queue()
        self.assertNotIn(item, self.store.content)
        self.assertIn(self.root_id, self.store.items)

    def test_r_sec_1_delete_task_refuses_managed_folders(self):
        """A delete task pointing at a managed folder (however it got there) deletes nothing."""
        object_folder = self.folder_of(self.partner)
        for cloud_id in (self.root_id, object_folder.cloud_id):
            self.Task._enqueue(self.client, "file_delete", payload={"cloud_id": cloud_id,
                                                                    "name": "forged"})
        # a folder delete the planner did not make (no object folder kind) is refused too
        self.Task._enqueue(self.client, "folder_delete",
                           payload={"cloud_id": object_folder.parent_id.cloud_id})
        self.run_queue()
        self.assertIn(self.root_id, self.store.items)
        self.assertIn(object_folder.cloud_id, self.store.items)
        self.assertIn(object_folder.parent_id.cloud_id, self.store.items)
        self.assertIn(self.synced.cloud_item_id, self.store.content)
        refused = self.env["cloud.log"].search([("client_id", "=", self.client.id),
                                                ("message", "ilike", "was not deleted")])
        self.assertEqual(len(refused), 3)

    def test_r_sec_1_file_delete_never_deletes_a_folder(self):
        stray = self.store.put_folder(self.root_id, "Not a file")
        self.Task._enqueue(self.client, "file_delete", payload={"cloud_id": stray.id,
                                                                "name": "Not a file"})
        self.run_queue()
        self.assertIn(stray.id, self.store.items)

    def test_r_sec_1_planned_folder_delete_still_works(self):
        folder_id = self.folder_of(self.partner).cloud_id
        self.synced.unlink()
        self.partner.unlink()
        self.sync()
        self.assertNotIn(folder_id, self.store.items)


@tagged("security", "post_install", "-at_install")
class TestEngineRecordsAreAdminOnly(CloudCase):
    """R-SEC-2 / R-SEC-3: managed folders, tasks, logs and clients are for administrators; every
    button checks the caller's rights before calling the provider."""

    def setUp(self):
        super().setUp()
        self.user = _internal_user(self.env, "sec_viewer")
        self.make_rule()
        hidden = self.Partner.create({"name": "Secret merger target"})
        self.attach(hidden, "terms.pdf", b"terms")
        self.sync()
        self.client.sudo().write({"state_message": "https://cloud.example.com as admin@corp"})

    def test_r_sec_2_user_reads_no_folder_task_log_or_client(self):
        for model in ("cloud.folder", "cloud.task", "cloud.log", "cloud.client",
                      "cloud.sync.rule"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.user).search_read([], ["display_name"])

    def test_r_sec_3_state_message_is_admin_only(self):
        field = self.env["cloud.client"]._fields["state_message"]
        self.assertEqual(field.groups, "base.group_system")
        with self.assertRaises(AccessError):
            self.client.with_user(self.user).read(["state_message"])

    def test_r_sec_3_buttons_check_rights_before_any_call(self):
        client = self.client.with_user(self.user)
        self.adapter.calls.clear()
        tasks_before = self.Task.search_count([])
        buttons = ["action_connect", "action_reconnect", "action_sync_now",
                   "action_backward_sync_now", "action_confirm_deletions", "action_reset",
                   "action_archive_client", "action_retry_failed", "action_open_tasks",
                   "action_open_rules", "action_open_logs", "action_retry_failed_notify"]
        for name in buttons:
            with self.assertRaises(AccessError, msg=name):
                getattr(client, name)()
        self.assertEqual(sum(self.adapter.calls.values()), 0)
        self.assertEqual(self.Task.search_count([]), tasks_before)
        task = self.Task.search([], limit=1)
        for name in ("action_retry", "action_cancel"):
            with self.assertRaises(AccessError, msg=name):
                getattr(task.with_user(self.user), name)()


@tagged("security", "post_install", "-at_install")
class TestMemoryStorageIsForTests(CloudTestMixin, HttpCase):
    """R-SEC-6: no production client keeps files in process memory."""

    def _production(self):
        registry = type(self.env.registry)
        return [patch.dict(config.options, {"test_enable": False}),
                patch.object(registry, "in_test_mode", lambda self: False),
                patch.dict(os.environ, {MEMORY_STORAGE_FLAG: ""})]

    def test_r_sec_6_no_default_provider(self):
        self.assertFalse(self.env["cloud.client"].default_get(["provider"]).get("provider"))
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            self.env["cloud.client"].create({"name": "Nothing chosen"})

    def test_r_sec_6_memory_refused_outside_tests(self):
        patches = self._production()
        for p in patches:
            p.start()
        try:
            with self.assertRaises(ValidationError):
                self.env["cloud.client"].create({"name": "RAM", "provider": "memory"})
            os.environ[MEMORY_STORAGE_FLAG] = "1"  # a developer's explicit choice
            client = self.env["cloud.client"].create({"name": "RAM", "provider": "memory"})
            os.environ[MEMORY_STORAGE_FLAG] = ""
            with self.assertRaises(UserError):
                client.action_connect()
        finally:
            for p in reversed(patches):
                p.stop()


@tagged("security", "post_install", "-at_install")
class TestCloudReadsFailLoudly(CloudCase):
    """R-SEC-7: an unreadable cloud file is an error, never empty bytes."""

    def test_r_sec_7_raw_copy_and_datas_raise_when_cloud_down(self):
        self.make_rule()
        partner = self.Partner.create({"name": "Down Inc"})
        attachment = self.attach(partner, "report.pdf", b"%PDF-1.4 quarterly")
        self.sync()
        self.assertSynced(attachment, b"%PDF-1.4 quarterly")
        attachment.invalidate_recordset()
        self.adapter.faults.inject("download", Transient("server down"), count=10)
        with self.assertRaises(CloudReadError):
            attachment.raw  # noqa: B018
        attachment.invalidate_recordset()
        with self.assertRaises(CloudReadError):
            attachment.datas  # noqa: B018
        count = self.Attachment.search_count([])
        with self.assertRaises(CloudReadError):
            attachment.copy()
        self.assertEqual(self.Attachment.search_count([]), count)


@tagged("security", "post_install", "-at_install")
class TestNoTemporaryFileLeft(CloudTestMixin, HttpCase):
    """R-SEC-8: /web/image on a synced non-image leaves nothing in the temporary folder."""

    def test_r_sec_8_web_image_on_pdf_leaves_no_temp_file(self):
        import uuid

        from ..lib.memory_adapter import drop_store
        store_name = "img-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, store_name)
        client = self.env["cloud.client"].create({"name": "Memory", "provider": "memory",
                                                  "api_base_url": store_name})
        client.action_connect()
        partner = self.env["res.partner"].create({"name": "Pdf Ltd"})
        self.rule_for(client, domain="[('id', '=', %d)]" % partner.id)
        pdf = self.env["ir.attachment"].create({
            "name": "scan.pdf", "raw": b"%PDF-1.4 " + b"x" * 50000, "res_model": "res.partner",
            "res_id": partner.id, "mimetype": "application/pdf", "public": True})
        client._prepare_direct()
        self.run_queue()
        pdf.invalidate_recordset()
        self.assertEqual(pdf.type, "url")
        pattern = os.path.join(tempfile.gettempdir(), "odoo-cloud-*")
        before = set(glob.glob(pattern))
        for url in ("/web/image/%d?width=50" % pdf.id, "/web/image/%d" % pdf.id,
                    "/web/content/%d" % pdf.id):
            self.url_open(url)
            self.assertEqual(set(glob.glob(pattern)), before, url)


@tagged("security", "post_install", "-at_install")
class TestNameExpressionsCannotAct(CloudCase):
    """R-SEC-4: a name expression reads field values; it cannot write, reach ``env``, run
    for ever or build huge values, neither when saved nor in the form's live preview."""

    PAYLOADS = [
        "${object.write({'name': 'pwned'})}",
        "${object.sudo().unlink()}",
        "${object.unlink()}",
        "${object.env.cr.execute('DELETE FROM res_partner')}",
        "${object.env['res.users'].search([]).mapped('login')}",
        "${object.parent_id.env.registry}",
        "${object.child_ids.sudo()}",
        "${object.with_user(1).name}",
        "${object.read(['name'])}",
        "${object._name}",
        "${object.name.__class__.__mro__}",
        "${getattr(object, 'env')}",
        "${'{0.env}'.format(object)}",
        "${'%*d' % (999999999, 1)}",
        "${f'{object.name:>999999999}'}",
        "${'x' * 10 ** 10}",
        "${'x' * 100000000}",
        "${'ab'.replace('', 'x' * 9000) * 2}",
        "${object.name.zfill(999999999)}",
        "${[c for c in 'abc']}",
        "${(lambda: object.unlink())()}",
        "${object.create_date.strftime('%999999999Y')}",
        "${" + "(" * 300 + "1" + ")" * 300 + "}",
        "${" + " + ".join(["object.name"] * 400) + "}",
        "${object.name | n}",
        "<% object.write({'name': 'pwned'}) %>",
        "<%! import os %>",
        "% for x in object.child_ids:\n${x.name}\n% endfor",
        "<%include file='/etc/passwd'/>",
    ]

    def test_r_sec_4_escape_payloads_refused_or_harmless(self):
        partner = self.Partner.create({"name": "Target", "city": "Ghent"})
        self.Partner.create({"name": "Child", "parent_id": partner.id})
        rule = self.make_rule(domain="[('id', '=', %d)]" % partner.id,
                              name_expression="${object.name}")
        users, partners = self.env["res.users"].search_count([]), self.Partner.search_count([])
        for payload in self.PAYLOADS:
            # at save time: refused with a message, or (if it only fails on the record) its
            # rendering is refused and the folder keeps the display name
            try:
                with self.env.cr.savepoint():
                    rule.name_expression = payload
                    self.env.flush_all()
            except ValidationError:
                refused_at_save = True
            else:
                refused_at_save = False
            if not refused_at_save:
                with self.assertRaises(name_template.TemplateError, msg=payload):
                    name_template.render(payload, partner)
            # the form's live preview of an unsaved rule runs nothing either
            draft = self.env["cloud.sync.rule"].new({
                "client_id": self.client.id, "model_id": rule.model_id.id,
                "domain": rule.domain, "name_expression": payload})
            self.assertTrue((draft.name_preview or "").startswith("Error"), payload)
            partner.invalidate_recordset()
            self.assertEqual(partner.name, "Target", payload)
            self.assertTrue(partner.exists(), payload)
        self.assertEqual(self.env["res.users"].search_count([]), users)
        self.assertEqual(self.Partner.search_count([]), partners)

    def test_r_sec_4_plain_expressions_still_work(self):
        partner = self.Partner.create({"name": "Ann", "city": "Ghent", "ref": "C-7"})
        child = self.Partner.create({"name": "Kid", "parent_id": partner.id})
        render = name_template.render
        self.assertEqual(render("${ {'a': 1}['a'] }", partner), "1")
        self.assertEqual(render("${object.name.upper()} - ${object.city[:3]}", partner),
                         "ANN - Ghe")
        self.assertEqual(render("${object.parent_id.name} / ${object.display_name}", child),
                         "Ann / Ann, Kid")
        self.assertEqual(render("${'%s-%05d' % (object.ref, object.id)}", partner),
                         "C-7-%05d" % partner.id)
        self.assertEqual(render("${f'{object.name}_{len(object.child_ids)}'}", partner),
                         "Ann_1")
        self.assertEqual(render("${object.create_date.year}", partner),
                         str(partner.create_date.year))
        self.assertEqual(render("${', '.join([object.child_ids[0].name, object.name])}",
                                partner), "Kid, Ann")
        # curly braces inside strings and dicts do not end the expression
        self.assertEqual(render("${'{' + object.name + '}'}", partner), "{Ann}")
