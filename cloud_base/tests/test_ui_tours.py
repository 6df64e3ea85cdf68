"""Browser tours of the user interface (issue 6: R-UI-1..6, R-LOG-1/3, R-RULE-2/3/5/6, R-CON-5).

The tours run in headless Chromium. They ask for screenshots of the main screens by logging
``cloud-screenshot:<name>``; the pictures go to ``docs/screenshots/`` of the repository when
they are missing there or when ``CLOUD_UPDATE_SCREENSHOTS=1``, else to a temporary folder (so
that running the tests does not rewrite the committed pictures).
"""
import base64
import io
import json
import logging
import os
import pathlib
import shutil
import tempfile
import uuid
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser, JsonRpcException

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

_logger = logging.getLogger(__name__)

SHOT_PREFIX = "cloud-screenshot:"
REPO_SCREENSHOTS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _png(width=40, height=30):
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (width, height), (1, 126, 132))
    ImageDraw.Draw(image).rectangle([5, 5, width - 6, height - 6], fill=(255, 186, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pdf():
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen import canvas
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A5)
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawString(40, 500, "Quarterly report")
    pdf.setFont("Helvetica", 12)
    pdf.drawString(40, 470, "Stored in the cloud, previewed in Odoo.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _shrink_png(data, max_width=1100):
    """Smaller pictures for the repository: scaled down, 256-colour palette."""
    try:
        from PIL import Image
        image = Image.open(io.BytesIO(data)).convert("RGB")
        if image.width > max_width:
            image = image.resize((max_width, round(image.height * max_width / image.width)),
                                 Image.LANCZOS)
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()
    except Exception:  # noqa: BLE001 - an unshrunk picture is still a picture
        _logger.exception("Could not shrink a screenshot")
        return data


class CloudTourCase(HttpCase):
    """Tours with screenshots taken on the tour's request; ``shot_names`` renames the
    pictures a shared tour asks for (``{"client_form": "admin_dropbox_client_form"}``)."""

    shot_names = {}

    def setUp(self):
        super().setUp()
        self.screenshots = []
        update = os.environ.get("CLOUD_UPDATE_SCREENSHOTS") == "1"
        self._shot_tmp = pathlib.Path(tempfile.mkdtemp(prefix="cloud_shots_"))
        self.addCleanup(shutil.rmtree, self._shot_tmp, ignore_errors=True)
        original = ChromeBrowser._handle_console
        case = self

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            if type == "log" and args:
                first = browser._from_remoteobject(args[0])
                if isinstance(first, str) and first.startswith(SHOT_PREFIX):
                    case._take_screenshot(browser, first[len(SHOT_PREFIX):], update)
            return original(browser, type, args, stackTrace, **kw)

        patcher = patch.object(ChromeBrowser, "_handle_console", handle_console)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _take_screenshot(self, browser, name, update):
        shot = name
        name = self.shot_names.get(name, name)
        target_dir = REPO_SCREENSHOTS
        if not update and (REPO_SCREENSHOTS / ("%s.png" % name)).exists():
            target_dir = self._shot_tmp
        future = browser._websocket_send("Page.captureScreenshot", params={"format": "png"},
                                         with_future=True)

        def done(fut):
            try:
                data = base64.b64decode(fut.result(timeout=0)["data"])
                target_dir.mkdir(parents=True, exist_ok=True)
                path = target_dir / ("%s.png" % name)
                path.write_bytes(_shrink_png(data))
                self.screenshots.append(path)
                _logger.info("Screenshot %s saved to %s", name, path)
            except Exception:  # noqa: BLE001 - the tour fails on the missing mark instead
                _logger.exception("Screenshot %s failed", name)
                return
            browser._websocket_send("Runtime.evaluate", params={
                "expression": "document.body.setAttribute('data-cloud-shot', %s)"
                              % json.dumps(shot)})

        future.add_done_callback(done)

    # -- data ------------------------------------------------------------------------------
    def make_client(self, name):
        store_name = "tour-%s" % uuid.uuid4().hex
        self.addCleanup(drop_store, store_name)
        client = self.env["cloud.client"].create({
            "name": name, "provider": "memory", "api_base_url": store_name,
            "mass_delete_min_files": 1000})
        client.action_connect()
        return client, get_store(store_name)

    def run_queue(self):
        self.env.flush_all()
        return self.env["cloud.task"]._run_queue(time_budget=60)


@tagged("post_install", "-at_install")
class TestUiTours(CloudTourCase):

    def test_admin_creates_rule_with_domain_and_period(self):
        """R-RULE-2/3/5/6, R-LOG-1/3: an administrator configures a rule in the browser."""
        client, _store = self.make_client("Tour Storage")
        self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id, "folder_name": "Contacts",
            "client_id": client.id,
            "domain": "[('is_company', '=', False), ('email', '!=', False)]",
            "sequence": 5})
        Partner = self.env["res.partner"]
        Partner.create([{"name": "Tour Co A", "is_company": True, "city": "Namur"},
                        {"name": "Tour Co B", "is_company": True}])
        _logger.info("Partners matching the tour's filter: %s", Partner.search(
            [("is_company", "=", True), ("name", "ilike", "Tour Co")]).mapped("display_name"))
        client._log("success", "Folder created: /Odoo/Contacts/Tour Co A")
        client._log("warning", "Upload of big.zip will be retried in 60 s: 429 Too Many Requests")
        client._log("error", "Upload refused by the provider (507 Insufficient Storage)",
                    path="/Odoo/Contacts/Tour Co B/big.zip")
        self.env["cloud.task"].create({"type": "file_upload", "client_id": client.id,
                                       "state": "failed", "attempts": 6,
                                       "last_error": "507 Insufficient Storage"})
        self.env["cloud.task"].create({"type": "folder_create", "client_id": client.id})

        self.start_tour("/odoo/action-cloud_base.action_cloud_client?debug=1",
                        "cloud_base_admin_rule_tour", login="admin", timeout=180)

        rule = self.env["cloud.sync.rule"].search([("folder_name", "=", "Tour Companies")])
        self.assertEqual(len(rule), 1)
        self.assertEqual(rule.client_id, client)
        self.assertEqual(rule.model, "res.partner")
        self.assertIn("is_company", rule.domain)
        self.assertEqual(rule.record_count, 2)
        self.assertEqual(len(rule.period_ids), 1)
        period = rule.period_ids
        self.assertEqual((period.field_id.name, period.direction, period.count, period.unit,
                          period.including_current), ("create_date", "last", 2, "months", True))
        self.assertEqual(rule.name_expression, "${object.name} - ${object.city or 'no city'}")
        tree = [(f.name, f.parent_id.name or False) for f in rule.default_folder_ids.sorted(
            lambda f: (f.parent_id.id or 0, f.sequence))]
        self.assertEqual(sorted(tree), sorted([("Contracts", False), ("Signed", "Contracts"),
                                               ("Draft versions", "Contracts")]))
        self.assertTrue(self.screenshots)

    def test_user_sees_synced_attachments(self):
        """R-UI-1..6: badge, provider thumbnail, cloud folder, folder link, download, previews."""
        client, store = self.make_client("Tour Storage")
        self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id, "folder_name": "Contacts",
            "client_id": client.id, "domain": "[('name', '=like', 'Tour Co%')]"})
        partner = self.env["res.partner"].create({"name": "Tour Co A", "is_company": True})
        Attachment = self.env["ir.attachment"]
        files = Attachment.create([
            {"name": "photo.png", "raw": _png(), "res_model": "res.partner", "res_id": partner.id},
            {"name": "report.pdf", "raw": _pdf(), "res_model": "res.partner",
             "res_id": partner.id},
            {"name": "notes.txt", "raw": b"Notes kept in the cloud", "mimetype": "text/plain",
             "res_model": "res.partner", "res_id": partner.id},
        ])
        client._prepare_direct()
        self.run_queue()
        files.invalidate_recordset()
        self.assertEqual(set(files.mapped("type")), {"url"})
        self.assertEqual(set(files.mapped("cloud_kind")), {"file"})
        # a folder made in the cloud becomes a folder link (R-BW-2)
        folder = self.env["cloud.folder"].search([("res_model", "=", "res.partner"),
                                                  ("res_id", "=", partner.id),
                                                  ("kind", "=", "object")])
        store.put_folder(folder.cloud_id, "Specs")
        client._enqueue_backward()
        self.run_queue()
        link = Attachment.search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
                                  ("cloud_kind", "=", "folder")])
        self.assertEqual(link.name, "Specs")
        # added in Odoo after the sync: an ordinary attachment until the next one (R-UI-6)
        Attachment.create({"name": "local.png", "raw": _png(20, 20), "res_model": "res.partner",
                           "res_id": partner.id})
        new_test_user(self.env, login="cloud_user",
                      groups="base.group_user,base.group_partner_manager",
                      name="Cloud User")

        self.start_tour("/odoo/res.partner/%s" % partner.id, "cloud_base_user_attachments_tour",
                        login="cloud_user", timeout=180)
        self.assertTrue(self.screenshots)

    def test_user_makes_folders_in_attachment_box(self):
        """Issue 14: a nested folder made in the attachment box, a file uploaded into it, a
        synced file moved to another folder, then dragged onto a third; the cloud follows."""
        client, store = self.make_client("Tour Storage")
        rule = self.env["cloud.sync.rule"].create({
            "model_id": self.env["ir.model"]._get("res.partner").id, "folder_name": "Contacts",
            "client_id": client.id, "domain": "[('name', '=like', 'Tour Co%')]"})
        self.env["cloud.rule.folder"].create({"name": "Contracts", "rule_id": rule.id})
        partner = self.env["res.partner"].create({"name": "Tour Co A", "is_company": True})
        notes = self.env["ir.attachment"].create({
            "name": "notes.txt", "raw": b"Notes kept in the cloud", "mimetype": "text/plain",
            "res_model": "res.partner", "res_id": partner.id})
        client._prepare_direct()
        self.run_queue()
        self.assertEqual(notes.cloud_kind, "file")
        new_test_user(self.env, login="cloud_folder_user",
                      groups="base.group_user,base.group_partner_manager", name="Folder User")

        self.start_tour("/odoo/res.partner/%s" % partner.id, "cloud_base_record_folders_tour",
                        login="cloud_folder_user", timeout=180)

        Folder = self.env["cloud.folder"]
        official = Folder.search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
                                  ("name", "=", "Official")])
        self.assertEqual((official.kind, official.parent_id.name), ("manual", "Scans"))
        scan = self.env["ir.attachment"].search([("name", "=", "scan.txt"),
                                                 ("res_id", "=", partner.id)])
        self.assertEqual(scan.cloud_subfolder_id, official)
        contracts = Folder.search([("res_model", "=", "res.partner"),
                                   ("res_id", "=", partner.id), ("name", "=", "Contracts")])
        self.assertEqual(notes.cloud_subfolder_id, contracts, "dragged from Scans to Contracts")
        self.run_queue()
        tree = store.tree()
        self.assertIn("/Odoo/Contacts/Tour Co A/Scans/Official/scan.txt", tree)
        self.assertIn("/Odoo/Contacts/Tour Co A/Contracts/notes.txt", tree)
        self.assertIn("/Odoo/Contacts/Tour Co A/Contracts", tree)
        self.assertEqual({path.stem for path in self.screenshots}, {"attachment_box_subfolders"})

    def test_non_admin_cannot_read_client_secrets(self):
        """R-CON-5 through the web client's RPC: secrets stay on the server."""
        client, _store = self.make_client("Tour Storage")
        secret = "s3cr3t-%s" % uuid.uuid4().hex
        client._set_secret("client_secret", secret)
        new_test_user(self.env, login="cloud_user2", groups="base.group_user", name="User")
        self.authenticate("cloud_user2", "cloud_user2")

        def call(model, method, *args, **kwargs):
            return self.make_jsonrpc_request("/web/dataset/call_kw/%s/%s" % (model, method), {
                "model": model, "method": method, "args": list(args), "kwargs": kwargs})

        with self.assertRaises(JsonRpcException), self.assertLogs("odoo.http", "WARNING"):
            call("cloud.client.secret", "search_read", [], ["value"])
        with self.assertRaises(JsonRpcException), self.assertLogs("odoo.http", "WARNING"):
            call("cloud.client", "read", [client.id], ["api_base_url"])
        with self.assertRaises(JsonRpcException), self.assertLogs("odoo.http", "WARNING"):
            call("cloud.client", "action_connect", [client.id])
        # clients are for administrators only (R-SEC-2): not even their names
        with self.assertRaises(JsonRpcException), self.assertLogs("odoo.http", "WARNING"):
            call("cloud.client", "search_read", [], ["name", "provider", "state"])
        # nor does the administrator's form, once the secret is saved
        self.authenticate("admin", "admin")
        form = call("cloud.client", "web_read", [client.id],
                    specification={name: {} for name in client._fields})
        self.assertNotIn(secret, json.dumps(form, default=str))
