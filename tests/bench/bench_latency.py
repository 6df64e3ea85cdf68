"""End-to-end latency of a new attachment with the crons running (issue 15 §4), run by
`make bench`: ``python tests/bench/bench_latency.py ODOO-ARGS...`` (the bench database's
``odoo-bin`` arguments, ``-d`` included).

The ownCloud emulator runs in its own process with its files on disk. A first
``odoo-bin shell`` connects a client to it, gives a user a synced partner and runs the first
sync; then a real Odoo server starts on that database (threaded, ``--max-cron-threads=1``,
its own HTTP port). Once it is idle (no cron due, no trigger waiting, no task left), the user
attaches a file to the partner through XML-RPC, and the emulator's disk is watched until the
file is there (then Odoo, until the attachment is synced: its local copy released);
BENCH_LATENCY_SAMPLES times (default 5), then the partner is renamed and the disk watched
until the folder has the new name. Figures printed, nothing asserted; the server and the
emulator are stopped whatever happens (the database is dropped by tools/bench.sh).
"""
import base64
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

from emulator_process import spawn

ODOO = os.environ.get("ODOO_PATH", "/opt/odoo/18.0")
SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "5"))
TIMEOUT = 180  # seconds a change may take before the benchmark gives up
USER, PASSWORD = "latency-user", "latency-user-password"

#: run by ``odoo-bin shell``: the client, the user, the synced partner, the first sync
SETUP = r"""
import json, os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "bench"))
from emulator_process import connect_client
grant = json.loads(os.environ["BENCH_LATENCY_GRANT"])
client = connect_client(env, grant, "Bench latency")
login = os.environ["BENCH_LATENCY_USER"]
user = env["res.users"].search([("login", "=", login)]) or env["res.users"].create({
    "name": "Latency user", "login": login, "password": os.environ["BENCH_LATENCY_PASSWORD"],
    "groups_id": [(6, 0, [env.ref("base.group_user").id,
                          env.ref("base.group_partner_manager").id])]})
partner = env["res.partner"].create({"name": "Latency Ann"})
env["cloud.sync.rule"].create({
    "model_id": env["ir.model"]._get("res.partner").id, "client_id": client.id,
    "folder_name": "Latency", "domain": "[('id', '=', %d)]" % partner.id})
client._prepare_direct()
env["cloud.task"]._run_queue(time_budget=600, client_ids=client.ids)
env.cr.commit()
print("LATENCY-SETUP " + json.dumps({"partner_id": partner.id, "user_id": user.id}))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load():
    return " ".join("%.2f" % value for value in os.getloadavg())


def wait_for(condition, timeout=TIMEOUT, pause=0.005):
    """Seconds until ``condition()`` is true (polled every ``pause`` seconds)."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("still waiting after %d s" % timeout)
        time.sleep(pause)
    return time.perf_counter() - start


class Server:
    """The Odoo server under test, reached through XML-RPC."""

    def __init__(self, odoo_args, db, logfile):
        self.db, self.port = db, free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ODOO, "odoo-bin"), *odoo_args,
             "--http-interface=127.0.0.1", "--http-port=%d" % self.port,
             "--max-cron-threads=1", "--workers=0", "--log-level=warn",
             "--logfile=%s" % logfile],
            stdin=subprocess.DEVNULL)
        self.common = xmlrpc.client.ServerProxy(self.url + "/xmlrpc/2/common")
        self.models = xmlrpc.client.ServerProxy(self.url + "/xmlrpc/2/object", allow_none=True)
        wait_for(self._answers, timeout=120, pause=0.2)
        self.admin = self.common.authenticate(db, "admin", "admin", {})

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError("the Odoo server stopped (status %s)" % self.process.returncode)
        try:
            self.common.version()
            return True
        except OSError:
            return False

    def call(self, uid, password, model, method, *args, **kwargs):
        return self.models.execute_kw(self.db, uid, password, model, method, list(args),
                                      kwargs)

    def as_admin(self, model, method, *args, **kwargs):
        return self.call(self.admin, "admin", model, method, *args, **kwargs)

    def busy(self):
        """What keeps it from being idle: crons due, triggers waiting, tasks left."""
        now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S")
        return (self.as_admin("ir.cron", "search_count", [("nextcall", "<=", now)])
                + self.as_admin("ir.cron.trigger", "search_count", [("call_at", "<=", now)])
                + self.as_admin("cloud.task", "search_count",
                                [("state", "in", ("pending", "running"))]))

    def wait_idle(self, quiet=2.0):
        """Wait until nothing is due for ``quiet`` seconds in a row."""
        since = time.monotonic()
        deadline = since + TIMEOUT
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise TimeoutError("the server never became idle")
            if self.busy():
                since = time.monotonic()
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def on_disk(root, name, kind="file"):
    """Is there a ``kind`` named ``name`` anywhere under ``root``?"""
    for _folder, dirs, files in os.walk(root):
        if name in (files if kind == "file" else dirs):
            return True
    return False


def summary(values):
    return "min %.2f s, median %.2f s, max %.2f s" % (
        min(values), statistics.median(values), max(values))


def main(odoo_args):
    db = odoo_args[odoo_args.index("-d") + 1]
    work = tempfile.mkdtemp(prefix="bench-latency-")
    cloud_root = os.path.join(work, "cloud")
    logfile = os.path.join(work, "odoo.log")
    emulator = spawn("owncloud", cloud_root)
    server = None
    try:
        started = time.perf_counter()
        setup = subprocess.run(
            [sys.executable, os.path.join(ODOO, "odoo-bin"), "shell", *odoo_args,
             "--log-level=warn", "--no-http"],
            input=SETUP, capture_output=True, text=True, check=False,
            env=dict(os.environ, BENCH_LATENCY_GRANT=json.dumps(emulator.grant),
                     BENCH_LATENCY_USER=USER, BENCH_LATENCY_PASSWORD=PASSWORD))
        marker = [line for line in setup.stdout.splitlines()
                  if line.startswith("LATENCY-SETUP ")]
        if not marker:
            raise RuntimeError("setup failed:\n%s\n%s" % (setup.stdout[-3000:],
                                                         setup.stderr[-3000:]))
        partner_id = json.loads(marker[0].split(" ", 1)[1])["partner_id"]
        files = os.path.join(cloud_root, emulator.grant["login"])
        print()
        print("End-to-end latency with the crons running (Odoo server, 1 cron thread; ownCloud "
              "emulator in its own process, files on disk)")
        print("setup and first sync %.1f s" % (time.perf_counter() - started))
        started = time.perf_counter()
        server = Server(odoo_args, db, logfile)
        print("server up in %.1f s" % (time.perf_counter() - started))
        uid = server.common.authenticate(db, USER, PASSWORD, {})
        started = time.perf_counter()
        server.wait_idle()
        print("idle after the startup's crons (%.1f s); load average %s" % (
            time.perf_counter() - started, load()))
        in_cloud, synced = [], []
        for n in range(SAMPLES):
            server.wait_idle(quiet=1.0)
            name = "latency-%d-%d.pdf" % (os.getpid(), n)
            start = time.perf_counter()
            attachment_id = server.call(uid, PASSWORD, "ir.attachment", "create", {
                "name": name, "res_model": "res.partner", "res_id": partner_id,
                "datas": base64.b64encode(b"%PDF-1.4 latency sample " + name.encode()).decode()})
            created = time.perf_counter() - start
            wait_for(lambda name=name: on_disk(files, name))
            in_cloud.append(time.perf_counter() - start)
            wait_for(lambda attachment_id=attachment_id: server.as_admin(
                "ir.attachment", "search_count",
                [("id", "=", attachment_id), ("type", "=", "url")]), pause=0.02)
            synced.append(time.perf_counter() - start)
            print("  attachment %d: created (XML-RPC call) in %.2f s, in the cloud after %.2f s, "
                  "synced in Odoo after %.2f s" % (n + 1, created, in_cloud[-1], synced[-1]),
                  flush=True)
        server.wait_idle(quiet=1.0)
        new_name = "Latency Ann renamed %d" % os.getpid()
        start = time.perf_counter()
        server.call(uid, PASSWORD, "res.partner", "write", [partner_id], {"name": new_name})
        wait_for(lambda: on_disk(files, new_name, kind="folder"))
        renamed = time.perf_counter() - start
        print("new attachment -> file in the cloud (%d samples): %s" % (SAMPLES,
                                                                      summary(in_cloud)))
        print("new attachment -> synced in Odoo (local copy released): %s" % summary(synced))
        print("record renamed -> folder renamed in the cloud: %.2f s" % renamed)
        print("load average after: %s" % load())
    finally:
        if server is not None:
            server.stop()
        emulator.stop()
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main(sys.argv[1:])
