"""UDP push of the test server (OX bundle ``com.openexchange.push.udp``).

Clients register with ``1337\\1<len>\\1 1\\1<userId>\\1<contextId>``; the server stores the
datagram's source address (newest registration per user wins) and answers ``OK\\1`` from
the same socket. A change in folder F is queued for every user who can read F; after
``delay`` seconds (pushed out by further events on F, up to 5 × delay) each registered
user gets ``F\\1``.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import threading
import time

__all__ = ["PushSender", "parse_registration"]

MAGIC = b"1337"


def parse_registration(packet: bytes) -> tuple[int, int] | None:
    """``(user_id, context_id)`` of a REGISTER packet, or ``None`` if it is not one."""
    parts = packet.split(b"\x01")
    if len(parts) < 3 or parts[0] != MAGIC:
        return None
    try:
        length = int(parts[1])
    except ValueError:
        return None
    data = b"\x01".join(parts[2:])
    if length != len(data):
        return None
    fields = data.split(b"\x01")
    if len(fields) != 3 or fields[0] != b"1":
        return None
    try:
        return int(fields[1]), int(fields[2])
    except ValueError:
        return None


class PushSender:
    """A UDP socket on ``host:port`` taking registrations and sending folder ids."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, delay: float = 0.05, context_id: int = 1
    ) -> None:
        self.delay = delay
        self.context_id = context_id
        self.registrations: dict[int, tuple[str, int]] = {}
        self.sent: collections.deque[tuple[int, int]] = collections.deque(maxlen=10_000)
        self._pending: dict[int, tuple[float, float, set[int]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.02)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._thread = threading.Thread(target=self._run, name="ox-push-sender", daemon=True)

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (waits at most 2 s)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._sock.close()

    def enqueue(self, folder_id: int, users: set[int]) -> None:
        """Queue a push of ``folder_id`` to ``users`` (coalesced per folder)."""
        now = time.monotonic()
        with self._lock:
            if folder_id in self._pending:
                _due, first, old = self._pending[folder_id]
                due = min(first + 5 * self.delay, now + self.delay)
                self._pending[folder_id] = (due, first, old | users)
            else:
                self._pending[folder_id] = (now + self.delay, now, set(users))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                packet, addr = self._sock.recvfrom(2048)
            except TimeoutError:
                packet = b""
            except OSError:
                if self._stop.is_set():
                    return
                packet = b""
            if packet:
                reg = parse_registration(packet)
                if reg is not None and reg[1] == self.context_id:
                    with self._lock:
                        self.registrations[reg[0]] = addr
                    self._send(b"OK\x01", addr)
            self._flush()

    def _flush(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [(f, users) for f, (at, _first, users) in self._pending.items() if at <= now]
            for folder_id, _ in due:
                del self._pending[folder_id]
            targets = [
                (f, u, self.registrations[u])
                for f, users in due
                for u in sorted(users)
                if u in self.registrations
            ]
        for folder_id, user_id, addr in targets:
            self._send(f"{folder_id}\x01".encode(), addr)
            self.sent.append((folder_id, user_id))

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        # A vanished client is the client's problem, as in OX.
        with contextlib.suppress(OSError):
            self._sock.sendto(data, addr)
