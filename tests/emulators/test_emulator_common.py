"""What every emulator shares (cloud_emulators/common.py)."""
import socket
import time

from cloud_emulators import common
from cloud_emulators.common import Emulator, Response

BODY = bytes(range(256)) * (8 * 4096)  # 8 MiB


class BigFile(Emulator):
    def handle(self, request):
        return Response(200, BODY, {"Content-Type": "application/octet-stream"})


def test_a_download_read_at_the_client_pace_is_not_cut_by_the_idle_timeout(monkeypatch):
    # the idle timeout bounds each write, not the whole body: a client that reads a big
    # file steadily, more slowly than the timeout would allow for all of it, gets all of it
    monkeypatch.setattr(common._Handler, "timeout", 0.3)
    emu = BigFile().start()
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.connect((emu.host, emu.port))
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n")
        received, started = bytearray(), time.monotonic()
        while True:
            piece = sock.recv(64 * 1024)
            if not piece:
                break
            received += piece
            time.sleep(0.01)
        sock.close()
    finally:
        emu.stop()
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert b"Content-Length: %d" % len(BODY) in head
    assert time.monotonic() - started > 0.3  # slower than the timeout...
    assert body == BODY  # ...and complete
