"""Sync state in one SQLite file: what the engine knows about both stores between runs.

Tables (schema version :data:`SCHEMA_VERSION`):

- ``folder_pairs``: a folder of store A paired with a folder of store B, with both cursors;
- ``item_pairs``: an item of A paired with an item of B: both ids, both versions, the
  fingerprint each side held when last synced, and the **base** record (the last synced
  content, for three-way merges and to keep what one side cannot hold);
- ``ignored``: items a store refused for a lasting reason, with the reason;
- ``journal``: writes the engine has started but not yet recorded (crash recovery).

The file uses WAL with ``synchronous=NORMAL``: a crash of the process never loses a
committed transaction or leaves a half-written one; a power cut may drop the last
transactions, which the next run re-detects from the stores (cursors only advance in the
same transaction as the item rows they cover). The engine writes one transaction per
applied batch (:meth:`State.transaction`).

    >>> state = State(":memory:")
    >>> fp = state.add_folder_pair("default", "contacts", "contacts", "contacts")
    >>> state.count_pairs(fp.id)
    0
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from attrs import frozen

from oxsync.errors import SchemaVersionError, StateError

__all__ = [
    "SCHEMA_VERSION",
    "FolderPairRow",
    "IgnoredItem",
    "ItemPairRow",
    "JournalEntry",
    "State",
]

SCHEMA_VERSION = 4
"""Current schema version.

Version 1 lacked ``folder_pairs.last_sync`` and the ``uid`` column. Version 2 clustered
``item_pairs`` on ``(folder_pair, a_id)`` (``WITHOUT ROWID``): with the base record stored
in the row, every batch of inserts in random id order rewrote most of the table's pages
(55,000 page writes for a 10,000-item initial sync). Version 3 keeps the rows in insertion
order and the ids in two small indexes: the same inserts cost a quarter of the time.
Version 4 adds an index per side on ``(folder_pair, id, version)``: a full-listing
comparison (:meth:`State.versions`) reads it alone instead of visiting every row, whose
base record spreads 10,000 rows over ~2,000 pages (35 ms against 10 ms per side).
"""

_VERSION_INDEXES = """
CREATE INDEX item_pairs_a_versions ON item_pairs (folder_pair, a_id, a_version);
CREATE INDEX item_pairs_b_versions ON item_pairs (folder_pair, b_id, b_version);
"""

_PAIR_COLUMNS = """\
    folder_pair INTEGER NOT NULL REFERENCES folder_pairs(id) ON DELETE CASCADE,
    a_id TEXT NOT NULL,
    b_id TEXT NOT NULL,
    a_version TEXT NOT NULL,
    b_version TEXT NOT NULL,
    a_fp TEXT NOT NULL,
    b_fp TEXT NOT NULL,
    kind TEXT NOT NULL,
    uid TEXT,
    base BLOB NOT NULL"""
"""The ``item_pairs`` columns, in the order :meth:`State.put_pairs` inserts them."""

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE folder_pairs (
    id INTEGER PRIMARY KEY,
    pair TEXT NOT NULL,
    a_folder TEXT NOT NULL,
    b_folder TEXT NOT NULL,
    kind TEXT NOT NULL,
    a_cursor TEXT,
    b_cursor TEXT,
    last_sync REAL,
    UNIQUE (pair, a_folder),
    UNIQUE (pair, b_folder)
);
CREATE TABLE item_pairs (
{_PAIR_COLUMNS}
);
CREATE UNIQUE INDEX item_pairs_a ON item_pairs (folder_pair, a_id);
CREATE UNIQUE INDEX item_pairs_b ON item_pairs (folder_pair, b_id);
{_VERSION_INDEXES}
CREATE TABLE ignored (
    folder_pair INTEGER NOT NULL REFERENCES folder_pairs(id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    item_id TEXT NOT NULL,
    failure TEXT NOT NULL,
    reason TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    since REAL NOT NULL,
    retry INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (folder_pair, side, item_id)
);
CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    folder_pair INTEGER NOT NULL,
    target TEXT NOT NULL,
    op TEXT NOT NULL,
    source_id TEXT,
    target_id TEXT,
    uid TEXT,
    created REAL NOT NULL
);
"""

# Each migration takes the database from version N to N+1, inside one transaction.
_MIGRATIONS: dict[int, str] = {
    1: """
    ALTER TABLE folder_pairs ADD COLUMN last_sync REAL;
    ALTER TABLE item_pairs ADD COLUMN uid TEXT;
    """,
    2: f"""
    CREATE TABLE item_pairs_v3 (
{_PAIR_COLUMNS}
    );
    INSERT INTO item_pairs_v3
        SELECT folder_pair, a_id, b_id, a_version, b_version, a_fp, b_fp, kind, uid, base
        FROM item_pairs;
    DROP TABLE item_pairs;
    ALTER TABLE item_pairs_v3 RENAME TO item_pairs;
    CREATE UNIQUE INDEX item_pairs_a ON item_pairs (folder_pair, a_id);
    CREATE UNIQUE INDEX item_pairs_b ON item_pairs (folder_pair, b_id);
    """,
    3: _VERSION_INDEXES,
}

_CHUNK = 500

_BUSY_TIMEOUT = 5.0
"""Seconds a connection waits for another one's lock before giving up (SQLite's default)."""
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")


@frozen
class FolderPairRow:
    """A paired folder with the cursors of both sides."""

    id: int
    pair: str
    a_folder: str
    b_folder: str
    kind: str
    a_cursor: str | None
    b_cursor: str | None
    last_sync: float | None


@frozen
class ItemPairRow:
    """An item of A paired with an item of B, as last synced."""

    folder_pair: int
    a_id: str
    b_id: str
    a_version: str
    b_version: str
    a_fp: str
    b_fp: str
    kind: str
    uid: str | None
    base: bytes

    def side_id(self, side: str) -> str:
        """The id on side ``"a"`` or ``"b"``."""
        return self.a_id if side == "a" else self.b_id

    def side_version(self, side: str) -> str:
        """The version on side ``"a"`` or ``"b"``."""
        return self.a_version if side == "a" else self.b_version

    def side_fp(self, side: str) -> str:
        """The fingerprint of what side ``"a"`` or ``"b"`` held when last synced."""
        return self.a_fp if side == "a" else self.b_fp


@frozen
class IgnoredItem:
    """An item a store refused for a lasting reason; skipped until it changes or is retried.

    ``side`` is the side holding the item (``item_id`` is its id there); ``failure`` is the
    :class:`~oxsync.core.store.FailureKind` value; ``reason`` the store's explanation.
    """

    folder_pair: int
    side: str
    item_id: str
    failure: str
    reason: str
    fingerprint: str
    since: float
    retry: bool


@frozen
class JournalEntry:
    """A write the engine started: ``op`` on side ``target`` for the source item."""

    id: int
    folder_pair: int
    target: str
    op: str
    source_id: str | None
    target_id: str | None
    uid: str | None
    created: float


class _Connection(sqlite3.Connection):
    """A connection whose failures are :class:`StateError` (a full disk, a file made
    read-only, another process holding the database too long), never a bare sqlite3
    error escaping to the user. (Rows fetched after the first come from the cursor: an
    I/O error while reading them still surfaces as ``sqlite3.Error``.)"""

    path = ""

    def execute(self, *args: Any) -> sqlite3.Cursor:
        return self._translated(super().execute, args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        return self._translated(super().executemany, args)

    def executescript(self, *args: Any) -> sqlite3.Cursor:
        return self._translated(super().executescript, args)

    def _translated(self, call: Any, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return cast(sqlite3.Cursor, call(*args))
        except sqlite3.Error as exc:
            raise StateError(f"state database {self.path!r}: {exc}") from exc


class State:
    """The SQLite state store. ``path`` is a file path or ``":memory:"``."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:  # a file where a folder should be, a NUL…
            raise StateError(f"cannot open state database {self.path!r}: {exc}") from exc
        try:
            self._db = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
                factory=_Connection,
            )
            self._db.path = self.path
            self._refuse_foreign()  # before anything (WAL mode) writes to the file
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._enable_wal()
                self._db.execute("PRAGMA synchronous = NORMAL")
            # 64 MiB page cache: a 100,000-item folder's pair table stays in memory.
            self._db.execute("PRAGMA cache_size = -65536")
            self._migrate()
        except SchemaVersionError:
            raise
        except (sqlite3.DatabaseError, StateError) as exc:
            cause = exc.__cause__ if isinstance(exc, StateError) and exc.__cause__ else exc
            raise StateError(f"cannot open state database {self.path!r}: {cause}") from exc
        self._depth = 0

    # ------------------------------------------------------------------ schema

    def _refuse_foreign(self) -> None:
        """Raise StateError for another program's SQLite database: tables, none of them
        oxsync's ``meta``. Adding oxsync's tables to it (or switching it to WAL) would
        change a file that is not ours."""
        names = [
            name
            for (name,) in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        if names and "meta" not in names:
            shown = ", ".join(repr(name) for name in names[:3])
            raise StateError(
                f"{self.path!r} is an SQLite database of another program (tables {shown}), "
                "not an oxsync state"
            )

    def _enable_wal(self) -> None:
        """Switch the file to WAL. Switching a new file needs it to itself, and SQLite's
        busy handler does not wait for that: another connection opening the same new file
        at the same moment answers "database is locked" at once. Retry for as long as
        the busy timeout would have waited."""
        deadline = time.monotonic() + _BUSY_TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except StateError as exc:
                busy = getattr(exc.__cause__, "sqlite_errorname", "") in _BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(0.005)

    def _version(self) -> int | None:
        """The schema version in ``meta``; ``None`` for a file without oxsync's tables."""
        db = self._db
        has_meta = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not has_meta:
            return None
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        text = str(row[0]).strip() if row is not None else ""
        if text.isascii() and text.isdigit() and len(text) < 10:
            return int(text)
        raise StateError(
            f"state {self.path!r} has no readable schema version "
            f"({'none' if row is None else repr(str(row[0])[:20])}): not an oxsync state"
        )

    def _migrate(self) -> None:
        db = self._db
        version = self._version()
        if version == SCHEMA_VERSION:
            return  # the usual case: no write lock taken
        self._refuse_newer(version)  # before taking a lock it does not need
        # Create or migrate under the write lock, looking again once it is held: another
        # connection opening the same file at the same moment may have done it already.
        db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()
            if version is None:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                version = SCHEMA_VERSION
            self._refuse_newer(version)
            while version < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                version += 1
                db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(StateError):
                    db.execute("ROLLBACK")
            raise

    def _refuse_newer(self, version: int | None) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"state {self.path!r} has schema {version}, newer than this oxsync "
                f"({SCHEMA_VERSION}); upgrade oxsync"
            )

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write; nested calls join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                with contextlib.suppress(StateError):
                    self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ folder pairs

    def folder_pairs(self, pair: str) -> list[FolderPairRow]:
        """Folder pairs of the named sync pair."""
        rows = self._db.execute(
            "SELECT id, pair, a_folder, b_folder, kind, a_cursor, b_cursor, last_sync "
            "FROM folder_pairs WHERE pair=? ORDER BY id",
            (pair,),
        ).fetchall()
        return [FolderPairRow(*row) for row in rows]

    def add_folder_pair(self, pair: str, a_folder: str, b_folder: str, kind: str) -> FolderPairRow:
        """Record a new folder pair (cursors empty)."""
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO folder_pairs (pair, a_folder, b_folder, kind) VALUES (?,?,?,?)",
                (pair, a_folder, b_folder, kind),
            )
        assert cur.lastrowid is not None
        return FolderPairRow(cur.lastrowid, pair, a_folder, b_folder, kind, None, None, None)

    def remove_folder_pair(self, folder_pair: int) -> None:
        """Forget a folder pair and everything under it."""
        with self.transaction():
            self._db.execute("DELETE FROM journal WHERE folder_pair=?", (folder_pair,))
            self._db.execute("DELETE FROM folder_pairs WHERE id=?", (folder_pair,))

    def set_cursors(
        self, folder_pair: int, a_cursor: str | None, b_cursor: str | None, when: float | None
    ) -> None:
        """Advance both cursors (call inside the transaction that records the items)."""
        self._db.execute(
            "UPDATE folder_pairs SET a_cursor=?, b_cursor=?, last_sync=COALESCE(?, last_sync) "
            "WHERE id=?",
            (a_cursor, b_cursor, when, folder_pair),
        )

    # ------------------------------------------------------------------ item pairs

    def versions(self, folder_pair: int, side: str) -> dict[str, str]:
        """``{id: version}`` of every paired item on ``side`` (for full-listing diffs)."""
        col_id, col_v = ("a_id", "a_version") if side == "a" else ("b_id", "b_version")
        return dict(
            self._db.execute(
                f"SELECT {col_id}, {col_v} FROM item_pairs WHERE folder_pair=?",
                (folder_pair,),
            ).fetchall()
        )

    def versions_of(self, folder_pair: int, side: str, ids: Iterable[str]) -> dict[str, str]:
        """``{id: version}`` on ``side`` for those of ``ids`` that are paired (cheap lookup)."""
        col_id, col_v = ("a_id", "a_version") if side == "a" else ("b_id", "b_version")
        out: dict[str, str] = {}
        id_list = list(ids)
        for i in range(0, len(id_list), _CHUNK):
            chunk = id_list[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(
                self._db.execute(
                    f"SELECT {col_id}, {col_v} FROM item_pairs "
                    f"WHERE folder_pair=? AND {col_id} IN ({marks})",
                    (folder_pair, *chunk),
                ).fetchall()
            )
        return out

    def pairs_by_id(
        self, folder_pair: int, side: str, ids: Iterable[str]
    ) -> dict[str, ItemPairRow]:
        """Item pairs whose id on ``side`` is in ``ids``, keyed by that id."""
        col = "a_id" if side == "a" else "b_id"
        out: dict[str, ItemPairRow] = {}
        id_list = list(ids)
        for i in range(0, len(id_list), _CHUNK):
            chunk = id_list[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                "SELECT folder_pair, a_id, b_id, a_version, b_version, a_fp, b_fp, kind, uid, "
                f"base FROM item_pairs WHERE folder_pair=? AND {col} IN ({marks})",
                (folder_pair, *chunk),
            ):
                pair = ItemPairRow(*row)
                out[pair.side_id(side)] = pair
        return out

    def all_pairs(self, folder_pair: int) -> list[ItemPairRow]:
        """Every item pair of a folder pair."""
        return [
            ItemPairRow(*row)
            for row in self._db.execute(
                "SELECT folder_pair, a_id, b_id, a_version, b_version, a_fp, b_fp, kind, uid, base "
                "FROM item_pairs WHERE folder_pair=?",
                (folder_pair,),
            )
        ]

    def count_pairs(self, folder_pair: int) -> int:
        """Number of item pairs in a folder pair."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM item_pairs WHERE folder_pair=?", (folder_pair,)
        ).fetchone()
        return int(row[0])

    def put_pairs(self, rows: Sequence[ItemPairRow]) -> None:
        """Insert or replace item pairs (replacing any pair holding either id)."""
        with self.transaction():
            self._db.executemany(
                "DELETE FROM item_pairs WHERE folder_pair=? AND b_id=? AND a_id<>?",
                [(r.folder_pair, r.b_id, r.a_id) for r in rows],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO item_pairs VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        r.folder_pair,
                        r.a_id,
                        r.b_id,
                        r.a_version,
                        r.b_version,
                        r.a_fp,
                        r.b_fp,
                        r.kind,
                        r.uid,
                        r.base,
                    )
                    for r in rows
                ],
            )

    def delete_pairs(self, folder_pair: int, a_ids: Iterable[str]) -> None:
        """Forget item pairs by their A id."""
        with self.transaction():
            self._db.executemany(
                "DELETE FROM item_pairs WHERE folder_pair=? AND a_id=?",
                [(folder_pair, a_id) for a_id in a_ids],
            )

    def set_versions(
        self, folder_pair: int, side: str, versions: Iterable[tuple[str, str]]
    ) -> None:
        """Update the version of paired items on ``side``: ``(id, version)`` pairs."""
        col_id, col_v = ("a_id", "a_version") if side == "a" else ("b_id", "b_version")
        with self.transaction():
            self._db.executemany(
                f"UPDATE item_pairs SET {col_v}=? WHERE folder_pair=? AND {col_id}=?",
                [(v, folder_pair, i) for i, v in versions],
            )

    # ------------------------------------------------------------------ ignored list

    def ignore(self, items: Sequence[IgnoredItem]) -> None:
        """Put items on the ignored list (replacing earlier entries for the same item)."""
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO ignored VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        i.folder_pair,
                        i.side,
                        i.item_id,
                        i.failure,
                        i.reason,
                        i.fingerprint,
                        i.since,
                        int(i.retry),
                    )
                    for i in items
                ],
            )

    def unignore(self, folder_pair: int, side: str, ids: Iterable[str]) -> None:
        """Take items off the ignored list."""
        with self.transaction():
            self._db.executemany(
                "DELETE FROM ignored WHERE folder_pair=? AND side=? AND item_id=?",
                [(folder_pair, side, i) for i in ids],
            )

    def ignored(self, folder_pair: int | None = None) -> list[IgnoredItem]:
        """The ignored list, for one folder pair or all."""
        sql = "SELECT * FROM ignored"
        args: tuple[object, ...] = ()
        if folder_pair is not None:
            sql += " WHERE folder_pair=?"
            args = (folder_pair,)
        rows = self._db.execute(sql + " ORDER BY since, item_id", args).fetchall()
        return [IgnoredItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in rows]

    def ignored_on(self, folder_pair: int, side: str) -> dict[str, IgnoredItem]:
        """Ignored items of one side of a folder pair, by item id."""
        return {i.item_id: i for i in self.ignored(folder_pair) if i.side == side}

    def mark_retry(self, folder_pair: int | None = None, ids: Iterable[str] | None = None) -> int:
        """Flag ignored items to be tried again at the next sync; returns how many."""
        with self.transaction():
            if ids is None:
                sql, args = "UPDATE ignored SET retry=1", cast(tuple[object, ...], ())
                if folder_pair is not None:
                    sql, args = sql + " WHERE folder_pair=?", (folder_pair,)
                return self._db.execute(sql, args).rowcount
            total = 0
            for item_id in ids:
                total += self._db.execute(
                    "UPDATE ignored SET retry=1 WHERE item_id=?"
                    + (" AND folder_pair=?" if folder_pair is not None else ""),
                    (item_id, folder_pair) if folder_pair is not None else (item_id,),
                ).rowcount
            return total

    # ------------------------------------------------------------------ journal

    def journal_add(
        self,
        folder_pair: int,
        entries: Sequence[tuple[str, str, str | None, str | None, str | None]],
    ) -> list[int]:
        """Record intended writes ``(target, op, source_id, target_id, uid)``; returns ids."""
        now = time.time()
        with self.transaction():
            # One statement for the batch: the transaction holds the write lock, so the
            # ids after the highest one are ours to give (what SQLite itself would pick)
            (last,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM journal").fetchone()
            ids = list(range(last + 1, last + 1 + len(entries)))
            self._db.executemany(
                "INSERT INTO journal (id, folder_pair, target, op, source_id, target_id, uid, "
                "created) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (id_, folder_pair, target, op, source_id, target_id, uid, now)
                    for id_, (target, op, source_id, target_id, uid) in zip(
                        ids, entries, strict=True
                    )
                ],
            )
        return ids

    def journal_done(self, ids: Iterable[int]) -> None:
        """Remove finished journal entries (in the transaction recording their results)."""
        with self.transaction():
            self._db.executemany("DELETE FROM journal WHERE id=?", [(i,) for i in ids])

    def journal(self, folder_pair: int | None = None) -> list[JournalEntry]:
        """Writes started but not recorded (non-empty after a crash)."""
        sql = "SELECT * FROM journal"
        args: tuple[object, ...] = ()
        if folder_pair is not None:
            sql, args = sql + " WHERE folder_pair=?", (folder_pair,)
        return [JournalEntry(*row) for row in self._db.execute(sql + " ORDER BY id", args)]

    def clear_journal(self, folder_pair: int) -> None:
        """Drop a folder pair's journal once recovery has reconciled it."""
        with self.transaction():
            self._db.execute("DELETE FROM journal WHERE folder_pair=?", (folder_pair,))
