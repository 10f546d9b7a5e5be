"""Fields one store cannot hold, in conflicts: the store that lacks a field has no say on it.

``Capabilities.unsupported_fields`` promises that a round trip through a store that cannot
keep a field never erases it on the other side. A one-sided change keeps it (the base fills
it in); these check the same for both-sided changes under every policy, for new-on-both
matches, and for a modification that wins over a deletion. Each case is run with the
limited store on either side.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from oxsync.core import plan as P
from oxsync.core.policy import Policy
from oxsync.core.records import Contact, ItemKind
from oxsync.core.serial import canonical
from oxsync.core.state import ItemPairRow
from oxsync.core.store import Capabilities

LIMITED = Capabilities(unsupported_fields={ItemKind.CONTACT: frozenset({"hobby", "note_html"})})
BASE = Contact(uid="u1", last_name="Base", hobby="chess", note="hi", note_html="<b>hi</b>")
POLICIES = [Policy.A_WINS, Policy.B_WINS, Policy.NEWEST_WINS, Policy.MERGE, Policy.KEEP_BOTH]


def seen(item_id: str, record: Contact | None) -> P.Seen:
    if record is None:
        return P.Seen(item_id, "")
    blob, fp = canonical(record)
    return P.Seen(item_id, "v2", record, blob, fp)


def limited_view(record: Contact) -> Contact:
    """What the limited store reads back: the fields it cannot hold are gone."""
    return attrs.evolve(record, hobby=None, note_html=None)


def plan(
    limited: str, a: Contact | None, b: Contact | None, policy: Any, *, paired: bool = True
) -> list[P.Action]:
    blob, fp = canonical(BASE)
    pair = ItemPairRow(1, "a1", "b1", "v1", "v1", fp, fp, "contact", "u1", blob)
    if limited == "a":
        pair = attrs.evolve(pair, a_fp=canonical(limited_view(BASE))[1])
    else:
        pair = attrs.evolve(pair, b_fp=canonical(limited_view(BASE))[1])
    delta = P.FolderDelta(
        {"a1": seen("a1", a)} if a is not None or paired else {},
        {"b1": seen("b1", b)} if b is not None or paired else {},
        {"a1": pair} if paired else {},
        {"b1": pair} if paired else {},
        caps_a=LIMITED if limited == "a" else Capabilities(),
        caps_b=LIMITED if limited == "b" else Capabilities(),
    )
    return P.plan_folder(delta, policy)


@pytest.mark.parametrize("limited", ["a", "b"])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_conflict_keeps_what_the_limited_side_cannot_hold(limited: str, policy: Any) -> None:
    """The limited side renamed the contact; the full side changed the hobby and the
    formatting of the unchanged note. Whoever wins, the hobby and the rich note stay."""
    mine = limited_view(attrs.evolve(BASE, last_name="Renamed"))
    theirs = attrs.evolve(BASE, hobby="go", note_html="<i>hi</i>", nickname="N")
    a, b = (mine, theirs) if limited == "a" else (theirs, mine)
    actions = plan(limited, a, b, policy)
    writes = [x for x in actions if isinstance(x, P.Overwrite | P.DualWrite | P.CreateBoth)]
    assert writes
    for action in writes:
        record = action.record
        assert (record.hobby, record.note_html) == ("go", "<i>hi</i>"), action


@pytest.mark.parametrize("limited", ["a", "b"])
def test_a_merge_keeps_an_unchanged_field_the_limited_side_cannot_hold(limited: str) -> None:
    mine = limited_view(attrs.evolve(BASE, last_name="Renamed"))
    theirs = attrs.evolve(BASE, nickname="N")
    a, b = (mine, theirs) if limited == "a" else (theirs, mine)
    (action,) = plan(limited, a, b, Policy.MERGE)
    assert isinstance(action, P.DualWrite | P.Overwrite)
    record = action.record
    assert (record.last_name, record.nickname) == ("Renamed", "N")
    assert (record.hobby, record.note_html) == ("chess", "<b>hi</b>")


@pytest.mark.parametrize("limited", ["a", "b"])
def test_a_note_edited_on_the_limited_side_drops_the_stale_rich_note(limited: str) -> None:
    mine = limited_view(attrs.evolve(BASE, note="bye"))
    theirs = attrs.evolve(BASE, nickname="N")
    a, b = (mine, theirs) if limited == "a" else (theirs, mine)
    (action,) = plan(limited, a, b, Policy.MERGE)
    assert isinstance(action, P.DualWrite)
    assert (action.record.note, action.record.note_html, action.record.hobby) == (
        "bye",
        None,
        "chess",
    )


@pytest.mark.parametrize("limited", ["a", "b"])
def test_a_modification_recreated_after_a_deletion_keeps_the_fields_from_the_base(
    limited: str,
) -> None:
    mine = limited_view(attrs.evolve(BASE, last_name="Renamed"))
    a, b = (mine, None) if limited == "a" else (None, mine)
    actions = plan(limited, a, b, Policy.A_WINS)
    (copy,) = [x for x in actions if isinstance(x, P.CopyNew)]
    assert copy.target != limited
    assert (copy.record.last_name, copy.record.hobby) == ("Renamed", "chess")


@pytest.mark.parametrize("limited", ["a", "b"])
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_new_on_both_sides_keeps_what_the_limited_side_cannot_hold(
    limited: str, policy: Any
) -> None:
    """First sync: the same contact exists on both sides (same uid), the limited side's
    copy without the hobby, and with another job title. The hobby is kept."""
    mine = limited_view(attrs.evolve(BASE, job_title="Boss"))
    theirs = BASE
    a, b = (mine, theirs) if limited == "a" else (theirs, mine)
    actions = plan(limited, a, b, policy, paired=False)
    full = "b" if limited == "a" else "a"
    writes = [
        x
        for x in actions
        if isinstance(x, P.DualWrite) or (isinstance(x, P.Overwrite) and x.target == full)
    ]
    for action in writes:
        assert action.record.hobby == "chess", actions  # type: ignore[union-attr]
