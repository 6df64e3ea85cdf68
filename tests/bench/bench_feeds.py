"""Benchmark of the change feeds that resolve through the merge base (R-BW-7): run with
`make bench`.

For 1,000 and 10,000 object folders (one file each) below the managed root, through the real
ownCloud and Dropbox adapters against their loopback emulators, prints: the requests of the
first full listing, of a read with nothing changed and of a read after three cloud changes
(two new files, one deletion of a file the engines made); the cursor's size; the entries in the
merge base. The cost of a read must follow the changes, the cursor must not grow with the tree.
"""
import io
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
sys.path[:0] = [TESTS, os.environ.get("ODOO_PATH", "/opt/odoo/18.0")]

import odoo.addons  # noqa: E402

odoo.addons.__path__.append(REPO)

from cloud_emulators.dropbox import DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DropboxEmulator  # noqa
from cloud_emulators.owncloud import OwnCloudEmulator  # noqa: E402

from odoo.addons.cloud_base.lib.merge_base import MemoryMergeBase, RecordingAdapter  # noqa
from odoo.addons.cloud_dropbox.lib.dropbox_adapter import DropboxAdapter  # noqa: E402
from odoo.addons.cloud_owncloud.lib.owncloud_adapter import OwnCloudAdapter  # noqa: E402

SIZES = [int(s) for s in os.environ.get("BENCH_FEED_SIZES", "1000,10000").split(",")]
USER, PASSWORD = "bench", "bench-password"


def drain(adapter, root_id, cursor):
    changes = {}
    while True:
        page = adapter.changes(root_id, cursor)
        changes.update({c.id: c for c in page.changes})
        cursor = page.cursor
        if not page.has_more:
            return changes, cursor


def requests_of(counters, names):
    return sum(counters[name] for name in names)


def row(provider, size, step, requests, seconds, cursor, base):
    print("%-9s %7d %-30s %9d %9.2f %8d %9d" % (provider, size, step, requests, seconds,
                                                 len(cursor), len(base)))


def bench_owncloud(size):
    emulator = OwnCloudEmulator(users={USER: PASSWORD}).start()
    try:
        adapter = RecordingAdapter(OwnCloudAdapter(emulator.base_url, USER, PASSWORD),
                                   MemoryMergeBase())
        root = adapter.ensure_root("Odoo")
        for n in range(size):
            emulator.put(USER, "/Odoo/Rule/Record %05d/file.txt" % n, b"x")
        made_folder = adapter.create_folder(
            adapter.find_child(root.id, "Rule").id, "Made by Odoo")
        made = adapter.upload(made_folder.id, "made.txt", io.BytesIO(b"made"), 4)
        counters = emulator.counters
        steps = [("full listing", lambda c: (None, adapter.latest_cursor(root.id)))]
        steps.append(("read, nothing changed", lambda c: drain(adapter, root.id, c)))

        def three_changes(cursor):
            emulator.put(USER, "/Odoo/Rule/Record %05d/new.txt" % (size // 2), b"new")
            emulator.put(USER, "/Odoo/Rule/Record %05d/new.txt" % (size - 1), b"new")
            emulator.delete(USER, "/Odoo/Rule/Made by Odoo/made.txt")
            changes, cursor = drain(adapter, root.id, cursor)
            assert made.id in changes and changes[made.id].deleted
            return changes, cursor
        steps.append(("read, 3 changes", three_changes))
        cursor = None
        for name, step in steps:
            before, start = requests_of(counters, ("PROPFIND",)), time.perf_counter()
            _, cursor = step(cursor)
            row("ownCloud", size, name, requests_of(counters, ("PROPFIND",)) - before,
                time.perf_counter() - start, cursor, adapter.merge_base)
    finally:
        emulator.stop()


def bench_dropbox(size):
    emulator = DropboxEmulator().start()
    try:
        grant = emulator.issue_token(refresh=True)
        adapter = RecordingAdapter(DropboxAdapter(
            refresh_token=grant["refresh_token"], app_key=DEFAULT_APP_KEY,
            app_secret=DEFAULT_APP_SECRET, base_url=emulator.base_url), MemoryMergeBase())
        root = adapter.ensure_root("Odoo")
        for n in range(size):
            emulator.put_file("/Odoo/Rule/Record %05d/file.txt" % n, b"x")
        rule = adapter.find_child(root.id, "Rule")
        made_folder = adapter.create_folder(rule.id, "Made by Odoo")
        made = adapter.upload(made_folder.id, "made.txt", io.BytesIO(b"made"), 4)
        api = ("files/list_folder", "files/list_folder/continue", "files/get_metadata")

        def counted():
            return requests_of(emulator.counters, api)
        start, before = time.perf_counter(), counted()
        cursor = adapter.latest_cursor(root.id)
        row("Dropbox", size, "full listing", counted() - before, time.perf_counter() - start,
            cursor, adapter.merge_base)
        start, before = time.perf_counter(), counted()
        _, cursor = drain(adapter, root.id, cursor)
        row("Dropbox", size, "read, nothing changed", counted() - before,
            time.perf_counter() - start, cursor, adapter.merge_base)
        emulator.put_file("/Odoo/Rule/Record %05d/new.txt" % (size // 2), b"new")
        emulator.put_file("/Odoo/Rule/Record %05d/new.txt" % (size - 1), b"new")
        emulator.delete("/Odoo/Rule/Made by Odoo/made.txt")
        start, before = time.perf_counter(), counted()
        changes, cursor = drain(adapter, root.id, cursor)
        assert made.id in changes and changes[made.id].deleted
        row("Dropbox", size, "read, 3 changes", counted() - before,
            time.perf_counter() - start, cursor, adapter.merge_base)
    finally:
        emulator.stop()


print("%-9s %7s %-30s %9s %9s %8s %9s" % ("provider", "folders", "step", "requests",
                                           "seconds", "cursor", "base"))
for folders in SIZES:
    bench_owncloud(folders)
    bench_dropbox(folders)
