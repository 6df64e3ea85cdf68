import contextlib
import functools
import io
import itertools
import logging
import os

import werkzeug.exceptions

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import STATIC_CACHE_LONG, Response, Stream, request
from odoo.tools._vendor.send_file import send_file
from odoo.tools.sql import column_exists, table_exists

from ..lib import adapter as cloud
from ..lib.transfers import download_to_file
from .cloud_placement import SUBFOLDER_KINDS

_logger = logging.getLogger(__name__)

#: attachments Odoo itself needs as local files stay in Odoo by default (R-DIR-2): web
#: resources it may serve or compile. XML (e.g. e-invoices) and SVG go to the cloud; an
#: administrator changes the list in Settings (``cloud_base.local_mimetypes``).
DEFAULT_LOCAL_MIMETYPES = (
    "text/html", "text/css", "text/scss", "text/x-scss", "text/sass", "text/x-sass",
    "text/less", "text/x-less", "text/javascript", "application/javascript",
    "application/x-javascript", "application/xhtml+xml",
)
LOCAL_MIMETYPES_PARAM = "cloud_base.local_mimetypes"


#: the fields of an attachment that only the sync engine writes (R-SEC-1)
CLOUD_FIELDS = frozenset({"cloud_client_id", "cloud_folder_id", "cloud_item_id", "cloud_kind",
                          "cloud_size", "cloud_hash", "cloud_subfolder_path"})


def _remove_file(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


class CloudReadError(UserError):
    """The content of a synced file could not be read from the cloud."""


#: what the response reads from the cloud download at a time
STREAM_PIECE = 1024 * 1024


class ChunkReader(io.RawIOBase):
    """A read-only binary file over an iterator of byte chunks (a download in progress)."""

    def __init__(self, chunks, on_error=None):
        super().__init__()
        self._chunks = iter(chunks)
        self._pending = b""
        self._on_error = on_error

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
            except Exception as exc:
                if self._on_error is not None:
                    self._on_error(exc)
                raise
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self):
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator's download ends (its connection is given back)
        return super().close()


class CloudStream(Stream):
    """A synced file sent to the browser as it arrives from the cloud (issue 15 §5): no
    temporary file, the first bytes leave as soon as the provider sends them, memory stays at
    one piece of the download. ``chunks`` has already yielded nothing wrong for its first
    piece (errors at the start are a clean 503); a failure later cuts the response short,
    which the browser reports as a failed download (the Content-Length is not reached)."""

    def __init__(self, chunks, on_error=None, **kwargs):
        self._chunks = chunks
        self._on_error = on_error
        self._data = None
        super().__init__(type="data", **kwargs)

    @property
    def data(self):
        """The whole content, for who needs the bytes (``/web/image`` resizing): read once."""
        if self._data is None:
            self._data = b"".join(self._chunks)
        return self._data

    @data.setter
    def data(self, value):
        self._data = value

    def read(self):  # pylint: disable=method-required-super
        return self.data

    def get_response(self, as_attachment=None, immutable=None,
                     content_security_policy="default-src 'none'", **send_file_kwargs):
        if self._data is not None:  # read or replaced (a resized image): send those bytes
            return super().get_response(as_attachment, immutable, content_security_policy,
                                        **send_file_kwargs)
        if as_attachment is None:
            as_attachment = self.as_attachment
        if immutable is None:
            immutable = self.immutable
        environ = request.httprequest.environ
        reader = io.BufferedReader(ChunkReader(self._chunks, self._on_error),
                                   buffer_size=STREAM_PIECE)
        response = send_file(reader, **{
            "mimetype": self.mimetype, "as_attachment": as_attachment,
            "download_name": self.download_name, "conditional": False, "etag": self.etag,
            "last_modified": self.last_modified,
            "max_age": STATIC_CACHE_LONG if immutable else self.max_age,
            "environ": environ, "response_class": Response, **send_file_kwargs})
        response.content_length = self.size
        if self.conditional:
            # 304 on a matching ETag; a Range is served by skipping what precedes it
            response = response.make_conditional(environ, accept_ranges=True,
                                                 complete_length=self.size)
        response.headers["X-Content-Type-Options"] = "nosniff"
        if content_security_policy:
            response.headers["Content-Security-Policy"] = content_security_policy
        if self.public:
            if (response.cache_control.max_age or 0) > 0:
                response.cache_control.public = True
        else:
            response.cache_control.pop("public", "")
            response.cache_control.private = True
        if immutable:
            response.cache_control["immutable"] = None
        return response


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    cloud_client_id = fields.Many2one("cloud.client", "Cloud client", index=True,
                                      ondelete="set null", copy=False)
    cloud_folder_id = fields.Many2one("cloud.folder", "Cloud folder", index=True,
                                      ondelete="set null", copy=False)
    cloud_item_id = fields.Char("Cloud item id", index=True, copy=False)
    cloud_kind = fields.Selection([("file", "Synced file"), ("folder", "Cloud folder link")],
                                  copy=False)
    cloud_size = fields.Integer("Verified cloud size", copy=False)
    cloud_hash = fields.Char("Cloud content hash", copy=False)
    cloud_provider = fields.Selection(related="cloud_client_id.provider")
    # the user's choice, not an engine field: set in the attachment box
    # (``cloud_move_to_folder``), checked to be a folder of the attachment's record; the
    # engine keeps it in line with the cloud, which owns where files are
    cloud_subfolder_id = fields.Many2one(
        "cloud.folder", "Folder in its record", index="btree_not_null", ondelete="set null",
        copy=False,
        help="The subfolder of its record's cloud folder the file is in or goes to (a default "
             "folder of the rule, or one made in the attachment box); empty: the record's "
             "folder itself.")
    # the subfolder survives its client: a reset or a rule moved to another client lets the
    # folder records go, the file's next client puts it in the same place again
    cloud_subfolder_path = fields.Char(
        "Former folder in its record", readonly=True, copy=False,
        help="The folder path below its record's cloud folder (e.g. Scans/Official) the file "
             "was in with a client that let it go (reset, rule moved to another client): its "
             "next upload goes there again.")

    def _auto_init(self):
        new_column = not column_exists(self.env.cr, self._table, "cloud_subfolder_id")
        res = super()._auto_init()
        if new_column and table_exists(self.env.cr, "cloud_folder"):
            # synced files already in default folders stay there
            self.env.cr.execute("""
                UPDATE ir_attachment a SET cloud_subfolder_id = f.id
                  FROM cloud_folder f
                 WHERE f.id = a.cloud_folder_id AND f.kind = 'default'
                   AND a.cloud_kind = 'file'""")
        return res

    # ------------------------------------------------------------------------------------
    # Which attachments go to the cloud
    # ------------------------------------------------------------------------------------
    @api.model
    def _cloud_local_mimetypes(self):
        """The types that stay in Odoo (Settings > Cloud Storage)."""
        value = self.env["ir.config_parameter"].sudo().get_param(LOCAL_MIMETYPES_PARAM)
        if value is None or value is False:
            return list(DEFAULT_LOCAL_MIMETYPES)
        return [m.strip().lower() for m in value.replace("\n", ",").split(",") if m.strip()]

    @api.model
    def _cloud_syncable_domain(self, local_mimetypes=None):
        # a binary attachment with a url is a resource Odoo serves at that address (assets,
        # compiled company styles, ...): it stays local
        local = self._cloud_local_mimetypes() if local_mimetypes is None else local_mimetypes
        return [("type", "=", "binary"), ("res_field", "=", False),
                ("cloud_item_id", "=", False), ("mimetype", "not in", local),
                ("url", "=", False)]

    def _cloud_is_file(self):
        self.ensure_one()
        return self.cloud_kind == "file" and bool(self.cloud_item_id)

    def _cloud_content_is_remote(self):
        """True when the bytes live only in the cloud (no local copy)."""
        self.ensure_one()
        return self._cloud_is_file() and not self.store_fname and not self.db_datas

    # ------------------------------------------------------------------------------------
    # Content stays readable everywhere (R-UI-3, R-UI-4)
    # ------------------------------------------------------------------------------------
    @api.depends("store_fname", "db_datas", "cloud_item_id")
    def _compute_raw(self):
        remote = self.filtered(lambda a: a._cloud_content_is_remote())
        for attachment in remote:
            attachment.raw = attachment._cloud_download()
        return super(IrAttachment, self - remote)._compute_raw()

    def _cloud_download(self):
        """The content of a synced file, streamed from the cloud through the adapter.

        Never answers empty bytes for a file it could not read (R-SEC-7): a copy, an e-mail or
        a report made while the cloud is down must fail, not carry an empty file."""
        self.ensure_one()
        client = self.sudo().cloud_client_id
        if not client:
            raise CloudReadError(self.env._(
                "The file %s lives in a cloud storage that is no longer "
                "configured; its content cannot be read.", self.name))
        try:
            adapter = client._get_adapter()
            # pieces written as they come: the file is in memory once, not its pieces plus
            # their join (BytesIO hands its buffer over without a copy)
            content = io.BytesIO()
            for piece in adapter.download(self.cloud_item_id):
                content.write(piece)
            return content.getvalue()
        except (cloud.CloudError, UserError) as exc:
            self._cloud_read_failed(client, exc)
            raise CloudReadError(self.env._(
                "The file %s could not be read from the cloud; try again "
                "later.", self.name)) from exc

    def _cloud_read_failed(self, client, error):
        _logger.warning("Cannot read cloud file %s (%s): %s", self.id, self.name, error)
        client._log("error", self.env._("Could not read %(name)s from the cloud: %(error)s",
                               name=self.name, error=error), record=self,
                    path=self.cloud_item_id)

    def _to_http_stream(self):
        if not self._cloud_content_is_remote():
            return super()._to_http_stream()
        common = {"mimetype": self.mimetype, "download_name": self.name,
                  "etag": self.checksum, "public": self.public,
                  "last_modified": self.write_date}
        if (self.mimetype or "").startswith("image/"):
            # images may be resized by /web/image, which needs the bytes anyway
            try:
                data = self._cloud_download()
            except CloudReadError as exc:
                raise werkzeug.exceptions.ServiceUnavailable(str(exc)) from exc
            return Stream(type="data", data=data, size=len(data), **common)
        # other files stream from the cloud to the browser: never whole in memory, nor on disk
        chunks = self._cloud_started_download()
        # the response is sent after the request's transaction ended: a failure on the way is
        # for the server log only
        on_error = functools.partial(_logger.warning, "Download of cloud file %s (%s) broke "
                                     "off: %s", self.id, self.name)
        return CloudStream(chunks, on_error=on_error, size=self.cloud_size or self.file_size,
                           **common)

    def _cloud_started_download(self):
        """The download of the synced file, its first piece already received (a failure to
        start it is a 503 with a clear message, not a broken response)."""
        self.ensure_one()
        client = self.sudo().cloud_client_id
        if not client:
            raise werkzeug.exceptions.ServiceUnavailable(
                self.env._("The file %s lives in a cloud storage that is no longer configured.",
                  self.name))
        try:
            chunks = iter(client._get_adapter().download(self.cloud_item_id))
            first = next(chunks, b"")
        except (cloud.CloudError, UserError) as exc:
            self._cloud_read_failed(client, exc)
            raise werkzeug.exceptions.ServiceUnavailable(
                self.env._("The file %s could not be read from the cloud; try again later.",
                  self.name)) from exc
        return itertools.chain([first], chunks)

    # ------------------------------------------------------------------------------------
    # Transitions between local and cloud content
    # ------------------------------------------------------------------------------------
    def _cloud_mark_synced(self, client, folder, item, url):
        """Turn a verified upload into a synced attachment and release the local binary, in
        the current transaction (R-DIR-2, R-SAFE-1): if it rolls back, the local file stays
        referenced and the filestore garbage collector keeps it."""
        self.ensure_one()
        fname = self.store_fname
        self.flush_recordset()
        # a file found in a subfolder of its record is in that one from now on
        subfolder = folder.id if folder.kind in SUBFOLDER_KINDS else None
        self.env.cr.execute("""
            UPDATE ir_attachment
               SET type = 'url', url = %s, store_fname = NULL, db_datas = NULL,
                   cloud_client_id = %s, cloud_folder_id = %s, cloud_item_id = %s,
                   cloud_kind = 'file', cloud_size = %s, cloud_hash = %s, name = %s,
                   cloud_subfolder_id = COALESCE(%s, cloud_subfolder_id),
                   cloud_subfolder_path = NULL
             WHERE id = %s
        """, [(url or "")[:1024], client.id, folder.id, item.id, item.size, item.hash,
              item.name, subfolder, self.id])
        self.invalidate_recordset()
        if fname:
            self._file_delete(fname)

    def _cloud_restore_binary(self, data):
        """Reverse sync: the downloaded, verified content becomes the local binary again."""
        self.ensure_one()
        self.with_context(cloud_sync=True).sudo().write({
            "type": "binary", "url": False, "raw": data, "mimetype": self.mimetype,
        })
        self._cloud_forget()

    def _cloud_download_verifying(self, adapter):
        """Stream the cloud content into a file of the filestore's own disk, hashing as it
        goes: ``(path, size, provider hash, SHA-1)``. Never more than one piece in memory. A
        transfer thread of the run may have done it already (``take_download``)."""
        self.ensure_one()
        take = getattr(adapter, "take_download", None)
        ready = take(self.cloud_item_id) if take else None
        if ready is not None:
            return ready
        return download_to_file(adapter, self.cloud_item_id, self._cloud_incoming_folder())

    def _cloud_incoming_folder(self):
        """Where downloads land before they become filestore files (same disk: a rename)."""
        return self._full_path("cloud-incoming")

    def _cloud_restore_file(self, path, size, checksum):
        """Reverse sync of a large file: the verified download at ``path`` (on the
        filestore's disk) becomes the attachment's stored file, moved into place rather than
        read into memory. The file is marked for the garbage collector, as Odoo marks the
        files it writes: if the transaction rolls back, nothing refers to it and it goes."""
        self.ensure_one()
        fname = checksum[:2] + "/" + checksum
        target = self._full_path(fname)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.exists(target):
            _remove_file(path)  # the same content is stored already (Odoo deduplicates)
        else:
            os.replace(path, target)
            self._mark_for_gc(fname)
        self.flush_recordset()
        self.env.cr.execute("""
            UPDATE ir_attachment
               SET type = 'binary', url = NULL, store_fname = %s, db_datas = NULL,
                   checksum = %s, file_size = %s, index_content = NULL
             WHERE id = %s""", [fname, checksum, size, self.id])
        self.invalidate_recordset()
        self._cloud_forget()

    def _cloud_back_to_remote(self, item):
        """Drop the local content of a synced file in favour of the cloud ``item``."""
        self.ensure_one()
        fname = self.store_fname
        self.flush_recordset()
        self.env.cr.execute("""
            UPDATE ir_attachment SET type = 'url', store_fname = NULL, db_datas = NULL,
                   cloud_size = %s, cloud_hash = %s, file_size = %s, name = %s
             WHERE id = %s""", [item.size, item.hash, item.size, item.name, self.id])
        self.invalidate_recordset()
        if fname:
            self._file_delete(fname)

    def _cloud_write_metadata(self, vals):
        """Write what backward sync learnt, including the size and checksum Odoo's ``write``
        protects (the checksum of a cloud file identifies its cloud version: it is the ETag
        of ``/web/content``)."""
        vals = dict(vals)
        size = vals.pop("file_size", vals.get("cloud_size"))
        checksum = vals.pop("checksum", None)
        if vals:
            self.with_context(cloud_sync=True).sudo().write(vals)
        if size is not None or checksum:
            self.flush_recordset()
            self.env.cr.execute("""
                UPDATE ir_attachment SET file_size = COALESCE(%s, file_size),
                       checksum = COALESCE(%s, checksum)
                 WHERE id IN %s""", [size, checksum, tuple(self.ids)])
            self.invalidate_recordset(["file_size", "checksum"])

    def _cloud_keep_local_version(self):
        """The cloud copy is gone but a newer version exists in Odoo (edited since its
        upload): it becomes a plain local file again, which the next direct sync uploads."""
        self._cloud_forget()
        self.flush_recordset()
        self.env.cr.execute("UPDATE ir_attachment SET url = NULL WHERE id IN %s",
                            [tuple(self.ids)])
        self.invalidate_recordset(["url"])

    def _cloud_forget(self):
        if not self:
            return
        self.flush_recordset()
        self.env.cr.execute("""
            UPDATE ir_attachment SET cloud_client_id = NULL, cloud_folder_id = NULL,
                   cloud_item_id = NULL, cloud_kind = NULL, cloud_size = 0, cloud_hash = NULL
             WHERE id IN %s""", [tuple(self.ids)])
        self.invalidate_recordset()

    def _cloud_local_chunks(self):
        """Stream the local content (filestore file or database value) in chunks."""
        self.ensure_one()
        if self.store_fname:
            with open(self._full_path(self.store_fname), "rb") as handle:
                yield from cloud.iter_stream(handle)
        else:
            yield from cloud.iter_stream(self.db_datas or b"")

    def _cloud_open_local(self):
        """A binary file object over the local content."""
        self.ensure_one()
        if self.store_fname:
            return open(self._full_path(self.store_fname), "rb")
        return io.BytesIO(self.db_datas or b"")

    def _cloud_local_opener(self):
        """A callable returning a binary file object over the local content, usable outside
        the ORM (in a transfer thread): the filestore path or the bytes are read now."""
        self.ensure_one()
        if self.store_fname:
            return functools.partial(open, self._full_path(self.store_fname), "rb")
        data = self.db_datas or b""
        return functools.partial(io.BytesIO, data)

    # ------------------------------------------------------------------------------------
    # The cloud fields belong to the engine (R-SEC-1)
    # ------------------------------------------------------------------------------------
    def _cloud_engine_mode(self):
        """True inside the sync engine: superuser *and* its explicit context key. A user can
        put any key in the context of an RPC call, but cannot become superuser."""
        return self.env.su and bool(self.env.context.get("cloud_sync"))

    def _cloud_check_engine_fields(self, vals_list):
        if self._cloud_engine_mode():
            return
        for vals in vals_list:
            touched = CLOUD_FIELDS.intersection(name for name, value in vals.items() if value)
            if touched:
                raise AccessError(self.env._(
                    "Only the cloud sync engine may set the cloud fields of an attachment "
                    "(%s).", ", ".join(sorted(touched))))

    @api.model_create_multi
    def create(self, vals_list):
        self._cloud_check_engine_fields(vals_list)
        for vals in vals_list:
            if vals.get("cloud_subfolder_id") and not self._cloud_engine_mode():
                self._cloud_check_subfolder(vals["cloud_subfolder_id"],
                                            [(vals.get("res_model"), vals.get("res_id"))])
        attachments = super().create(vals_list)
        if not self._cloud_engine_mode():
            attachments._cloud_queue_new_uploads()
        return attachments

    def _cloud_queue_new_uploads(self):
        """A new file of a record whose folder is in the cloud is queued at once (and the
        runner woken), instead of waiting for the next planning run; the planner merges
        with it (the same task)."""
        candidates = self.filtered(lambda a: a.type == "binary" and a.res_model and a.res_id
                                   and not a.res_field and not a.url)
        if not candidates:
            return
        local = self._cloud_local_mimetypes()
        candidates = candidates.filtered(lambda a: a.mimetype not in local)
        if not candidates:
            return
        folders = self.env["cloud.folder"].sudo().search([
            ("kind", "=", "object"), ("state", "=", "synced"), ("cloud_id", "!=", False),
            ("res_model", "in", list(set(candidates.mapped("res_model")))),
            ("res_id", "in", list(set(candidates.mapped("res_id"))))])
        # (a client being reset plans nothing: its files are coming back)
        folder_of = {(f.res_model, f.res_id): f for f in folders
                     if f.client_id.state == "connected" and not f.client_id.reset_pending}
        Task = self.env["cloud.task"].sudo()
        for attachment in candidates:
            folder = folder_of.get((attachment.res_model, attachment.res_id))
            if folder:
                target = attachment.sudo()._cloud_valid_subfolder(folder) or folder
                Task._enqueue(folder.client_id, "file_upload", folder=target,
                              attachment=attachment)

    def copy_data(self, default=None):
        # a copy is a new, local attachment: never a second owner of the same cloud item
        default = dict(default or {})
        self._cloud_check_engine_fields([default])
        vals_list = super().copy_data(default=default)
        for attachment, vals in zip(self, vals_list, strict=True):
            for name in CLOUD_FIELDS:
                vals.pop(name, None)
            if attachment._cloud_is_file() and "raw" in vals:
                # the copy holds the bytes read from the cloud (or the copy fails, R-SEC-7)
                vals.update(type="binary", url=False)
        return vals_list

    def write(self, vals):
        if CLOUD_FIELDS & set(vals) and not self._cloud_engine_mode():
            # clearing is refused too: it would orphan a cloud file Odoo no longer tracks
            raise AccessError(self.env._(
                "Only the cloud sync engine may change the cloud fields of an "
                "attachment (%s).",
                ", ".join(sorted(CLOUD_FIELDS & set(vals)))))
        if "cloud_subfolder_id" not in vals and {"res_model", "res_id"} & set(vals) \
                and any(self.sudo().mapped("cloud_subfolder_id")):
            vals = dict(vals, cloud_subfolder_id=False)  # a folder of the former record
        if {"cloud_subfolder_id", "res_model", "res_id"} & set(vals) \
                and "cloud_subfolder_path" not in vals \
                and any(self.sudo().mapped("cloud_subfolder_path")):
            vals = dict(vals, cloud_subfolder_path=False)  # put elsewhere since
        if vals.get("cloud_subfolder_id") and not self._cloud_engine_mode():
            self._cloud_check_subfolder(vals["cloud_subfolder_id"], [
                (vals.get("res_model", a.res_model), vals.get("res_id", a.res_id))
                for a in self])
        placed = self.browse() if "cloud_subfolder_id" not in vals or \
            self._cloud_engine_mode() else self
        edited = renamed = self.browse()
        if vals.get("name") and not self._cloud_engine_mode():
            renamed = self.filtered(lambda a: a.cloud_kind == "file" and a.cloud_item_id
                                    and a.name != vals["name"])
        if ("raw" in vals or "datas" in vals) and not self._cloud_engine_mode():
            edited = self.filtered(lambda a: a.cloud_kind == "file" and a.cloud_item_id)
            if edited:
                vals = dict(vals, type="binary")
        res = super().write(vals)
        if placed:
            placed._cloud_follow_subfolder()
        for attachment in edited:
            # a new local version of a cloud file: upload it (conflicts checked then)
            self.env["cloud.task"].sudo()._enqueue(attachment.cloud_client_id, "file_update",
                                                   attachment=attachment)
        for attachment in renamed:
            # the cloud file takes the name (before a new version's upload, which keeps the
            # cloud's name: the rename's priority is higher)
            self.env["cloud.task"].sudo()._enqueue(attachment.cloud_client_id, "file_rename",
                                                   attachment=attachment)
        return res

    def unlink(self):
        if not self._cloud_engine_mode():
            synced = self.sudo().filtered(lambda a: a.cloud_kind == "file" and a.cloud_item_id
                                          and a.cloud_client_id)
            for attachment in synced:
                # R-DIR-5; the task is part of this transaction: no rollback can lose a file
                self.env["cloud.task"].sudo()._enqueue(
                    attachment.cloud_client_id, "file_delete",
                    folder=attachment.cloud_folder_id,
                    payload={"cloud_id": attachment.cloud_item_id, "name": attachment.name,
                             # the version deleted: a newer one in the cloud stays
                             "size": attachment.cloud_size, "hash": attachment.cloud_hash,
                             # a new version on its way up may have left its upload there
                             "uploading": bool(attachment.store_fname or attachment.db_datas)
                             and attachment.id})
        # (the task hangs on the file's folder record: deleting that folder later drops it)
        return super().unlink()

    # ------------------------------------------------------------------------------------
    # Subfolders of a record (the attachment box's folders)
    # ------------------------------------------------------------------------------------
    @api.model
    def _cloud_check_subfolder(self, folder_id, records):
        """``folder_id`` may hold files of each of ``records`` (``(res_model, res_id)``): a
        default or manual folder of that very record, still synced."""
        folder = self.env["cloud.folder"].sudo().browse(folder_id).exists()
        if not folder or folder.kind not in SUBFOLDER_KINDS or folder.state == "detached":
            raise ValidationError(self.env._(
                "Files can be put only in the folders of their record."))
        for res_model, res_id in records:
            if (folder.res_model, folder.res_id) != (res_model, res_id):
                # (no name: the folder may be one of a record the user may not read)
                raise ValidationError(self.env._(
                    "This folder belongs to another record than the file."))

    def _cloud_valid_subfolder(self, object_folder):
        """The attachment's chosen subfolder, if it is one of ``object_folder``'s (the live
        folder of its record): else None (the record's folder itself)."""
        self.ensure_one()
        folder = self.cloud_subfolder_id
        if folder and folder.client_id == object_folder.client_id and folder._is_live() \
                and (folder.res_model, folder.res_id) == (self.res_model, self.res_id) \
                and folder.parent_path.startswith(object_folder.parent_path):
            return folder
        return None

    @api.model
    def _cloud_remember_subfolders(self, folders):
        """``folders`` stop being synced (their client is reset, their rule moves to another
        client): the attachments put in one of them remember its path in their record, for
        the next client (``_cloud_remembered_subfolder``)."""
        self.flush_model(["cloud_subfolder_id", "cloud_subfolder_path"])
        for folder in folders.filtered(lambda f: f.kind in SUBFOLDER_KINDS):
            path = folder._path_in_record()
            if path:  # (one query per subfolder, not per file)
                self.env.cr.execute("""
                    UPDATE ir_attachment SET cloud_subfolder_path = %s
                     WHERE cloud_subfolder_id = %s""", [path, folder.id])
        self.invalidate_model(["cloud_subfolder_path"])

    def _cloud_remembered_subfolder(self, object_folder):
        """Where the upload of this local attachment into ``object_folder`` (its record's
        live folder, synced) goes: the subfolder it was in with its former client, found or
        made again there (manual folders for the missing names), else ``object_folder``."""
        self.ensure_one()
        path = self.cloud_subfolder_path
        if not path or object_folder.kind != "object" or \
                (object_folder.res_model, object_folder.res_id) != (self.res_model, self.res_id):
            return object_folder
        folder = self._cloud_valid_subfolder(object_folder)
        if not folder:
            try:
                with self.env.cr.savepoint():
                    folder = object_folder._make_manual_subfolders(path, reuse_last=True)
            except UserError:
                # a folder link of the record holds a name of the path (a folder made in
                # the cloud since): the file goes in the record's folder itself
                folder = object_folder
        self.with_context(cloud_sync=True).sudo().write({
            "cloud_subfolder_id": folder.id if folder != object_folder else False,
            "cloud_subfolder_path": False})
        return folder

    def _cloud_follow_subfolder(self):
        """The attachments were put in another folder of their record: a synced file is
        moved there in the cloud, a waiting upload goes there instead."""
        Folder = self.env["cloud.folder"].sudo()
        Task = self.env["cloud.task"].sudo()
        for attachment in self.sudo():
            if not attachment.res_model or not attachment.res_id:
                continue
            record_folder = Folder._live_object_folder(attachment.res_model, attachment.res_id)
            if not record_folder:
                continue
            target = attachment._cloud_valid_subfolder(record_folder) or record_folder
            client = record_folder.client_id
            if attachment._cloud_is_file() and (client.state != "connected"
                                                or client.reset_pending):
                continue  # (a client being reset moves nothing: its files are coming back)
            if attachment._cloud_is_file():
                Task.search([("type", "=", "file_move"), ("attachment_id", "=", attachment.id),
                             ("state", "=", "pending"), ("folder_id", "!=", target.id)]).write(
                    {"state": "cancelled"})  # an earlier choice
                if attachment.cloud_folder_id != target:
                    Task._enqueue(record_folder.client_id, "file_move", folder=target,
                                  attachment=attachment)
            else:
                Task.search([("type", "=", "file_upload"), ("attachment_id", "=", attachment.id),
                             ("state", "=", "pending")]).write({"folder_id": target.id})

    @api.model
    def _cloud_record_of(self, res_model, res_id, operation):
        """The record ``res_model, res_id`` once the caller's ``operation`` access to it is
        checked."""
        if not isinstance(res_model, str) or res_model not in self.env \
                or self.env[res_model]._abstract or self.env[res_model]._transient:
            raise UserError(self.env._("Unknown document type: %s", res_model))
        record = self.env[res_model].browse(int(res_id)).exists()
        if not record:
            raise MissingError(self.env._("The document no longer exists."))
        record.check_access(operation)
        return record

    @api.model
    def _cloud_manual_folder(self, folder_id):
        """The manual folder ``folder_id`` (as superuser) once the caller's write access to
        its record is checked."""
        folder = self.env["cloud.folder"].sudo().browse(int(folder_id)).exists()
        if not folder or not folder.res_model or not folder.res_id:
            raise MissingError(self.env._("The folder no longer exists."))
        self._cloud_record_of(folder.res_model, folder.res_id, "write")
        if folder.kind != "manual":
            raise UserError(self.env._(
                "The folder %s comes from the sync rule: only the folders made in Odoo can "
                "be renamed or deleted here.", folder.name))
        return folder

    @api.model
    def cloud_record_folders(self, res_model, res_id):
        """The folders of a record's cloud folder, for its attachment box: False when it has
        none, else ``{root_id, root_name, editable, folders: [{id, name, parent_id, kind,
        synced}]}`` (no cloud ids: only what the record's readers may see, R-SEC-2)."""
        return self._cloud_folders_of(self._cloud_record_of(res_model, res_id, "read"))

    @api.model
    def _cloud_folders_of(self, record):
        """What ``cloud_record_folders`` answers for ``record``, which the caller may read."""
        root = self.env["cloud.folder"].sudo()._live_object_folder(record._name, record.id)
        if not root:
            return False
        return {
            "root_id": root.id,
            "root_name": root.cloud_name or root.name,
            "editable": record.has_access("write"),
            "folders": [{
                "id": folder.id, "name": folder.name, "parent_id": folder.parent_id.id,
                "kind": folder.kind, "synced": bool(folder.cloud_id),
            } for folder in root._record_subfolders()],
        }

    @api.model
    def cloud_create_folder(self, res_model, res_id, name, parent_id=False):
        """Make a folder (or a path ``a/b``) in a record's cloud folder, inside ``parent_id``
        (one of its folders; by default the record's folder itself). Returns its id."""
        record = self._cloud_record_of(res_model, res_id, "write")
        Folder = self.env["cloud.folder"].sudo()
        root = Folder._live_object_folder(record._name, record.id)
        if not root:
            raise UserError(self.env._(
                "This document is not synced to a cloud storage: it has no cloud folder."))
        parent = root
        if parent_id and int(parent_id) != root.id:
            parent = Folder.browse(int(parent_id)).exists()
            if parent not in root._record_subfolders():
                raise UserError(self.env._("Folders can be made only in this document's folders."))
        return parent._make_manual_subfolders(name).id

    @api.model
    def cloud_rename_folder(self, folder_id, name):
        """Rename a folder made in Odoo (the cloud folder follows)."""
        self._cloud_manual_folder(folder_id)._rename_manual(name)
        return True

    @api.model
    def cloud_delete_folder(self, folder_id):
        """Delete an empty folder made in Odoo (and the cloud folder, when empty there too)."""
        self._cloud_manual_folder(folder_id)._delete_manual()
        return True

    def cloud_move_to_folder(self, folder_id):
        """Put these attachments in a folder of their record (``folder_id`` False or the
        record's folder: directly in it). Returns ``{attachment id: subfolder id or False}``."""
        owners = set(self.mapped(lambda a: (a.res_model, a.res_id)))
        if len(owners) != 1 or not all(next(iter(owners))):
            raise UserError(self.env._(
                "Only the files of one document can be put in its folders."))
        record = self._cloud_record_of(*next(iter(owners)), "write")
        self.check("write")
        root = self.env["cloud.folder"].sudo()._live_object_folder(record._name, record.id)
        if not root:
            raise UserError(self.env._(
                "This document is not synced to a cloud storage: it has no cloud folder."))
        if folder_id and int(folder_id) == root.id:
            folder_id = False
        if any(a.cloud_kind == "folder" for a in self):
            raise UserError(self.env._("A folder made in the cloud stays where it is."))
        self.write({"cloud_subfolder_id": int(folder_id) if folder_id else False})
        return {attachment.id: attachment.cloud_subfolder_id.id for attachment in self}

    # ------------------------------------------------------------------------------------
    # UI helpers
    # ------------------------------------------------------------------------------------
    @api.model
    def _conflict_name(self, name):
        stem, ext = os.path.splitext(name)
        stamp = fields.Datetime.now().strftime("%Y-%m-%d %H%M%S")
        return "%s (conflict %s)%s" % (stem, stamp, ext)

    # ------------------------------------------------------------------------------------
    # What the chatter shows (R-UI-1, R-UI-2, R-UI-5)
    # ------------------------------------------------------------------------------------
    def _to_store(self, store, /, *, fields=None, extra_fields=None):
        """Attachments reach the chatter through the mail store: add what the badge, the folder
        icon and the 'Open in cloud' link need (R-UI-1, R-UI-2, R-UI-5)."""
        result = super()._to_store(store, fields=fields, extra_fields=extra_fields)
        Client = self.env["cloud.client"]
        for attachment in self:
            if attachment.res_model:
                # the attachment box shows a record's files folder by folder
                store.add(attachment, {
                    "cloud_subfolder_id": attachment.sudo().cloud_subfolder_id.id or False})
            kind = attachment.cloud_kind if attachment.cloud_item_id else False
            if not kind:
                continue
            client = attachment.sudo().cloud_client_id
            store.add(attachment, {
                "cloud_kind": kind,
                "cloud_provider": client.provider or False,
                "cloud_provider_name": client.name or False,
                "cloud_provider_logo": Client._provider_logo_url(client.provider),
                "cloud_url": attachment.url or False,
            })
        return result
