"""What the commands share: logging with redaction, opening pairs, output helpers."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import attrs
from attrs import define

from oxsync.config import Config, PairConfig, StoreConfig, load_config
from oxsync.core.engine import SyncEngine, SyncEvent
from oxsync.core.state import State
from oxsync.errors import StateError, redact

__all__ = [
    "PairRuntime",
    "Redactor",
    "emit_json",
    "load",
    "open_pair",
    "open_state",
    "open_store",
    "setup_logging",
]

LOG_NAME = "oxsync.log"


class Redactor(logging.Filter):
    """A logging filter that removes secrets from every record (passwords, auth, cookies)."""

    secrets: ClassVar[set[str]] = set()  # shared: every handler redacts every known secret

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), sorted(self.secrets))
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), sorted(self.secrets)
            )
            record.exc_info = None
        return True


FILE_ONLY = {"file_only": True}
"""``extra`` of a log record meant for the log file only (what stderr already shows in
its own words: the summary of a sync, the events printed with ``-v``)."""


def _not_file_only(record: logging.LogRecord) -> bool:
    return not getattr(record, "file_only", False)


def setup_logging(verbosity: int, log_dir: Path | None) -> Path | None:
    """Log to stderr by verbosity, and at INFO to a rotating file in ``log_dir``."""
    root = logging.getLogger("oxsync")
    for old in root.handlers:
        old.close()  # a second run in the same process must not leak the log file
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    root.propagate = False
    redactor = Redactor()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(
        {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    )
    stderr.addFilter(redactor)
    stderr.addFilter(_not_file_only)
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(stderr)
    if log_dir is None:
        return None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / LOG_NAME
        with open(path, "a", encoding="utf-8"):
            pass  # writable (else no file log, as before); the handler opens it when needed
    except OSError:
        return None
    handler = _DeferredRotatingFile(path)
    handler.setLevel(logging.INFO)
    handler.addFilter(redactor)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path


class _DeferredRotatingFile(logging.Handler):
    """The log file's ``RotatingFileHandler`` (1 MB, two old files), made on the first
    record that reaches it: a run that logs nothing there (a quiet no-op sync) does not
    import ``logging.handlers`` and what it pulls in (socket, pickle: ~15 ms)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None
        self._failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            if self._failed:
                return  # reported once; the stderr log goes on
            import logging.handlers

            try:
                self._file = logging.handlers.RotatingFileHandler(
                    self.path, maxBytes=1_000_000, backupCount=2, encoding="utf-8"
                )
            except OSError:
                self._failed = True
                self.handleError(record)
                return
            self._file.setFormatter(self.formatter)
        self._file.emit(record)  # filters and level were applied by this handler

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


@define
class PairRuntime:
    """An opened pair: both stores, its state and an engine."""

    config: PairConfig
    a: Any
    b: Any
    state: State
    engine: SyncEngine

    def close(self) -> None:
        """Close stores and state."""
        for store in (self.a, self.b):
            close = getattr(store, "close", None)
            if close is not None:
                close()
        self.state.close()


def load(config_path: str | None) -> Config:
    """Load the configuration (ConfigError names key and line)."""
    return load_config(config_path)


@contextmanager
def open_pair(
    config: Config, name: str, observers: Sequence[Callable[[SyncEvent], None]] = ()
) -> Iterator[PairRuntime]:
    """Open the stores of pair ``name`` and build its engine; closes everything after."""
    pair = config.pair(name)
    a = open_store(config.store(pair.a))
    try:
        b = open_store(config.store(pair.b))
    except BaseException:
        getattr(a, "close", lambda: None)()
        raise
    try:
        state = open_state(pair.state_path)
    except BaseException:
        for store in (a, b):
            getattr(store, "close", lambda: None)()
        raise
    engine = SyncEngine(
        a,
        b,
        state=state,
        policy=pair.policy,
        pair=name,
        max_delete_ratio=pair.max_delete_ratio,
        folder_kinds=pair.modules,
        observers=list(observers),
    )
    runtime = PairRuntime(pair, a, b, state, engine)
    try:
        yield runtime
    finally:
        runtime.close()


def open_state(path: Path) -> State:
    """Open the state file; a path that cannot be made (its folder is a file, no
    permission) is a :class:`StateError` like any other unusable state."""
    try:
        return State(path)
    except OSError as exc:
        raise StateError(f"cannot open state database {str(path)!r}: {exc.strerror}") from exc


def open_store(store: StoreConfig) -> Any:
    """Open a store, registering its password with the log redactor first."""
    if store.password is not None:
        secret = store.password.resolve()
        Redactor.secrets.add(secret)
        store = attrs.evolve(store, password=None, options={**store.options, "password": secret})
    return store.open()


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout."""
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))
