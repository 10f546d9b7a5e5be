"""Hostile input to the command line: a configuration of wrong types and values, password
sources that fail, hang or print odd things, state files that are no usable database.
Each must end in a one-line message and the documented exit code: never a traceback,
never a secret, and nothing overwritten. In process (click's CliRunner) throughout."""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import math
import os
import sqlite3
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oxsync.config as config_module
from oxsync.cli import EXIT, cli
from oxsync.config import parse_config
from oxsync.core.state import State
from oxsync.errors import ConfigError

CANARY = "canary-H0stile-Pw-51c2"

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _close_log_files() -> Iterator[None]:
    yield
    for handler in logging.getLogger("oxsync").handlers:
        handler.close()
    logging.getLogger("oxsync").handlers.clear()


def base_config(tmp_path: Path, *, pair_extra: str = "", top: str = "", stores: str = "") -> str:
    return f"""{top}
[stores.a]
type = "memory"
{stores}
[stores.b]
type = "vdir"
path = {json.dumps(str(tmp_path / "vdir"))}

[pairs.p]
a = "a"
b = "b"
state_path = {json.dumps(str(tmp_path / "state.sqlite"))}
{pair_extra}
"""


def invoke(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None) -> Result:
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: escaped {result.exception!r}") from result.exception
    assert "Traceback" not in result.output
    return result


def assert_usage_error(result: Result, key: str) -> None:
    assert result.exit_code == EXIT["usage"], result.output
    assert f"key {key!r}" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# ------------------------------------------------------------------ TOML values by rule


def toml(value: Any) -> str:
    """``value`` written as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(_escape(c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml(k)} = {toml(v)}" for k, v in value.items()) + "}"


def _escape(char: str) -> str:
    if char in '"\\' or ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.sampled_from([0, -1, 2**63 - 1, -(2**63)])
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308])
    | _text
    | st.sampled_from(["", "\0", "contacts", "merge", ":memory:", "~nosuchuser-x/s", "a", "b"])
)
toml_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)

TOP_KEYS = ["state_path", "poll_interval", "push", "max_delete_ratio", "conflict"]
PAIR_KEYS = ["a", "b", "modules", *TOP_KEYS]


@FAST
@given(key=st.sampled_from(TOP_KEYS + [f"pairs.p.{k}" for k in PAIR_KEYS]), value=toml_values)
def test_any_value_for_any_setting_parses_or_names_its_key(key: str, value: Any) -> None:
    name = key.rsplit(".", 1)[-1]
    text = base_config(Path("/nonexistent-oxsync"))
    if key.startswith("pairs.p."):
        head, _, pair = text.partition("[pairs.p]\n")
        lines = [line for line in pair.splitlines() if not line.startswith(f"{name} = ")]
        text = head + "[pairs.p]\n" + "\n".join([*lines, f"{name} = {toml(value)}"]) + "\n"
    else:
        text = f"{key} = {toml(value)}\n" + text
    try:
        config = parse_config(text)
    except ConfigError as exc:
        assert exc.key == key, (exc, key)
        assert exc.line is not None
        return
    pair_config = config.pair("p")
    assert 0 < pair_config.poll_interval < math.inf
    assert 0 < pair_config.max_delete_ratio <= 1
    assert "\0" not in str(pair_config.state_path)


def test_a_module_that_is_a_list_or_table_is_a_config_error(tmp_path: Path) -> None:
    # was: TypeError: unhashable type: 'list' (a traceback, exit 1)
    for modules in ('[["contacts"]]', "[{a = 1}]", "[1]"):
        result = invoke(tmp_path, base_config(tmp_path, pair_extra=f"modules = {modules}"), "sync")
        assert_usage_error(result, "pairs.p.modules")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_poll_interval_that_no_timer_can_wait_is_a_config_error(
    tmp_path: Path, value: str
) -> None:
    # was: accepted; `oxsync watch` then waited on Condition.wait(nan) (ValueError in its
    # thread) or never polled at all
    result = invoke(tmp_path, base_config(tmp_path, top=f"poll_interval = {value}"), "status")
    assert_usage_error(result, "poll_interval")
    result = invoke(tmp_path, base_config(tmp_path, pair_extra=f"poll_interval = {value}"), "sync")
    assert_usage_error(result, "pairs.p.poll_interval")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_watch_poll_option_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    # was: --poll nan crashed the watch thread; --poll -1 synced in a busy loop. (No pair
    # is configured, so that without the check the command stops at once instead of
    # watching until a signal comes.)
    env = {"XDG_DATA_HOME": str(tmp_path)}  # where the log goes when no pair names a state
    result = invoke(tmp_path, '[stores.a]\ntype = "memory"\n', "watch", "--poll", value, env=env)
    assert result.exit_code == EXIT["usage"], result.output
    assert "--poll" in result.output


@pytest.mark.parametrize(
    "value", ['"/tmp/oxsync\\u0000state"', '"~nosuchuser-oxsync/state.sqlite"']
)
def test_a_state_path_that_is_no_path_is_a_config_error(tmp_path: Path, value: str) -> None:
    # was: ValueError('embedded null byte') / RuntimeError('Could not determine home
    # directory.') as tracebacks
    text = base_config(tmp_path).replace(
        f"state_path = {json.dumps(str(tmp_path / 'state.sqlite'))}", f"state_path = {value}"
    )
    result = invoke(tmp_path, text, "sync")
    assert_usage_error(result, "pairs.p.state_path")


# ------------------------------------------------------------------ adapter options


def _options(store_type: str) -> list[str]:
    from oxsync.adapters import load_adapter

    signature = inspect.signature(load_adapter(store_type))
    return sorted(set(signature.parameters) - {"self", "password", "read_only", "path"})


STORE_OPTIONS = [(t, o) for t in ("memory", "vdir", "ox") for o in _options(t)]
REQUIRED = {
    "memory": "",
    "vdir": "path = {vdir}\n",
    "ox": 'base_url = "http://127.0.0.1:9"\nusername = "u"\npassword_env = "OXSYNC_HOSTILE_PW"\n',
}


@FAST
@given(option=st.sampled_from(STORE_OPTIONS), value=toml_values)
def test_any_value_for_any_adapter_option_opens_or_names_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: tuple[str, str], value: Any
) -> None:
    store_type, name = option
    monkeypatch.setenv("OXSYNC_HOSTILE_PW", CANARY)
    required = REQUIRED[store_type].format(vdir=json.dumps(str(tmp_path / "vdir")))
    required = "\n".join(line for line in required.splitlines() if not line.startswith(f"{name} ="))
    text = f'[stores.s]\ntype = "{store_type}"\n{required}\n{name} = {toml(value)}\n'
    try:
        config = parse_config(text)
        store = config.store("s").open()
    except ConfigError as exc:
        assert exc.key in (f"stores.s.{name}", "stores.s"), exc
        assert CANARY not in str(exc)
        return
    getattr(store, "close", lambda: None)()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", '"x"'),  # was: TypeError in the engine's batching, mid-sync
        ("batch_size", "-1"),
        ("faults", "1"),  # was: AttributeError: 'int' object has no attribute 'seed'
        ("kinds", '["contacts"]'),
        ("name", "5"),
    ],
)
def test_a_memory_store_option_of_the_wrong_type_is_a_config_error(
    tmp_path: Path, option: str, value: str
) -> None:
    result = invoke(tmp_path, base_config(tmp_path, stores=f"{option} = {value}"), "sync")
    assert_usage_error(result, f"stores.a.{option}")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("base_url", "5"),  # was: AttributeError: 'int' object has no attribute 'decode'
        ("username", '["alice"]'),
        ("timeout", "nan"),  # was: ValueError from socket.settimeout at the first request
        ("timeout", "-3"),  # was: ValueError: Timeout value out of range
        ("transport", '"x"'),  # was: AttributeError ... 'handle_request', then in close()
        ("capture", '"yes"'),
    ],
)
def test_an_ox_store_option_of_the_wrong_type_is_a_config_error(
    tmp_path: Path, option: str, value: str
) -> None:
    options = {
        "base_url": '"http://127.0.0.1:9"',
        "username": '"alice"',
        "password_env": '"OXSYNC_HOSTILE_PW"',
    }
    options[option] = value
    text = '[stores.o]\ntype = "ox"\n' + "".join(f"{k} = {v}\n" for k, v in options.items())
    text += base_config(tmp_path).replace('a = "a"', 'a = "o"')
    result = invoke(tmp_path, text, "sync", env={"OXSYNC_HOSTILE_PW": CANARY})
    assert_usage_error(result, f"stores.o.{option}")
    assert CANARY not in result.output


def test_an_adapter_configerror_without_a_key_gets_the_stores_key(tmp_path: Path) -> None:
    text = '[stores.o]\ntype = "ox"\nbase_url = "::::"\nusername = "u"\npassword_env = "P"\n'
    text += base_config(tmp_path).replace('a = "a"', 'a = "o"')
    result = invoke(tmp_path, text, "sync", env={"P": CANARY})
    assert_usage_error(result, "stores.o")


# ------------------------------------------------------------------ state files


def _state_config(tmp_path: Path, state: Path) -> str:
    return base_config(tmp_path).replace(str(tmp_path / "state.sqlite"), str(state))


def _fresh_state(tmp_path: Path) -> Path:
    state = tmp_path / "good.sqlite"
    State(state).close()
    return state


@pytest.mark.parametrize(
    ("label", "content"),
    [
        ("garbage", b"this is no SQLite database\n" * 200),
        ("header only", None),
        ("truncated", None),
    ],
)
def test_an_unreadable_state_file_is_refused_and_left_as_it_was(
    tmp_path: Path, label: str, content: bytes | None
) -> None:
    if content is None:
        good = _fresh_state(tmp_path).read_bytes()
        content = good[:100] if label == "header only" else good[: len(good) // 2]
    state = tmp_path / "broken.sqlite"
    state.write_bytes(content)
    text = _state_config(tmp_path, state)
    for command in (["sync"], ["sync", "--dry-run"], ["status"], ["ignored"], ["slowsync", "p"]):
        result = invoke(tmp_path, text, *command)
        assert result.exit_code == EXIT["refused"], (command, result.output)
        assert "cannot open state database" in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert state.read_bytes() == content


def test_diagnostics_export_reports_a_broken_state_instead_of_crashing(tmp_path: Path) -> None:
    # was: StateError escaped `diagnostics export` as a traceback (outside _errors())
    state = tmp_path / "broken.sqlite"
    state.write_bytes(b"garbage" * 1000)
    archive = tmp_path / "diag.zip"
    result = invoke(tmp_path, _state_config(tmp_path, state), "diagnostics", "export", str(archive))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as zf:
        summary = json.loads(zf.read("state.json"))
    assert "not a database" in summary["p"]["error"]
    assert state.read_bytes() == b"garbage" * 1000


def test_a_state_of_a_newer_schema_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    state = _fresh_state(tmp_path)
    with sqlite3.connect(state) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.close()
    before = state.read_bytes()
    for command in (["sync"], ["status"], ["ignored"]):
        result = invoke(tmp_path, _state_config(tmp_path, state), *command)
        assert result.exit_code == EXIT["refused"], result.output
        assert "newer than this oxsync" in result.output
    assert state.read_bytes() == before


def test_a_state_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "a-directory"
    state.mkdir()
    result = invoke(tmp_path, _state_config(tmp_path, state), "sync")
    assert result.exit_code == EXIT["refused"], result.output
    assert "cannot open state database" in result.output


def test_a_state_path_below_a_file_is_a_state_error(tmp_path: Path) -> None:
    # was: FileExistsError / NotADirectoryError from State's mkdir, as a traceback
    (tmp_path / "file").write_text("x")
    for command in (["sync"], ["ignored"]):
        result = invoke(tmp_path, _state_config(tmp_path, tmp_path / "file" / "s.sqlite"), *command)
        assert result.exit_code == EXIT["refused"], result.output
        assert "cannot open state database" in result.output
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_state_in_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = invoke(tmp_path, _state_config(tmp_path, folder / "s.sqlite"), "sync")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == EXIT["refused"], result.output
    assert not (folder / "s.sqlite").exists()


def test_a_state_locked_by_another_process_exits_busy(tmp_path: Path) -> None:
    # was: exit 5 ("store refused") for what is the busy case of exit code 6
    state = _fresh_state(tmp_path)
    holder = sqlite3.connect(state, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        result = invoke(tmp_path, _state_config(tmp_path, state), "sync")  # ~5 s busy wait
    finally:
        holder.close()
    assert result.exit_code == EXIT["busy"], result.output
    assert "locked" in result.output


def test_a_vdir_path_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    # was: FileExistsError from the vdir's mkdir, as a traceback
    (tmp_path / "file").write_text("x")
    text = base_config(tmp_path).replace(str(tmp_path / "vdir"), str(tmp_path / "file"))
    result = invoke(tmp_path, text, "sync")
    assert_usage_error(result, "stores.b")
    assert (tmp_path / "file").read_text() == "x"


# ------------------------------------------------------------------ password sources


def _ox_config(tmp_path: Path, password: str) -> str:
    store = (
        f'[stores.o]\ntype = "ox"\nbase_url = "http://127.0.0.1:9"\nusername = "u"\n{password}\n'
    )
    return store + base_config(tmp_path).replace('a = "a"', 'a = "o"')


def _command(tmp_path: Path, code: str) -> str:
    script = tmp_path / "password.py"
    script.write_text(code)
    return f"password_command = {json.dumps(f'{sys.executable} {script}')}"


def _assert_no_canary(tmp_path: Path, result: Result) -> None:
    assert CANARY not in result.output
    for log in tmp_path.rglob("*.log"):
        assert CANARY not in log.read_text("utf-8", "replace")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (  # the secret on stdout and stderr, then failure
            f"import sys; print({CANARY!r}); print({CANARY!r}, file=sys.stderr); sys.exit(3)",
            "exit status 3",
        ),
        ("pass", "printed nothing"),
        (f"import sys; print({CANARY!r}, file=sys.stderr)", "printed nothing"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "exit status -9"),
    ],
)
def test_a_failing_password_command_never_shows_its_output(
    tmp_path: Path, code: str, words: str
) -> None:
    for command in (["sync"], ["status"], ["-vv", "sync"]):
        result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), *command)
        assert_usage_error(result, "stores.o.password_command")
        assert words in result.output
        _assert_no_canary(tmp_path, result)


def test_a_hanging_password_command_is_killed_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "PASSWORD_COMMAND_TIMEOUT", 0.5)
    code = f"import time; print({CANARY!r}, flush=True); time.sleep(30)"
    started = time.monotonic()
    result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), "sync")
    assert time.monotonic() - started < 10
    assert_usage_error(result, "stores.o.password_command")
    assert "did not finish within 0.5 s" in result.output
    _assert_no_canary(tmp_path, result)


def test_a_password_that_works_never_reaches_output_or_log(tmp_path: Path) -> None:
    code = f"print({CANARY!r}); print('login: u')"
    for command in (["-vv", "sync"], ["-vv", "status"], ["-vv", "doctor"]):
        result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), *command)
        assert result.exit_code in (0, EXIT["unreachable"]), result.output  # nothing on :9
        _assert_no_canary(tmp_path, result)


def test_a_huge_password_command_output_is_no_crash_and_no_leak(tmp_path: Path) -> None:
    # a password line just under the cap still works
    size = config_module.PASSWORD_COMMAND_MAX_BYTES - len(CANARY) - 200
    code = f"import sys; sys.stdout.write({CANARY!r} + 'x' * {size} + '\\n' + 'y' * 100)"
    result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), "sync")
    assert result.exit_code == EXIT["unreachable"], result.output[:300]
    _assert_no_canary(tmp_path, result)


def test_a_password_command_printing_without_end_is_stopped_at_the_cap(tmp_path: Path) -> None:
    # communicate() kept all of it in memory until the timeout (a minute of a runaway
    # command filling memory); now the command is killed once it passes the cap
    code = f"import sys\nwhile True: sys.stdout.write({CANARY!r} * 1000)"
    started = time.monotonic()
    result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), "sync")
    assert time.monotonic() - started < 20
    assert_usage_error(result, "stores.o.password_command")
    assert f"printed more than {config_module.PASSWORD_COMMAND_MAX_BYTES} bytes" in result.output
    _assert_no_canary(tmp_path, result)


def test_a_timed_out_command_whose_child_holds_its_output_returns_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on a terminal the command keeps the terminal's session, so only it is killed: its
    # child still held the pipe and communicate() waited for the child's end
    monkeypatch.setattr(config_module, "_on_terminal", lambda: True)
    monkeypatch.setattr(config_module, "PASSWORD_COMMAND_TIMEOUT", 0.5)
    script = tmp_path / "forks.py"
    pid_file = tmp_path / "child.pid"
    script.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(8)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    source = config_module.PasswordSource(
        kind="command", value=f"{sys.executable} {script}", key="stores.o.password_command"
    )
    started = time.monotonic()
    try:
        with pytest.raises(ConfigError, match=r"did not finish within 0\.5 s"):
            source.resolve()
        assert time.monotonic() - started < 5
    finally:
        if pid_file.exists():
            with contextlib.suppress(OSError):
                os.kill(int(pid_file.read_text()), 9)


def test_a_password_command_that_cannot_run_is_a_config_error(tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text(f"#!/bin/sh\necho {CANARY}\n")
    for line in (
        f"password_command = {json.dumps(str(script))}",
        'password_command = "/nonexistent/oxsync-pass"',
        'password_command = "unbalanced \'quote"',
    ):
        result = invoke(tmp_path, _ox_config(tmp_path, line), "sync")
        assert_usage_error(result, "stores.o.password_command")
        _assert_no_canary(tmp_path, result)


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_or_empty_password_env_is_a_config_error(
    tmp_path: Path, value: str | None
) -> None:
    env = {"OXSYNC_HOSTILE_PW": value}
    text = _ox_config(tmp_path, 'password_env = "OXSYNC_HOSTILE_PW"')
    result = CliRunner().invoke(
        cli,
        ["--config", str(_write(tmp_path, text)), "sync"],
        env=env,  # type: ignore[arg-type]
    )
    assert_usage_error(result, "stores.o.password_env")
    assert "OXSYNC_HOSTILE_PW" in result.output


def test_a_missing_keyring_package_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    result = invoke(tmp_path, _ox_config(tmp_path, "keyring = true"), "sync")
    assert_usage_error(result, "stores.o.keyring")
    assert "keyring package" in result.output


def _write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    return config


def test_a_state_kept_in_memory_writes_no_log_file_where_the_command_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Path(":memory:").parent is ".": the log file went to the current directory
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    text = base_config(tmp_path).replace(
        json.dumps(str(tmp_path / "state.sqlite")), json.dumps(":memory:")
    )
    result = invoke(tmp_path, text, "sync")
    assert result.exit_code == 0, result.output
    assert list(cwd.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_what_a_hanging_password_command_started_is_killed_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # subprocess.run's timeout killed the command only: a shell's child (a hung gpg, a
    # sleep) lived on after oxsync gave up, holding whatever it held
    monkeypatch.setattr(config_module, "PASSWORD_COMMAND_TIMEOUT", 0.5)
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    result = invoke(tmp_path, _ox_config(tmp_path, _command(tmp_path, code)), "sync")
    assert_usage_error(result, "stores.o.password_command")
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(child):
        if time.monotonic() > deadline:
            os.kill(child, 9)
            raise AssertionError("the command's child outlived the timeout")
        time.sleep(0.05)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs: a killed orphan may stay a zombie (state Z) until init reaps
    it, and a container's init may never do so."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rpartition(")")[2].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    return True


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="sessions are POSIX")
@pytest.mark.parametrize("terminal", [True, False])
def test_a_password_command_keeps_the_terminals_session_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    # a prompt reading /dev/tty needs the controlling terminal, which a new session loses
    monkeypatch.setattr(config_module, "_on_terminal", lambda: terminal)
    script = tmp_path / "which_session.py"
    script.write_text(f"import os; print('same' if os.getsid(0) == {os.getsid(0)} else 'own')")
    source = config_module.PasswordSource(
        kind="command", value=f"{sys.executable} {script}", key="stores.o.password_command"
    )
    assert source.resolve() == ("same" if terminal else "own")


def test_an_unexpected_error_prints_its_traceback_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a bug's traceback was printed by Python itself, past the redactor: an adapter's
    # message (or a URL in it) carried the password to the terminal and to bug reports
    from oxsync.adapters.ox import OXStore

    def broken(self: Any) -> Any:
        raise RuntimeError(f"adapter bug while logging in with {CANARY}")

    monkeypatch.setattr(OXStore, "folders", broken)
    text = _ox_config(tmp_path, 'password_env = "OXSYNC_HOSTILE_PW"')
    result = CliRunner().invoke(
        cli,
        ["--config", str(_write(tmp_path, text)), "sync"],
        env={"OXSYNC_HOSTILE_PW": CANARY},
    )
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == EXIT["incomplete"]
    assert "internal error" in result.output and "RuntimeError" in result.output
    assert "Traceback" in result.output and "adapter bug" in result.output
    _assert_no_canary(tmp_path, result)


def test_watch_reports_a_pair_that_breaks_unexpectedly_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pair's thread re-raised, so Python's thread hook printed the traceback unredacted
    from oxsync.adapters.ox import OXStore

    def broken(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"adapter bug with {kwargs.get('password')}")

    monkeypatch.setattr(OXStore, "__init__", broken)
    text = _ox_config(tmp_path, 'password_env = "OXSYNC_HOSTILE_PW"')
    result = CliRunner().invoke(
        cli,
        ["--config", str(_write(tmp_path, text)), "watch", "--poll", "60"],
        env={"OXSYNC_HOSTILE_PW": CANARY},
    )
    assert result.exit_code == EXIT["incomplete"], result.output
    assert "internal error" in result.output and "adapter bug" in result.output
    _assert_no_canary(tmp_path, result)


def test_slowsync_of_an_unknown_folder_is_a_usage_error(tmp_path: Path) -> None:
    # it re-compared nothing and exited 0, hiding a mistyped folder id
    text = base_config(tmp_path)
    assert invoke(tmp_path, text, "sync").exit_code == 0
    result = invoke(tmp_path, text, "slowsync", "p", "no-such-folder")
    assert result.exit_code == EXIT["usage"], result.output
    assert "no folder with the id 'no-such-folder'" in result.output
    assert invoke(tmp_path, text, "slowsync", "p", "contacts").exit_code == 0


@pytest.mark.parametrize("items", ["0", "-3", "abc"])
def test_demo_refuses_an_item_count_it_cannot_seed(tmp_path: Path, items: str) -> None:
    # --items 0 crashed with an IndexError (an 'internal error' since they are reported)
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "d"), "--items", items])
    assert result.exit_code == EXIT["usage"], result.output
    assert "--items" in result.output
