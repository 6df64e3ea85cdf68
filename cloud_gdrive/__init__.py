from . import models


def uninstall_hook(env):
    """Files of Google Drive clients come back into Odoo, then the clients go (R-REV-1)."""
    env["cloud.client"]._uninstall_provider("gdrive")
