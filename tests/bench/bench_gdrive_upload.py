"""Benchmark of a 50 MiB resumable upload to Google Drive (issue 13): run with `make bench`.

The real adapter and SDK upload to the loopback Drive emulator, which runs in a child process
(so that its copy of the file is not counted), with the third chunk request failing (503) and
a later chunk refused by a 403 ``rateLimitExceeded``. Prints the time, the chunk requests and
the peak of the Python memory the upload allocated (tracemalloc) and the process's peak RSS:
the traced peak must stay near one chunk (8 MiB) plus the piece being read, whatever the
file's size.
"""
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
sys.path[:0] = [TESTS, os.environ.get("ODOO_PATH", "/opt/odoo/18.0")]

import odoo.addons  # noqa: E402

odoo.addons.__path__.append(REPO)

from odoo.addons.cloud_gdrive.lib.gdrive_adapter import GoogleDriveAdapter  # noqa: E402

MiB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_GDRIVE_UPLOAD_MIB", "50")) * MiB
BLOCK = hashlib.sha256(b"bench").digest() * 2048  # 64 KiB of pattern

#: the emulator's process: the faults planned, then its address and a grant on stdout; it
#: answers "counters" with its request counters and stops when stdin closes
EMULATOR = """
import json, sys
sys.path.insert(0, %r)
from cloud_emulators.gdrive import DriveEmulator
emu = DriveEmulator().start()
emu.fail_chunk(3, 503, "backendError")
emu.fail_chunk(6, 403, "rateLimitExceeded", "Rate limit exceeded.")
print(json.dumps({"url": emu.base_url, "client_id": emu.client_id,
                  "client_secret": emu.client_secret,
                  "refresh_token": emu.issue_tokens()["refresh_token"]}), flush=True)
for line in sys.stdin:
    print(json.dumps(dict(emu.counters)), flush=True)
emu.stop()
""" % TESTS


class PatternStream:
    """``size`` bytes made on demand: only the piece asked for exists."""

    def __init__(self, size):
        self.size, self.position = size, 0
        self.md5 = hashlib.md5()

    def read(self, n=-1):
        n = self.size - self.position if n < 0 else min(n, self.size - self.position)
        parts, position, end = [], self.position, self.position + n
        while position < end:  # whole blocks are shared: one allocation, the piece
            offset = position % len(BLOCK)
            take = min(len(BLOCK) - offset, end - position)
            parts.append(BLOCK if take == len(BLOCK) else BLOCK[offset:offset + take])
            position += take
        piece = b"".join(parts)
        self.position = end
        self.md5.update(piece)
        return piece


def main():
    child = subprocess.Popen([sys.executable, "-c", EMULATOR], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        grant = json.loads(child.stdout.readline())
        adapter = GoogleDriveAdapter(
            refresh_token=grant["refresh_token"], client_id=grant["client_id"],
            client_secret=grant["client_secret"], base_url=grant["url"], chunk_retries=3,
            sleep=lambda seconds: None)
        root = adapter.ensure_root("Odoo")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stream = PatternStream(SIZE)
        tracemalloc.start()
        started = time.monotonic()
        item = adapter.upload(root.id, "big.bin", stream, SIZE)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child.stdin.write("counters\n")
        child.stdin.flush()
        counters = json.loads(child.stdout.readline())
        verified = item.size == SIZE and item.hash == stream.md5.hexdigest()
        print("Google Drive resumable upload of %d MiB in %d MiB chunks; chunk request 3 -> "
              "503, chunk request 6 -> 403 rateLimitExceeded" % (SIZE // MiB,
                                                                 adapter.chunk_size // MiB))
        print("  verified (size and md5Checksum): %s   time: %.2f s   chunk requests: %d "
              "(status queries included)" % (verified, elapsed, counters.get("upload_chunk")))
        print("  peak Python memory of the upload: %.1f MiB   peak RSS: %.0f MiB before, "
              "%.0f MiB after" % (peak / MiB, rss_before, rss_after))
    finally:
        child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
