from odoo.addons.cloud_base.tests.common import CloudCase

DOCS = "/Odoo/Odoo Docs"


class DocumentsCase(CloudCase):
    """The in-memory client of ``CloudCase`` with helpers for workspace folders and files."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Folder = cls.env["cloud.documents.folder"]

    def folder(self, name, parent=None, **vals):
        return self.Folder.create(dict({"name": name,
                                        "parent_id": parent.id if parent else False}, **vals))

    def put(self, folder, name="doc.txt", data=b"hello"):
        return self.Attachment.create({"name": name, "raw": data,
                                       "documents_folder_id": folder.id})

    def mirror(self, folder, client=None):
        """The live object folder of ``folder`` at ``client``."""
        return self.env["cloud.folder"].search([
            ("res_model", "=", folder._name), ("res_id", "=", folder.id),
            ("client_id", "=", (client or self.client).id), ("state", "!=", "detached")])

    def docs_tree(self, store=None):
        """``{path below Odoo Docs: kind}`` of the cloud."""
        tree = (store or self.store).tree()
        return {path[len(DOCS):]: kind for path, (kind, _size) in tree.items()
                if path.startswith(DOCS + "/")}
