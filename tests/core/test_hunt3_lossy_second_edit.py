"""Two edits in a row on a lossy side (one whose store keeps a rendering of some fields,
told by ``stored_form``): the first edit reached the other side with the fuller values
kept, but the second carried the lossy side's rendering over them (a cut note, PRIVATE
for PERSONAL). After the first edit the lossy side's last synced fingerprint is its own
read, not the base's, and the planner skipped the ``stored_form`` comparison for such a
side. Found by the lossy-rendering state machine with 3,000 examples."""

from __future__ import annotations

import pytest

from oxsync import Policy, State, SyncEngine
from oxsync.adapters.memory import MemoryStore
from oxsync.core.records import Contact, FolderKind, Sensitivity

from .test_engine_rendering_machine import LossyB, RenderingStore

KINDS = frozenset(FolderKind.CONTACTS.item_kinds)


@pytest.mark.parametrize("delta", [True, False], ids=["delta", "full-listing"])
@pytest.mark.parametrize("policy", [Policy.A_WINS, Policy.MERGE], ids=lambda p: p.name)
def test_a_second_edit_on_the_lossy_side_keeps_the_fuller_values(
    policy: Policy, delta: bool
) -> None:
    a = MemoryStore(name="a", delta=delta, kinds=KINDS)
    b = RenderingStore(name="b", delta=delta, kinds=KINDS)
    state = State(":memory:")

    def engine() -> SyncEngine:
        return SyncEngine(a, b, state=state, policy=policy, sleep=lambda s: None)

    a.put(
        "contacts",
        Contact(uid="u0", last_name="Ada", note="a long note", sensitivity=Sensitivity.PERSONAL),
    )
    engine().sync()
    (item_id,) = b.records("contacts")
    for nick in ("Countess", "Ada L."):  # two edits on B, each synced
        b.edit("contacts", item_id, nickname=nick)
        engine().sync()
        (held,) = a.records("contacts").values()
        assert isinstance(held, Contact)
        assert (held.nickname, held.note, held.sensitivity) == (
            nick,
            "a long note",
            Sensitivity.PERSONAL,
        )
    assert engine().sync().changed == 0


def test_the_machine_case() -> None:
    """The state machine's shrunk case."""
    machine = LossyB()
    machine.setup(policy=Policy.A_WINS, delta_a=False, delta_b=False)
    machine.create(name="", side="a", sub=False)
    machine.enrich_on_a(note="0000", personal=False, pick=0)
    machine.clean_sync_and_check()
    machine.edit(nick="00", pick=0, side="b")
    machine.clean_sync_and_check()
    machine.edit(nick="0", pick=0, side="b")
    machine.clean_sync_and_check()
