"""The TOML configuration: named stores, named pairs of stores, and how each pair syncs.

Read from ``--config`` or ``$OXSYNC_CONFIG``, else ``$XDG_CONFIG_HOME/oxsync/config.toml``
(``~/.config/oxsync/config.toml``)::

    state_path = "~/.local/share/oxsync/state.sqlite"   # optional (this is the default)
    poll_interval = 300                                  # seconds, default for every pair

    [stores.work]
    type = "ox"                      # an adapter name (oxsync.adapters entry point)
    base_url = "https://ox.example.com"
    username = "alice"
    password_command = "pass show ox/alice"   # or password_env = "OX_PASSWORD"
                                              # or keyring = true  (service "oxsync")

    [stores.laptop]
    type = "vdir"
    path = "~/.local/share/oxsync/work"

    [pairs.work]
    a = "work"
    b = "laptop"
    modules = ["contacts", "appointments", "tasks"]   # the OXtender's "Modules" tab
    conflict = "newest-wins"     # a-wins | b-wins | newest-wins | merge | keep-both
    poll_interval = 120
    push = true
    max_delete_ratio = 0.5       # the mass-delete brake

Every option of a store other than ``type``, ``read_only`` and the password keys goes to
the adapter's constructor, checked against its signature. Passwords never have to be in
the file (a ``password`` key is refused): :class:`PasswordSource` fetches them when the
store is opened. Any mistake raises :class:`~oxsync.errors.ConfigError` naming the key
and its line::

    >>> parse_config('[pairs.x]\\na = "nowhere"\\nb = "nowhere"')
    Traceback (most recent call last):
    ...
    oxsync.errors.ConfigError: pair 'x' names store 'nowhere', which is not defined \
[key 'pairs.x.a', line 2]
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import inspect
import math
import os
import re
import shlex
import sys
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

from oxsync.core.records import FolderKind
from oxsync.errors import ConfigError, InvalidDataError, redact

__all__ = [
    "MODULES",
    "Config",
    "PairConfig",
    "PasswordSource",
    "StoreConfig",
    "default_config_path",
    "default_state_path",
    "load_config",
    "parse_config",
]

MODULES: dict[str, FolderKind] = {
    "contacts": FolderKind.CONTACTS,
    "appointments": FolderKind.CALENDAR,
    "calendar": FolderKind.CALENDAR,
    "tasks": FolderKind.TASKS,
}
"""Module names accepted in ``pairs.*.modules`` and the folder kind each selects."""

_POLICIES = ("a-wins", "b-wins", "newest-wins", "merge", "keep-both")
_TOP_KEYS = {
    "state_path",
    "poll_interval",
    "push",
    "max_delete_ratio",
    "conflict",
    "stores",
    "pairs",
}
_PAIR_KEYS = {
    "a",
    "b",
    "modules",
    "conflict",
    "poll_interval",
    "push",
    "max_delete_ratio",
    "state_path",
}
_PASSWORD_KEYS = ("password_env", "password_command", "keyring")
PASSWORD_COMMAND_TIMEOUT = 60.0
"""Seconds a ``password_command`` may take before it is killed (a ConfigError)."""
PASSWORD_COMMAND_MAX_BYTES = 1 << 20
"""Most bytes a ``password_command`` may print (a password is its first line); a command
printing more is killed (a ConfigError) instead of filling memory until the timeout."""
_SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|token)$")


def _on_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or odd stdin
        return False


def default_config_path() -> Path:
    """``$OXSYNC_CONFIG``, else ``$XDG_CONFIG_HOME/oxsync/config.toml``."""
    if os.environ.get("OXSYNC_CONFIG"):
        return Path(os.environ["OXSYNC_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "oxsync" / "config.toml"


def default_state_path() -> Path:
    """``$XDG_DATA_HOME/oxsync/state.sqlite`` (``~/.local/share/oxsync/state.sqlite``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "oxsync" / "state.sqlite"


@frozen
class PasswordSource:
    """Where a store's password comes from: ``env``, ``command`` or ``keyring``.

    ``value`` is the variable name, the command, or the keyring service; ``username`` is
    the keyring user. The secret itself is fetched only by :meth:`resolve` and never
    appears in an error message.
    """

    kind: str
    value: str
    key: str
    line: int | None = None
    username: str | None = None

    def resolve(self) -> str:
        """Fetch the password now; raises :class:`ConfigError` naming the key if it fails."""
        if self.kind == "env":
            secret = os.environ.get(self.value)
            if not secret:
                raise ConfigError(
                    f"environment variable {self.value} is not set or empty",
                    key=self.key,
                    line=self.line,
                )
            return secret
        if self.kind == "command":
            return self._run_command()
        return self._from_keyring()

    def _run_command(self) -> str:
        try:
            argv = shlex.split(self.value)
        except ValueError as exc:
            raise ConfigError(
                f"cannot split password_command: {exc}", key=self.key, line=self.line
            ) from None
        import contextlib
        import signal
        import subprocess  # only for password_command (4 ms of every start-up otherwise)

        # Without a terminal (cron, `oxsync watch` as a service), a session of its own
        # (POSIX): on timeout the whole group is killed, so what the command started (a
        # shell's children, a hung gpg) does not outlive it. On a terminal the command
        # keeps it, for a prompt that reads /dev/tty (a new session has no terminal).
        posix = hasattr(os, "killpg") and not _on_terminal()
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                # never shown (it may echo the secret's neighbourhood), so never buffered
                stderr=subprocess.DEVNULL,
                start_new_session=posix,
            )
        except OSError as exc:
            raise ConfigError(
                f"password_command could not run: {type(exc).__name__}",
                key=self.key,
                line=self.line,
            ) from None
        stdout, problem = _capped_output(proc, PASSWORD_COMMAND_TIMEOUT, PASSWORD_COMMAND_MAX_BYTES)
        if problem is not None:
            if posix:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()  # reaps it (what it started may still hold the pipe: not waited for)
            raise ConfigError(problem, key=self.key, line=self.line) from None
        if proc.returncode != 0:
            # its output may hold the secret's neighbourhood: report only the exit status
            raise ConfigError(
                f"password_command failed with exit status {proc.returncode}",
                key=self.key,
                line=self.line,
            )
        secret = stdout.decode("utf-8", "replace").splitlines()
        if not secret or not secret[0]:
            raise ConfigError("password_command printed nothing", key=self.key, line=self.line)
        return secret[0]  # like vdirsyncer: the first line is the password

    def _from_keyring(self) -> str:
        try:  # optional: pip install 'oxsync[keyring]'
            keyring: Any = importlib.import_module("keyring")
        except ImportError:
            raise ConfigError(
                "keyring = true needs the keyring package (pip install 'oxsync[keyring]')",
                key=self.key,
                line=self.line,
            ) from None
        try:
            secret = keyring.get_password(self.value, self.username or "")
        except Exception as exc:  # each keyring backend raises its own errors
            raise ConfigError(
                f"the system keyring failed: {type(exc).__name__}", key=self.key, line=self.line
            ) from None
        if not secret:
            raise ConfigError(
                f"no password in the keyring for service {self.value!r}, user {self.username!r}",
                key=self.key,
                line=self.line,
            )
        return str(secret)

    def describe(self) -> str:
        """A secret-free description (for ``oxsync doctor`` and diagnostics)."""
        if self.kind == "env":
            return f"environment variable {self.value}"
        if self.kind == "command":
            return "password_command"
        return f"keyring service {self.value!r} user {self.username!r}"


def _capped_output(proc: Any, timeout: float, cap: int) -> tuple[bytes, str | None]:
    """Everything ``proc`` prints and its exit, within ``timeout`` seconds and ``cap``
    bytes; else what went wrong (the caller kills it). A thread drains the pipe, so a
    chatty command never blocks on a full pipe and the wait keeps its deadline; nor does
    the caller wait for the pipe's end, which what the command started may hold open."""
    import contextlib
    import subprocess
    import threading
    import time

    out = bytearray()
    over = threading.Event()

    def drain() -> None:  # owns the pipe: closes it when done, whoever gave up first
        with contextlib.suppress(OSError, ValueError), proc.stdout:
            while block := proc.stdout.read1(65536):
                out.extend(block)
                if len(out) > cap:
                    over.set()
                    return

    deadline = time.monotonic() + timeout
    reader = threading.Thread(target=drain, name="password_command output", daemon=True)
    reader.start()
    reader.join(timeout)
    if over.is_set():
        return b"", f"password_command printed more than {cap} bytes"
    try:
        if reader.is_alive():
            raise TimeoutError
        proc.wait(max(0.0, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        return b"", f"password_command did not finish within {timeout:g} s"
    return bytes(out), None


@frozen
class StoreConfig:
    """A ``[stores.NAME]`` table: the adapter ``type`` and its constructor ``options``."""

    name: str
    type: str
    options: Mapping[str, Any] = field(factory=dict)
    password: PasswordSource | None = None
    read_only: bool = False
    line: int | None = None
    """The line of the ``[stores.NAME]`` table, for errors found when the store is built."""

    def adapter_class(self) -> Any:
        """The store class registered under :attr:`type`."""
        from oxsync.adapters import load_adapter

        return load_adapter(self.type)

    def open(self) -> Any:
        """Build the store: fetch the password (if any) and call the adapter."""
        cls = self.adapter_class()
        kwargs = dict(self.options)
        accepted = _parameters(cls)
        if "name" in accepted or "**" in accepted:
            kwargs.setdefault("name", self.name)
        if self.read_only:
            kwargs["read_only"] = True
        if self.password is not None:
            kwargs["password"] = self.password.resolve()
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            if exc.key is not None:
                raise
            secret = kwargs.get("password")
            text = redact(str(exc), [secret] if isinstance(secret, str) and secret else [])
            raise ConfigError(
                f"store {self.name!r}: {text}", key=f"stores.{self.name}", line=self.line
            ) from None
        except OSError as exc:
            # A path option naming something unusable: a file where a folder must be made.
            where = f" {str(exc.filename)!r}" if exc.filename is not None else ""
            raise ConfigError(
                f"store {self.name!r}: {exc.strerror or type(exc).__name__}{where}",
                key=f"stores.{self.name}",
                line=self.line,
            ) from exc
        except (InvalidDataError, TypeError, ValueError) as exc:
            # An option of the right name but a wrong value, found by the adapter itself.
            secret = kwargs.get("password")
            text = redact(str(exc), [secret] if isinstance(secret, str) and secret else [])
            raise ConfigError(
                f"store {self.name!r}: {text}", key=f"stores.{self.name}", line=self.line
            ) from exc

    def redacted(self) -> dict[str, Any]:
        """Options without secrets, for diagnostics exports."""
        out: dict[str, Any] = {"type": self.type, "read_only": self.read_only}
        out.update({k: ("***" if _SECRET_KEY.search(k) else v) for k, v in self.options.items()})
        if self.password is not None:
            out["password"] = f"<{self.password.describe()}>"
        return out


@frozen
class PairConfig:
    """A ``[pairs.NAME]`` table: which stores sync, which modules, and how."""

    name: str
    a: str
    b: str
    modules: frozenset[FolderKind] = frozenset(FolderKind)
    conflict: str = "newest-wins"
    poll_interval: float = 300.0
    push: bool = True
    max_delete_ratio: float = 0.5
    state_path: Path = field(factory=default_state_path)

    @property
    def policy(self) -> Any:
        """The :class:`~oxsync.core.policy.ConflictPolicy` named by :attr:`conflict`."""
        from oxsync.core.policy import Policy

        return Policy.from_name(self.conflict)


@frozen
class Config:
    """A parsed configuration file."""

    stores: Mapping[str, StoreConfig]
    pairs: Mapping[str, PairConfig]
    path: Path | None = None

    def store(self, name: str) -> StoreConfig:
        """The store called ``name`` (ConfigError if there is none)."""
        try:
            return self.stores[name]
        except KeyError:
            raise ConfigError(
                f"no store {name!r}; defined: {', '.join(self.stores) or 'none'}",
                key=f"stores.{name}",
            ) from None

    def pair(self, name: str) -> PairConfig:
        """The pair called ``name`` (ConfigError if there is none)."""
        try:
            return self.pairs[name]
        except KeyError:
            raise ConfigError(
                f"no pair {name!r}; defined: {', '.join(self.pairs) or 'none'}", key=f"pairs.{name}"
            ) from None

    def redacted(self) -> dict[str, Any]:
        """The whole configuration as plain data without any secret."""
        return {
            "stores": {n: s.redacted() for n, s in self.stores.items()},
            "pairs": {
                n: {
                    "a": p.a,
                    "b": p.b,
                    "modules": sorted(k.value for k in p.modules),
                    "conflict": p.conflict,
                    "poll_interval": p.poll_interval,
                    "push": p.push,
                    "max_delete_ratio": p.max_delete_ratio,
                    "state_path": str(p.state_path),
                }
                for n, p in self.pairs.items()
            },
        }


# --------------------------------------------------------------------------- loading


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and check the configuration file (:func:`default_config_path` if ``None``)."""
    file = Path(path).expanduser() if path is not None else default_config_path()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no configuration file at {str(file)!r}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {str(file)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}: not UTF-8", line=line) from None
    return parse_config(text, source=str(file), base_dir=file.parent, path=file)


def parse_config(
    text: str, *, source: str = "<config>", base_dir: Path | None = None, path: Path | None = None
) -> Config:
    """Check TOML ``text`` and build a :class:`Config`; relative paths resolve from
    ``base_dir``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"{source}: not valid TOML: {exc}", line=int(match.group(1)) if match else None
        ) from None
    return _Parser(text, base_dir).build(data, path)


class _Parser:
    def __init__(self, text: str, base_dir: Path | None) -> None:
        self.lines = _KeyLines(text)
        self.base_dir = base_dir

    def fail(self, message: str, *key: str) -> ConfigError:
        return ConfigError(message, key=".".join(key), line=self.lines.find(key))

    def build(self, data: dict[str, Any], path: Path | None) -> Config:
        for key in data:
            if key not in _TOP_KEYS:
                raise self.fail(f"unknown setting {key!r}", key)
        defaults = {
            "state_path": self.state_path(data.get("state_path"), ("state_path",))
            if "state_path" in data
            else default_state_path(),
            "poll_interval": self.interval(data.get("poll_interval", 300), ("poll_interval",)),
            "push": self.boolean(data.get("push", True), ("push",)),
            "max_delete_ratio": self.ratio(
                data.get("max_delete_ratio", 0.5), ("max_delete_ratio",)
            ),
            "conflict": self.conflict(data.get("conflict", "newest-wins"), ("conflict",)),
        }
        stores = {
            name: self.store(name, table) for name, table in self.tables(data, "stores").items()
        }
        pairs = {
            name: self.pair(name, table, stores, defaults)
            for name, table in self.tables(data, "pairs").items()
        }
        return Config(stores=stores, pairs=pairs, path=path)

    def tables(self, data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
        section = data.get(key, {})
        if not isinstance(section, dict):
            raise self.fail(f"{key} must be a table ([{key}.NAME])", key)
        for name, table in section.items():
            if not isinstance(table, dict):
                raise self.fail(f"{key}.{name} must be a table", key, name)
        return section

    def store(self, name: str, table: dict[str, Any]) -> StoreConfig:
        key = ("stores", name)
        if "type" not in table:
            raise self.fail(f'store {name!r} has no type (e.g. type = "vdir")', *key)
        kind = table["type"]
        if not isinstance(kind, str):
            raise self.fail("type must be a string", *key, "type")
        if "password" in table:
            raise self.fail(
                "passwords do not go in the file: use password_env, "
                "password_command or keyring = true",
                *key,
                "password",
            )
        read_only = self.boolean(table.get("read_only", False), (*key, "read_only"))
        options = {
            k: v for k, v in table.items() if k not in ("type", "read_only", *_PASSWORD_KEYS)
        }
        password = self.password(name, table)
        from oxsync.adapters import load_adapter

        try:
            cls = load_adapter(kind)
        except ConfigError as exc:
            raise self.fail(str(exc), *key, "type") from None
        except ImportError as exc:
            raise self.fail(
                f"store type {kind!r} cannot be loaded here: {exc}", *key, "type"
            ) from None
        accepted = _parameters(cls)
        if "**" not in accepted:
            for option in options:
                if option not in accepted or option in ("password", "self"):
                    known = ", ".join(sorted(accepted - {"password", "self", "name", "read_only"}))
                    raise self.fail(
                        f"{kind} stores have no option {option!r} (options: {known})", *key, option
                    )
        hints = _hints(cls)
        defaults = _defaults(cls)
        for option, value in options.items():
            problem = _wrong_value(value, hints.get(option, Any), defaults.get(option))
            if problem:
                raise self.fail(f"{kind} store option {option} {problem}", *key, option)
        for option, value in options.items():
            # a path option (a vdir's ``path``) relative to the config file, as state_path
            if isinstance(value, str) and value and _takes_path(hints.get(option)):
                options[option] = self.relative_path(value, (*key, option))
        for required in _required(cls):
            if required == "password" and password is None:
                raise self.fail(
                    f"store {name!r} needs a password: set password_env, "
                    "password_command or keyring = true",
                    *key,
                )
            if required not in ("password", "name") and required not in options:
                raise self.fail(f"{kind} stores need {required!r}", *key)
        return StoreConfig(
            name=name,
            type=kind,
            options=options,
            password=password,
            read_only=read_only,
            line=self.lines.find(key),
        )

    def password(self, name: str, table: dict[str, Any]) -> PasswordSource | None:
        given = [k for k in _PASSWORD_KEYS if k in table and table[k] is not False]
        if len(given) > 1:
            raise self.fail(f"choose one of {', '.join(given)}", "stores", name, given[1])
        if not given:
            return None
        key = given[0]
        value = table[key]
        where = ("stores", name, key)
        line = self.lines.find(where)
        if key == "keyring":
            if value is True:
                service, user = "oxsync", table.get("username")
            elif isinstance(value, dict) and set(value) <= {"service", "username"}:
                service = value.get("service", "oxsync")
                user = value.get("username", table.get("username"))
            else:
                raise self.fail("keyring must be true or {service = ..., username = ...}", *where)
            if not isinstance(service, str) or not isinstance(user, str | None):
                raise self.fail("keyring service and username must be strings", *where)
            return PasswordSource("keyring", service, ".".join(where), line, user)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be a non-empty string", *where)
        kind = "env" if key == "password_env" else "command"
        return PasswordSource(kind, value, ".".join(where), line)

    def pair(
        self,
        name: str,
        table: dict[str, Any],
        stores: Mapping[str, StoreConfig],
        defaults: dict[str, Any],
    ) -> PairConfig:
        key = ("pairs", name)
        for option in table:
            if option not in _PAIR_KEYS:
                raise self.fail(f"unknown pair setting {option!r}", *key, option)
        for side in ("a", "b"):
            if side not in table:
                raise self.fail(f'pair {name!r} needs {side} = "<store name>"', *key)
            if not isinstance(table[side], str):
                raise self.fail(f"{side} must be a store name", *key, side)
            if table[side] not in stores:
                raise self.fail(
                    f"pair {name!r} names store {table[side]!r}, which is not defined", *key, side
                )
        if table["a"] == table["b"]:
            raise self.fail("a pair needs two different stores", *key, "b")
        modules = table.get("modules", ["contacts", "appointments", "tasks"])
        if not isinstance(modules, list) or not modules:
            raise self.fail("modules must be a non-empty list", *key, "modules")
        kinds = set()
        for module in modules:
            if not isinstance(module, str) or module not in MODULES:
                raise self.fail(
                    f"unknown module {module!r}; choose from contacts, appointments, tasks",
                    *key,
                    "modules",
                )
            kinds.add(MODULES[module])
        return PairConfig(
            name=name,
            a=table["a"],
            b=table["b"],
            modules=frozenset(kinds),
            conflict=self.conflict(table["conflict"], (*key, "conflict"))
            if "conflict" in table
            else defaults["conflict"],
            poll_interval=self.interval(table["poll_interval"], (*key, "poll_interval"))
            if "poll_interval" in table
            else defaults["poll_interval"],
            push=self.boolean(table["push"], (*key, "push"))
            if "push" in table
            else defaults["push"],
            max_delete_ratio=self.ratio(table["max_delete_ratio"], (*key, "max_delete_ratio"))
            if "max_delete_ratio" in table
            else defaults["max_delete_ratio"],
            state_path=self.state_path(table["state_path"], (*key, "state_path"))
            if "state_path" in table
            else defaults["state_path"],
        )

    # -- values -------------------------------------------------------------------

    def boolean(self, value: Any, key: Sequence[str]) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"{key[-1]} must be true or false, not {value!r}", *key)
        return value

    def interval(self, value: Any, key: Sequence[str]) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < math.inf  # also refuses nan
        ):
            raise self.fail(
                f"{key[-1]} must be a positive, finite number of seconds, not {value!r}", *key
            )
        return float(value)

    def ratio(self, value: Any, key: Sequence[str]) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise self.fail(f"{key[-1]} must be a share of a folder in (0, 1], not {value!r}", *key)
        return float(value)

    def conflict(self, value: Any, key: Sequence[str]) -> str:
        name = value.replace("_", "-").lower() if isinstance(value, str) else None
        if name not in _POLICIES:
            raise self.fail(
                f"unknown conflict policy {value!r}; choose {', '.join(_POLICIES)}", *key
            )
        return name

    def relative_path(self, value: str, key: Sequence[str], *, what: str = "a path") -> str:
        """``value`` with ``~`` expanded and, if relative, taken from the config file's
        directory (not the one oxsync happens to run in)."""
        if "\0" in value:
            raise self.fail(f"{what} must not contain a NUL character", *key)
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # "~nosuchuser/..." or no home directory to expand "~" to
            raise self.fail(f"{what} {value!r}: cannot expand '~' here", *key) from None
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return str(path)

    def state_path(self, value: Any, key: Sequence[str]) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail("state_path must be a path", *key)
        if value == ":memory:":
            return Path(value)
        return Path(self.relative_path(value, key, what="state_path"))


def _parameters(cls: Any) -> set[str]:
    """Keyword names the adapter constructor takes ("**" if it takes any)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return {"**"}
    names = set()
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            names.add("**")
        elif param.kind is not param.VAR_POSITIONAL:
            names.add(param.name)
    return names


def _takes_path(hint: Any) -> bool:
    """Whether a constructor type hint admits a path (``os.PathLike`` or ``Path``)."""
    if hint is None:
        return False
    if hint is Path or hint is os.PathLike or typing.get_origin(hint) is os.PathLike:
        return True
    return any(_takes_path(arg) for arg in typing.get_args(hint) if arg is not type(None))


def _hints(cls: Any) -> dict[str, Any]:
    """The adapter constructor's type hints ({} when they cannot be resolved)."""
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # a third-party adapter's unresolvable forward reference
        return {}


def _defaults(cls: Any) -> dict[str, Any]:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in signature.parameters.values() if p.default is not p.empty}


def _wrong_value(value: Any, hint: Any, default: Any) -> str | None:
    """Why a TOML ``value`` cannot be given for a parameter of type ``hint`` (None if it
    can): the type must match, a float must be finite, and a number whose default is
    not negative must not be negative."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    if not _fits(value, hint):
        shown = repr(value) if len(repr(value)) <= 60 else f"a {type(value).__name__}"
        return f"must be {_describe(hint)}, not {shown}"
    numeric = (int, float)
    if (
        isinstance(value, numeric)
        and not isinstance(value, bool)
        and isinstance(default, numeric)
        and not isinstance(default, bool)
        and default >= 0 > value
    ):
        return f"must not be negative, not {value!r}"
    return None


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is os.PathLike or hint is os.PathLike:
        return False  # TOML gives strings: the ``str`` arm accepts a path
    if origin in (list, tuple, collections.abc.Sequence):
        item = args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else Any
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, dict) and (
            not args or all(_fits(k, args[0]) and _fits(v, args[1]) for k, v in value.items())
        )
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, str | int) and value in {m.value for m in hint}
    if isinstance(origin or hint, type):  # a class, or a generic one like frozenset[...]
        try:
            return isinstance(value, origin or hint)
        except TypeError:
            return True
    return True  # a type this check does not understand: the adapter checks it


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        return " or ".join(dict.fromkeys(_describe(a) for a in arms))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if origin is os.PathLike or hint is os.PathLike:
        return "a path"
    if origin in (list, tuple, collections.abc.Sequence):
        return "a list"
    if origin in (dict, collections.abc.Mapping):
        args = typing.get_args(hint)
        return f"a table of {_describe(args[1])}" if len(args) == 2 else "a table"
    name = getattr(origin or hint, "__name__", None) or str(hint)
    return f"a {name} (which a configuration file cannot give)"


def _required(cls: Any) -> list[str]:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


class _KeyLines:
    """Finds the line of a dotted key in TOML text (tomllib does not report lines).

    Understands ``[table]`` headers, dotted keys and keys inside inline tables written on
    the same line; a key that is missing maps to its table's header line.
    """

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(
        r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
        r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
    )

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[tuple[str, ...], int]] = []
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), 1):
            header = self._HEADER.match(line)
            if header:
                table = _split_key(header.group(1))
                self.entries.append((table, number))
                continue
            key = self._KEY.match(line)
            if key:
                full = table + _split_key(key.group(1))
                self.entries.append((full, number))
                rest = line[key.end() :]
                for inner in re.finditer(r"([A-Za-z0-9_-]+)\s*=", rest):
                    if rest.lstrip().startswith("{"):
                        self.entries.append(((*full, inner.group(1)), number))

    def find(self, key: Sequence[str]) -> int | None:
        wanted = tuple(key)
        for length in range(len(wanted), 0, -1):
            prefix = wanted[:length]
            for entry, number in self.entries:
                if entry == prefix:
                    return number
        return None


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", text)
    return tuple(a or b or c for a, b, c in parts)
