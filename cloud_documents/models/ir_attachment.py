"""Files of the documents workspace: the attachments of its folders (``res_model`` is the folder
model), so that Odoo's own attachment access follows the folder's (read to see a file, write
to add, change or remove one)."""
import functools
import logging
from collections import defaultdict

import werkzeug.exceptions

from odoo import api, fields, models
from odoo.tools.sql import column_exists, create_column

from odoo.addons.cloud_base.models.ir_attachment import CloudReadError

from ..lib.zip_stream import PIECE, ZipEntry, file_chunks
from .documents_placement import FOLDER_MODEL

_logger = logging.getLogger(__name__)


def _cloud_chunks(registry, uid, attachment_id):
    """The content of a synced file, read from the cloud piece by piece. Runs while the zip
    is sent, after the request's transaction ended: a short transaction of its own starts the
    download (and keeps the log of a failure), the pieces then come without one."""
    with registry.cursor() as cr:
        env = api.Environment(cr, uid, {})
        try:
            chunks = env["ir.attachment"].browse(attachment_id)._cloud_started_download()
        except werkzeug.exceptions.HTTPException as exc:
            # its own cursor: the client's log of the failure stays
            cr.commit()  # pylint: disable=invalid-commit
            raise CloudReadError(exc.description) from exc
    yield from chunks


def _database_chunks(registry, attachment_id, piece=PIECE):
    """The content of a file stored in the database (not the default storage): read when
    its turn comes, in a short transaction of its own."""
    with registry.cursor() as cr:
        cr.execute("SELECT db_datas FROM ir_attachment WHERE id = %s", [attachment_id])
        row = cr.fetchone()
    data = memoryview(bytes(row[0] or b"") if row else b"")
    for start in range(0, len(data), piece):
        yield bytes(data[start:start + piece])


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    documents_folder_id = fields.Many2one(
        FOLDER_MODEL, "Documents folder", compute="_compute_documents_folder_id", store=True,
        readonly=False, index=True, ondelete="set null",
        help="The workspace folder the file is in. Setting it attaches the file to the "
             "folder; the record it came from is kept as its origin.")
    documents_owner_id = fields.Many2one("res.users", "Owner", index=True,
                                         help="Who added the file to the workspace.")
    documents_tag_ids = fields.Many2many(
        "cloud.documents.tag", "ir_attachment_cloud_documents_tag_rel", "attachment_id",
        "tag_id", string="Tags")
    documents_origin_model = fields.Char("Origin model", readonly=True)
    documents_origin_id = fields.Many2oneReference("Origin record id",
                                                   model_field="documents_origin_model",
                                                   readonly=True)
    documents_origin_name = fields.Char("Came from", compute="_compute_documents_origin_name")

    def _auto_init(self):
        # on install no attachment is in a folder yet: the column starts empty instead of
        # being computed row by row over a table that may hold millions of attachments
        if not column_exists(self.env.cr, self._table, "documents_folder_id"):
            create_column(self.env.cr, self._table, "documents_folder_id", "int4")
        return super()._auto_init()

    @api.depends("res_model", "res_id")
    def _compute_documents_folder_id(self):
        in_folders = self.filtered(lambda a: a.res_model == FOLDER_MODEL and a.res_id)
        existing = set(self.env[FOLDER_MODEL].sudo().browse(
            set(in_folders.mapped("res_id"))).exists().ids)
        for attachment in self:
            attachment.documents_folder_id = attachment.res_id \
                if attachment in in_folders and attachment.res_id in existing else False

    @api.depends("documents_origin_model", "documents_origin_id")
    def _compute_documents_origin_name(self):
        for attachment in self:
            model, res_id = attachment.documents_origin_model, attachment.documents_origin_id
            record = model in self.env and res_id and self.env[model].browse(res_id).exists()
            # the name of a record the user may not read stays hidden
            attachment.documents_origin_name = record.display_name \
                if record and record.has_access("read") else False

    # ------------------------------------------------------------------------------------
    # Putting a file in a folder = attaching it to the folder
    # ------------------------------------------------------------------------------------
    @api.model
    def _documents_attach_vals(self, vals):
        """``vals`` that put a file in a documents folder also attach it to the folder."""
        if not vals.get("documents_folder_id"):
            return vals
        vals = dict(vals, res_model=FOLDER_MODEL, res_id=vals["documents_folder_id"])
        vals.pop("res_field", None)
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._documents_attach_vals(vals) for vals in vals_list]
        # a file added in the cloud has no known owner (the engine is not its author)
        if not self._cloud_engine_mode():
            for vals in vals_list:
                if vals.get("res_model") == FOLDER_MODEL and not vals.get("documents_owner_id"):
                    vals["documents_owner_id"] = self.env.uid
        return super().create(vals_list)

    def write(self, vals):
        if "documents_folder_id" not in vals:
            res = super().write(vals)
        elif vals["documents_folder_id"]:
            # into a folder: a file of another record keeps that record as its origin
            origins = self._documents_groups(lambda a: (a.res_model, a.res_id) if (
                a.res_model and a.res_model != FOLDER_MODEL and a.res_id) else None)
            res = super().write(self._documents_attach_vals(vals))
            for (model, res_id), attachments in origins.items():
                super(IrAttachment, attachments).write({"documents_origin_model": model,
                                                        "documents_origin_id": res_id})
            without_owner = self.filtered(lambda a: not a.documents_owner_id)
            if without_owner:
                super(IrAttachment, without_owner).write({"documents_owner_id": self.env.uid})
        else:
            # out of the workspace: back to the record it came from, if any, else stand-alone
            targets = self._documents_groups(lambda a: a._documents_origin_target()
                                             if a.res_model == FOLDER_MODEL else None)
            vals = {key: value for key, value in vals.items() if key != "documents_folder_id"}
            res = super().write(vals) if vals else True
            for (model, res_id), attachments in targets.items():
                super(IrAttachment, attachments).write({"res_model": model, "res_id": res_id})
        if {"documents_folder_id", "res_model", "res_id"} & set(vals) \
                and not self._cloud_engine_mode():
            self._documents_follow_client()
        return res

    def _documents_groups(self, key):
        """``{key(attachment): attachments}``, leaving out those whose key is None."""
        groups = defaultdict(lambda: self.browse())
        for attachment in self:
            value = key(attachment)
            if value is not None:
                groups[value] |= attachment
        return groups

    def _documents_origin_target(self):
        """``(res_model, res_id)`` a file taken out of the workspace goes back to."""
        model, res_id = self.documents_origin_model, self.documents_origin_id
        if model in self.env and res_id and self.env[model].browse(res_id).exists():
            return (model, res_id)
        return (False, 0)

    def _documents_follow_client(self):
        """A synced file put in a folder mirrored to another client (or to none) comes back
        into Odoo first (R-REV-1); the folder's client then uploads it with its next direct
        sync. (Between folders of one client the planner moves it in the cloud.)"""
        Task = self.env["cloud.task"].sudo()
        for attachment in self.sudo():
            folder = attachment.documents_folder_id
            if folder and attachment._cloud_is_file() and attachment.cloud_client_id \
                    and folder.cloud_client_id != attachment.cloud_client_id:
                Task._enqueue(attachment.cloud_client_id, "reverse", attachment=attachment)

    # ------------------------------------------------------------------------------------
    # Content for the zip download (R-DOC-2): read when the file's turn comes, in pieces
    # ------------------------------------------------------------------------------------
    def _documents_has_content(self):
        """A file with bytes to download: a binary, or a synced file (not a link, nor a cloud
        folder link)."""
        self.ensure_one()
        return self.type == "binary" or self._cloud_is_file()

    def _documents_zip_entry(self, path):
        """The zip member of this file at ``path``; the caller has checked read access."""
        self.ensure_one()
        registry = self.env.registry
        if self._cloud_content_is_remote():
            chunks = functools.partial(_cloud_chunks, registry, self.env.uid, self.id)
            size = self.cloud_size or self.file_size or None
        elif self.store_fname:
            chunks = functools.partial(file_chunks, self._full_path(self.store_fname))
            size = self.file_size
        else:
            chunks = functools.partial(_database_chunks, registry, self.id)
            size = self.file_size
        return ZipEntry(path, self.mimetype, size, self.write_date, chunks)

    # ------------------------------------------------------------------------------------
    # What the file manager shows of a file (R-DOC-2)
    # ------------------------------------------------------------------------------------
    def _documents_file_info(self, mirrored=False):
        """The file manager's view of these files (read by the user): no cloud download is
        needed to show them (a synced image has its provider's logo for thumbnail).
        ``mirrored``: they are listed in a folder synced to the cloud (a record's)."""
        states = self._documents_cloud_states(mirrored)
        writable = set(self.documents_folder_id._filtered_access("write").ids)
        Client = self.env["cloud.client"]
        result = []
        for attachment in self:
            client = attachment.sudo().cloud_client_id
            synced = attachment._cloud_is_file()
            state, message = states[attachment.id]
            result.append({
                "id": attachment.id,
                "name": attachment.name,
                "mimetype": attachment.mimetype,
                "file_size": attachment.file_size,
                "checksum": attachment.checksum,
                "type": attachment.type,
                "write_date": fields.Datetime.to_string(attachment.write_date),
                "create_date": fields.Datetime.to_string(attachment.create_date),
                "folder": {"id": attachment.documents_folder_id.id,
                           "name": attachment.documents_folder_id.display_name},
                "owner": {"id": attachment.documents_owner_id.id,
                          "name": attachment.documents_owner_id.name or False},
                "tags": [{"id": tag.id, "name": tag.name, "color": tag.color}
                         for tag in attachment.documents_tag_ids],
                "can_write": attachment.documents_folder_id.id in writable,
                # Odoo's own thumbnail for a local image; none drawn from the cloud
                "local_image": attachment.type == "binary" and
                (attachment.mimetype or "").startswith("image/"),
                "cloud_kind": attachment.cloud_kind if attachment.cloud_item_id else False,
                "cloud_url": (attachment.url or False) if synced else False,
                "cloud_provider": client.provider or False,
                "cloud_provider_logo": Client._provider_logo_url(client.provider)
                if client else False,
                "cloud_state": state,
                "cloud_message": message,
            })
        return result

    def _documents_cloud_states(self, mirrored=False):
        """``{id: (state, message)}``: ``synced`` (in the cloud), ``waiting`` (a transfer is
        queued, or the folder is mirrored, or ``mirrored`` is set, and the file not uploaded
        yet), ``error`` (the
        latest transfer failed, or failed and waits for its retry: the provider's message),
        ``local`` (stays in Odoo)."""
        tasks = self.env["cloud.task"].sudo().search([
            ("attachment_id", "in", self.ids),
            ("state", "in", ("pending", "running", "failed"))], order="id")
        by_file = defaultdict(list)
        for task in tasks:
            by_file[task.attachment_id.id].append(task)
        local_types = self._cloud_local_mimetypes()
        states = {}
        for attachment in self:
            queued = by_file.get(attachment.id, [])
            failed = [task for task in queued if task.state == "failed"
                      or (task.state == "pending" and task.attempts and task.last_error)]
            if failed:
                states[attachment.id] = ("error", failed[-1].last_error)
            elif queued:
                states[attachment.id] = ("waiting", False)
            elif attachment._cloud_is_file():
                states[attachment.id] = ("synced", False)
            elif attachment.type == "binary" and attachment.mimetype not in local_types \
                    and (mirrored or attachment.sudo().documents_folder_id.cloud_client_id):
                states[attachment.id] = ("waiting", False)
            else:
                states[attachment.id] = ("local", False)
        return states
