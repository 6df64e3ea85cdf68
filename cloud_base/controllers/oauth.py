"""Where providers send the administrator back after consent (R-CON-1/2): one controller for
the redirect URLs the providers' guides tell administrators to register."""
import logging

from markupsafe import escape

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

#: the redirect paths of the providers (Dropbox, OneDrive/SharePoint, Google Drive)
OAUTH_CALLBACK_PATHS = ["/dropbox_token", "/one_drive_token", "/google_drive_token"]

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"/><title>%(title)s</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em}
.box{border:1px solid #d9534f;border-radius:6px;padding:1em 1.5em;background:#fdf2f2}</style>
</head><body><div class="box"><h2>%(title)s</h2><p id="message">%(message)s</p>
<p><a href="%(back)s">%(back_label)s</a></p></div></body></html>"""


class CloudOAuthController(http.Controller):

    @http.route(OAUTH_CALLBACK_PATHS, type="http", auth="user", methods=["GET"], csrf=False,
                sitemap=False)
    def oauth_callback(self, **params):
        Client = request.env["cloud.client"]
        path = request.httprequest.path
        client, error = Client._oauth_callback(params, path=path)
        if not error:
            return request.redirect("/web#model=cloud.client&id=%d&view_type=form" % client.id,
                                    local=True)
        _logger.info("OAuth authorization refused at %s: %s", path, error)
        providers = Client._oauth_providers_at(path)
        label = providers[0].label if providers else request.env._("Cloud")
        back = "/odoo/action-cloud_base.action_cloud_client"
        if client:
            back = "/web#model=cloud.client&id=%d&view_type=form" % client.id
        html = PAGE % {"title": escape(request.env._("%s connection failed", label)),
                       "message": escape(error), "back": escape(back),
                       "back_label": escape(request.env._("Back to the cloud clients"))}
        return request.make_response(html, status=400, headers=[
            ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
