"""Concurrent transfers (issue 15 §1), run by `make bench` inside `odoo-bin shell` (``env``
given) on a database with cloud_base, cloud_owncloud and cloud_dropbox installed.

For each storage (the in-memory one, ownCloud and Dropbox through their adapters against their
emulators), with the same latency injected on every call: BENCH_FILES files of BENCH_FILE_KB
each are uploaded by the queue runner one at a time (concurrency 1), by the concurrent runner
(BENCH_CONCURRENCY), and straight through the adapter by the same number of threads, with no
Odoo at all (the network-bound limit: the upload a task makes, straight to the provider as
the runner sends a one-request upload, with the adapter's own requests).
Figures printed, nothing asserted.
"""
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.getcwd(), "tests"))

from cloud_emulators.dropbox import (DEFAULT_APP_KEY, DEFAULT_APP_SECRET,  # noqa: E402
                                     DropboxEmulator)
from cloud_emulators.owncloud import OwnCloudEmulator  # noqa: E402

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


class OwnCloud:
    name = "ownCloud"

    def __init__(self):
        self.emulator = OwnCloudEmulator(latency=LATENCY).start()

    def client(self):
        user = "bench-%s" % uuid.uuid4().hex[:8]
        password = self.emulator.add_app_password(self.emulator.add_user(user, "pw"))
        client = env["cloud.client"].create({
            "name": "Bench ownCloud", "provider": "owncloud",
            "owncloud_url": self.emulator.base_url, "owncloud_login": user,
            "owncloud_password": password})
        client.action_connect()
        return client

    def stop(self):
        self.emulator.stop()


class Dropbox:
    name = "Dropbox"

    def __init__(self):
        self.emulator = DropboxEmulator(latency=LATENCY).start()

    def client(self):
        client = env["cloud.client"].create({
            "name": "Bench Dropbox", "provider": "dropbox",
            "api_base_url": self.emulator.base_url, "dropbox_app_key": DEFAULT_APP_KEY,
            "dropbox_app_secret": DEFAULT_APP_SECRET})
        grant = self.emulator.issue_token(refresh=True)
        client._set_secret("dropbox_refresh_token", grant["refresh_token"])
        client.action_connect()
        return client

    def stop(self):
        self.emulator.stop()


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
