"""The user documentation's examples run, and what it names exists (README.md, docs/).

Python blocks are taken from the Markdown as written and executed; the few names a
snippet takes from its surroundings (``a``, ``b``, ``record``…) are given to it. The
adapter of docs/adapters/writing.md is run through the conformance suite here.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from oxsync.testing.conformance import StoreContract

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(doc: str, lang: str = "python") -> list[str]:
    """The fenced code blocks of ``lang`` in ``doc`` (a path relative to the root)."""
    text = (ROOT / doc).read_text("utf-8")
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def block(doc: str, first_line: str, lang: str = "python") -> str:
    """The one block of ``doc`` whose first line starts with ``first_line``."""
    found = [b for b in blocks(doc, lang) if b.startswith(first_line)]
    assert len(found) == 1, f"{doc}: {len(found)} {lang} blocks start with {first_line!r}"
    return found[0]


def run(code: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_example", **names}
    exec(compile(code, "<docs>", "exec"), namespace)
    return namespace


# --------------------------------------------------------------------------- README


def test_readme_python_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (code,) = blocks("README.md")
    ns = run(code)
    assert ns["report"].conflicts == 0
    assert (tmp_path / "state.sqlite").exists()


def test_readme_configuration_parses() -> None:
    from oxsync.config import parse_config

    (toml,) = blocks("README.md", "toml")
    config = parse_config(toml, base_dir=ROOT)
    assert set(config.pairs) == {"desktop", "laptop"}
    assert config.pair("desktop").policy.merge


def test_readme_quick_start_commands_match_ci() -> None:
    """The README's test command is the one .ci/run runs."""
    (quick, *_) = blocks("README.md", "sh")
    install, test = quick.strip().splitlines()
    assert install.endswith("oxsync demo") and "pip install -e '.[test]'" in install
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "pip install --quiet -e '.[test]'" in ci
    assert ci.rstrip().splitlines()[-1] == test


# --------------------------------------------------------------------------- docs pages


def test_engine_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oxsync.adapters.memory import MemoryStore

    monkeypatch.chdir(tmp_path)
    (code,) = blocks("docs/engine.md")
    events: list[Any] = []
    ns = run(
        code.replace("observers=[print]", "observers=[events.append]"),
        a=MemoryStore(name="a"),
        b=MemoryStore(name="b"),
        events=events,
    )
    assert ns["report"].folders == 3
    assert events[0].kind == "started"
    assert {e.kind for e in events} <= {
        "started",
        "folder",
        "applied",
        "ignored",
        "error",
        "finished",
    }


def test_memory_store_example() -> None:
    from oxsync.core.records import ItemKind
    from oxsync.testing.samples import sample

    code = blocks("docs/adapters/memory.md")[0]
    ns = run(code, record=sample(ItemKind.CONTACT, 1))
    store = ns["store"]
    assert store.changes(ns["other_folder"], None).changed == []
    store.faults = ns["Faults"](fail_calls={store.calls + 1: TimeoutError("x")})
    with pytest.raises(TimeoutError):
        store.folders()


def test_outlook_example() -> None:
    from oxsync.core.triggers import TriggerQueue

    code = blocks("docs/adapters/outlook.md")[0]
    queue = TriggerQueue()
    ns = run(code, trigger_queue=queue)
    assert {f.name for f in ns["store"].folders()} >= {"Calendar", "Contacts", "Tasks"}


def test_config_example_and_python_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oxsync.config import parse_config

    (toml,) = blocks("docs/config.md", "toml")
    config = parse_config(toml, base_dir=tmp_path)
    assert set(config.pairs) == {"office", "files"}
    assert config.pair("files").max_delete_ratio == 0.2
    # the Python API block, on the same pair names with stores any machine can open
    path = tmp_path / "config.toml"
    path.write_text(
        '[stores.ox]\ntype = "memory"\n[stores.outlook]\ntype = "memory"\n'
        '[pairs.office]\na = "ox"\nb = "outlook"\nstate_path = "state.sqlite"\n'
    )
    monkeypatch.setenv("OXSYNC_CONFIG", str(path))
    ns = run(blocks("docs/config.md")[0])
    assert ns["pair"].state_path == tmp_path / "state.sqlite"
    assert "stores" in ns["config"].redacted()


CONFIG_MISTAKES = {
    "unknown conflict policy": ('conflict = "merge"', 'conflict = "coin-toss"'),
    "pair 'files' names store": ('b = "laptop"', 'b = "lapto"'),
    "vdir stores have no option": ('vcard_version = "4.0"', 'vcard_version = "4.0"\ncolour = 1'),
    "ox stores need 'base_url'": ('base_url = "https://ox.example.com"\n', ""),
    "store 'ox' needs a password": ('password_command = "pass show ox/alice"', ""),
    "/home/alice/.config/oxsync/config.toml: not valid TOML": ("push = true", "pushed true"),
}


def test_config_error_messages_are_the_ones_documented() -> None:
    from oxsync.config import parse_config
    from oxsync.errors import ConfigError

    (toml,) = blocks("docs/config.md", "toml")
    (shown,) = [b for b in blocks("docs/config.md", "") if "unknown conflict policy" in b]
    lines = shown.strip().splitlines()
    assert len(lines) == len(CONFIG_MISTAKES)
    for line in lines:
        (start,) = [s for s in CONFIG_MISTAKES if line.startswith(s)]
        old, new = CONFIG_MISTAKES[start]
        assert old in toml
        source = "/home/alice/.config/oxsync/config.toml"
        with pytest.raises(ConfigError) as caught:
            parse_config(toml.replace(old, new, 1), source=source)
        assert str(caught.value) == line


def test_cli_page_names_every_command_option_and_exit_code() -> None:
    import click

    from oxsync.cli._main import EXIT, cli

    text = (DOCS / "cli.md").read_text("utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `oxsync (\w+)[^|]*\|.*$", text, re.M)}
    assert set(rows) == set(cli.commands)
    for name, command in cli.commands.items():
        subcommands = getattr(command, "commands", {"": command})
        for sub in subcommands.values():
            for param in sub.params:
                if isinstance(param, click.Option):
                    long = max(param.opts, key=len)
                    assert long in rows[name], f"oxsync {name}: {long} not in docs/cli.md"
    for option in ("--config", "-v", "-q", "--json"):
        assert f"`{option}" in text
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert documented == set(EXIT.values())


# --------------------------------------------------------------------------- adapters


def _writing_module() -> types.ModuleType:
    module = types.ModuleType("docs_json_store")
    module.__file__ = str(DOCS / "adapters" / "writing.md")
    code = block("docs/adapters/writing.md", "# my_package/store.py")
    sys.modules[module.__name__] = module  # attrs and dataclass machinery look it up
    exec(compile(code, module.__file__, "exec"), module.__dict__)
    return module


JSON_STORE = _writing_module()


class TestWritingAnAdapterStorePassesTheContract(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        return JSON_STORE.JsonStore(tmp_path)


def test_writing_an_adapter_test_and_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = types.ModuleType("my_package")
    package.store = JSON_STORE  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "my_package", package)
    monkeypatch.setitem(sys.modules, "my_package.store", JSON_STORE)
    ns = run(block("docs/adapters/writing.md", "# tests/test_json_store.py"))
    assert issubclass(ns["TestJsonStore"], StoreContract)
    monkeypatch.chdir(tmp_path)
    (sync,) = [b for b in blocks("docs/adapters/writing.md") if "SyncEngine(" in b]
    run(sync, JsonStore=JSON_STORE.JsonStore)
    assert len(list((tmp_path / "json-items" / "contacts").glob("*.json"))) == 5
    # the options a configuration gives it are checked against its signature
    from oxsync import adapters
    from oxsync.config import parse_config
    from oxsync.errors import ConfigError

    monkeypatch.setitem(adapters.BUILT_IN, "json", "docs_json_store:JsonStore")
    (toml,) = [b for b in blocks("docs/adapters/writing.md", "toml") if "[stores." in b]
    monkeypatch.setenv("HOME", str(tmp_path))
    store = parse_config(toml).store("files").open()
    assert store.root == tmp_path / ".local" / "share" / "json-items"
    with pytest.raises(ConfigError, match="no option 'colour'"):
        parse_config(toml + 'colour = "red"\n')


# --------------------------------------------------------------------------- testing.md


def test_testing_page_examples() -> None:
    harness, loopback, fixture = blocks("docs/testing.md")
    ns = run(harness)
    assert ns["report"].incomplete == 0
    run(loopback)
    ns = run(fixture.replace("@pytest.fixture\n", ""))
    made = ns["ox"]()
    store = next(made)
    assert (
        store.folders()
        and store.backend.objects_in(store.backend.default_folder("alice", "contact")) == []
    )
    made.close()


# --------------------------------------------------------------------------- names and paths


def test_public_names_exist() -> None:
    import oxsync

    for name in oxsync.__all__:
        assert getattr(oxsync, name) is not None
    from oxsync.adapters import adapter_names, load_adapter

    assert {"memory", "ox", "outlook", "vdir"} <= set(adapter_names())
    assert load_adapter("vdir").__name__ == "VdirStore"


LINK = re.compile(r"\]\(([^)#:]+)(?:#([^)]*))?\)")
PATH = re.compile(r"`((?:docs|tests|src|benchmarks|\.ci)/[\w./-]+)`")


@pytest.mark.parametrize(
    "doc", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))]
)
def test_links_and_paths_exist(doc: str) -> None:
    path = ROOT / doc
    text = path.read_text("utf-8")
    for target, anchor in LINK.findall(text):
        linked = path.parent / target
        assert linked.exists(), f"{doc}: broken link {target}"
        if anchor:
            headings = re.findall(r"^#+ (.*)$", linked.read_text("utf-8"), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{doc}: no heading #{anchor} in {target}"
    for named in PATH.findall(text):
        assert (ROOT / named.rstrip(".")).exists(), f"{doc}: no such path {named}"
