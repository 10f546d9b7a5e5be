"""The command line of ``python -m oxsync.testing.oxserver`` (see its ``__main__``)."""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from oxsync.errors import OxsyncError

__all__ = ["main"]


def _account(text: str) -> tuple[str, str]:
    login, sep, password = text.partition(":")
    if not sep or not login or not password:
        raise argparse.ArgumentTypeError("expected LOGIN:PASSWORD, both non-empty")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", login):
        raise argparse.ArgumentTypeError(
            f"login {login!r}: up to 64 ASCII letters, digits, '.', '-', '_'"
        )
    return login, password


def _number(what: str, convert: Callable[[str], float], low: float, high: float) -> Any:
    """An argparse type: ``convert(text)`` within ``[low, high]``, else a clear error."""

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= value <= high:  # NaN is never within
            raise argparse.ArgumentTypeError(f"{text}: {what} from {low} to {high}")
        return value

    return parse


_port = _number("a port number", int, 0, 65535)
_items = _number("a number of items", int, 0, 100_000)
_delay = _number("a number of seconds", float, 0, 60)


def _host(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 address") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m oxsync.testing.oxserver",
        description="Serve the oxsync OX test server (WebDAV/XML and UDP push, plain HTTP, "
        "data in memory) until SIGINT or SIGTERM.",
    )
    parser.add_argument(
        "--user",
        action="append",
        type=_account,
        metavar="LOGIN:PASSWORD",
        help="an account to create, with its default folders (repeatable; default alice:alice-pw)",
    )
    parser.add_argument("--host", type=_host, default="127.0.0.1", help="IPv4 address to bind")
    parser.add_argument("--port", type=_port, default=0, help="HTTP port (0: any free one)")
    parser.add_argument("--push-port", type=_port, default=0, help="UDP push port (0: any)")
    parser.add_argument(
        "--push-delay", type=_delay, default=0.05, help="seconds push packets are coalesced"
    )
    parser.add_argument(
        "--seed",
        type=_items,
        default=0,
        metavar="N",
        help="give every account N contacts (one with a photo), a list, N/5 events and a "
        "recurring series with exceptions, N/5 tasks and a recurring task",
    )
    parser.add_argument("--json", action="store_true", help="print the ready line as JSON")
    return parser


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run the server; returns the exit code. ``stop`` ends it (tests); else signals do."""
    args = _parser().parse_args(argv)
    users: list[tuple[str, str]] = args.user or [("alice", "alice-pw")]
    if len({login for login, _ in users}) != len(users):
        print("error: the same login twice", file=sys.stderr)
        return 2
    # imported late: --help and argument errors stay quick
    from oxsync.adapters.ox import OXStore
    from oxsync.testing.oxserver import OXTestServer
    from oxsync.testing.oxserver._seed import seed_account

    try:
        server = OXTestServer(
            push_delay=args.push_delay, host=args.host, port=args.port, push_port=args.push_port
        )
    except OSError as exc:
        print(f"error: cannot bind the UDP push port: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        try:
            server.start()
        except OSError as exc:
            print(f"error: cannot bind the HTTP port: {exc.strerror or exc}", file=sys.stderr)
            return 2
        for login, password in users:
            server.backend.add_user(login, password)
            if args.seed:
                try:
                    seed_account(OXStore(server.url, login, password), args.seed)
                except OxsyncError as exc:
                    print(f"error: seeding {login}: {exc}", file=sys.stderr)
                    return 1
        done = stop or threading.Event()
        if stop is None:

            def _stop(signum: int, frame: FrameType | None) -> None:
                done.set()

            signal.signal(signal.SIGINT, _stop)
            signal.signal(signal.SIGTERM, _stop)
        logins = [login for login, _ in users]
        if args.json:
            ready = {"url": server.url, "push": list(server.push_address), "users": logins}
            print(json.dumps(ready), flush=True)
        else:
            host, port = server.push_address
            print(
                f"OX test server at {server.url} (push on udp {host}:{port}); "
                f"accounts: {', '.join(logins)}; Ctrl-C stops it",
                flush=True,
            )
        while not done.wait(0.5):
            pass
        return 0
    finally:
        server.close()
