"""SQLite state: schema versions, migrations, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oxsync.core.state import SCHEMA_VERSION, ItemPairRow, State
from oxsync.errors import SchemaVersionError, StateError

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE folder_pairs (id INTEGER PRIMARY KEY, pair TEXT NOT NULL, a_folder TEXT NOT NULL,
    b_folder TEXT NOT NULL, kind TEXT NOT NULL, a_cursor TEXT, b_cursor TEXT,
    UNIQUE (pair, a_folder), UNIQUE (pair, b_folder));
CREATE TABLE item_pairs (folder_pair INTEGER NOT NULL, a_id TEXT NOT NULL, b_id TEXT NOT NULL,
    a_version TEXT NOT NULL, b_version TEXT NOT NULL, a_fp TEXT NOT NULL, b_fp TEXT NOT NULL,
    kind TEXT NOT NULL, base BLOB NOT NULL, PRIMARY KEY (folder_pair, a_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX item_pairs_b ON item_pairs (folder_pair, b_id);
CREATE TABLE ignored (folder_pair INTEGER NOT NULL, side TEXT NOT NULL, item_id TEXT NOT NULL,
    failure TEXT NOT NULL, reason TEXT NOT NULL, fingerprint TEXT NOT NULL, since REAL NOT NULL,
    retry INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (folder_pair, side, item_id));
CREATE TABLE journal (id INTEGER PRIMARY KEY, folder_pair INTEGER NOT NULL, target TEXT NOT NULL,
    op TEXT NOT NULL, source_id TEXT, target_id TEXT, uid TEXT, created REAL NOT NULL);
INSERT INTO folder_pairs VALUES (1, 'default', 'ca', 'cb', 'contacts', '5', '7');
INSERT INTO item_pairs VALUES (1, 'a1', 'b1', 'v1', 'w1', 'f', 'f', 'contact', '{}');
"""


def test_version_1_database_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.close()
    state = State(path)
    assert state.schema_version == SCHEMA_VERSION == 4
    (row,) = state.folder_pairs("default")
    assert (row.a_cursor, row.b_cursor, row.last_sync) == ("5", "7", None)
    (pair,) = state.all_pairs(1)
    assert pair.a_id == "a1" and pair.uid is None


def test_version_2_clustered_pairs_are_moved_to_an_insertion_ordered_table(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA.replace("'schema_version', '1'", "'schema_version', '2'"))
    db.executescript(
        "ALTER TABLE folder_pairs ADD COLUMN last_sync REAL;"
        "ALTER TABLE item_pairs ADD COLUMN uid TEXT;"
        "INSERT INTO item_pairs (folder_pair, a_id, b_id, a_version, b_version, a_fp, b_fp,"
        " kind, uid, base) VALUES (1, 'a2', 'b2', 'v2', 'w2', 'f2', 'g2', 'event', 'x', 'b');"
    )
    db.close()
    state = State(path)
    assert state.schema_version == SCHEMA_VERSION
    pairs = {p.a_id: p for p in state.all_pairs(1)}
    assert set(pairs) == {"a1", "a2"} and pairs["a2"].uid == "x" and pairs["a2"].b_fp == "g2"
    assert state.versions(1, "b") == {"b1": "w1", "b2": "w2"}
    # A v1 file got `uid` appended after `base`; v3 puts the columns back in the order the
    # positional INSERT of put_pairs writes.
    kept = ItemPairRow(1, "a3", "b2", "v3", "w3", "f", "f", "contact", "u3", b"{}")
    state.put_pairs([kept])  # b2 is unique: the pair holding it is replaced
    assert set(state.versions(1, "a")) == {"a1", "a3"}
    (new,) = state.pairs_by_id(1, "a", ["a3"]).values()
    assert (new.uid, new.base) == ("u3", b"{}")
    with pytest.raises(StateError) as refused:
        state._db.execute(
            "INSERT INTO item_pairs VALUES (1, 'a1', 'b9', 'v', 'w', 'f', 'f', 'contact', NULL, '')"
        )
    assert isinstance(refused.value.__cause__, sqlite3.IntegrityError)
    db = sqlite3.connect(path)
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name='item_pairs'").fetchone()
    assert "WITHOUT ROWID" not in sql


def test_full_listing_versions_are_read_from_an_index_not_the_rows(tmp_path: Path) -> None:
    """A no-op sync compares 10,000 listed versions with the state's: that query reads
    one small index per side, not the rows and their base records (schema 4)."""
    path = tmp_path / "v3.sqlite"
    State(path).close()
    db = sqlite3.connect(path)  # back to a version 3 file: no version indexes
    db.executescript(
        "DROP INDEX item_pairs_a_versions; DROP INDEX item_pairs_b_versions;"
        "UPDATE meta SET value='3' WHERE key='schema_version';"
    )
    db.close()
    state = State(path)  # migrated
    assert state.schema_version == 4
    fp = state.add_folder_pair("p", "a", "b", "contacts")
    rows = [
        ItemPairRow(
            fp.id, f"a{i}", f"b{i}", f"v{i}", f"w{i}", "f", "f", "contact", None, b"x" * 2000
        )
        for i in range(50)
    ]
    state.put_pairs(rows)
    for side, prefix in (("a", "v"), ("b", "w")):
        statements: list[str] = []
        state._db.set_trace_callback(statements.append)
        assert state.versions(fp.id, side) == {f"{side}{i}": f"{prefix}{i}" for i in range(50)}
        state._db.set_trace_callback(None)
        (sql,) = statements
        plan = state._db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        assert any("COVERING INDEX" in str(step) for step in plan), plan


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    State(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaVersionError, match="upgrade oxsync"):
        State(path)


def test_garbage_file_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError):
        State(path)


def test_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite")
    fp = state.add_folder_pair("p", "a", "b", "contacts")
    row = ItemPairRow(fp.id, "a1", "b1", "1", "1", "f", "f", "contact", "u", b"{}")
    with pytest.raises(RuntimeError), state.transaction():
        state.put_pairs([row])
        raise RuntimeError("crash between two writes")
    assert state.count_pairs(fp.id) == 0
    state.close()
    reopened = State(tmp_path / "s.sqlite")
    assert reopened.count_pairs(fp.id) == 0
    assert reopened.journal() == []


def test_wal_mode_on_files(tmp_path: Path) -> None:
    state = State(tmp_path / "s.sqlite")
    assert state._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_database_failures_during_use_are_state_errors(tmp_path: Path) -> None:
    """A full disk or a file that became read-only surfaces as StateError (typed, with
    the file named), and a failed transaction leaves nothing half-written."""
    path = tmp_path / "s.sqlite"
    state = State(path)
    fp = state.add_folder_pair("p", "a", "b", "contacts")
    row = ItemPairRow(fp.id, "a1", "b1", "v", "w", "f", "f", "contact", None, b"{}")
    state._db.execute("PRAGMA query_only = ON")  # every write now fails as on a full disk
    with pytest.raises(StateError, match=r"s\.sqlite.*readonly"):
        state.put_pairs([row])
    with pytest.raises(StateError), state.transaction():
        state.put_pairs([row])
    state._db.execute("PRAGMA query_only = OFF")
    assert state.count_pairs(fp.id) == 0
    with state.transaction():  # usable again
        state.put_pairs([row])
    assert state.count_pairs(fp.id) == 1


def test_journal_ids_name_their_entries_in_order(tmp_path: Path) -> None:
    state = State(tmp_path / "s.db")
    pair = state.add_folder_pair("p", "a", "b", "contacts").id
    first = state.journal_add(
        pair, [("b", "create", "1", None, "u1"), ("b", "create", "2", None, "u2")]
    )
    assert state.journal_add(pair, []) == []
    state.journal_done(first[:1])
    second = state.journal_add(pair, [("a", "update", "3", "x", None)])
    assert len(set(first + second)) == 3 and second[0] > first[1]
    entries = {e.id: (e.target, e.op, e.source_id, e.target_id, e.uid) for e in state.journal(pair)}
    assert entries == {
        first[1]: ("b", "create", "2", None, "u2"),
        second[0]: ("a", "update", "3", "x", None),
    }
    state.journal_done([first[1], second[0]])
    assert state.journal(pair) == []
    again = state.journal_add(pair, [("b", "delete", "4", "y", None)])  # after an emptied journal
    assert [e.id for e in state.journal(pair)] == again


def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO notes (text) VALUES ('keep me')")
    before = path.read_bytes()
    with pytest.raises(StateError, match=r"another program.*'notes'"):
        State(path)
    assert path.read_bytes() == before  # no oxsync table was added to it


@pytest.mark.parametrize("meta", ["INSERT INTO meta VALUES ('schema_version', 'abc')", ""])
def test_a_meta_table_without_a_readable_version_is_a_state_error(
    tmp_path: Path, meta: str
) -> None:
    path = tmp_path / "s.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if meta:
            db.execute(meta)
    with pytest.raises(StateError, match="no readable schema version"):
        State(path)


def test_a_state_path_below_a_file_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StateError, match="cannot open state database"):
        State(tmp_path / "file" / "state.sqlite")
