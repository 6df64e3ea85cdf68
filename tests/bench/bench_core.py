"""Benchmark of the sync core on the in-memory adapter: run with `make bench`.

Executed inside `odoo-bin shell` (``env`` is given) on a throwaway database. Prints, for a
growing number of records: wall time, SQL queries and adapter calls per task for the first
direct sync, for an idle planning run, and for a backward run with three cloud changes.
"""
import time
import uuid

from odoo.addons.cloud_base.lib.memory_adapter import drop_store, get_store

SIZES = [int(s) for s in __import__("os").environ.get("BENCH_SIZES", "100,1000").split(",")]


def measure(function):
    env.flush_all()
    queries = env.cr.sql_log_count
    start = time.perf_counter()
    result = function()
    env.flush_all()
    return result, time.perf_counter() - start, env.cr.sql_log_count - queries


print("%8s %-28s %9s %9s %10s %12s" % ("records", "step", "seconds", "tasks", "SQL/task",
                                          "API calls"))
for size in SIZES:
    store_name = "bench-%s" % uuid.uuid4().hex
    client = env["cloud.client"].create({"name": "Bench %d" % size, "provider": "memory",
                                         "api_base_url": store_name})
    client.action_connect()
    partners = env["res.partner"].create([{"name": "Bench %06d" % i} for i in range(size)])
    env["cloud.sync.rule"].create({
        "model_id": env["ir.model"]._get("res.partner").id, "folder_name": "Bench %d" % size,
        "client_id": client.id, "domain": "[('id', 'in', %s)]" % partners.ids})
    env["ir.attachment"].create([{"name": "doc.txt", "raw": b"bench %d" % i,
                                  "res_model": "res.partner", "res_id": p.id}
                                 for i, p in enumerate(partners)])
    env.cr.commit()
    adapter = client._get_adapter()
    Task = env["cloud.task"]

    def row(step, seconds, tasks, queries, calls):
        print("%8d %-28s %9.2f %9d %10.1f %12d" % (size, step, seconds, tasks,
                                                   queries / max(tasks, 1), calls))

    _, seconds, queries = measure(client._prepare_direct)
    row("plan (first)", seconds, 0, queries, 0)
    calls = sum(adapter.calls.values())
    ran, seconds, queries = measure(lambda: Task._run_queue(time_budget=3600,
                                                            client_ids=client.ids))
    row("run (folders + uploads)", seconds, ran, queries, sum(adapter.calls.values()) - calls)
    _, seconds, queries = measure(client._prepare_direct)
    row("plan (nothing changed)", seconds, 0, queries, 0)
    client._enqueue_backward()
    Task._run_queue(time_budget=3600, client_ids=client.ids)  # drain our own changes
    store = get_store(store_name)
    folders = env["cloud.folder"].search([("client_id", "=", client.id),
                                          ("kind", "=", "object")], limit=3)
    for n, folder in enumerate(folders):
        store.put_file(folder.cloud_id, "cloud-%d.txt" % n, b"from the cloud")
    calls = sum(adapter.calls.values())
    client._enqueue_backward()
    ran, seconds, queries = measure(lambda: Task._run_queue(time_budget=3600,
                                                            client_ids=client.ids))
    row("backward (3 cloud changes)", seconds, ran, queries,
        sum(adapter.calls.values()) - calls)
    partners.unlink()  # their attachments go with them
    client.unlink()
    env.cr.commit()
    drop_store(store_name)
