"""Peak memory of big transfers on every provider (issue 15 §5), run by `make bench` inside
`odoo-bin shell` (``env`` given) on a database with the five cloud addons installed.

Each provider's emulator runs in its own process (``emulator_process.py``; ownCloud keeps its
files on disk, the others in their memory), so what grows here is the Odoo worker alone. A
BENCH_MEMORY_MB file (default 1024) is uploaded by the queue runner through the provider's
real adapter, read the way `/web/content` sends it (the streamed download), and brought back
into Odoo by a reverse task; for each, the growth of the process's peak RSS (VmHWM, reset
before each step through /proc/self/clear_refs) above its RSS before the step.
BENCH_MEMORY_PROVIDERS (default all four) picks providers. Figures printed, nothing asserted.
"""
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "bench"))
from emulator_process import PROVIDERS, connect_client, spawn  # noqa: E402
from rss import peak_growth  # noqa: E402

SIZE = int(os.environ.get("BENCH_MEMORY_MB", "1024")) * 1024 * 1024
PROVIDERS_RUN = os.environ.get("BENCH_MEMORY_PROVIDERS", ",".join(PROVIDERS)).split(",")
BLOCK = 8 * 1024 * 1024
MiB = 1024 * 1024
logging.getLogger("dropbox").setLevel(logging.WARNING)  # a line per request otherwise
Attachment = env["ir.attachment"]
Task = env["cloud.task"]


def measured(step):
    """``(seconds, peak RSS growth)`` of ``step()``."""
    seconds, growth, _result = peak_growth(step)
    return seconds, growth


def big_attachment(partner):
    """A SIZE-byte attachment of ``partner``, written into the filestore piece by piece
    (never whole in memory)."""
    scratch = Attachment._full_path("bench-%s" % uuid.uuid4().hex)
    digest = hashlib.sha1()
    salt = uuid.uuid4().bytes
    with open(scratch, "wb") as handle:
        block = os.urandom(BLOCK)
        for n in range(SIZE // BLOCK):
            piece = block[:-24] + salt + b"%08d" % n
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
    return big


def explain(client, big):
    """Why a step did not do what it should: the attachment and the client's last words."""
    big.invalidate_recordset()
    print("  %s: type %s, file_size %s, cloud item %s" % (
        big.name, big.type, big.file_size, big.cloud_item_id or "none"))
    for task in Task.search([("client_id", "=", client.id)], order="id desc", limit=3):
        print("  task %s %s: %s" % (task.type, task.state, task.last_error or ""))
    for log in env["cloud.log"].search([("client_id", "=", client.id)], order="id desc",
                                       limit=3):
        print("  log %s: %s" % (log.level, log.message))


def bench(provider):
    """The three steps through ``provider``: rows of the table."""
    root = tempfile.mkdtemp(prefix="bench-cloud-")
    emulator = spawn(provider, root if provider == "owncloud" else None)
    try:
        client = connect_client(env, emulator.grant, "Bench memory %s" % provider)
        partner = env["res.partner"].create({"name": "Bench memory %s" % uuid.uuid4().hex[:6]})
        env["cloud.sync.rule"].create({
            "model_id": env["ir.model"]._get("res.partner").id, "client_id": client.id,
            "folder_name": "Bench memory", "domain": "[('id', '=', %d)]" % partner.id})
        big = big_attachment(partner)
        env.cr.commit()

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

        rows = []
        seconds, growth = measured(upload)
        big.invalidate_recordset()
        rows.append(("upload (queue runner)", seconds, growth, big.type == "url"))
        if not rows[-1][-1]:
            explain(client, big)
            return rows, emulator.peak_rss()
        seconds, growth = measured(download)
        rows.append(("download as /web/content sends it", seconds, growth, True))
        seconds, growth = measured(reverse)
        big.invalidate_recordset()
        rows.append(("reverse sync into the filestore", seconds, growth,
                     big.type == "binary" and big.file_size == SIZE))
        if not rows[-1][-1]:
            explain(client, big)
        emulator_peak = emulator.peak_rss()
        big.unlink()
        partner.unlink()
        client.unlink()
        env.cr.commit()
        return rows, emulator_peak
    finally:
        emulator.stop()
        subprocess.run(["rm", "-rf", root], check=False)


print()
print("Peak memory of one %d MiB file through each provider's adapter (emulator in its own "
      "process); load average %s" % (SIZE // MiB, " ".join(
          "%.2f" % load for load in os.getloadavg())))
print("%-10s %-34s %10s %14s %4s %18s" % ("provider", "step", "seconds", "peak RSS +MiB", "ok",
                                          "emulator peak MiB"))
for provider in PROVIDERS_RUN:
    rows, emulator_peak = bench(provider)
    for n, (step, seconds, growth, ok) in enumerate(rows):
        print("%-10s %-34s %10.1f %14.1f %4s %18s" % (
            provider if n == 0 else "", step, seconds, growth / MiB, "yes" if ok else "NO",
            "%.0f" % (emulator_peak / MiB) if n == 0 else ""), flush=True)
print("load average after: %s" % " ".join("%.2f" % load for load in os.getloadavg()))
