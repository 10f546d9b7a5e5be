"""UDP push listener under hostile, lost and odd datagrams (localhost sockets only)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from oxsync.adapters.ox import OXStore, PushListener, registration_packet
from oxsync.errors import OxsyncError, TransientError
from oxsync.testing.oxserver import OXApp
from tests.ox.conftest import CANARY


def _udp(host: str = "127.0.0.1") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.settimeout(2.0)
    return sock


@pytest.fixture
def ox_push() -> Iterator[socket.socket]:
    """A stand-in for OX's push socket on 127.0.0.1 (the test answers by hand)."""
    sock = _udp()
    yield sock
    sock.close()


def _wait(condition: object, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------- spoofing


def test_datagrams_not_from_the_ox_push_socket_are_dropped(ox_push: socket.socket) -> None:
    # Anyone who could reach the listener's port set `registered` with a forged OK and
    # made it sync any folder id: OX answers from the socket the registration went to.
    seen: list[str] = []
    with PushListener(ox_push.getsockname(), 17, 1, seen.append, bind=("127.0.0.1", 0)) as lis:
        _, client = ox_push.recvfrom(100)
        assert client[1] == lis.address[1]
        with _udp() as spoofer:
            spoofer.sendto(b"OK\x01", lis.address)
            spoofer.sendto(b"99\x01", lis.address)
            ox_push.sendto(b"25\x01", lis.address)  # the real server, after the forgeries
            assert _wait(lambda: seen)
            assert seen == ["25"]
            assert not lis.registered.is_set()
            ox_push.sendto(b"OK\x01", lis.address)
            assert lis.registered.wait(2.0)
            assert lis.dropped == 2


def test_source_check_can_be_turned_off(ox_push: socket.socket) -> None:
    seen: list[str] = []
    with (
        PushListener(
            ox_push.getsockname(), 17, 1, seen.append, bind=("127.0.0.1", 0), check_source=False
        ) as lis,
        _udp() as other,
    ):
        ox_push.recvfrom(100)
        other.sendto(b"31\x01", lis.address)
        assert _wait(lambda: seen == ["31"])


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_a_server_on_ipv6_gets_the_registration_and_its_packets_count(app: OXApp) -> None:
    # The socket was always IPv4: sendto(("::1", port)) failed with "Address family for
    # hostname not supported" (a warning every 300 s) and push never worked.
    server = _udp("::1")
    try:
        seen: list[str] = []
        with PushListener(("::1", server.getsockname()[1]), 17, 1, seen.append) as lis:
            data, client = server.recvfrom(100)
            assert data == registration_packet(17, 1)
            server.sendto(b"OK\x01", client)
            server.sendto(b"8\x01", client)
            assert lis.registered.wait(2.0)
            assert _wait(lambda: seen == ["8"])
        store = OXStore("http://ox.test", "alice", CANARY, transport=httpx.WSGITransport(app=app))
        with store.push_listener(seen.append, host="::1", port=server.getsockname()[1]) as lis:
            _, client = server.recvfrom(100)
            assert client[0] == "::1" and lis.address[0] == "::1"
        store.close()
    finally:
        server.close()


# ---------------------------------------------------------------------- lifecycle


def test_stop_from_within_the_callback_closes_the_socket(
    ox_push: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    # stop() joined its own thread: RuntimeError("cannot join current thread"), logged
    # as a failed callback, and the socket was never closed.
    stopped = threading.Event()

    def on_change(folder: str) -> None:
        listener.stop()
        stopped.set()

    listener = PushListener(ox_push.getsockname(), 17, 1, on_change, bind=("127.0.0.1", 0))
    with caplog.at_level(logging.ERROR, logger="oxsync.adapters.ox.push"):
        listener.start()
        ox_push.recvfrom(100)
        ox_push.sendto(b"5\x01", listener.address)
        assert stopped.wait(2.0)
        assert _wait(lambda: not listener._thread.is_alive())
    assert listener._sock.fileno() == -1
    assert "push callback failed" not in caplog.text


def test_a_port_that_cannot_be_bound_is_an_oxsync_error(ox_push: socket.socket) -> None:
    # an OSError escaped: `oxsync watch` catches OxsyncError only to fall back to polling
    taken = ox_push.getsockname()
    with pytest.raises(TransientError, match="push"):
        PushListener(("127.0.0.1", 9), 17, 1, print, bind=taken)
    with pytest.raises(OxsyncError):
        PushListener(("127.0.0.1", 9), 17, 1, print, bind=("127.0.0.1", 70000))


def test_an_unanswered_registration_is_sent_again_soon(ox_push: socket.socket) -> None:
    # A lost registration (UDP, or OX not up yet) was repeated only after
    # reregister_every (300 s): five minutes without push.
    with PushListener(
        ox_push.getsockname(), 17, 1, print, bind=("127.0.0.1", 0), retry=0.05
    ) as lis:
        first, _ = ox_push.recvfrom(100)  # lost: no OK
        again, client = ox_push.recvfrom(100)
        assert again == first
        ox_push.sendto(b"OK\x01", client)
        assert lis.registered.wait(2.0)
        ox_push.settimeout(0.4)
        with pytest.raises(TimeoutError):  # acknowledged: quiet until reregister_every
            ox_push.recvfrom(100)


def test_a_lasting_socket_error_does_not_spin(ox_push: socket.socket) -> None:
    calls = {"n": 0}

    class Broken:
        family = socket.AF_INET

        def recvfrom(self, size: int) -> tuple[bytes, tuple[str, int]]:
            calls["n"] += 1
            raise OSError(9, "Bad file descriptor")

        def sendto(self, data: bytes, addr: object) -> int:
            return len(data)

        def close(self) -> None:
            pass

    lis = PushListener(ox_push.getsockname(), 17, 1, print, bind=("127.0.0.1", 0), poll=0.05)
    real = lis._sock
    lis._sock = Broken()  # type: ignore[assignment]
    lis.start()
    time.sleep(0.3)
    lis.stop()
    real.close()
    assert 0 < calls["n"] < 50
