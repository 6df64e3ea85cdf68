from . import models


def uninstall_hook(env):
    """Bring every synced attachment back into Odoo before the module's columns disappear.

    Without this, uninstalling would leave url attachments pointing at cloud files with no way
    to read them through Odoo. Items that cannot be fetched are kept as plain links.
    """
    env["cloud.client"].search([("state", "=", "connected")])._reverse_all_now()
