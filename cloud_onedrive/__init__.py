from . import models


def uninstall_hook(env):
    """Files of OneDrive/SharePoint clients come back into Odoo, then the clients go
    (R-REV-1)."""
    env["cloud.client"]._uninstall_provider("onedrive")
