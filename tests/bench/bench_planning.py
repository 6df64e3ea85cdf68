"""Planning at scale (issue 15 §3), run by `make bench` (BENCH_PARTS=planning) inside
`odoo-bin shell` (``env`` given) on a throwaway database.

For 1k / 10k / 100k partners (BENCH_PLAN_SIZES), each with one attachment, and a rule with a
filter and a period line: the first plan, a plan when nothing changed, and a plan after
BENCH_PLAN_CHANGED records were renamed; each with its wall time, SQL queries, tasks queued and
the growth of the peak resident memory. Between them the queue's work is done by SQL (as if
it had run: folders made, files uploaded) so the later plans see a synced client. The records
are written by SQL a day before the plans (as data that existed before the client), so that
setting them up takes seconds. Nothing runs in the cloud: planning makes no API call.
BENCH_PROFILE=1 prints the top of a cProfile of the largest first plan. Figures printed,
nothing asserted.
"""
import cProfile
import datetime
import io
import os
import pstats
import time
import uuid

from odoo.addons.cloud_base.lib.memory_adapter import drop_store
from odoo.addons.cloud_base.models import cloud_engine_planner

# (the planner before issue 15 §3 had no margin: this bench measures it too)
CHANGES_MARGIN = getattr(cloud_engine_planner, "CHANGES_MARGIN", datetime.timedelta(0))

SIZES = [int(s) for s in os.environ.get("BENCH_PLAN_SIZES", "1000,10000,100000").split(",")
         if s]
CHANGED = int(os.environ.get("BENCH_PLAN_CHANGED", "10"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"


def _status_kb(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak():
    """Start the peak resident memory (VmHWM) again from the current one (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def measure(function, profile=False):
    """``(seconds, Odoo CPU seconds, queries, tasks, peak RSS growth in MB)`` of running
    ``function`` (the CPU time is this process's: the rest is the database's, or waiting for
    a core on a busy machine)."""
    env.flush_all()
    env.invalidate_all()
    tasks_before = env["cloud.task"].search_count([])
    _reset_peak()
    rss = _status_kb("VmRSS")
    queries = env.cr.sql_log_count
    profiler = cProfile.Profile() if profile else None
    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    function()
    env.flush_all()
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queries = env.cr.sql_log_count - queries
    growth = max(_status_kb("VmHWM") - rss, 0) / 1024
    tasks = env["cloud.task"].search_count([]) - tasks_before
    env.cr.commit()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())
    return seconds, cpu, queries, tasks, growth


def insert_partners(tag, size):
    """``size`` partners and one small attachment each, by SQL, written a day ago."""
    cr = env.cr
    cr.execute("""
        INSERT INTO res_partner (name, complete_name, ref, active, type, is_company,
                                 create_date, write_date, create_uid, write_uid)
        SELECT 'Bench ' || %(tag)s || ' ' || lpad(n::text, 6, '0'),
               'Bench ' || %(tag)s || ' ' || lpad(n::text, 6, '0'), %(tag)s, true, 'contact',
               false, now() at time zone 'UTC' - interval '1 day',
               now() at time zone 'UTC' - interval '1 day', 1, 1
          FROM generate_series(1, %(size)s) AS n""", {"tag": tag, "size": size})
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE ref = %s", [tag])
    cr.execute("""
        INSERT INTO ir_attachment (name, res_model, res_id, type, mimetype, db_datas,
                                   file_size, public, create_date, write_date, create_uid,
                                   write_uid)
        SELECT 'doc-' || p.id || '.txt', 'res.partner', p.id, 'binary', 'text/plain',
               convert_to('bench', 'UTF8'), 5, false, p.create_date, p.write_date, 1, 1
          FROM res_partner p WHERE p.ref = %s""", [tag])
    cr.execute("ANALYZE res_partner, ir_attachment")  # as data there for a while would be
    env.invalidate_all()


def simulate_run(client):
    """What running the queue would leave, by SQL: folders created, files uploaded (each row
    written now, by the engine), the tasks done."""
    cr = env.cr
    cr.execute("""
        UPDATE cloud_folder SET cloud_id = 'bench-' || id, cloud_name = name, state = 'synced',
               synced_parent_id = parent_id, write_date = now() at time zone 'UTC'
         WHERE client_id = %s""", [client.id])
    cr.execute("""
        UPDATE ir_attachment a SET cloud_client_id = f.client_id, cloud_folder_id = f.id,
               cloud_item_id = 'bench-file-' || a.id, cloud_kind = 'file',
               write_date = now() at time zone 'UTC'
          FROM cloud_folder f
         WHERE f.client_id = %s AND f.kind = 'object' AND f.res_model = a.res_model
           AND f.res_id = a.res_id""", [client.id])
    cr.execute("UPDATE cloud_task SET state = 'done' WHERE client_id = %s", [client.id])
    # (a run of hours leaves the tables analysed by autovacuum)
    cr.execute("ANALYZE cloud_folder, ir_attachment, cloud_task")
    env.invalidate_all()
    cr.commit()


def remove(client, tag):
    cr = env.cr
    cr.execute("DELETE FROM cloud_task WHERE client_id = %s", [client.id])
    cr.execute("DELETE FROM cloud_folder WHERE client_id = %s", [client.id])
    cr.execute("DELETE FROM ir_attachment WHERE res_model = 'res.partner' AND res_id IN "
               "(SELECT id FROM res_partner WHERE ref = %s)", [tag])
    cr.execute("DELETE FROM res_partner WHERE ref = %s", [tag])
    env.invalidate_all()
    client.unlink()
    env.cr.commit()


print("%8s %-28s %9s %9s %9s %9s %10s" % ("records", "step", "seconds", "CPU s", "SQL",
                                            "tasks", "peak MB+"))
create_date = env["ir.model.fields"]._get("res.partner", "create_date")
for size in SIZES:
    tag = "bench-plan-%d-%s" % (size, uuid.uuid4().hex[:6])
    insert_partners(tag, size)
    store_name = "bench-%s" % uuid.uuid4().hex
    client = env["cloud.client"].create({"name": "Bench planning %d" % size,
                                         "provider": "memory", "api_base_url": store_name})
    client.action_connect()
    env["cloud.sync.rule"].create({
        "model_id": env["ir.model"]._get("res.partner").id, "client_id": client.id,
        "folder_name": "Bench %d" % size, "domain": "[('ref', '=', %r)]" % tag,
        "period_ids": [(0, 0, {"field_id": create_date.id, "direction": "last", "count": 1,
                               "unit": "years", "including_current": True})]})
    env.cr.commit()

    def row(step, figures, size=size):
        print("%8d %-28s %9.2f %9.2f %9d %9d %10.1f" % ((size, step) + figures), flush=True)

    row("plan (first)", measure(client._prepare_direct,
                                profile=PROFILE and size == max(SIZES)))
    row("plan (queue still full)", measure(client._prepare_direct))
    simulate_run(client)
    # (changes made just before a plan are looked at by the next one too: a transaction
    # committing meanwhile is seen; a real plan comes minutes after them)
    time.sleep(CHANGES_MARGIN.total_seconds() + 1)
    row("plan (after the run)", measure(client._prepare_direct))
    row("plan (nothing changed)", measure(client._prepare_direct))
    partners = env["res.partner"].search([("ref", "=", tag)], limit=CHANGED)
    for partner in partners:
        partner.name += " (renamed)"
    env.cr.commit()
    time.sleep(CHANGES_MARGIN.total_seconds() + 1)
    row("plan (%d renamed)" % CHANGED, measure(client._prepare_direct))
    row("plan (nothing changed)", measure(client._prepare_direct))
    remove(client, tag)
    drop_store(store_name)
