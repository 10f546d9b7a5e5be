"""The TOML configuration: a good file parses to the right objects; each mistake names
its key and line; passwords come from env, a command or the keyring, never the file."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from oxsync.adapters.vdir import VdirStore
from oxsync.config import (
    PasswordSource,
    default_config_path,
    load_config,
    parse_config,
)
from oxsync.core.records import FolderKind
from oxsync.errors import ConfigError

GOOD = """\
# oxsync configuration
state_path = "state/oxsync.sqlite"
poll_interval = 600

[stores.work]
type = "ox"
base_url = "https://ox.example.com"
username = "alice"
password_env = "OXSYNC_TEST_PASSWORD"
timeout = 10.5

[stores.laptop]
type = "vdir"
path = "{vdir}"
vcard_version = "4.0"

[stores.archive]
type = "memory"
read_only = true

[pairs.work]
a = "work"
b = "laptop"
modules = ["contacts", "appointments"]
conflict = "merge"
push = false
max_delete_ratio = 0.25

[pairs.backup]
a = "laptop"
b = "archive"
"""

CANARY = "canary-p4ssw0rd-do-not-leak"


def _good(tmp_path: Path) -> str:
    return GOOD.format(vdir=tmp_path / "vdir")


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    return caught.value


def test_a_good_file_parses_into_stores_and_pairs(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text(_good(tmp_path))
    config = load_config(file)
    assert set(config.stores) == {"work", "laptop", "archive"}
    work = config.store("work")
    assert work.type == "ox"
    assert work.options == {
        "base_url": "https://ox.example.com",
        "username": "alice",
        "timeout": 10.5,
    }
    assert work.password == PasswordSource(
        "env", "OXSYNC_TEST_PASSWORD", "stores.work.password_env", 9
    )
    assert config.store("archive").read_only
    pair = config.pair("work")
    assert pair.modules == {FolderKind.CONTACTS, FolderKind.CALENDAR}
    assert (pair.conflict, pair.push, pair.max_delete_ratio) == ("merge", False, 0.25)
    assert pair.poll_interval == 600.0  # the file's default
    assert pair.state_path == tmp_path / "state" / "oxsync.sqlite"  # relative to the file
    assert pair.policy.name == "merge"
    backup = config.pair("backup")
    assert backup.modules == frozenset(FolderKind) and backup.conflict == "newest-wins"


def test_opening_a_store_builds_the_adapter(tmp_path: Path) -> None:
    config = parse_config(_good(tmp_path))
    store = config.store("laptop").open()
    assert isinstance(store, VdirStore) and store.name == "laptop"
    archive = config.store("archive").open()
    assert archive.capabilities.read_only


def test_default_path_follows_xdg_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OXSYNC_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_config_path() == tmp_path / "oxsync" / "config.toml"
    monkeypatch.setenv("OXSYNC_CONFIG", str(tmp_path / "other.toml"))
    assert default_config_path() == tmp_path / "other.toml"
    with pytest.raises(ConfigError, match="no configuration file"):
        load_config()


@pytest.mark.parametrize(
    ("text", "key", "line", "words"),
    [
        (
            '[stores.a]\ntype = "vdir"\npath = "x"\n[pairs.p]\na = "a"\nb = "zz"\n',
            "pairs.p.b",
            6,
            "not defined",
        ),
        ('[stores.a]\ntype = "nosuch"\n', "stores.a.type", 2, "unknown store type"),
        ('[stores.a]\npath = "x"\n', "stores.a", 1, "has no type"),
        (
            '[stores.a]\ntype = "vdir"\npath = "x"\ncolour = "red"\n',
            "stores.a.colour",
            4,
            "no option 'colour'",
        ),
        ('[stores.a]\ntype = "vdir"\n', "stores.a", 1, "need 'path'"),
        (
            '[stores.a]\ntype = "ox"\nbase_url = "u"\nusername = "x"\n',
            "stores.a",
            1,
            "needs a password",
        ),
        (
            f'[stores.a]\ntype = "ox"\nbase_url = "u"\nusername = "x"\npassword = "{CANARY}"\n',
            "stores.a.password",
            5,
            "do not go in the file",
        ),
        (
            '[stores.a]\ntype = "memory"\npassword_env = "X"\npassword_command = "y"\n',
            "stores.a.password_command",
            4,
            "choose one",
        ),
        ('[stores.a]\ntype = "memory"\nkeyring = 3\n', "stores.a.keyring", 3, "keyring must"),
        (
            '[stores.a]\ntype = "memory"\nread_only = "yes"\n',
            "stores.a.read_only",
            3,
            "true or false",
        ),
        (
            '[stores.a]\ntype = "memory"\n[stores.b]\ntype = "memory"\n[pairs.p]\na = "a"\n'
            'b = "b"\nconflict = "coin-toss"\n',
            "pairs.p.conflict",
            8,
            "unknown conflict",
        ),
        (
            '[stores.a]\ntype = "memory"\n[stores.b]\ntype = "memory"\n[pairs.p]\na = "a"\n'
            'b = "b"\nmodules = ["contacts", "notes"]\n',
            "pairs.p.modules",
            8,
            "unknown module",
        ),
        (
            '[stores.a]\ntype = "memory"\n[stores.b]\ntype = "memory"\n[pairs.p]\na = "a"\n'
            'b = "b"\npoll_interval = -5\n',
            "pairs.p.poll_interval",
            8,
            "positive",
        ),
        (
            '[stores.a]\ntype = "memory"\n[stores.b]\ntype = "memory"\n[pairs.p]\na = "a"\n'
            'b = "b"\nmax_delete_ratio = 1.5\n',
            "pairs.p.max_delete_ratio",
            8,
            "(0, 1]",
        ),
        (
            '[stores.a]\ntype = "memory"\n[pairs.p]\na = "a"\nb = "a"\n',
            "pairs.p.b",
            5,
            "two different",
        ),
        ('[stores.a]\ntype = "memory"\n[pairs.p]\na = "a"\n', "pairs.p", 3, "needs b"),
        (
            '[stores.a]\ntype = "memory"\n[pairs.p]\na = "a"\nb = "a"\nfrequency = 3\n',
            "pairs.p.frequency",
            6,
            "unknown pair setting",
        ),
        ("poll_interval = 5\nverbose = true\n", "verbose", 2, "unknown setting"),
        ("stores = 3\n", "stores", 1, "must be a table"),
        (
            '[stores]\nlaptop = { type = "vdir", path = "x", speed = 9 }\n',
            "stores.laptop.speed",
            2,
            "no option 'speed'",
        ),
        (
            '[stores.a]\ntype = "memory"\n[pairs]\np.a = "a"\np.b = "zz"\n',
            "pairs.p.b",
            5,
            "not defined",
        ),
    ],
)
def test_each_mistake_names_its_key_and_line(text: str, key: str, line: int, words: str) -> None:
    error = _error(text)
    assert (error.key, error.line) == (key, line), str(error)
    assert words in str(error)
    assert CANARY not in str(error)


def test_invalid_toml_reports_the_line() -> None:
    error = _error('[stores.a]\ntype = "memory"\nbroken = \n')
    assert error.line == 3 and "not valid TOML" in str(error)


def test_invalid_utf8_file_reports_the_line(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_bytes(b'[stores.a]\ntype = "memory"\n# caf\xe9\n')
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.line == 3


def test_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    source = PasswordSource("env", "OXSYNC_TEST_PASSWORD", "stores.a.password_env", 3)
    monkeypatch.setenv("OXSYNC_TEST_PASSWORD", CANARY)
    assert source.resolve() == CANARY
    monkeypatch.delenv("OXSYNC_TEST_PASSWORD")
    with pytest.raises(ConfigError) as caught:
        source.resolve()
    assert caught.value.key == "stores.a.password_env" and caught.value.line == 3


def test_password_from_command_takes_the_first_line() -> None:
    command = f"{sys.executable} -c \"print('{CANARY}'); print('second line')\""
    assert PasswordSource("command", command, "k").resolve() == CANARY


def test_failing_password_command_never_shows_its_output() -> None:
    command = f"{sys.executable} -c \"import sys; print('{CANARY}'); sys.exit(3)\""
    with pytest.raises(ConfigError) as caught:
        PasswordSource("command", command, "stores.a.password_command").resolve()
    assert "exit status 3" in str(caught.value) and CANARY not in str(caught.value)
    with pytest.raises(ConfigError, match="could not run"):
        PasswordSource("command", "/nonexistent/oxsync-pass", "k").resolve()


def test_password_from_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: (
        CANARY
        if (service, user)
        == (  # type: ignore[attr-defined]
            "oxsync",
            "alice",
        )
        else None
    )
    monkeypatch.setitem(sys.modules, "keyring", fake)
    config = parse_config(
        '[stores.a]\ntype = "memory"\nusername = "alice"\nkeyring = true\n'.replace(
            'username = "alice"\n', ""
        )
    )
    assert config.store("a").password is not None
    assert PasswordSource("keyring", "oxsync", "k", None, "alice").resolve() == CANARY
    with pytest.raises(ConfigError, match="no password in the keyring"):
        PasswordSource("keyring", "oxsync", "k", None, "bob").resolve()


def test_missing_keyring_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    with pytest.raises(ConfigError, match="keyring package"):
        PasswordSource("keyring", "oxsync", "stores.a.keyring", 4, "alice").resolve()


def test_password_is_fetched_only_when_the_store_is_opened(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OXSYNC_TEST_PASSWORD", raising=False)
    config = parse_config(_good(tmp_path))  # parses although the variable is unset
    with pytest.raises(ConfigError, match="OXSYNC_TEST_PASSWORD"):
        config.store("work").open()


def test_redacted_config_holds_no_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OXSYNC_TEST_PASSWORD", CANARY)
    text = _good(tmp_path) + '\n[stores.extra]\ntype = "memory"\n'
    config = parse_config(text)
    dump = repr(config.redacted())
    assert CANARY not in dump
    assert "environment variable OXSYNC_TEST_PASSWORD" in dump


def test_unknown_pair_or_store_lookup_is_a_config_error(tmp_path: Path) -> None:
    config = parse_config(_good(tmp_path))
    with pytest.raises(ConfigError, match="no pair 'nope'"):
        config.pair("nope")
    with pytest.raises(ConfigError, match="no store 'nope'"):
        config.store("nope")


def test_docstring_example_runs() -> None:
    import doctest

    from oxsync import config

    result = doctest.testmod(config)
    assert result.attempted > 0 and result.failed == 0


def test_a_bad_option_value_found_by_the_adapter_names_the_store_and_line(
    tmp_path: Path,
) -> None:
    text = f'\n\n[stores.laptop]\ntype = "vdir"\npath = "{tmp_path}"\nfsync = "never"\n'
    config = parse_config(text)
    with pytest.raises(ConfigError) as caught:
        config.store("laptop").open()
    assert caught.value.key == "stores.laptop" and caught.value.line == 3
    assert "fsync must be one of batch, file, off" in str(caught.value)


def test_an_adapter_error_naming_the_password_is_redacted(tmp_path: Path) -> None:
    from oxsync.config import StoreConfig

    class Picky:
        def __init__(self, password: str, name: str = "x") -> None:
            raise ValueError(f"cannot use {password}")

    store = StoreConfig(
        name="work",
        type="ox",
        password=PasswordSource("env", "OXSYNC_T", "stores.work.password_env"),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OXSYNC_T", "canary-s3cret")
        mp.setattr(StoreConfig, "adapter_class", lambda self: Picky)
        with pytest.raises(ConfigError) as caught:
            store.open()
    assert "canary-s3cret" not in str(caught.value) and "***" in str(caught.value)


def test_a_relative_vdir_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As state_path: a config file read from elsewhere (cron, systemd, another shell)
    names the same directory whatever the directory oxsync runs in."""
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    file = conf_dir / "config.toml"
    file.write_text(
        '[stores.files]\ntype = "vdir"\npath = "data/cards"\n'
        '[stores.home]\ntype = "vdir"\npath = "~/cards"\n'
        '[stores.abs]\ntype = "vdir"\npath = "/srv/cards"\n'
        '[pairs.p]\na = "files"\nb = "abs"\n'
    )
    monkeypatch.chdir(tmp_path)  # not the config file's directory
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(file)
    assert config.store("files").options["path"] == str(conf_dir / "data" / "cards")
    assert config.store("home").options["path"] == str(tmp_path / "home" / "cards")
    assert config.store("abs").options["path"] == "/srv/cards"
