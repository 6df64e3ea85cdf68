import socket
from urllib.parse import urlsplit

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import OwnCloudCase


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("security", "post_install", "-at_install")
class TestOwnCloudButtonsNeedRights(OwnCloudCase):
    """R-SEC-3: an internal user calling the ownCloud buttons over RPC reaches no server."""

    def test_r_sec_3_non_admin_cannot_test_or_connect(self):
        client = self.make_client()
        user = new_test_user(self.env, login="oc_sec_user", groups="base.group_user")
        before = sum(self.emulator.counters.values())
        for name in ("action_test_connection", "action_connect"):
            with self.assertRaises(AccessError, msg=name):
                getattr(client.with_user(user), name)()
        self.assertEqual(sum(self.emulator.counters.values()), before)


@tagged("security", "post_install", "-at_install")
class TestOwnCloudMessagesKeepSettings(OwnCloudCase):
    """R-SEC-3: what a failed connection says (``state_message``, the raised error, the error
    of building the adapter that any user reading a synced file can meet) names neither the
    server URL nor the login (here an e-mail address)."""

    def test_r_sec_3_failed_connection_message_has_no_url_or_login(self):
        login = self.emulator.add_user("%s@example.com" % self.user, "account-password")
        password = self.emulator.add_app_password(login)
        down = "http://127.0.0.1:%d" % _free_port()
        cases = [
            # (settings, phrase the message keeps)
            ({"owncloud_password": "wrong"}, "refused the login"),
            ({"owncloud_url": self.emulator.base_url + "/not-here"},
             "No ownCloud or Nextcloud server answers"),
            ({"owncloud_url": down}, "cannot be reached"),
            ({"owncloud_url": "cloud-%s.example.com/oc" % self.user}, "http:// or https://"),
        ]
        for vals, phrase in cases:
            with self.subTest(vals=vals):
                # the client's name is no secret: "Could not connect <name>" may show it
                client = self.make_client(connect=False, **dict(
                    {"name": "Company files", "owncloud_login": login,
                     "owncloud_password": password}, **vals))
                url = client.owncloud_url
                secrets = {url, urlsplit(url).netloc or url, login, self.user,
                           "cloud-%s" % self.user}
                if vals.get("owncloud_url") != down:
                    secrets.add(urlsplit(self.emulator.base_url).netloc)
                messages = {"state_message": client.state_message}
                with self.assertRaises(UserError) as err:
                    client.action_connect()
                messages["action_connect"] = str(err.exception)
                messages["state_message after connect"] = client.state_message
                with self.assertRaises(UserError) as err:
                    client.action_test_connection()
                messages["action_test_connection"] = str(err.exception)
                client._drop_adapter()
                try:
                    adapter = client._get_adapter()
                except UserError as exc:  # a URL the adapter refuses
                    messages["building the adapter"] = str(exc)
                else:
                    try:
                        adapter.check_connection()
                    except Exception as exc:  # noqa: BLE001 - any error: its text counts
                        messages["check_connection"] = str(exc)
                self.assertIn(phrase, messages["state_message"])
                self.assertIn(phrase, messages["action_connect"])
                for where, message in messages.items():
                    self.assertTrue(message, where)
                    for secret in secrets:
                        self.assertNotIn(secret, message, "%s: %s" % (where, message))
                self.assertNotEqual(client.state, "connected")
