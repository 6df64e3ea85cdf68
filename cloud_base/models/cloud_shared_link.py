"""Sharing links the suite created in a cloud (R-SEC-5), for providers whose capabilities
declare ``revokes_links``: the provider records each link it made (``_record``), the core
revokes them through the adapter's ``revoke_link`` on reset and when their file comes back
into Odoo."""
import logging

from odoo import fields, models
from odoo.exceptions import UserError

from ..lib import adapter as cloud

_logger = logging.getLogger(__name__)


class CloudSharedLink(models.Model):
    _name = "cloud.shared.link"
    _description = "Shared link created by the sync suite"
    _order = "id"

    client_id = fields.Many2one("cloud.client", required=True, ondelete="cascade", index=True)
    item_id = fields.Char("Cloud item id", required=True, index=True)
    link_id = fields.Char(
        "Link id", required=True,
        help="What the provider revokes the link by: its URL (Dropbox), the id of its share "
             "(ownCloud, Nextcloud) or the id of its "
             "permission (OneDrive, SharePoint, Google Drive).")
    url = fields.Char("Address", help="The link's address, where it differs from its id.")

    def _record(self, client, item_id, link_id, url=False):
        """Remember a link the suite created on ``item_id``, once."""
        domain = [("client_id", "=", client.id), ("item_id", "=", item_id),
                  ("link_id", "=", link_id)]
        if not self.search_count(domain):
            self.create({"client_id": client.id, "item_id": item_id, "link_id": link_id,
                         "url": url})

    def _revoke(self):
        """Revoke these links (one client's) through the adapter. A failure is logged as a
        warning and keeps the link's record, so that a later reset tries again; it never
        blocks the caller (the file still comes back into Odoo)."""
        if not self:
            return
        client = self.client_id.ensure_one()
        try:
            adapter = client._get_adapter()
        except (cloud.CloudError, UserError) as exc:
            _logger.warning("Cloud client %s: cannot revoke %s shared links: %s",
                            client.id, len(self), exc)
            client._log("warning", client.env._(
                "%(count)s shared links of %(provider)s could not be revoked: %(error)s",
                count=len(self), provider=client._provider().label, error=exc))
            return
        for link in self:
            try:
                adapter.revoke_link(link.link_id, link.item_id)
            except cloud.CloudError as exc:
                _logger.warning("Cloud client %s: could not revoke the shared link of %s: %s",
                                client.id, link.item_id, exc)
                client._log("warning", client.env._(
                    "The %(provider)s shared link %(link)s could not be revoked: %(error)s",
                    provider=client._provider().label, link=link.url or link.link_id,
                    error=exc), path=link.item_id)
                continue
            link.unlink()
