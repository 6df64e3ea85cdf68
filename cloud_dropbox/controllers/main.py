"""``/dropbox_token``: where Dropbox sends the administrator back after consent (R-CON-1/2)."""
import logging

from markupsafe import escape

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"/><title>%(title)s</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em}
.box{border:1px solid #d9534f;border-radius:6px;padding:1em 1.5em;background:#fdf2f2}</style>
</head><body><div class="box"><h2>%(title)s</h2><p id="message">%(message)s</p>
<p><a href="%(back)s">Back to the cloud clients</a></p></div></body></html>"""


class DropboxOAuthController(http.Controller):

    @http.route("/dropbox_token", type="http", auth="user", methods=["GET"], csrf=False,
                sitemap=False)
    def dropbox_token(self, **params):
        Client = request.env["cloud.client"]
        client, error = Client._dropbox_oauth_callback(params)
        if error:
            _logger.info("Dropbox authorization refused: %s", error)
            back = "/odoo/action-cloud_base.action_cloud_client"
            if client:
                back = "/web#model=cloud.client&id=%d&view_type=form" % client.id
            html = PAGE % {"title": escape("Dropbox connection failed"),
                           "message": escape(error), "back": escape(back)}
            return request.make_response(html, status=400, headers=[
                ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
        return request.redirect("/web#model=cloud.client&id=%d&view_type=form" % client.id,
                                local=True)
