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


# ----------------------------------------------------------------------------------------------
# Overhead per upload task with many records already synced (issue 15 §2)
# ----------------------------------------------------------------------------------------------
# A client syncs N records (one file each); then NEW_FILES new attachments are added to synced
# records and their upload tasks are run and measured: SQL queries per task, wall time per task,
# and the share of it spent in the in-memory storage (the rest is Odoo's). The client runs with
# one transfer at a time: its storage calls are then made in the runner's thread, so the two
# shares add up to the wall time (with threads ahead they overlap and cannot be told apart).
TASK_SIZES = [int(s) for s in __import__("os").environ.get(
    "BENCH_TASK_SIZES", "1000,10000").split(",") if s]
NEW_FILES = int(__import__("os").environ.get("BENCH_NEW_FILES", "300"))
QUEUE_SIZES = [int(s) for s in __import__("os").environ.get(
    "BENCH_QUEUE_SIZES", "1000,10000,50000").split(",") if s]


def timed_adapter(adapter):
    """Wrap the adapter's single entry point so the storage's own time can be told apart."""
    spent = {"seconds": 0.0}
    original = adapter._call

    def call(operation, apply_fn):
        start = time.perf_counter()
        try:
            return original(operation, apply_fn)
        finally:
            spent["seconds"] += time.perf_counter() - start

    adapter._call = call
    return spent


def new_client(label):
    store_name = "bench-%s" % uuid.uuid4().hex
    client = env["cloud.client"].create({"name": label, "provider": "memory",
                                         "api_base_url": store_name})
    client.action_connect()
    return client, store_name


def drop_client(client, store_name, partners=None):
    env["cloud.task"].search([("client_id", "=", client.id)]).unlink()
    if partners is not None:
        partners.unlink()
    client.unlink()
    env.cr.commit()
    drop_store(store_name)


print()
print("Upload tasks on top of N synced records (%d new files each)" % NEW_FILES)
print("%8s %9s %10s %10s %12s %12s %10s" % ("synced", "tasks", "SQL/task", "ms/task",
                                           "Odoo ms/task", "store ms/task", "first sync s"))
for size in TASK_SIZES:
    client, store_name = new_client("Bench tasks %d" % size)
    client.transfer_concurrency = 1
    partners = env["res.partner"].create([{"name": "Task bench %06d" % i} for i in range(size)])
    env["cloud.sync.rule"].create({
        "model_id": env["ir.model"]._get("res.partner").id,
        "folder_name": "Task bench %d" % size, "client_id": client.id,
        "domain": "[('id', 'in', %s)]" % partners.ids})
    env["ir.attachment"].create([{"name": "doc.txt", "raw": b"bench %d" % i,
                                  "res_model": "res.partner", "res_id": p.id}
                                 for i, p in enumerate(partners)])
    env.cr.commit()
    Task = env["cloud.task"]
    start = time.perf_counter()
    client._prepare_direct()
    Task._run_queue(time_budget=7200, client_ids=client.ids)
    first_sync = time.perf_counter() - start
    step = max(1, size // NEW_FILES)
    env["ir.attachment"].create([{"name": "new %d.txt" % i, "raw": b"new bench %d" % i,
                                  "res_model": "res.partner", "res_id": p.id}
                                 for i, p in enumerate(partners[::step][:NEW_FILES])])
    client._prepare_direct()
    env.cr.commit()
    adapter = client._get_adapter()
    spent = timed_adapter(adapter)
    ran, seconds, queries = measure(lambda: Task._run_queue(
        time_budget=3600, client_ids=client.ids, task_types=["file_upload"]))
    del adapter._call  # back to the class's method
    tasks = max(ran, 1)
    print("%8d %9d %10.1f %10.2f %12.2f %12.2f %10.1f" % (
        size, ran, queries / tasks, 1000 * seconds / tasks,
        1000 * (seconds - spent["seconds"]) / tasks, 1000 * spent["seconds"] / tasks,
        first_sync))
    drop_client(client, store_name, partners)


# ----------------------------------------------------------------------------------------------
# Claim cost with a long queue: Q ready tasks whose handler has nothing to do (their attachment
# is gone), so a task costs its claim and its result; 200 of them are run.
# ----------------------------------------------------------------------------------------------
print()
print("Claiming from a long queue (200 tasks run, handler does nothing)")
print("%8s %10s %10s" % ("queue", "SQL/task", "ms/task"))
for queue in QUEUE_SIZES:
    client, store_name = new_client("Bench queue %d" % queue)
    env.cr.execute("""
        INSERT INTO cloud_task (type, priority, client_id, state, attempts, deferrals,
                                next_attempt, payload, create_date, write_date)
        SELECT 'file_upload', 20, %s, 'pending', 0, 0, now() at time zone 'UTC'
               - interval '1 minute', '{}'::jsonb, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM generate_series(1, %s)
    """, [client.id, queue])
    env.cr.execute("ANALYZE cloud_task")
    env.cr.commit()
    Task = env["cloud.task"]
    Task._run_queue(time_budget=600, client_ids=client.ids, max_tasks=20)  # warm up
    ran, seconds, queries = measure(lambda: Task._run_queue(
        time_budget=600, client_ids=client.ids, max_tasks=200))
    print("%8d %10.1f %10.2f" % (queue, queries / max(ran, 1), 1000 * seconds / max(ran, 1)))
    drop_client(client, store_name)
