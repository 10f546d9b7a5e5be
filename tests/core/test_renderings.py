"""Planner: a store's own renderings of values (``stored_form``) are no edits, and at a
first sync a copy that is only such a rendering is paired, not weighed as a conflict."""

from __future__ import annotations

import attrs

from oxsync.core import plan as P
from oxsync.core import records as r
from oxsync.core.policy import Policy
from oxsync.core.serial import canonical
from oxsync.core.state import ItemPairRow


def _no_notes(record: r.Record) -> r.Record:
    """A store that reads every note back empty."""
    return attrs.evolve(record, note=None)


def _seen(item_id: str, record: r.Record, version: str = "v1") -> P.Seen:
    return P.Seen(item_id, version, record, *canonical(record))


FULL = r.Contact(uid="c1", first_name="Ada", last_name="Lovelace", note="Analyst")
LOSSY = _no_notes(FULL)


def test_a_first_sync_pairs_a_rendering_with_the_fuller_record_as_base() -> None:
    delta = P.FolderDelta(
        {"a1": _seen("a1", FULL)}, {"b1": _seen("b1", LOSSY)}, {}, {}, stored_b=_no_notes
    )
    (action,) = P.plan_folder(delta, Policy.NEWEST_WINS)
    assert isinstance(action, P.Link) and action.rendered == "b"
    # without the store's stored_form, the two differ: a conflict for the policy
    delta = attrs.evolve(delta, stored_b=None)
    actions = P.plan_folder(delta, Policy.NEWEST_WINS)
    assert not any(isinstance(a, P.Link) for a in actions)


def _paired(blob: bytes, fp: str) -> ItemPairRow:
    # B was written the base (its recorded fingerprint is the base's)
    return ItemPairRow(1, "a1", "b1", "v1", "v1", fp, fp, "contact", "c1", blob)


def test_a_resave_of_the_rendering_is_no_edit_and_a_real_edit_keeps_the_rest() -> None:
    blob, fp = canonical(FULL)
    pair = _paired(blob, fp)
    resaved = P.FolderDelta({}, {"b1": _seen("b1", LOSSY, "v2")}, {"a1": pair}, {"b1": pair},
                            stored_b=_no_notes)  # fmt: skip
    (action,) = P.plan_folder(resaved, Policy.NEWEST_WINS)
    assert isinstance(action, P.Refresh) and action.version == "v2"
    edited = attrs.evolve(LOSSY, last_name="Byron")
    delta = attrs.evolve(resaved, b={"b1": _seen("b1", edited, "v3")})
    (action,) = P.plan_folder(delta, Policy.NEWEST_WINS)
    assert isinstance(action, P.Overwrite) and action.target == "a"
    assert action.record == attrs.evolve(FULL, last_name="Byron")  # the note kept
    # the state keeps what B really holds
    assert action.source_fp == canonical(edited)[1]


def test_a_side_last_synced_with_its_own_read_is_compared_as_it_is() -> None:
    """B was the source of the last sync (its recorded fingerprint is its own read, not
    the base's): its copy is in its own rendering already; an emptied note is an edit."""
    blob, fp = canonical(FULL)
    pair = attrs.evolve(_paired(blob, fp), b_fp="fingerprint-of-bs-own-read")
    delta = P.FolderDelta({}, {"b1": _seen("b1", LOSSY, "v2")}, {"a1": pair}, {"b1": pair},
                          stored_b=_no_notes)  # fmt: skip
    (action,) = P.plan_folder(delta, Policy.NEWEST_WINS)
    assert isinstance(action, P.Overwrite) and action.record.note is None  # type: ignore[union-attr]
