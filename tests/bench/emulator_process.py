"""A cloud emulator in a process of its own, for the benchmarks that measure the Odoo process
(the emulator's copy of the files and its threads must not count).

``python tests/bench/emulator_process.py PROVIDER [ROOT] [--latency=SECONDS]`` starts the
emulator of PROVIDER (owncloud, dropbox, onedrive, gdrive; ownCloud keeps its files on disk
under ROOT; every call waits SECONDS first, as a distant server would), prints one JSON line
with its address and what the provider's consent would give a client, and runs until its
stdin closes. From a benchmark: :func:`spawn`, then :func:`connect_client` inside Odoo.
"""
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
ODOO = os.environ.get("ODOO_PATH", "/opt/odoo/18.0")
PROVIDERS = ("owncloud", "dropbox", "onedrive", "gdrive")
OWNCLOUD_LOGIN, OWNCLOUD_PASSWORD = "bench", "bench-app-password"


def _start(provider, root, latency=0.0):
    """Child side: the started emulator and its grant (``latency``: ownCloud and Dropbox)."""
    if provider == "owncloud":
        from cloud_emulators.owncloud import OwnCloudEmulator

        emu = OwnCloudEmulator(users={OWNCLOUD_LOGIN: OWNCLOUD_PASSWORD}, root_dir=root,
                               latency=latency).start()
        return emu, {"login": OWNCLOUD_LOGIN, "password": OWNCLOUD_PASSWORD}
    if provider == "dropbox":
        from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator

        emu = DropboxEmulator(latency=latency).start()
        return emu, {"app_key": DEFAULT_APP_KEY, "app_secret": DEFAULT_APP_SECRET,
                     "refresh_token": emu.issue_token(refresh=True)["refresh_token"]}
    if provider == "gdrive":
        from cloud_emulators.gdrive import DriveEmulator

        emu = DriveEmulator().start()
        return emu, {"client_id": emu.client_id, "client_secret": emu.client_secret,
                     "refresh_token": emu.issue_tokens()["refresh_token"]}
    if provider == "onedrive":
        # msal's auth code flow is played by the addon's test helper
        sys.path.insert(0, ODOO)
        import odoo.addons

        odoo.addons.__path__.append(REPO)
        odoo.tools.config["test_enable"] = True
        from cloud_emulators.graph import GraphEmulator
        from odoo.addons.cloud_onedrive.lib.graph_adapter import ONEDRIVE_SCOPES
        from odoo.addons.cloud_onedrive.tests.harness import consent_cache

        emu = GraphEmulator().start()
        return emu, {"client_id": emu.client_id, "client_secret": emu.client_secret,
                     "token_cache": consent_cache(emu, ONEDRIVE_SCOPES)}
    raise SystemExit("unknown provider %r" % provider)


def main(argv):
    # started from `odoo-bin shell`, the child inherits the worker's limit_memory_hard (the
    # soft address-space limit, 2.5 GiB by default); an emulator is no worker, and its copies
    # of a 1 GiB file need more
    resource.setrlimit(resource.RLIMIT_AS, (resource.getrlimit(resource.RLIMIT_AS)[1],) * 2)
    sys.path.insert(0, TESTS)
    options = [arg for arg in argv if arg.startswith("--latency=")]
    argv = [arg for arg in argv if arg not in options]
    latency = float(options[-1].split("=", 1)[1]) if options else 0.0
    provider, root = argv[0], (argv[1] if len(argv) > 1 else None)
    emu, grant = _start(provider, root, latency)
    grant.update(provider=provider, url=emu.base_url)
    print(json.dumps(grant), flush=True)
    for _line in sys.stdin:
        pass
    emu.stop()


class EmulatorProcess:
    """The parent's handle on the child: its grant, its memory, its end."""

    def __init__(self, provider, root=None, latency=0.0):
        command = [sys.executable, os.path.join(HERE, "emulator_process.py"), provider]
        if latency:
            command.append("--latency=%s" % latency)
        self.process = subprocess.Popen(command + ([root] if root else []),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("the %s emulator did not start" % provider)
        self.grant = json.loads(line)
        self.url = self.grant["url"]

    def peak_rss(self):
        """The child's peak resident memory, in bytes (VmHWM)."""
        with open("/proc/%d/status" % self.process.pid) as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def spawn(provider, root=None, latency=0.0):
    return EmulatorProcess(provider, root, latency)


def connect_client(env, grant, name):
    """A ``cloud.client`` of the emulator that gave ``grant``, authorized as the provider's
    consent would leave it, and connected."""
    provider, url = grant["provider"], grant["url"]
    Client = env["cloud.client"]
    values = {"name": name, "provider": provider, "mass_delete_min_files": 1000}
    if provider == "owncloud":
        values.update(owncloud_url=url, owncloud_login=grant["login"],
                      owncloud_password=grant["password"])
        client = Client.create(values)
    elif provider == "dropbox":
        values.update(api_base_url=url, dropbox_app_key=grant["app_key"],
                      dropbox_app_secret=grant["app_secret"])
        client = Client.create(values)
        client._set_secret("dropbox_refresh_token", grant["refresh_token"])
    elif provider == "onedrive":
        values.update(api_base_url=url, onedrive_client_id=grant["client_id"],
                      onedrive_client_secret=grant["client_secret"], onedrive_kind="onedrive")
        client = Client.create(values)
        client._set_secret("onedrive_token_cache", grant["token_cache"])
    else:
        values.update(api_base_url=url, gdrive_client_id=grant["client_id"],
                      gdrive_client_secret=grant["client_secret"])
        client = Client.create(values)
        client._set_secret("gdrive_refresh_token", grant["refresh_token"])
        client = client.with_context(cloud_oauth_done=True)
    client.action_connect()
    if client.state != "connected":
        raise RuntimeError("the %s client did not connect: %s" % (provider, client.state))
    return client


if __name__ == "__main__":
    main(sys.argv[1:])
