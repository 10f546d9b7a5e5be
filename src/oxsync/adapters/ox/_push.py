"""OX UDP push listener (bundle ``com.openexchange.push.udp``, port 44335).

The listener registers ``1337\\1<len>\\1 1\\1<userId>\\1<contextId>`` from its own UDP
socket, re-registers every ``reregister_every`` seconds (OX forgets registrations after
its timeout, and NAT mappings close), and calls ``on_change(folder_id)`` for each
``<folderId>\\1`` packet. ``on_change`` is typically ``TriggerQueue.notify``. A callback
that raises is logged and never stops the listener. The thread's loop wakes every
``poll`` seconds to check for :meth:`stop`.

OX sends its ``OK\\1`` and the push packets from the socket the registration went to
(reference §6), so only datagrams from that address (the server host's addresses, the
push port) count: anything else on the listener's port is dropped (``check_source=False``
turns this off, e.g. for a server behind a NAT that rewrites the source).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

from oxsync.errors import TransientError

__all__ = ["DEFAULT_PUSH_PORT", "PushListener", "registration_packet"]

DEFAULT_PUSH_PORT = 44335
MAX_DATAGRAM = 512
"""Longest datagram looked at: OX sends ``<folderId>\\1`` and ``OK\\1``; a longer one is
dropped whole (read with a fixed buffer, it was cut and its first bytes acted upon)."""
_MAX_ID_DIGITS = 30  # as _codec.MAX_DIGITS: no folder id is longer
log = logging.getLogger("oxsync.adapters.ox.push")


def registration_packet(user_id: str | int, context_id: str | int) -> bytes:
    """The REGISTER datagram for a user of a context.

    >>> registration_packet(17, 1)
    b'1337\\x017\\x011\\x0117\\x011'
    """
    data = f"1\x01{user_id}\x01{context_id}".encode("ascii")
    return b"1337\x01" + str(len(data)).encode("ascii") + b"\x01" + data


def _family(host: str) -> socket.AddressFamily:
    """The address family of ``host`` (IPv4 unless it resolves to IPv6 only)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return socket.AF_INET  # not resolvable now: registration retries and logs
    families = [info[0] for info in infos]
    return socket.AF_INET if socket.AF_INET in families or not families else families[0]


class PushListener:
    """Receive OX push packets for one user and report changed folder ids.

    ``bind`` defaults to all interfaces, in the address family of the server's host
    (IPv6 only for a host that has no IPv4 address). A registration that OX does not
    answer with ``OK\\1`` (a datagram lost, the server not up yet) is sent again after
    ``retry`` seconds, doubling up to ``reregister_every``.

    Raises TransientError when the UDP socket cannot be opened or bound.
    """

    def __init__(
        self,
        server: tuple[str, int],
        user_id: str | int,
        context_id: str | int,
        on_change: Callable[[str], None],
        *,
        bind: tuple[str, int] | None = None,
        reregister_every: float = 300.0,
        poll: float = 0.05,
        retry: float = 1.0,
        check_source: bool = True,
    ) -> None:
        self.server = server
        self.on_change = on_change
        self.reregister_every = reregister_every
        self.retry = retry
        self.check_source = check_source
        self.registered = threading.Event()
        self.packets = 0
        self.dropped = 0
        self.last_packet: float | None = None
        self._packet = registration_packet(user_id, context_id)
        self._peers: frozenset[str] = frozenset()
        self._sent_at = 0.0
        self._next_registration = 0.0
        self._backoff = retry
        self._poll = poll
        self._stop = threading.Event()
        family = _family(bind[0] if bind and bind[0] else server[0])
        if bind is None:
            bind = ("::" if family == socket.AF_INET6 else "0.0.0.0", 0)
        try:
            self._sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise TransientError(f"OX push: no UDP socket ({exc})") from exc
        try:
            self._sock.bind(bind)
            self._sock.settimeout(poll)
        except (OSError, OverflowError, TypeError) as exc:
            self._sock.close()
            raise TransientError(f"OX push: cannot listen on {bind!r} ({exc})") from exc
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._run, name="ox-push-listener", daemon=True)

    def start(self) -> PushListener:
        """Start listening (registration is sent at once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and close the socket (waits at most 2 s; also from within ``on_change``)."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
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
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= self._next_registration:
                self._register(now)
            try:
                data, addr = self._sock.recvfrom(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                self._stop.wait(self._poll)  # a lasting socket error must not spin
                continue
            if self.check_source and not self._from_server(addr):
                self.dropped += 1
                log.debug("ignoring a push datagram from %s, not the OX server", addr[0])
                continue
            if len(data) > MAX_DATAGRAM:
                self.dropped += 1
                log.debug("ignoring a push datagram of more than %d bytes", MAX_DATAGRAM)
                continue
            self._handle(data)

    def _register(self, now: float) -> None:
        """Send the registration; it is sent again soon unless OX acknowledges it."""
        self._next_registration = now + min(self._backoff, self.reregister_every)
        self._backoff = min(self._backoff * 2, self.reregister_every)
        try:
            infos = socket.getaddrinfo(
                self.server[0], self.server[1], self._sock.family, socket.SOCK_DGRAM
            )
            self._peers = frozenset(str(info[4][0]) for info in infos)
            self._sock.sendto(self._packet, infos[0][4])
            self._sent_at = now
        except (OSError, UnicodeError, IndexError) as exc:
            log.warning("push registration failed: %s", exc)

    def _from_server(self, addr: tuple[str, int]) -> bool:
        return addr[0] in self._peers and addr[1] == self.server[1]

    def _handle(self, data: bytes) -> None:
        self.last_packet = time.monotonic()
        if data == b"OK\x01":
            self.registered.set()
            self._next_registration = self._sent_at + self.reregister_every
            self._backoff = self.retry
            return
        folder = data.split(b"\x01", 1)[0].decode("ascii", "replace").strip()
        if not folder.isdigit() or len(folder) > _MAX_ID_DIGITS:
            log.debug("ignoring push packet of %d bytes", len(data))
            return
        self.packets += 1
        try:
            self.on_change(folder)
        except Exception:  # a faulty callback must not kill push
            log.exception("push callback failed for folder %s", folder)

    _started = 0.0
