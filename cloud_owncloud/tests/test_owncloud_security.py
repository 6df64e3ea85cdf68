from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import OwnCloudCase


@tagged("security", "post_install", "-at_install")
class TestOwnCloudButtonsNeedRights(OwnCloudCase):
    """R-SEC-3: an internal user calling the ownCloud buttons over RPC reaches no server."""

    def test_r_sec_3_non_admin_cannot_test_or_connect(self):
        client = self.make_client()
        user = new_test_user(self.env, login="oc_sec_user", groups="base.group_user")
        before = sum(self.emulator.counters.values())
        for name in ("action_owncloud_test", "action_connect"):
            with self.assertRaises(AccessError, msg=name):
                getattr(client.with_user(user), name)()
        self.assertEqual(sum(self.emulator.counters.values()), before)
