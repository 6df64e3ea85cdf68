"""Peak memory of big transfers (issue 15 §5), run by `make bench` inside `odoo-bin shell`
(``env`` given) on a database with cloud_base and cloud_owncloud installed.

The ownCloud emulator runs in its own process (files on disk), so what grows here is the Odoo
worker alone. A BENCH_MEMORY_MB file (default 1024) is uploaded by the queue runner, read the
way `/web/content` sends it (the streamed download), and brought back into Odoo by a reverse
task; for each, the growth of the process's peak RSS (VmHWM, reset before each step through
/proc/self/clear_refs) above its RSS before the step. Figures printed, nothing asserted.
"""
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

SIZE = int(os.environ.get("BENCH_MEMORY_MB", "1024")) * 1024 * 1024
BLOCK = 8 * 1024 * 1024
MiB = 1024 * 1024


def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def measured(step):
    """``(seconds, peak RSS growth)`` of ``step()``."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak starts again from the current RSS
    before = status("VmRSS")
    start = time.perf_counter()
    step()
    return time.perf_counter() - start, status("VmHWM") - before


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


root = tempfile.mkdtemp(prefix="bench-cloud-")
port = free_port()
server = subprocess.Popen(
    [sys.executable, "-m", "cloud_emulators.owncloud", "--port", str(port), "--root", root,
     "--user", "bench", "--password", "bench-app-password"],
    cwd=os.path.join(os.getcwd(), "tests"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = "http://127.0.0.1:%d" % port
for _ in range(100):
    try:
        urllib.request.urlopen(url + "/status.php", timeout=1)
        break
    except OSError:
        time.sleep(0.1)

try:
    client = env["cloud.client"].create({
        "name": "Bench memory", "provider": "owncloud", "owncloud_url": url,
        "owncloud_login": "bench", "owncloud_password": "bench-app-password"})
    client.action_connect()
    partner = env["res.partner"].create({"name": "Bench memory %s" % uuid.uuid4().hex[:6]})
    env["cloud.sync.rule"].create({
        "model_id": env["ir.model"]._get("res.partner").id, "folder_name": "Bench memory",
        "client_id": client.id, "domain": "[('id', '=', %d)]" % partner.id})
    # the big file is written into the filestore piece by piece (never whole in memory)
    Attachment = env["ir.attachment"]
    scratch = Attachment._full_path("bench-%s" % uuid.uuid4().hex)
    digest = hashlib.sha1()
    with open(scratch, "wb") as handle:
        block = os.urandom(BLOCK)
        for n in range(SIZE // BLOCK):
            piece = block[:-8] + b"%08d" % n
            digest.update(piece)
            handle.write(piece)
    checksum = digest.hexdigest()
    fname = "%s/%s" % (checksum[:2], checksum)
    os.makedirs(os.path.dirname(Attachment._full_path(fname)), exist_ok=True)
    os.replace(scratch, Attachment._full_path(fname))
    big = Attachment.create({"name": "big.bin", "res_model": "res.partner",
                             "res_id": partner.id, "mimetype": "application/octet-stream",
                             "type": "binary"})
    env.cr.execute("UPDATE ir_attachment SET store_fname = %s, file_size = %s, checksum = %s "
                   "WHERE id = %s", [fname, SIZE, checksum, big.id])
    big.invalidate_recordset()
    env.cr.commit()
    Task = env["cloud.task"]

    def upload():
        client._prepare_direct()
        Task._run_queue(time_budget=3600, client_ids=client.ids)

    def download():
        received = 0
        for piece in big._cloud_started_download():
            received += len(piece)
        assert received == SIZE, received

    def reverse():
        Task._enqueue(client, "reverse", attachment=big)
        Task._run_queue(time_budget=3600, client_ids=client.ids)

    print()
    print("Peak memory of one %d MiB file through the ownCloud adapter (emulator in its own "
          "process)" % (SIZE // MiB))
    print("%-34s %10s %14s" % ("step", "seconds", "peak RSS +MiB"))
    seconds, growth = measured(upload)
    big.invalidate_recordset()
    print("%-34s %10.1f %14.1f   (synced: %s)" % ("upload (queue runner)", seconds,
                                                 growth / MiB, big.type == "url"))
    seconds, growth = measured(download)
    print("%-34s %10.1f %14.1f" % ("download as /web/content sends it", seconds, growth / MiB))
    seconds, growth = measured(reverse)
    big.invalidate_recordset()
    print("%-34s %10.1f %14.1f   (back in Odoo: %s)" % ("reverse sync into the filestore",
                                                       seconds, growth / MiB,
                                                       big.type == "binary"))
    big.unlink()
    partner.unlink()
    client.unlink()
    env.cr.commit()
finally:
    server.terminate()
    server.wait(10)
    subprocess.run(["rm", "-rf", root], check=False)
