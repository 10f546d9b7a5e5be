"""Push datagrams too long to be OX's, or naming no folder id OX could have."""

from __future__ import annotations

import logging

import pytest

from oxsync.adapters.ox import PushListener
from tests.ox.test_hunt_push import _udp, _wait


def test_an_oversized_datagram_is_dropped_not_cut(caplog: pytest.LogCaptureFixture) -> None:
    # read with a 2048-byte buffer, a longer datagram was cut and its first bytes acted
    # upon: 4,000 bytes starting "12\1" synced folder 12
    caplog.set_level(logging.DEBUG, logger="oxsync.adapters.ox.push")
    seen: list[str] = []
    with (
        _udp() as ox_push,
        PushListener(ox_push.getsockname(), 17, 1, seen.append, bind=("127.0.0.1", 0)) as listener,
    ):
        ox_push.recvfrom(100)
        ox_push.sendto(b"12\x01" + b"x" * 4000, listener.address)
        ox_push.sendto(b"9" * 100 + b"\x01", listener.address)  # no OX folder id
        ox_push.sendto(b"25\x01", listener.address)
        assert _wait(lambda: seen)
        assert seen == ["25"]
        assert listener.dropped == 1
    assert "more than 512 bytes" in caplog.text
    assert "ignoring push packet of 101 bytes" in caplog.text
