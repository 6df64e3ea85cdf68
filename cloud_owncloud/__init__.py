from . import models


def uninstall_hook(env):
    """Files of ownCloud/Nextcloud clients come back into Odoo, then the clients go."""
    env["cloud.client"]._uninstall_provider("owncloud")
