"""Concurrent transfers (issue 15 §1), run by `make bench` inside `odoo-bin shell` (``env``
given) on a database with cloud_base, cloud_owncloud and cloud_dropbox installed.

For each storage (the in-memory one, ownCloud and Dropbox through their adapters against their
emulators, each emulator in a process of its own), with the same latency injected on every
call: BENCH_FILES files of BENCH_FILE_KB each are uploaded by the queue runner one at a time
(concurrency 1), by the concurrent runner (BENCH_CONCURRENCY), and straight through the
adapter by the same number of threads, with no Odoo at all (the network-bound limit: the
upload a task makes, straight to the provider as the runner sends a one-request upload, with
the adapter's own requests). Figures printed, nothing asserted.
"""
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "bench"))
from emulator_process import connect_client, spawn  # noqa: E402

from odoo.addons.cloud_base.lib.memory_adapter import drop_store  # noqa: E402

FILES = int(os.environ.get("BENCH_FILES", "1000"))
FILE_SIZE = int(os.environ.get("BENCH_FILE_KB", "100")) * 1024
LATENCY = float(os.environ.get("BENCH_LATENCY_MS", "50")) / 1000
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
RECORDS = max(1, FILES // 10)
STORAGES = os.environ.get("BENCH_STORAGES", "memory,owncloud,dropbox").split(",")


class Memory:
    name = "in-memory"

    def client(self):
        self.store_name = "bench-%s" % uuid.uuid4().hex
        client = env["cloud.client"].create({"name": "Bench memory", "provider": "memory",
                                             "api_base_url": self.store_name})
        client.action_connect()
        client._get_adapter().latency = LATENCY
        return client

    def stop(self):
        drop_store(self.store_name)


class InItsOwnProcess:
    """A provider's emulator in a process of its own (``emulator_process.py``), as a real
    server is: its work does not take the Odoo process's time (nor its interpreter lock).
    Each client gets a root folder of its own on the emulator's one account."""

    provider = None

    def __init__(self):
        self.emulator = spawn(self.provider, latency=LATENCY)

    def client(self):
        client = connect_client(env, self.emulator.grant, "Bench %s" % self.name)
        client.root_folder_name = "Odoo %s" % uuid.uuid4().hex[:6]
        return client

    def stop(self):
        self.emulator.stop()


class OwnCloud(InItsOwnProcess):
    name = "ownCloud"
    provider = "owncloud"


class Dropbox(InItsOwnProcess):
    name = "Dropbox"
    provider = "dropbox"


def prepared_client(storage, label):
    """A client whose record folders exist, with FILES attachments waiting to be uploaded."""
    client = storage.client()
    partners = env["res.partner"].create([{"name": "%s %04d" % (label, i)}
                                          for i in range(RECORDS)])
    env["cloud.sync.rule"].create({
        "model_id": env["ir.model"]._get("res.partner").id, "folder_name": label,
        "client_id": client.id, "domain": "[('id', 'in', %s)]" % partners.ids})
    env["ir.attachment"].create([{"name": "seed.txt", "raw": b"seed",
                                  "res_model": "res.partner", "res_id": p.id}
                                 for p in partners])
    client._prepare_direct()
    env.cr.commit()
    env["cloud.task"]._run_queue(time_budget=7200, client_ids=client.ids)
    payload = os.urandom(FILE_SIZE)
    env["ir.attachment"].create([{"name": "file %04d.bin" % i,
                                  "raw": payload[:-8] + b"%08d" % i,
                                  "res_model": "res.partner",
                                  "res_id": partners[i % RECORDS].id} for i in range(FILES)])
    client._prepare_direct()
    env.cr.commit()
    return client, partners


def drop(client, partners):
    env["cloud.task"].search([("client_id", "=", client.id)]).unlink()
    partners.unlink()
    client.unlink()
    env.cr.commit()


def runner_seconds(storage, concurrency):
    label = "Bench c%d %s" % (concurrency, uuid.uuid4().hex[:4])
    client, partners = prepared_client(storage, label)
    client.transfer_concurrency = concurrency
    env.cr.commit()
    start = time.perf_counter()
    ran = env["cloud.task"]._run_queue(time_budget=7200, client_ids=client.ids,
                                       task_types=["file_upload"])
    seconds = time.perf_counter() - start
    synced = env["ir.attachment"].search_count([("cloud_client_id", "=", client.id),
                                                ("name", "=like", "file %")])
    drop(client, partners)
    return seconds, ran, synced


def adapter_seconds(storage, threads):
    """The same uploads made straight through the adapter by ``threads`` threads."""
    client = storage.client()
    client.transfer_concurrency = threads
    adapters = client._transfer_adapters()
    root = client._get_adapter().ensure_root("Bench limit %s" % uuid.uuid4().hex[:6])
    folders = [client._get_adapter().create_folder(root.id, "r%04d" % i).id
               for i in range(RECORDS)]
    payload = os.urandom(FILE_SIZE)
    lock = threading.Lock()
    done = [0]

    def one(i):
        import io
        adapter = adapters.borrow()
        try:
            parent, name = folders[i % RECORDS], "file %04d.bin" % i
            adapter.upload(parent, name, io.BytesIO(payload), FILE_SIZE)
            with lock:
                done[0] += 1
        finally:
            adapters.give_back(adapter)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(FILES)))
    seconds = time.perf_counter() - start
    client.unlink()
    env.cr.commit()
    return seconds, done[0]


print()
print("Uploads: %d files x %d KB, %d ms per call, concurrency %d (the machine: %s, %d cores)"
      % (FILES, FILE_SIZE // 1024, LATENCY * 1000, CONCURRENCY, os.uname().nodename,
         os.cpu_count()))
print("%-10s %14s %14s %14s %10s %10s" % ("storage", "sequential s", "concurrent s",
                                          "adapter-only s", "speed-up", "vs limit"))
for key in STORAGES:
    storage = {"memory": Memory, "owncloud": OwnCloud, "dropbox": Dropbox}[key]()
    try:
        sequential, ran_1, synced_1 = runner_seconds(storage, 1)
        concurrent, ran_n, synced_n = runner_seconds(storage, CONCURRENCY)
        limit, sent = adapter_seconds(storage, CONCURRENCY)
        print("%-10s %14.1f %14.1f %14.1f %9.1fx %9.2fx   (%d/%d/%d files)" % (
            storage.name, sequential, concurrent, limit, sequential / concurrent,
            concurrent / limit, synced_1, synced_n, sent))
    finally:
        storage.stop()
