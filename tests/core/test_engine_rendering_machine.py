"""The engine state machine with a lossy store on side B: B keeps a note cut to
:data:`KEPT` characters and reads PERSONAL back as PRIVATE, and says so through
``stored_form``. Besides the invariants of :mod:`test_engine_state_machine` (with B's
content compared through its rendering), A's notes and sensitivity must survive
everything B does: re-saves (``touch``), B's own edits of other fields, crashes.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, Record, Sensitivity
from oxsync.core.serial import fingerprint
from oxsync.core.store import Create, OpResult, Update
from oxsync.core.store import Op as StoreOp

from .test_engine_state_machine import POLICIES, REJECTED_UID, TwoStores

KEPT = 3


def render(record: Record) -> Record:
    """What the lossy store keeps of ``record`` (idempotent)."""
    changes: dict[str, object] = {}
    note = getattr(record, "note", None)
    if note and len(note) > KEPT:
        changes["note"] = note[:KEPT]
    if getattr(record, "sensitivity", None) is Sensitivity.PERSONAL:
        changes["sensitivity"] = Sensitivity.PRIVATE
    return attrs.evolve(record, **changes) if changes else record


class RenderingStore(MemoryStore):
    """A memory store that keeps records in a lossier form, and predicts it."""

    def stored_form(self, record: Record) -> Record:
        return render(record)

    def _apply(self, folder_id: str, ops: Sequence[StoreOp]) -> Sequence[OpResult]:
        kept = [
            attrs.evolve(op, record=render(op.record), native=None)
            if isinstance(op, Create | Update)
            else op
            for op in ops
        ]
        return super()._apply(folder_id, kept)


class LossyB(TwoStores):
    """TwoStores with B a :class:`RenderingStore`."""

    STORE_B = RenderingStore

    @initialize(policy=st.sampled_from(POLICIES), delta_a=st.booleans(), delta_b=st.booleans())
    def setup(self, policy: object, delta_a: bool, delta_b: bool) -> None:
        super().setup(policy, delta_a, delta_b)
        self.rich: dict[str, tuple[str | None, Sensitivity]] = {}  # uid -> what A was given

    @rule(pick=st.integers(0, 50), note=st.text(min_size=KEPT + 1, max_size=12),
          personal=st.booleans())  # fmt: skip
    def enrich_on_a(self, pick: int, note: str, personal: bool) -> None:
        """A user of A writes a long note (and maybe PERSONAL), which B cannot keep."""
        found = self._pick("a", pick)
        if found is None:
            return
        folder, item_id, record = found
        sensitivity = Sensitivity.PERSONAL if personal else Sensitivity.NORMAL
        if (record.note, record.sensitivity) == (note, sensitivity):
            return  # the same values again: no change for anybody to sync
        self.a.edit(folder, item_id, note=note, sensitivity=sensitivity)
        uid = record.uid or ""
        self.rich[uid] = (note, sensitivity)
        self.edits.setdefault(uid, {})["a"] = record.nickname or record.last_name
        self.move_only.discard((uid, "a"))  # a content edit, not only a move
        self.clean = False

    def _check_converged(self) -> None:
        for fa, fb in self._pairs():
            a_items = {
                r.uid: fingerprint(render(r))
                for r in self.a.records(fa).values()
                if r.uid != REJECTED_UID
            }
            b_items = {
                r.uid: fingerprint(r) for r in self.b.records(fb).values() if r.uid != REJECTED_UID
            }
            assert a_items == b_items

    def _check_edits(self) -> None:
        super()._check_edits()
        on_a = {
            r.uid: r
            for f in self.folders("a")
            for r in self.a.records(f).values()
            if isinstance(r, Contact)
        }
        for uid, (note, sensitivity) in self.rich.items():
            if uid in self.wild or uid in self.ambiguous or uid in self.remade or uid not in on_a:
                continue  # (made again from scratch: its note is the new item's)
            if {"a", "b"} <= set(self.edits.get(uid, {})):
                continue  # edited on both sides: a conflict the policy may give to B's copy
            record = on_a[uid]
            assert (record.note, record.sensitivity) == (note, sensitivity), (
                f"B's rendering overwrote A's {uid}: {record}"
            )

    def _after_clean_sync(self) -> None:
        super()._after_clean_sync()
        # what A holds now is the baseline (B may legitimately have won a conflict)
        self.rich = {
            r.uid or "": (r.note, r.sensitivity)
            for f, _ in self._pairs()  # (not folders(): a crash knob may still be armed)
            for r in self.a.records(f).values()
            if isinstance(r, Contact) and r.uid and r.uid != REJECTED_UID
        }


LossyB.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLossyB = LossyB.TestCase


def test_a_resave_on_the_lossy_side_keeps_the_fuller_values() -> None:
    """The machine's core case, played out always (random runs may find it late)."""
    from oxsync import Policy

    machine = LossyB()
    machine.setup(policy=Policy.NEWEST_WINS, delta_a=False, delta_b=True)
    machine.create(side="a", name="Ada", sub=False)
    machine.enrich_on_a(pick=0, note="a long note", personal=True)
    machine.clean_sync_and_check()
    machine.touch(side="b", pick=0)  # B saves its cut copy again
    machine.edit(side="b", pick=0, nick="Countess")  # and an edit of another field
    machine.clean_sync_and_check()  # A keeps its note and PERSONAL, gets the nickname


def test_a_move_on_the_lossy_side_keeps_the_fuller_values() -> None:
    """Found by the machine: a move made on the lossy side carried its cut copy along."""
    from oxsync import Policy

    machine = LossyB()
    machine.setup(policy=Policy.A_WINS, delta_a=False, delta_b=False)
    machine.create(side="a", name="", sub=False)
    machine.enrich_on_a(pick=0, note="0000", personal=False)
    machine.clean_sync_and_check()
    machine.move(pick=0, side="b")
    machine.clean_sync_and_check()
