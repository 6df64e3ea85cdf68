"""The zip download of the file manager (R-DOC-2): the archive is written while it is sent."""
import logging

from werkzeug.exceptions import BadRequest, NotFound

from odoo import http
from odoo.http import Response, content_disposition, request

from ..lib.zip_stream import iter_zip

_logger = logging.getLogger(__name__)


def _ids(value):
    try:
        return [int(part) for part in (value or "").split(",") if part.strip()]
    except ValueError as exc:
        raise BadRequest("ids are comma-separated numbers") from exc


def _logged(chunks, name):
    """The archive's pieces; a failure on the way (the response has started) cuts the
    download short and is told in the server log."""
    try:
        yield from chunks
    except Exception:
        _logger.exception("The zip download %s broke off", name)
        raise


class DocumentsController(http.Controller):

    @http.route("/cloud_documents/zip", type="http", auth="user", methods=["GET", "POST"],
                readonly=True)
    def documents_zip(self, folder_ids="", attachment_ids="", cloud_folder_ids="", **kwargs):
        """A zip of the files ``attachment_ids``, of the trees of the folders ``folder_ids``
        and of the synced record folders ``cloud_folder_ids`` (comma-separated ids). Access
        is decided as the user, on every file (403 when one of the files is not theirs to
        read, or a record folder not theirs to see); the content is read piece by piece,
        local files from the filestore, synced files from the cloud."""
        folders = request.env["cloud.documents.folder"].browse(_ids(folder_ids))
        attachments = _ids(attachment_ids)
        synced = _ids(cloud_folder_ids)
        entries = folders._documents_zip_entries(attachments, synced)
        if not entries:
            raise NotFound()
        name = folders._documents_zip_name(attachments, synced)
        response = Response(_logged(iter_zip(entries), name), mimetype="application/zip",
                            direct_passthrough=True)
        response.headers["Content-Disposition"] = content_disposition(name)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response
