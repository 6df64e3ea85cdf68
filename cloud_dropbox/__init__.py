from . import controllers, models


def uninstall_hook(env):
    """Files of this provider's clients come back into Odoo before the provider goes."""
    env["cloud.client"]._release_before_uninstall(["dropbox"])
