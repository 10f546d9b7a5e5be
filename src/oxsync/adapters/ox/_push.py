"""OX UDP push listener (bundle ``com.openexchange.push.udp``, port 44335).

The listener registers ``1337\\1<len>\\1 1\\1<userId>\\1<contextId>`` from its own UDP
socket, re-registers every ``reregister_every`` seconds (OX forgets registrations after
its timeout, and NAT mappings close), and calls ``on_change(folder_id)`` for each
``<folderId>\\1`` packet. ``on_change`` is typically ``TriggerQueue.notify``. A callback
that raises is logged and never stops the listener. The thread's loop wakes every
``poll`` seconds to check for :meth:`stop`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["DEFAULT_PUSH_PORT", "PushListener", "registration_packet"]

DEFAULT_PUSH_PORT = 44335
log = logging.getLogger("oxsync.adapters.ox.push")


def registration_packet(user_id: str | int, context_id: str | int) -> bytes:
    """The REGISTER datagram for a user of a context.

    >>> registration_packet(17, 1)
    b'1337\\x017\\x011\\x0117\\x011'
    """
    data = f"1\x01{user_id}\x01{context_id}".encode("ascii")
    return b"1337\x01" + str(len(data)).encode("ascii") + b"\x01" + data


class PushListener:
    """Receive OX push packets for one user and report changed folder ids."""

    def __init__(
        self,
        server: tuple[str, int],
        user_id: str | int,
        context_id: str | int,
        on_change: Callable[[str], None],
        *,
        bind: tuple[str, int] = ("0.0.0.0", 0),
        reregister_every: float = 300.0,
        poll: float = 0.05,
    ) -> None:
        self.server = server
        self.on_change = on_change
        self.reregister_every = reregister_every
        self.registered = threading.Event()
        self.packets = 0
        self.last_packet: float | None = None
        self._packet = registration_packet(user_id, context_id)
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(bind)
        self._sock.settimeout(poll)
        self.address: tuple[str, int] = self._sock.getsockname()
        self._thread = threading.Thread(target=self._run, name="ox-push-listener", daemon=True)

    def start(self) -> PushListener:
        """Start listening (registration is sent at once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and close the socket (waits at most 2 s)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self._sock.close()

    def silent_for(self) -> float:
        """Seconds since the last packet (since start if none): poll when push is silent."""
        return time.monotonic() - (self.last_packet or self._started)

    def __enter__(self) -> PushListener:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        self._started = time.monotonic()
        next_registration = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_registration:
                try:
                    self._sock.sendto(self._packet, self.server)
                except OSError as exc:
                    log.warning("push registration failed: %s", exc)
                next_registration = now + self.reregister_every
            try:
                data, _addr = self._sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            self._handle(data)

    def _handle(self, data: bytes) -> None:
        self.last_packet = time.monotonic()
        if data == b"OK\x01":
            self.registered.set()
            return
        folder = data.split(b"\x01", 1)[0].decode("ascii", "replace").strip()
        if not folder.isdigit():
            log.debug("ignoring push packet of %d bytes", len(data))
            return
        self.packets += 1
        try:
            self.on_change(folder)
        except Exception:  # a faulty callback must not kill push
            log.exception("push callback failed for folder %s", folder)

    _started = 0.0
