"""The server side of the file manager (R-DOC-2): what it shows and does is decided as the
user (the tree, breadcrumbs, files, search, cloud state, moves)."""
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import DocumentsCase


@tagged("post_install", "-at_install")
class TestFileManagerRpc(DocumentsCase):

    def setUp(self):
        super().setUp()
        Groups = self.env["res.groups"]
        self.staff, self.board = Groups.create([{"name": "FM staff"}, {"name": "FM board"}])
        self.user = self.env["res.users"].create({
            "name": "FM clerk", "login": "fm_clerk",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id, self.staff.id])]})
        self.board_room = self.folder("Board", read_group_ids=[(6, 0, self.board.ids)])
        # readable below a hidden folder: a top folder for the user
        self.shared = self.folder("Shared", self.board_room, own_access=True)
        self.team = self.folder("Team", read_group_ids=[(6, 0, self.staff.ids)],
                                write_group_ids=[(6, 0, self.board.ids)])
        self.drafts = self.folder("Drafts", self.shared)
        self.contract = self.env["cloud.documents.tag"].create({"name": "FM Contract"})
        self.report = self.put(self.shared, "report.pdf", b"%PDF report")
        self.report.documents_tag_ids = self.contract
        self.note = self.put(self.drafts, "note.txt", b"note")
        self.memo = self.put(self.team, "memo.txt", b"memo")
        self.Folder_as_user = self.Folder.with_user(self.user)

    def test_tree_starts_at_the_folders_whose_parent_is_hidden(self):
        self.assertEqual(self.board_room.effective_read_group_ids, self.board)
        self.assertNotIn(self.board, self.user.groups_id)
        self.assertEqual(set(self.Folder_as_user.search([]).mapped("name")),
                         {"Shared", "Team", "Drafts"})
        tops = self.Folder_as_user.documents_tree(False)
        by_name = {info["name"]: info for info in tops}
        self.assertIn("Shared", by_name)
        self.assertIn("Team", by_name)
        self.assertNotIn("Board", by_name)
        self.assertTrue(by_name["Shared"]["has_children"])
        self.assertTrue(by_name["Shared"]["can_write"])
        self.assertFalse(by_name["Team"]["can_write"], "the board writes there, not the clerk")
        children = self.Folder_as_user.documents_tree(self.shared.id)
        self.assertEqual([info["name"] for info in children], ["Drafts"])
        self.assertFalse(children[0]["has_children"])
        # breadcrumbs stop at the hidden folder
        self.assertEqual([step["name"] for step in
                          self.drafts.with_user(self.user).documents_path()],
                         ["Shared", "Drafts"])

    def test_files_and_search(self):
        files = self.Folder_as_user.documents_files(self.shared.id)
        self.assertEqual(files["length"], 1)
        info = files["records"][0]
        self.assertEqual(info["name"], "report.pdf")
        self.assertEqual(info["tags"][0]["name"], "FM Contract")
        self.assertEqual(info["owner"]["id"], self.env.uid)
        self.assertEqual(info["cloud_state"], "local")
        # a search looks in the subfolders too; without a folder, everywhere
        found = self.Folder_as_user.documents_files(self.shared.id, {"name": "note"})
        self.assertEqual([r["name"] for r in found["records"]], ["note.txt"])
        found = self.Folder_as_user.documents_files(False, {"tag": "fm contr"})
        self.assertEqual([r["name"] for r in found["records"]], ["report.pdf"])
        found = self.Folder_as_user.documents_files(False, {"mimetype": "text"})
        self.assertEqual({r["name"] for r in found["records"]}, {"note.txt", "memo.txt"})
        found = self.Folder_as_user.documents_files(False, {"owner": self.env.user.name,
                                                            "date_from": "2000-01-01"})
        self.assertEqual(found["length"], 3)
        hidden = self.put(self.board_room, "hidden.txt", b"hidden")
        found = self.Folder_as_user.documents_files(False, {"name": "hidden"})
        self.assertEqual(found["length"], 0, hidden.name)

    def test_cloud_states(self):
        self.shared.client_id = self.client
        self.converge()
        self.report.invalidate_recordset()
        waiting = self.put(self.drafts, "new.txt", b"new")
        failed = self.put(self.drafts, "big.bin", b"big")
        self.Task.search([("attachment_id", "in", (waiting | failed).ids)]).unlink()
        self.Task.create({"type": "file_upload", "client_id": self.client.id,
                          "attachment_id": failed.id, "state": "failed", "attempts": 6,
                          "last_error": "507 Insufficient Storage"})
        states = {info["name"]: (info["cloud_state"], info["cloud_message"])
                  for info in (self.report | self.note | waiting | failed | self.memo)
                  .with_user(self.user)._documents_file_info()}
        self.assertEqual(states, {
            "report.pdf": ("synced", False), "note.txt": ("synced", False),
            "new.txt": ("waiting", False), "big.bin": ("error", "507 Insufficient Storage"),
            "memo.txt": ("local", False)})
        info = self.report.with_user(self.user)._documents_file_info()[0]
        self.assertTrue(info["cloud_url"])
        self.assertFalse(info["local_image"])

    def test_moves_need_write_access_on_the_target(self):
        self.Folder_as_user.browse(self.shared.id).documents_move_files(self.note.ids)
        self.assertEqual(self.note.documents_folder_id, self.shared)
        with self.assertRaises(AccessError):
            self.Folder_as_user.browse(self.team.id).documents_move_files(self.note.ids)
        with self.assertRaises(AccessError):  # nor out of a folder they only read
            self.Folder_as_user.browse(self.shared.id).documents_move_files(self.memo.ids)
        with self.assertRaises(AccessError):
            self.Folder_as_user.browse(self.drafts.id).documents_move_to(self.team.id)
        self.Folder_as_user.browse(self.drafts.id).documents_move_to(False)
        self.assertFalse(self.drafts.parent_id)

    def test_new_folder_hidden_at_once(self):
        """Regression: a folder made in the same transaction, its groups not yet stored, was
        seen by a user outside them."""
        secret = self.folder("Secret room", read_group_ids=[(6, 0, self.board.ids)])
        below = self.folder("Below", secret)
        self.assertFalse(self.Folder_as_user.search([("id", "in", (secret | below).ids)]))
        self.assertNotIn("Secret room", [f["name"] for f in
                                         self.Folder_as_user.documents_tree(False)])
