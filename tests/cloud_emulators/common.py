"""Shared machinery of the emulators: threaded HTTP server, request log, fault injection.

An emulator subclasses :class:`Emulator` and implements ``handle(request)`` returning a
:class:`Response`. Routes are named by the emulator (e.g. ``"files/upload"``), and faults and
counters refer to those names.
"""
from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict  # name -> first value
    headers: dict  # lower-case names
    body: bytes
    route: str = ""

    def json(self):
        return json.loads(self.body or b"null")

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, data, status=200, headers=None, content_type="application/json"):
        hdrs = {"Content-Type": content_type}
        hdrs.update(headers or {})
        return cls(status, json.dumps(data).encode(), hdrs)


@dataclass
class Fault:
    """What to do to the next ``count`` requests of a route.

    kind: ``"status"`` (answer ``status`` with ``body``/``headers``), ``"timeout"`` (hold the
    request ``delay`` seconds then drop the connection), ``"drop_after_apply"`` (perform the
    request, then drop the connection without an answer: an ambiguous failure).
    """

    kind: str
    count: int = 1
    status: int = 500
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class DropConnection(Exception):
    """Raised inside a handler to close the connection without answering."""


class Emulator:
    """Base class: owns the HTTP server, the request log and the fault plan."""

    name = "emulator"

    def __init__(self, host="127.0.0.1", port=0, latency=0.0):
        self.host = host
        self.port = port
        self.latency = latency
        self.lock = threading.RLock()
        self.requests = []  # (method, route, path, status)
        self.counters = collections.Counter()
        self._faults = collections.defaultdict(collections.deque)
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=self.name,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self):
        """Standalone mode (CLI): serve in the current thread."""
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- faults ----------------------------------------------------------------------------
    def inject(self, route, fault: Fault):
        """Apply ``fault`` to the next ``fault.count`` requests of ``route`` (``"*"``: any)."""
        with self.lock:
            self._faults[route].append(fault)

    def clear_faults(self):
        with self.lock:
            self._faults.clear()

    def _pop_fault(self, key):
        """Take one use of the first fault planned under ``key`` (a route, or any name)."""
        with self.lock:
            queue = self._faults.get(key)
            if not queue:
                return None
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
            return fault

    def _take_fault(self, route):
        return self._pop_fault(route) or self._pop_fault("*")

    # -- to implement ----------------------------------------------------------------------
    def route_of(self, request: Request) -> str:
        """Name the route of a request (used by the log, counters and faults)."""
        return request.path

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    # -- dispatch --------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Optional[Response]:
        """Return the response, or None to drop the connection."""
        if self.latency:
            time.sleep(self.latency)
        request.route = self.route_of(request)
        fault = self._take_fault(request.route)
        with self.lock:
            self.counters[request.route] += 1
        if fault and fault.kind == "status":
            response = Response(fault.status, fault.body, dict(fault.headers))
        elif fault and fault.kind == "timeout":
            time.sleep(fault.delay)
            response = None
        else:
            try:
                response = self.handle(request)
            except DropConnection:
                response = None
            if fault and fault.kind == "drop_after_apply":
                response = None
        with self.lock:
            self.requests.append((request.method, request.route, request.path,
                                  response.status if response else None))
        return response


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator = None
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each keep-alive answer
    # waits ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True
    # An idle keep-alive connection is closed after this many seconds, as real servers do
    # (Apache's KeepAliveTimeout is 5 s): otherwise every connection a client's pool keeps
    # open holds one handler thread for as long as the client lives.
    timeout = 5
    # A body goes out in pieces: the timeout above bounds each piece, as a real server's send
    # timeout bounds each write; one sendall of a whole 1 GiB body must finish within it and
    # cut a download the client reads at its own pace (since Python 3.5 the timeout of
    # sendall is its total duration).
    write_piece = 256 * 1024

    def log_message(self, *args):  # keep test output quiet
        pass

    def _serve(self):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(length) if length else b""
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        request = Request(self.command, split.path, query,
                          {k.lower(): v for k, v in self.headers.items()}, body)
        response = self.emulator.dispatch(request)
        if response is None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.send_response(response.status)
        headers = dict(response.headers)
        body = response.body if self.command != "HEAD" else b""
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        view = memoryview(body)
        for start in range(0, len(view), self.write_piece):
            self.wfile.write(view[start:start + self.write_piece])

    def _read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if not size:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
    do_PROPFIND = do_MKCOL = do_MOVE = do_COPY = do_OPTIONS = do_PROPPATCH = _serve
    do_LOCK = do_UNLOCK = do_REPORT = _serve
