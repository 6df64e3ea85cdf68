"""The documents file manager and its zip download (issue 14), run by `make bench`
(BENCH_PARTS=documents) inside `odoo-bin shell` (``env`` given) on a throwaway database with
cloud_documents installed. Figures printed, nothing asserted.

1. Opening a folder of BENCH_DOCS_FILES files (default 5,000; half of them synced, the
   folder mirrored) as a plain user: the calls the file manager makes, each with a cold cache
   as a new request has (``documents_path`` and the first page of ``documents_files``, which
   counts the folder too; then the last page; the tree call that lists the folder among its
   siblings; the start-up: both tree calls and the first folder opened). The same for a
   record's folder of the read-only section (the sync rules' record folders: a rule of
   5,000 records, one of them with 5,000 files). Wall time (median of 5) and SQL queries.
2. Zipping BENCH_DOCS_ZIP_FILES files (default 1,000) of 100 KB (random bytes, local files in
   the filestore) as the route does: the members decided as the user, the archive consumed
   from the generator ``iter_zip`` the route streams; deflated (a type that is compressed)
   and stored (a PDF). BENCH_PROFILE=1 prints where the tree calls spend their time.
3. Peak RSS growth (VmHWM, reset before each step through /proc/self/clear_refs, above the
   RSS before it) of a zip download of BENCH_MEMORY_MB (default 1024) MiB: one local file,
   16 local files, and one file synced to the ownCloud emulator, which runs in its own
   process (its content read from the cloud while the zip is written); with the peak of the
   memory Python allocated meanwhile (tracemalloc, a second run).
"""
import cProfile
import gc
import hashlib
import io
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
import uuid

from odoo.addons.cloud_base.lib.memory_adapter import drop_store
from odoo.addons.cloud_documents.lib.zip_stream import iter_zip

sys.path.insert(0, os.path.join(os.getcwd(), "tests", "bench"))
from rss import peak_growth  # noqa: E402

FILES = int(os.environ.get("BENCH_DOCS_FILES", "5000"))
ZIP_FILES = int(os.environ.get("BENCH_DOCS_ZIP_FILES", "1000"))
ZIP_FILE_SIZE = 100 * 1000
BIG = int(os.environ.get("BENCH_MEMORY_MB", "1024")) * 1024 * 1024
BLOCK = 8 * 1024 * 1024
REPEAT = 5
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
MiB = 1024 * 1024
tag = uuid.uuid4().hex[:6]
cr = env.cr
Attachment = env["ir.attachment"]
Folder = env["cloud.documents.folder"]


# -- measuring ---------------------------------------------------------------------------
def traced_peak(step):
    """The peak of the memory Python allocated during ``step()`` (RSS may not grow when
    the process reuses memory it freed before: this says what the step itself held)."""
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def calls(*steps):
    """``(median seconds, SQL queries)`` of the RPC calls ``steps``, each with the cold cache
    of a new request."""
    times, queries = [], None
    for _ in range(REPEAT):
        env.flush_all()
        total, count = 0.0, 0
        for step in steps:
            env.invalidate_all()
            before = cr.sql_log_count
            start = time.perf_counter()
            step()
            total += time.perf_counter() - start
            count += cr.sql_log_count - before
        times.append(total)
        queries = count
    return statistics.median(times), queries


def consume(chunks):
    size = 0
    for piece in chunks:
        size += len(piece)
    return size


def write_file(size, seed):
    """A filestore file of ``size`` random bytes, written piece by piece: ``(store_fname,
    checksum)``."""
    scratch = Attachment._full_path("bench-%s" % uuid.uuid4().hex)
    digest = hashlib.sha1()
    block = os.urandom(min(BLOCK, size))
    with open(scratch, "wb") as handle:
        written, n = 0, 0
        while written < size:
            piece = (block[:-16] + b"%08d%08d" % (seed, n))[:size - written]
            digest.update(piece)
            handle.write(piece)
            written += len(piece)
            n += 1
    checksum = digest.hexdigest()
    fname = "%s/%s" % (checksum[:2], checksum)
    os.makedirs(os.path.dirname(Attachment._full_path(fname)), exist_ok=True)
    os.replace(scratch, Attachment._full_path(fname))
    return fname, checksum


def file_in(folder, name, size, mimetype, seed):
    fname, checksum = write_file(size, seed)
    attachment = Attachment.create({"name": name, "documents_folder_id": folder.id,
                                    "mimetype": mimetype, "type": "binary"})
    cr.execute("UPDATE ir_attachment SET store_fname = %s, file_size = %s, checksum = %s "
               "WHERE id = %s", [fname, size, checksum, attachment.id])
    attachment.invalidate_recordset()
    return attachment


def insert_files(count, **columns):
    """``count`` attachments by SQL (as data there for a while), named file-00001..."""
    names = ", ".join(columns)
    values = ", ".join("%%(%s)s" % key for key in columns)
    cr.execute("""
        INSERT INTO ir_attachment (name, type, mimetype, file_size, checksum, public,
                                   create_date, write_date, create_uid, write_uid,
                                   """ + names + """)
        SELECT 'file-' || lpad(n::text, 5, '0') || (ARRAY['.pdf', '.png', '.txt'])[n %% 3 + 1],
               'binary', (ARRAY['application/pdf', 'image/png', 'text/plain'])[n %% 3 + 1],
               100000, md5(n::text), false, now() at time zone 'UTC' - interval '1 day',
               now() at time zone 'UTC' - interval '1 day', 1, 1, """ + values + """
          FROM generate_series(1, %(count)s) AS n""", dict(columns, count=count))


# -- set-up: a plain user, a memory client, the workspace folder of 5,000 files ----------
staff = env["res.groups"].create({"name": "Bench documents staff %s" % tag})
user = env["res.users"].create({
    "name": "Bench docs %s" % tag, "login": "bench_docs_%s" % tag,
    "groups_id": [(6, 0, [env.ref("base.group_user").id, staff.id])]})
store_name = "bench-docs-%s" % tag
client = env["cloud.client"].create({"name": "Bench documents", "provider": "memory",
                                     "api_base_url": store_name,
                                     "mass_delete_min_files": 10 ** 6})
client.action_connect()
top = Folder.create({"name": "Bench %s" % tag, "client_id": client.id,
                     "read_group_ids": [(6, 0, staff.ids)]})
for n in range(1, 11):
    Folder.create({"name": "Sibling %02d" % n, "parent_id": top.id})
big_folder = Folder.create({"name": "Five thousand", "parent_id": top.id})
insert_files(FILES, res_model="cloud.documents.folder", res_id=big_folder.id,
             documents_folder_id=big_folder.id, documents_owner_id=user.id,
             company_id=env.company.id)
# half of them synced (as a run of the queue leaves them)
cr.execute("""
    UPDATE ir_attachment SET cloud_client_id = %s, cloud_kind = 'file',
           cloud_item_id = 'bench-file-' || id
     WHERE documents_folder_id = %s AND id %% 2 = 0""", [client.id, big_folder.id])

# the read-only section: a rule of FILES partners, the first with FILES files
env["cloud.sync.rule"].create({
    "model_id": env["ir.model"]._get("res.partner").id, "folder_name": "Bench contacts",
    "client_id": client.id, "domain": "[('ref', '=', '%s')]" % tag})
cr.execute("""
    INSERT INTO res_partner (name, complete_name, ref, active, type, is_company, create_date,
                             write_date, create_uid, write_uid)
    SELECT 'Bench ' || lpad(n::text, 5, '0'), 'Bench ' || lpad(n::text, 5, '0'), %(tag)s,
           true, 'contact', false, now() at time zone 'UTC' - interval '1 day',
           now() at time zone 'UTC' - interval '1 day', 1, 1
      FROM generate_series(1, %(count)s) AS n""", {"tag": tag, "count": FILES})
cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE ref = %s", [tag])
cr.execute("SELECT min(id) FROM res_partner WHERE ref = %s", [tag])
first_partner = cr.fetchone()[0]
insert_files(FILES, res_model="res.partner", res_id=first_partner)
env.invalidate_all()
client._prepare_direct()  # the planner makes the folders (and queues their tasks)
cr.execute("""
    UPDATE cloud_folder SET cloud_id = 'bench-' || id, cloud_name = name, state = 'synced',
           synced_parent_id = parent_id WHERE client_id = %s""", [client.id])
cr.execute("""
    UPDATE ir_attachment a SET cloud_client_id = f.client_id, cloud_folder_id = f.id,
           cloud_item_id = 'bench-file-' || a.id, cloud_kind = 'file'
      FROM cloud_folder f
     WHERE f.client_id = %s AND f.kind = 'object' AND f.res_model = a.res_model
       AND f.res_id = a.res_id AND a.id %% 2 = 0""", [client.id])
cr.execute("UPDATE cloud_task SET state = 'done' WHERE client_id = %s", [client.id])
cr.execute("ANALYZE ir_attachment, cloud_folder, res_partner, cloud_task")
env.invalidate_all()
CloudFolder = env["cloud.folder"]
rule_folder = CloudFolder.search([("kind", "=", "rule"), ("name", "=", "Bench contacts"),
                                  ("client_id", "=", client.id)])
record_folder = CloudFolder.search([("res_model", "=", "res.partner"),
                                    ("res_id", "=", first_partner), ("kind", "=", "object")])
cr.commit()

as_user = Folder.with_user(user)
print()
print("Opening a folder of %d files in the file manager, as a plain user (the calls the client "
      "makes, cold cache each; median of %d)" % (FILES, REPEAT))
print("%-66s %9s %6s" % ("step", "ms", "SQL"))


def show(label, *steps):
    seconds, queries = calls(*steps)
    print("%-66s %9.1f %6d" % (label, seconds * 1000, queries))


show("open: documents_path + documents_files (page 1 + count)",
     lambda: as_user.browse(big_folder.id).documents_path(),
     lambda: as_user.documents_files(folder_id=big_folder.id, search={}, limit=80, offset=0))
show("  documents_files alone (80 files + the count)",
     lambda: as_user.documents_files(folder_id=big_folder.id, search={}, limit=80, offset=0))
show("  last page (offset %d)" % (FILES - 80),
     lambda: as_user.documents_files(folder_id=big_folder.id, search={}, limit=80,
                                     offset=FILES - 80))
show("  search by name in its parent (the folder and subfolders)",
     lambda: as_user.documents_files(folder_id=top.id, search={"name": "file-04"}, limit=80))
show("tree: documents_tree(parent), the folder among 11 siblings",
     lambda: as_user.documents_tree(top.id))
show("start-up: both tree calls, then the first folder opened",
     lambda: as_user.documents_tree(False),
     lambda: as_user.documents_synced_tree(False),
     lambda: as_user.browse(top.id).documents_path(),
     lambda: as_user.documents_files(folder_id=top.id, search={}, limit=80, offset=0))
admin = Folder.with_user(env.ref("base.user_admin"))
show("synced records (admin): documents_synced_tree(rule), %d records" % FILES,
     lambda: admin.documents_synced_tree(rule_folder.id))
show("synced records (admin): a record's folder of %d files, page 1" % FILES,
     lambda: admin.documents_synced_files(record_folder.id, limit=80))
partner_reader = env["res.users"].create({
    "name": "Bench docs partners %s" % tag, "login": "bench_docs_p_%s" % tag,
    "groups_id": [(6, 0, [env.ref("base.group_user").id])]})
reader = Folder.with_user(partner_reader)
show("synced records (user): documents_synced_tree(rule), %d records" % FILES,
     lambda: reader.documents_synced_tree(rule_folder.id))
show("synced records (user): a record's folder of %d files, page 1" % FILES,
     lambda: reader.documents_synced_files(record_folder.id, limit=80))
if PROFILE:
    for label, step in (("start-up", lambda: (as_user.documents_tree(False),
                                              as_user.documents_synced_tree(False))),
                        ("synced tree of the rule",
                         lambda: reader.documents_synced_tree(rule_folder.id))):
        env.invalidate_all()
        profile = cProfile.Profile()
        profile.runcall(step)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print("-- profile of the %s" % label)
        print(out.getvalue())

# -- zip of 1,000 files of 100 KB --------------------------------------------------------
zip_folder = Folder.create({"name": "Zip bench", "parent_id": top.id})
zip_files = Attachment.browse()
for n in range(ZIP_FILES):
    zip_files |= file_in(zip_folder, "part-%04d.bin" % n, ZIP_FILE_SIZE,
                         "application/octet-stream", n)
cr.commit()
print()
print("Zip of %d files x %d KB (random bytes, local files), as the route streams it, as the "
      "user" % (ZIP_FILES, ZIP_FILE_SIZE // 1000))
print("%-36s %9s %10s %10s %14s %11s" % ("members", "seconds", "MB/s", "zip MB",
                                         "peak RSS +MiB", "traced MiB"))
for label, mimetype in (("deflated (application/octet-stream)", "application/octet-stream"),
                        ("stored (application/pdf)", "application/pdf")):
    cr.execute("UPDATE ir_attachment SET mimetype = %s WHERE id IN %s",
               [mimetype, tuple(zip_files.ids)])
    env.invalidate_all()

    def zip_folder_files():
        entries = as_user.browse(zip_folder.id)._documents_zip_entries()
        return consume(iter_zip(entries))

    seconds, growth, size = peak_growth(zip_folder_files)
    env.invalidate_all()
    traced = traced_peak(zip_folder_files)
    print("%-36s %9.2f %10.1f %10.1f %14.1f %11.1f" % (
        label, seconds, ZIP_FILES * ZIP_FILE_SIZE / seconds / 1e6, size / 1e6, growth / MiB,
        traced / MiB))
zip_files.unlink()
cr.commit()

# -- peak memory of a 1 GiB zip download --------------------------------------------------
print()
print("Peak memory of a %d MiB zip download (video/mp4: stored), as the user" % (BIG // MiB))
print("%-44s %9s %14s %12s %12s" % ("download", "seconds", "peak RSS +MiB", "traced MiB",
                                    "zip MiB"))
one_folder = Folder.create({"name": "One big", "parent_id": top.id})
many_folder = Folder.create({"name": "Sixteen", "parent_id": top.id})
big = file_in(one_folder, "big.mp4", BIG, "video/mp4", 1)
parts = Attachment.browse()
for n in range(16):
    parts |= file_in(many_folder, "part-%02d.mp4" % n, BIG // 16, "video/mp4", 100 + n)
cr.commit()
for label, folder in (("1 local file of %d MiB" % (BIG // MiB), one_folder),
                      ("16 local files of %d MiB" % (BIG // 16 // MiB), many_folder)):
    def download(f=folder):
        return consume(iter_zip(as_user.browse(f.id)._documents_zip_entries()))

    seconds, growth, size = peak_growth(download)
    env.invalidate_all()
    traced = traced_peak(download)
    print("%-44s %9.1f %14.1f %12.1f %12.1f" % (label, seconds, growth / MiB, traced / MiB,
                                                size / MiB))
parts.unlink()
cr.commit()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


root = tempfile.mkdtemp(prefix="bench-docs-cloud-")
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
    owncloud = env["cloud.client"].create({
        "name": "Bench documents ownCloud", "provider": "owncloud", "owncloud_url": url,
        "owncloud_login": "bench", "owncloud_password": "bench-app-password"})
    owncloud.action_connect()
    synced_folder = Folder.create({"name": "Synced big %s" % tag, "client_id": owncloud.id,
                                   "read_group_ids": [(6, 0, staff.ids)]})
    big.documents_folder_id = synced_folder
    cr.commit()
    Task = env["cloud.task"]
    start = time.perf_counter()
    for _round in range(3):
        owncloud._prepare_direct()
        Task._run_queue(time_budget=3600, client_ids=owncloud.ids)
    big.invalidate_recordset()
    upload_seconds = time.perf_counter() - start
    cr.commit()
    remote = big._cloud_content_is_remote()

    def download_synced():
        return consume(iter_zip(as_user.browse(synced_folder.id)._documents_zip_entries()))

    seconds, growth, size = peak_growth(download_synced)
    env.invalidate_all()
    traced = traced_peak(download_synced)
    print("%-44s %9.1f %14.1f %12.1f %12.1f   (uploaded first in %.1f s; only in the "
          "cloud: %s)" % ("1 file synced to ownCloud (emulator)", seconds, growth / MiB,
                          traced / MiB, size / MiB, upload_seconds, remote))
    big.unlink()
    synced_folder.unlink()
    owncloud.unlink()
    cr.commit()
finally:
    server.terminate()
    server.wait(10)
    subprocess.run(["rm", "-rf", root], check=False)

# -- clean-up -----------------------------------------------------------------------------
cr.execute("DELETE FROM cloud_task WHERE client_id = %s", [client.id])
cr.execute("DELETE FROM cloud_folder WHERE client_id = %s", [client.id])
cr.execute("DELETE FROM ir_attachment WHERE res_model = 'res.partner' AND res_id = %s",
           [first_partner])
cr.execute("DELETE FROM ir_attachment WHERE documents_folder_id = %s", [big_folder.id])
cr.execute("DELETE FROM res_partner WHERE ref = %s", [tag])
env.invalidate_all()
top.unlink()
client.unlink()
drop_store(store_name)
cr.commit()
Attachment._gc_file_store_unsafe()
cr.commit()
