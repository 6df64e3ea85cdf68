"""Access to workspace folders and files by user groups, inherited by subfolders unless
overridden (R-DOC-1); the reserved rule folder name ``Odoo Docs``."""
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.cloud_base.tests.common import CloudCase


@tagged("post_install", "-at_install")
class TestWorkspaceAccess(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Groups = cls.env["res.groups"]
        cls.staff, cls.accounting, cls.board = Groups.create(
            [{"name": "Docs staff"}, {"name": "Docs accounting"}, {"name": "Docs board"}])
        user = cls.env.ref("base.group_user")

        def make_user(login, *groups):
            return cls.env["res.users"].create({
                "name": login, "login": login,
                "groups_id": [(6, 0, [user.id] + [g.id for g in groups])]})

        cls.clerk = make_user("docs_clerk", cls.staff)
        cls.accountant = make_user("docs_accountant", cls.accounting)
        cls.director = make_user("docs_director", cls.board)
        cls.outsider = make_user("docs_outsider")
        Folder = cls.env["cloud.documents.folder"]
        cls.finance = Folder.create({
            "name": "Finance", "read_group_ids": [(6, 0, cls.staff.ids)],
            "write_group_ids": [(6, 0, cls.accounting.ids)]})
        cls.payroll = Folder.create({"name": "Payroll", "parent_id": cls.finance.id})
        cls.minutes = Folder.create({"name": "Board minutes", "parent_id": cls.finance.id,
                                     "own_access": True,
                                     "read_group_ids": [(6, 0, cls.board.ids)]})
        cls.common = Folder.create({"name": "Common"})
        cls.payslip = cls.env["ir.attachment"].create({
            "name": "payslip.pdf", "raw": b"pay", "documents_folder_id": cls.payroll.id})

    def visible(self, user):
        return set(self.env["cloud.documents.folder"].with_user(user).search([]).mapped("name"))

    def test_read_groups_inherited_by_subfolders_unless_overridden(self):
        self.assertEqual(self.payroll.effective_read_group_ids, self.staff)
        self.assertEqual(self.payroll.effective_write_group_ids, self.accounting)
        self.assertEqual(self.minutes.effective_read_group_ids, self.board)
        self.assertFalse(self.minutes.effective_write_group_ids)
        self.assertEqual(self.visible(self.clerk), {"Finance", "Payroll", "Common"})
        self.assertEqual(self.visible(self.accountant), {"Finance", "Payroll", "Common"})
        self.assertEqual(self.visible(self.director), {"Board minutes", "Common"})
        self.assertEqual(self.visible(self.outsider), {"Common"})
        self.assertEqual(self.visible(self.env.ref("base.user_admin")),
                         {"Finance", "Payroll", "Board minutes", "Common"})

    def test_parent_groups_changes_reach_inheriting_subfolders_only(self):
        self.finance.read_group_ids = self.board
        self.assertEqual(self.payroll.effective_read_group_ids, self.board)
        self.assertEqual(self.minutes.effective_read_group_ids, self.board)
        self.minutes.read_group_ids = self.staff
        self.assertEqual(self.minutes.effective_read_group_ids, self.staff)
        self.assertEqual(self.payroll.effective_read_group_ids, self.board)
        self.minutes.own_access = False  # back to inheriting
        self.assertEqual(self.minutes.effective_read_group_ids, self.board)

    def test_write_groups_change_readers_only_read(self):
        self.payroll.with_user(self.accountant).name = "Salaries"
        with self.assertRaises(AccessError):
            self.payroll.with_user(self.clerk).name = "Mine"
        with self.assertRaises(AccessError):
            self.env["cloud.documents.folder"].with_user(self.clerk).create(
                {"name": "Sub", "parent_id": self.finance.id})
        # without write groups, whoever reads writes
        self.minutes.with_user(self.director).description = "2026"

    def test_subfolder_made_with_open_access_still_needs_write_on_its_parent(self):
        with self.assertRaises(AccessError):
            self.env["cloud.documents.folder"].with_user(self.clerk).create(
                {"name": "Open", "parent_id": self.finance.id, "own_access": True})

    def test_move_needs_write_on_the_target(self):
        mine = self.env["cloud.documents.folder"].with_user(self.clerk).create({"name": "Mine"})
        with self.assertRaises(AccessError):
            mine.parent_id = self.finance.with_user(self.clerk)
        mine.parent_id = self.common
        self.assertEqual(mine.complete_name, "Common / Mine")

    def test_files_follow_their_folder(self):
        self.assertEqual(self.payslip.with_user(self.clerk).raw, b"pay")
        with self.assertRaises(AccessError):
            self.payslip.with_user(self.director).read(["name"])
        Attachment = self.env["ir.attachment"]
        self.assertFalse(Attachment.with_user(self.director).search(
            [("documents_folder_id", "!=", False)]))
        with self.assertRaises(AccessError):
            Attachment.with_user(self.clerk).create({
                "name": "x.txt", "raw": b"x", "documents_folder_id": self.payroll.id})
        added = Attachment.with_user(self.accountant).create({
            "name": "y.txt", "raw": b"y", "documents_folder_id": self.payroll.id})
        self.assertEqual(added.documents_owner_id, self.accountant)
        with self.assertRaises(AccessError):
            self.payslip.with_user(self.clerk).documents_folder_id = self.common

    def test_file_of_a_record_keeps_its_origin(self):
        partner = self.env["res.partner"].create({"name": "Origin partner"})
        attachment = self.env["ir.attachment"].create({
            "name": "contract.pdf", "raw": b"c", "res_model": "res.partner",
            "res_id": partner.id})
        attachment.documents_folder_id = self.common
        self.assertEqual((attachment.res_model, attachment.res_id),
                         ("cloud.documents.folder", self.common.id))
        self.assertEqual(attachment.documents_origin_name, "Origin partner")
        attachment.documents_folder_id = False
        self.assertEqual((attachment.res_model, attachment.res_id), ("res.partner", partner.id))
        self.assertFalse(attachment.documents_folder_id)

    def test_only_administrators_choose_the_cloud_client(self):
        with self.assertRaises(AccessError):
            self.common.with_user(self.clerk).write({"client_id": False})

    def test_backend_views_open_for_a_user(self):
        """The Documents views load for an internal user (the cloud client fields are left
        out of them), and the side panel lists the folders they may read."""
        Attachment = self.env["ir.attachment"].with_user(self.clerk)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "cloud_documents.action_documents_files")
        views = Attachment.get_views([(v, m) for v, m in action["views"]] + [
            (action["search_view_id"][0], "search")])
        self.assertEqual(set(views["views"]), {"kanban", "list", "form", "search"})
        self.assertIn("searchpanel", views["views"]["search"]["arch"])
        panel = Attachment.search_panel_select_range(
            "documents_folder_id", search_domain=[("documents_folder_id", "!=", False)])
        self.assertEqual({value["display_name"] for value in panel["values"]},
                         {"Finance", "Finance / Payroll"})
        form = self.env["cloud.documents.folder"].with_user(self.clerk).get_views(
            [(False, "form"), (False, "list")])
        self.assertNotIn("client_id", form["views"]["form"]["arch"])
        self.assertIn("effective_read_group_ids", form["views"]["form"]["arch"])

    def test_delete_needs_rights_on_every_subfolder(self):
        top = self.env["cloud.documents.folder"].with_user(self.director).create({
            "name": "Board only"})
        self.env["cloud.documents.folder"].create({
            "name": "Hidden", "parent_id": top.id, "own_access": True,
            "write_group_ids": [(6, 0, self.accounting.ids)]})
        with self.assertRaises(AccessError):
            top.unlink()
        self.assertTrue(top.exists())


@tagged("post_install", "-at_install")
class TestReservedFolderName(CloudCase):

    # (Odoo's assertRaises rolls the failed write back; assertRaisesRegex would not)
    def test_odoo_docs_is_reserved_for_the_workspace(self):
        for name in ("Odoo Docs", "odoo docs"):
            with self.assertRaises(ValidationError) as caught:
                self.make_rule(folder=name)
            self.assertIn("is reserved", str(caught.exception))
        rule = self.make_rule(model="cloud.documents.folder", folder="Odoo Docs")
        self.assertEqual(rule.placement, "documents")
        with self.assertRaises(ValidationError) as caught:
            rule.folder_name = "Workspace"
        self.assertIn("always use the folder Odoo Docs", str(caught.exception))
        contacts = self.make_rule(folder="Contacts")
        with self.assertRaises(ValidationError):
            contacts.folder_name = "ODOO DOCS"

    def test_a_rule_made_before_holding_the_name_is_named(self):
        legacy = self.make_rule(folder="Contacts")
        # as a database of before the add-on could have it: no constraint then
        self.env.cr.execute("UPDATE cloud_sync_rule SET folder_name = 'odoo docs' WHERE id = %s",
                            [legacy.id])
        legacy.invalidate_recordset()
        with self.assertRaises(UserError) as caught:
            self.env["cloud.documents.folder"].create({"name": "Shared",
                                                       "client_id": self.client.id})
        self.assertIn("rename that rule's folder first", str(caught.exception))
