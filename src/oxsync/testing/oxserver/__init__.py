"""A faithful Open-Xchange WebDAV/XML test server (in-process WSGI or loopback HTTP).

In-process, no sockets::

    >>> import httpx
    >>> backend = OXBackend()
    >>> alice = backend.add_user("alice", "secret")
    >>> client = httpx.Client(transport=httpx.WSGITransport(app=OXApp(backend)),
    ...                       base_url="http://ox.test")
    >>> client.get("/servlet/webdav.version").text.strip()
    '6.22.0-Rev1'

On a real loopback port with UDP push (``127.0.0.1``, ports chosen by the OS)::

    with OXTestServer() as server:
        server.backend.add_user("alice", "secret")
        store = OXStore(server.url, "alice", "secret")

``server.backend`` is the admin API (users, groups, resources, folders, items, edits "as
another user"); ``server.faults`` injects HTTP errors, raw bodies and dropped connections.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from types import TracebackType
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from oxsync.testing.oxserver._backend import OXBackend
from oxsync.testing.oxserver._model import (
    GAL_FOLDER,
    OXFolder,
    OXGroup,
    OXObject,
    OXPermission,
    OXResource,
    OXUser,
)
from oxsync.testing.oxserver._push import PushSender, parse_registration
from oxsync.testing.oxserver._rules import CODES, Conflict, OXFault
from oxsync.testing.oxserver._wsgi import Fault, Faults, OXApp

__all__ = [
    "CODES",
    "GAL_FOLDER",
    "Conflict",
    "Fault",
    "Faults",
    "OXApp",
    "OXBackend",
    "OXFault",
    "OXFolder",
    "OXGroup",
    "OXObject",
    "OXPermission",
    "OXResource",
    "OXTestServer",
    "OXUser",
    "PushSender",
    "parse_registration",
]


class _QuietHandler(ServerHandler):
    failed = False

    def log_exception(self, exc_info: Any) -> None:
        self.failed = True  # injected connection drops are expected: no traceback


class _RequestHandler(WSGIRequestHandler):
    """wsgiref's handler with HTTP/1.1 keep-alive and no logging."""

    protocol_version = "HTTP/1.1"
    timeout = 30.0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            self.raw_requestline = b""
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            self.close_connection = True
            return
        rfile: Any = self.rfile
        wfile: Any = self.wfile
        handler = _QuietHandler(rfile, wfile, sys.stderr, self.get_environ(), multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.http_version = "1.1"
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        if handler.failed:
            self.close_connection = True


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        with contextlib.suppress(OSError):  # no Nagle delay between headers and body
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def drop_connections(self) -> None:
        """Cut every open client connection (a server going away)."""
        with self.connections_lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class OXTestServer:
    """The test server on ``127.0.0.1`` (HTTP and UDP push on OS-chosen ports).

    ``push_delay`` is the coalescing delay of push packets in seconds. ``host``,
    ``port`` and ``push_port`` choose the addresses (an IPv4 address; port 0: the OS picks
    a free one); the server speaks plain HTTP and is meant for loopback.
    """

    def __init__(
        self,
        backend: OXBackend | None = None,
        *,
        push_delay: float = 0.05,
        host: str = "127.0.0.1",
        port: int = 0,
        push_port: int = 0,
    ) -> None:
        self.backend = backend or OXBackend()
        self.faults = Faults()
        self.app = OXApp(self.backend, self.faults)
        self.push = PushSender(
            host=host, port=push_port, delay=push_delay, context_id=self.backend.context_id
        )
        self.backend.notify = self.push.enqueue
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def push_address(self) -> tuple[str, int]:
        """Where clients send push registrations."""
        return self.push.address

    def start(self) -> None:
        """Start HTTP (on the previous port after a :meth:`stop`) and push."""
        self._httpd = _Server((self.host, self.port), _RequestHandler)
        self._httpd.set_app(self.app)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="ox-test-server",
            daemon=True,
        )
        self._thread.start()
        if not self.push._thread.is_alive() and not self.push._stop.is_set():
            self.push.start()

    def stop_http(self) -> None:
        """Stop the HTTP server only (the data stays; sessions are forgotten)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.drop_connections()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.app.sessions.clear()

    def restart(self) -> None:
        """Simulate a server restart: same data and port, sessions lost."""
        self.stop_http()
        self.start()

    def close(self) -> None:
        """Stop everything."""
        self.stop_http()
        self.push.stop()

    def __enter__(self) -> OXTestServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
