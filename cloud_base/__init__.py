from . import controllers, models


def uninstall_hook(env):
    """Bring every synced attachment back into Odoo before the module's columns disappear.

    Without this, uninstalling would leave url attachments pointing at cloud files with no way
    to read them through Odoo. Files deleted in the cloud meanwhile stay as plain links (and
    are logged); any other file that cannot be fetched stops the uninstall.
    """
    env["cloud.client"]._release_before_uninstall()
