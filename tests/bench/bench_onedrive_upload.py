"""Benchmark of a 50 MiB upload session to OneDrive (issue 12): run with `make bench`.

The real adapter (msal + Graph over requests) uploads to the loopback Graph emulator, which
runs in a child process (so that its copy of the file is not counted), with one fragment
failing (502) and one throttled (429). Prints the time, the fragments sent and the peak of the
Python memory the upload allocated (tracemalloc): it must stay near one fragment (10 MiB) plus
the piece being read, whatever the file's size.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
ODOO = os.environ.get("ODOO_PATH", "/opt/odoo/18.0")
sys.path[:0] = [TESTS, ODOO]

import odoo.addons  # noqa: E402

odoo.addons.__path__.append(REPO)

from odoo.addons.cloud_onedrive.lib.graph_adapter import GraphAdapter  # noqa: E402

MiB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_ONEDRIVE_UPLOAD_MIB", "50")) * MiB
BLOCK = hashlib.sha256(b"bench").digest() * 2048  # 64 KiB of pattern

#: the emulator's process: faults planned, the consent played (msal's auth code flow), then
#: its address and the token cache on stdout; "counters" answers the fragments it received
EMULATOR = """
import json, sys
sys.path[:0] = [%(tests)r, %(odoo)r]
import odoo.addons
odoo.addons.__path__.append(%(repo)r)
odoo.tools.config["test_enable"] = True
from cloud_emulators.graph import GraphEmulator
from odoo.addons.cloud_onedrive.lib.graph_adapter import ONEDRIVE_SCOPES
from odoo.addons.cloud_onedrive.tests.harness import consent_cache
emu = GraphEmulator().start()
cache = consent_cache(emu, ONEDRIVE_SCOPES)
emu.fail("upload_chunk", 502, "generalException", "Bad gateway")
emu.throttle("upload_chunk", retry_after=0, count=1)
print(json.dumps({"url": emu.base_url, "client_id": emu.client_id,
                  "client_secret": emu.client_secret, "cache": cache}), flush=True)
for line in sys.stdin:
    print(json.dumps({"fragments": len(emu.upload_chunk_sizes),
                      "largest": max(emu.upload_chunk_sizes or [0])}), flush=True)
emu.stop()
""" % {"tests": TESTS, "odoo": ODOO, "repo": REPO}


class PatternStream:
    """``size`` bytes made on demand: only the piece asked for exists."""

    def __init__(self, size):
        self.size, self.position = size, 0

    def seekable(self):
        return False

    def read(self, n=-1):
        n = self.size - self.position if n < 0 else min(n, self.size - self.position)
        parts, position, end = [], self.position, self.position + n
        while position < end:
            offset = position % len(BLOCK)
            take = min(len(BLOCK) - offset, end - position)
            parts.append(BLOCK if take == len(BLOCK) else BLOCK[offset:offset + take])
            position += take
        self.position = end
        return b"".join(parts)


def main():
    child = subprocess.Popen([sys.executable, "-c", EMULATOR], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        grant = json.loads(child.stdout.readline())
        adapter = GraphAdapter(grant["client_id"], grant["client_secret"],
                               token_cache=grant["cache"], base_url=grant["url"], timeout=30,
                               max_wait=5)
        root = adapter.ensure_root("Odoo")
        stream = PatternStream(SIZE)
        tracemalloc.start()
        started = time.monotonic()
        item = adapter.upload(root.id, "big.bin", stream, SIZE)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        child.stdin.write("counters\n")
        child.stdin.flush()
        counters = json.loads(child.stdout.readline())
        print("OneDrive upload session of %d MiB; one fragment -> 502, one -> 429" % (
            SIZE // MiB))
        print("  verified size: %s (hash %s)   time: %.2f s   fragments received: %d "
              "(largest %.1f MiB, resent ones included)" % (
                  item.size == SIZE, "given" if item.hash else "none", elapsed,
                  counters["fragments"], counters["largest"] / MiB))
        print("  peak Python memory of the upload: %.1f MiB" % (peak / MiB))
    finally:
        child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
