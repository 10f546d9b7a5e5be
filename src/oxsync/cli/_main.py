"""The click commands of ``oxsync`` (see the package docstring for exit codes)."""

from __future__ import annotations

import gc
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from oxsync.cli._runtime import (
    FILE_ONLY,
    LOG_NAME,
    Redactor,
    emit_json,
    load,
    open_pair,
    open_state,
    open_store,
    setup_logging,
)
from oxsync.config import Config, default_state_path
from oxsync.core.engine import SyncEvent, SyncReport
from oxsync.core.triggers import TriggerQueue, run_triggered
from oxsync.errors import (
    ConfigError,
    LastingError,
    MassDeleteError,
    OxsyncError,
    StateError,
    SyncInProgressError,
    TransientError,
    UnknownFolderError,
    redact,
)

__all__ = ["EXIT", "cli", "main"]

EXIT = {
    "ok": 0,
    "incomplete": 1,
    "usage": 2,
    "brake": 3,
    "unreachable": 4,
    "refused": 5,
    "busy": 6,
    "interrupted": 130,
}


class Ctx:
    """Options shared by every command."""

    def __init__(self, config_path: str | None, verbosity: int, as_json: bool) -> None:
        self.config_path = config_path
        self.verbosity = verbosity
        self.as_json = as_json
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load(self.config_path)
            pairs = list(self._config.pairs.values())
            log_dir = _log_dir(pairs[0].state_path) if pairs else default_state_path().parent
            setup_logging(self.verbosity, log_dir)
        return self._config

    def pair_names(self, names: tuple[str, ...]) -> list[str]:
        chosen = list(names) or list(self.config.pairs)
        if not chosen:
            raise ConfigError("no [pairs.*] defined in the configuration", key="pairs")
        for name in chosen:
            self.config.pair(name)
        return chosen

    def say(self, text: str) -> None:
        if not self.as_json and self.verbosity >= 0:
            click.echo(text)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn oxsync errors into messages and exit codes (never a traceback, never a secret)."""
    try:
        yield
    except OxsyncError as exc:
        _fail(*_failure(exc))
    except KeyboardInterrupt:  # Ctrl-C: the state is crash-safe, the journal knows the rest
        _fail("interrupted; the next run finishes what this one started", EXIT["interrupted"])
    except Exception as exc:  # a bug (ours or an adapter's): its traceback, without secrets
        _fail(_bug_report(exc), EXIT["incomplete"])


def _bug_report(exc: BaseException) -> str:
    """An unexpected exception's traceback for a bug report. Python's own printing of it
    bypassed the redactor: an adapter's message or a URL could carry a password."""
    import traceback

    text = "".join(traceback.format_exception(exc)).rstrip()
    return f"internal error (please report it; secrets are removed):\n{text}"


def _failure(exc: OxsyncError) -> tuple[str, int]:
    """The message and exit code of an oxsync error."""
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}", EXIT["usage"]
    if isinstance(exc, MassDeleteError):
        return str(exc), EXIT["brake"]
    if isinstance(exc, SyncInProgressError):
        return str(exc), EXIT["busy"]
    if isinstance(exc, UnknownFolderError):
        return f"error: {exc}", EXIT["usage"]
    if isinstance(exc, StateError):
        return f"error: {exc}", EXIT["busy"] if _locked(exc) else EXIT["refused"]
    if isinstance(exc, TransientError):
        return f"store unreachable: {exc}", EXIT["unreachable"]
    if isinstance(exc, LastingError):
        return f"store refused: {exc}", EXIT["refused"]
    return f"error: {exc}", EXIT["refused"]


def _locked(exc: BaseException | None) -> bool:
    """Whether SQLite gave up waiting for a lock another process holds on the state."""
    while exc is not None:
        if getattr(exc, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            return True
        exc = exc.__cause__
    return False


def _fail(message: str, code: int) -> None:
    click.echo(redact(message, sorted(Redactor.secrets)), err=True)
    sys.exit(code)


def _progress(ctx: Ctx, pair: str) -> Callable[[SyncEvent], None]:
    """Report engine events: a live rich status line on a terminal, text lines with -v;
    conflicts, ignored items and errors also go to the log file (``oxsync.log``)."""
    live = _live_status(ctx)

    def observe(event: SyncEvent) -> None:
        if live is not None:
            if event.kind == "finished":
                live.stop()
            else:
                if event.kind == "started":
                    live.start()
                live.update(f"[bold]oxsync[/] {event.message}")
        if event.kind in _JOURNALLED:
            where = f" [{event.folder}]" if event.folder else ""
            _log.log(
                _JOURNALLED[event.kind],
                "%s%s: %s: %s",
                pair,
                where,
                event.kind,
                event.message,
                extra=FILE_ONLY,
            )
        if ctx.verbosity >= 1 and not ctx.as_json and event.kind in _SHOWN:
            click.echo(f"  {event.kind}: {event.message}", err=True)

    return observe


def _live_status(ctx: Ctx) -> Any:
    """A rich spinner on stderr for long syncs, only on an interactive terminal."""
    if ctx.as_json or ctx.verbosity < 0 or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.status import Status

    return Status("oxsync", console=Console(stderr=True), spinner="dots")


_log = logging.getLogger("oxsync.cli")
_SHOWN = frozenset({"folder", "conflict", "ignored", "error"})  # with -v, on stderr
_JOURNALLED = {"conflict": logging.INFO, "ignored": logging.INFO, "error": logging.WARNING}


def _say_report(ctx: Ctx, name: str, report: SyncReport) -> None:
    """Print a sync's summary; a sync that did anything is also logged to the file."""
    text = _summary(name, report)
    ctx.say(text)
    did = report.changed or report.conflicts or report.ignored or report.incomplete
    if did or report.errors or report.warnings or report.cancelled:
        _log.info("%s", text, extra=FILE_ONLY)


def _summary(name: str, report: SyncReport) -> str:
    a, b = report.a, report.b
    text = (
        f"{name}: A +{a.created} ~{a.updated} -{a.deleted} moved {a.moved} | "
        f"B +{b.created} ~{b.updated} -{b.deleted} moved {b.moved} | "
        f"conflicts {report.conflicts} | "
        f"ignored {report.ignored} | {report.duration:.2f}s"
    )
    if report.cancelled:
        text += " | cancelled (the next sync does the rest)"
    if report.errors:
        text += "\n  " + "\n  ".join(report.errors)
    if report.warnings:
        text += "\n  warning: " + "\n  warning: ".join(report.warnings)
    return text


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="OXSYNC_CONFIG",
    type=click.Path(),
    help="Configuration file (default ~/.config/oxsync/config.toml).",
)
@click.option("-v", "--verbose", count=True, help="More output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.version_option(package_name="oxsync")
@click.pass_context
def cli(
    click_ctx: click.Context, config_path: str | None, verbose: int, quiet: bool, as_json: bool
) -> None:
    """Keep contacts, appointments and tasks in step between two stores."""
    click_ctx.obj = Ctx(config_path, -1 if quiet else verbose, as_json)


@cli.command()
@click.argument("pairs", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing.")
@click.option("--force", is_flag=True, help="Release the mass-delete brake.")
@click.pass_obj
def sync(ctx: Ctx, pairs: tuple[str, ...], dry_run: bool, force: bool) -> None:
    """Delta sync of PAIRS (all pairs by default)."""
    results: dict[str, Any] = {}
    incomplete = False
    with _errors():
        for name in ctx.pair_names(pairs):
            with open_pair(ctx.config, name, [_progress(ctx, name)]) as rt:
                if dry_run:
                    plan = rt.engine.plan()
                    results[name] = [str(p) for p in plan]
                    ctx.say(f"{name}: {len(plan)} action(s)")
                    for line in plan:
                        ctx.say(f"  {line}")
                    continue
                report = rt.engine.sync(force=force)
                results[name] = report.to_dict()
                incomplete |= bool(report.incomplete or report.errors)
                _say_report(ctx, name, report)
    if ctx.as_json:
        emit_json(results)
    sys.exit(EXIT["incomplete"] if incomplete else EXIT["ok"])


@cli.command()
@click.argument("pair")
@click.argument("folder", required=False)
@click.option("--force", is_flag=True, help="Release the mass-delete brake.")
@click.option(
    "--restore",
    is_flag=True,
    help="A store lost items: copy what one side lacks back from the other; delete nothing.",
)
@click.pass_obj
def slowsync(ctx: Ctx, pair: str, folder: str | None, force: bool, restore: bool) -> None:
    """Full re-compare of PAIR (or one FOLDER id of it): the OXtender's Slowsync."""
    with _errors(), open_pair(ctx.config, pair, [_progress(ctx, pair)]) as rt:
        report = rt.engine.slow_sync(folder, force=force, restore=restore)
    if ctx.as_json:
        emit_json({pair: report.to_dict()})
    _say_report(ctx, pair, report)
    sys.exit(EXIT["incomplete"] if report.incomplete or report.errors else EXIT["ok"])


@cli.command()
@click.argument("pairs", nargs=-1)
@click.pass_obj
def status(ctx: Ctx, pairs: tuple[str, ...]) -> None:
    """Per pair and folder: last sync, items, ignored, pending, cursors, online or not."""
    out: dict[str, Any] = {}
    with _errors():
        for name in ctx.pair_names(pairs):
            pair_cfg = ctx.config.pair(name)
            online: dict[str, str] = {}
            try:
                with open_pair(ctx.config, name) as rt:
                    for side, store in (("a", rt.a), ("b", rt.b)):
                        online[side] = _probe(store)
                    folders = [_status_row(s) for s in rt.engine.status()]
            except (TransientError, LastingError) as exc:
                online = {"a": f"offline ({exc})", "b": "?"}
                folders = []
            out[name] = {"a": pair_cfg.a, "b": pair_cfg.b, "online": online, "folders": folders}
            ctx.say(f"{name}: {pair_cfg.a} [{online.get('a')}] ⇄ {pair_cfg.b} [{online.get('b')}]")
            for row in folders:
                ctx.say(
                    f"  {row['a_folder']} ⇄ {row['b_folder']} ({row['kind']}): "
                    f"{row['items']} items, {row['ignored']} ignored, "
                    f"{row['pending']} pending, last sync {row['last_sync'] or 'never'}"
                )
    if ctx.as_json:
        emit_json(out)


def _probe(store: Any) -> str:
    try:
        store.folders()
    except (TransientError, LastingError) as exc:
        return f"offline ({exc})"
    return "online"


def _status_row(s: Any) -> dict[str, Any]:
    when = (
        datetime.fromtimestamp(s.last_sync, UTC).isoformat(timespec="seconds")
        if s.last_sync
        else None
    )
    return {
        "a_folder": s.a_folder,
        "b_folder": s.b_folder,
        "kind": s.kind,
        "items": s.items,
        "ignored": s.ignored,
        "pending": s.pending,
        "last_sync": when,
        "a_cursor": s.a_cursor,
        "b_cursor": s.b_cursor,
    }


@cli.command()
@click.argument("pairs", nargs=-1)
@click.option("--retry", "retry", is_flag=True, help="Try the listed items again at next sync.")
@click.option("--item", "items", multiple=True, help="Only these item ids (with --retry).")
@click.pass_obj
def ignored(ctx: Ctx, pairs: tuple[str, ...], retry: bool, items: tuple[str, ...]) -> None:
    """List items a store refused, with the reason (--retry to try them again)."""
    out: dict[str, Any] = {}
    with _errors():
        for name in ctx.pair_names(pairs):
            pair_cfg = ctx.config.pair(name)
            from oxsync.core.engine import SyncEngine

            with open_state(pair_cfg.state_path) as state:
                engine = SyncEngine(_Unopened(), _Unopened(), state=state, pair=name)
                entries = engine.ignored()
                if retry:
                    count = engine.retry_ignored(list(items) or None)
                    ctx.say(f"{name}: {count} item(s) will be retried at the next sync")
                out[name] = [
                    {
                        "side": e.side,
                        "item": e.item_id,
                        "failure": e.failure,
                        "reason": e.reason,
                        "retry": e.retry or retry,
                        "since": datetime.fromtimestamp(e.since, UTC).isoformat(),
                    }
                    for e in entries
                ]
                for e in out[name]:
                    ctx.say(
                        f"{name}: [{e['side'].upper()}] {e['item']}: {e['failure']} — {e['reason']}"
                    )
    if ctx.as_json:
        emit_json(out)


class _Unopened:
    """Stands in for a store when only the state is read (ignored list)."""

    name = "unopened"

    def __getattr__(self, item: str) -> Any:
        raise ConfigError("this command does not open stores")


@cli.command()
@click.argument("pair")
@click.pass_obj
def folders(ctx: Ctx, pair: str) -> None:
    """The folder trees of both stores of PAIR, with types and permissions."""
    out: dict[str, Any] = {}
    with _errors(), open_pair(ctx.config, pair) as rt:
        for side, store in (("a", rt.a), ("b", rt.b)):
            rows = []
            tree = list(store.folders())
            depth: dict[str, int] = {}
            for f in tree:
                depth[f.id] = depth.get(f.parent_id or "", -1) + 1 if f.parent_id else 0
                perms = ", ".join(
                    f"{p.entity}{'(group)' if p.is_group else ''}:"
                    f"{p.folder_level}/{p.read_level}/{p.write_level}/{p.delete_level}"
                    f"{'+admin' if p.admin else ''}"
                    for p in f.permissions
                )
                rows.append(
                    {
                        "id": f.id,
                        "name": f.name,
                        "kind": f.kind.value,
                        "type": f.type.value,
                        "default": f.is_default,
                        "read_only": f.read_only,
                        "permissions": perms,
                        "depth": depth[f.id],
                    }
                )
            out[side] = rows
            ctx.say(f"{side.upper()} ({getattr(store, 'name', side)}):")
            for r in rows:
                flags = " default" if r["default"] else ""
                flags += " read-only" if r["read_only"] else ""
                ctx.say(
                    f"  {'  ' * r['depth']}{r['name']} [{r['kind']}, {r['type']}{flags}] "
                    f"id={r['id']}" + (f" perms {r['permissions']}" if r["permissions"] else "")
                )
    if ctx.as_json:
        emit_json(out)


@cli.command()
@click.argument("user")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--store", "store_name", help="Store to ask (default: the first OX store).")
@click.pass_obj
def freebusy(ctx: Ctx, user: str, start: datetime, end: datetime, store_name: str | None) -> None:
    """Busy intervals of USER (name@domain) between --from and --to."""
    with _errors():
        candidates = [
            s
            for s in ctx.config.stores.values()
            if (store_name is None and s.type == "ox") or s.name == store_name
        ]
        if not candidates:
            raise ConfigError("no OX store in the configuration", key="stores")
        store = open_store(candidates[0])
        try:
            if not hasattr(store, "free_busy"):
                raise ConfigError(
                    f"store {candidates[0].name!r} has no free/busy",
                    key=f"stores.{candidates[0].name}",
                )
            intervals = store.free_busy(user, start.date(), end.date())
        finally:
            store.close()
    rows = [
        {"start": i.start.isoformat(), "end": i.end.isoformat(), "type": i.busy_status.value}
        for i in intervals
    ]
    if ctx.as_json:
        emit_json(rows)
    for r in rows:
        ctx.say(f"{r['start']} → {r['end']}  {r['type']}")
    if not rows:
        ctx.say("free")


@cli.command()
@click.pass_obj
def doctor(ctx: Ctx) -> None:
    """Check every store: connectivity, versions, TLS, clock skew."""
    checks: dict[str, dict[str, str]] = {}
    worst = EXIT["ok"]
    with _errors():
        stores = ctx.config.stores
    for name, cfg in stores.items():
        result: dict[str, str] = {"type": cfg.type}
        url = str(cfg.options.get("base_url", ""))
        if url:
            verify = cfg.options.get("verify", True)
            result["tls"] = (
                "verified"
                if url.startswith("https") and verify is not False
                else "NOT VERIFIED"
                if url.startswith("https")
                else "none (http)"
            )
            result["clock_skew"] = _clock_skew(url, verify is not False)
        started = time.perf_counter()
        try:
            store = open_store(cfg)
            try:
                n = len(store.folders())
                result["connect"] = f"ok, {n} folders in {time.perf_counter() - started:.2f}s"
                if hasattr(store, "server_version"):
                    result["server_version"] = str(store.server_version())
            finally:
                store.close()
        except (OxsyncError, OSError) as exc:
            result["connect"] = f"FAILED: {redact(str(exc), sorted(Redactor.secrets))}"
            worst = max(
                worst,
                EXIT["unreachable"]
                if isinstance(exc, TransientError | OSError)
                else EXIT["refused"],
            )
        checks[name] = result
        ctx.say(f"{name}:")
        for key, value in result.items():
            ctx.say(f"  {key}: {value}")
    ctx.say(f"oxsync {_version('oxsync')}, Python {sys.version.split()[0]}")
    if ctx.as_json:
        emit_json(checks)
    sys.exit(worst)


def _clock_skew(url: str, verify: bool) -> str:
    import email.utils

    import httpx

    try:
        response = httpx.head(url, verify=verify, timeout=5.0)
    except httpx.HTTPError as exc:
        return f"unknown ({type(exc).__name__})"
    header = response.headers.get("date")
    if not header:
        return "unknown (no Date header)"
    server = email.utils.parsedate_to_datetime(header)
    skew = (server - datetime.now(UTC)).total_seconds()
    return f"{skew:+.0f}s" + ("  (WARNING: more than 5 minutes)" if abs(skew) > 300 else "")


def _version(package: str) -> str:
    # importlib.metadata costs 25 ms to import: only doctor and diagnostics need it.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


@cli.group()
def diagnostics() -> None:
    """Diagnostics for support (the OXNotifier's debug tab)."""


@diagnostics.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def diagnostics_export(ctx: Ctx, file: str) -> None:
    """Write a zip: versions, config without secrets, recent log, XML capture, state summary."""
    with _errors():
        config = ctx.config
    secrets = sorted(Redactor.secrets)
    versions = {
        p: _version(p)
        for p in ("oxsync", "httpx", "lxml", "attrs", "cattrs", "icalendar", "vobject", "click")
    }
    import platform  # only here: its import compiles a dozen regular expressions

    versions["python"] = platform.python_version()
    versions["platform"] = platform.platform()
    summary: dict[str, Any] = {}
    log_dirs = set()
    for name, pair in config.pairs.items():
        if (log_dir := _log_dir(pair.state_path)) is not None:
            log_dirs.add(log_dir)
        if pair.state_path.exists():
            try:
                with open_state(pair.state_path) as state:
                    summary[name] = [
                        {
                            "a": r.a_folder,
                            "b": r.b_folder,
                            "kind": r.kind,
                            "items": state.count_pairs(r.id),
                            "ignored": len(state.ignored(r.id)),
                            "pending": len(state.journal(r.id)),
                            "last_sync": r.last_sync,
                        }
                        for r in state.folder_pairs(name)
                    ]
            except StateError as exc:  # a broken state is what support most wants to hear of
                summary[name] = {"error": redact(str(exc), secrets)}
    import zipfile  # only this command writes archives (7 ms of every start-up otherwise)

    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("versions.json", json.dumps(versions, indent=2))
        zf.writestr("config.json", json.dumps(config.redacted(), indent=2, default=str))
        zf.writestr("state.json", json.dumps(summary, indent=2, default=str))
        for log_dir in sorted(log_dirs):
            for candidate in (LOG_NAME, "capture.log"):
                path = log_dir / candidate
                if path.exists():
                    text = path.read_text("utf-8", "replace")[-1_000_000:]
                    zf.writestr(candidate, redact(text, secrets))
    ctx.say(f"wrote {file}")


def _positive_seconds(
    click_ctx: click.Context, param: click.Parameter, value: float | None
) -> float | None:
    if value is not None and not 0 < value < float("inf"):  # also refuses nan
        raise click.BadParameter(f"must be a positive number of seconds, not {value}")
    return value


@cli.command()
@click.argument("pairs", nargs=-1)
@click.option(
    "--poll",
    type=float,
    callback=_positive_seconds,
    help="Poll interval in seconds (default: the pair's).",
)
@click.option("--no-push", is_flag=True, help="Poll only.")
@click.pass_obj
def watch(ctx: Ctx, pairs: tuple[str, ...], poll: float | None, no_push: bool) -> None:
    """Sync on push notifications and a poll timer until interrupted (SIGINT/SIGTERM)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second signal: stop now, in the middle of a sync
            for sig in previous:  # more signals change nothing while it unwinds
                signal.signal(sig, signal.SIG_IGN)
            raise KeyboardInterrupt
        stop.set()  # the first: the syncs in progress stop at their next batch (engine.cancel)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _errors():
            _watch(ctx, pairs, poll, no_push, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch(
    ctx: Ctx, pairs: tuple[str, ...], poll: float | None, no_push: bool, stop: threading.Event
) -> None:
    names = ctx.pair_names(pairs)
    failed: dict[str, int] = {}  # pairs whose watch ended on an error: their exit codes
    threads = []
    for name in names:
        thread = threading.Thread(
            target=_watch_pair,
            args=(ctx, name, stop, poll, no_push, failed),
            name=f"watch-{name}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    while not stop.is_set() and any(t.is_alive() for t in threads):
        stop.wait(0.2)
    stop.set()
    deadline = time.monotonic() + 30  # for all pairs together
    told = False
    for thread in threads:
        thread.join(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
        if thread.is_alive() and not told:
            ctx.say("stopping the sync in progress at its next batch (signal again to stop now)")
            told = True
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    ctx.say("stopped")
    # a pair that could not be watched (its state unusable, its store refusing) is a
    # failure even when the others ran until the signal
    sys.exit(max(failed.values(), default=EXIT["ok"]))


def _watch_pair(
    ctx: Ctx,
    name: str,
    stop: threading.Event,
    poll: float | None,
    no_push: bool,
    failed: dict[str, int],
) -> None:
    queue = TriggerQueue()
    listeners = []
    try:
        with open_pair(ctx.config, name, [_progress(ctx, name)]) as rt:
            # the first signal ends a sync in progress at its next safe point (a batch
            # recorded), not at its end; the 30 s wait in _watch remains the fallback
            rt.engine.cancel = stop
            if rt.config.push and not no_push:
                for store in (rt.a, rt.b):
                    if hasattr(store, "push_listener"):
                        try:
                            listeners.append(store.push_listener(queue.notify).start())
                            ctx.say(f"{name}: push listener on {listeners[-1].address}")
                        except OxsyncError as exc:
                            ctx.say(f"{name}: push unavailable ({exc}); polling")
            queue.notify()  # one sync at start

            def report(r: SyncReport) -> None:
                _say_report(ctx, name, r)
                sys.stdout.flush()

            run_triggered(
                rt.engine,
                queue,
                stop,
                poll_interval=poll or rt.config.poll_interval,
                on_report=report,
            )
    except OxsyncError as exc:
        message, failed[name] = _failure(exc)
        click.echo(redact(f"{name}: {message}", sorted(Redactor.secrets)), err=True)
    except Exception as exc:  # a bug: reported here (the thread hook would not redact it)
        failed[name] = EXIT["incomplete"]
        click.echo(redact(f"{name}: {_bug_report(exc)}", sorted(Redactor.secrets)), err=True)
    finally:
        for listener in listeners:
            listener.stop()


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="Keep the vdir and state here (default: a temporary folder).",
)
@click.option(
    "--items",
    type=click.IntRange(min=1, max=100_000),
    default=50,
    show_default=True,
    help="Contacts to seed on the server.",
)
@click.pass_obj
def demo(ctx: Ctx, directory: str | None, items: int) -> None:
    """Sync a seeded OX test server (loopback) two-way with a vdir, with push."""
    from oxsync.cli._demo import run_demo

    code = run_demo(Path(directory) if directory else None, items, say=click.echo)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console entry point.

    The objects made while importing live until the process ends: freezing them keeps
    the garbage collector from walking them again on every collection of a sync and
    once more at exit (together ~10 % of a no-op sync's wall time).
    """
    gc.freeze()
    try:
        cli.main(args=argv, prog_name="oxsync")
    except KeyboardInterrupt:
        # a signal after a command restored the default handlers (watch ending on a
        # first Ctrl-C, a second one while it exits): interrupted, not a traceback
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        click.echo("interrupted", err=True)
        sys.exit(EXIT["interrupted"])
    finally:
        gc.freeze()


def _log_dir(state_path: Path) -> Path | None:
    """Where the log file goes: beside the state; none for a state kept in memory (which
    would otherwise put ``oxsync.log`` in whatever directory the command ran in)."""
    return None if str(state_path) == ":memory:" else state_path.parent
