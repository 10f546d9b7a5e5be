"""The pure planner, for each (A state × B state) combination."""

from __future__ import annotations

import pytest

from oxsync.core import plan as P
from oxsync.core.policy import Policy
from oxsync.core.records import Contact
from oxsync.core.serial import canonical
from oxsync.core.state import IgnoredItem, ItemPairRow

BASE = Contact(uid="u1", last_name="Base")


def seen(item_id: str, record: Contact | None, version: str = "v2") -> P.Seen:
    if record is None:
        return P.Seen(item_id, "")
    blob, fp = canonical(record)
    return P.Seen(item_id, version, record, blob, fp)


def pair() -> ItemPairRow:
    blob, fp = canonical(BASE)
    return ItemPairRow(1, "a1", "b1", "v1", "v1", fp, fp, "contact", "u1", blob)


def plan(a: P.Seen | None, b: P.Seen | None, policy=Policy.A_WINS, paired=True):
    p = pair()
    delta = P.FolderDelta(
        {a.id: a} if a else {},
        {b.id: b} if b else {},
        {"a1": p} if paired else {},
        {"b1": p} if paired else {},
    )
    return P.plan_folder(delta, policy)


EDIT_A = Contact(uid="u1", last_name="A")
EDIT_B = Contact(uid="u1", last_name="B")


def test_modified_on_a_only_overwrites_b() -> None:
    (action,) = plan(seen("a1", EDIT_A), None)
    assert isinstance(action, P.Overwrite) and action.target == "b"
    assert action.record == EDIT_A and action.pair.b_version == "v1"


def test_modified_on_b_only_overwrites_a() -> None:
    (action,) = plan(None, seen("b1", EDIT_B))
    assert isinstance(action, P.Overwrite) and action.target == "a"


def test_deleted_on_a_only_removes_on_b() -> None:
    (action,) = plan(seen("a1", None), None)
    assert isinstance(action, P.Remove) and action.target == "b"


def test_deleted_on_both_forgets_the_pair() -> None:
    (action,) = plan(seen("a1", None), seen("b1", None))
    assert isinstance(action, P.Forget)


def test_delete_against_modify_keeps_the_modification() -> None:
    actions = plan(seen("a1", None), seen("b1", EDIT_B))
    assert [type(x) for x in actions] == [P.Forget, P.CopyNew]
    assert actions[1].target == "a" and actions[1].record == EDIT_B


def test_delete_wins_when_asked() -> None:
    (action,) = plan(
        seen("a1", None), seen("b1", EDIT_B), policy=Policy.A_WINS.with_options(delete_wins=True)
    )
    assert isinstance(action, P.Remove) and action.target == "b"


def test_same_edit_on_both_sides_only_links() -> None:
    (action,) = plan(seen("a1", EDIT_A), seen("b1", EDIT_A))
    assert isinstance(action, P.Link)


def test_version_only_change_is_a_refresh_not_a_write() -> None:
    (action,) = plan(seen("a1", BASE, version="v9"), None)
    assert isinstance(action, P.Refresh) and action.version == "v9"


@pytest.mark.parametrize(
    ("policy", "target", "winner"), [(Policy.A_WINS, "b", EDIT_A), (Policy.B_WINS, "a", EDIT_B)]
)
def test_conflict_follows_policy(policy, target, winner) -> None:
    (action,) = plan(seen("a1", EDIT_A, "va"), seen("b1", EDIT_B, "vb"), policy=policy)
    assert isinstance(action, P.Overwrite) and action.conflict
    assert action.target == target and action.record == winner
    # The write expects the version just seen, not the stale one in state.
    assert action.pair.side_version(target) == ("vb" if target == "b" else "va")


def test_merge_conflict_writes_both_sides() -> None:
    a = Contact(uid="u1", last_name="Base", nickname="nick")
    b = Contact(uid="u1", last_name="Base", job_title="job")
    (action,) = plan(seen("a1", a), seen("b1", b), policy=Policy.MERGE)
    assert isinstance(action, P.DualWrite)
    assert action.record.nickname == "nick" and action.record.job_title == "job"


def test_keep_both_creates_the_losers_copy_on_both_sides() -> None:
    actions = plan(seen("a1", EDIT_A), seen("b1", EDIT_B), policy=Policy.KEEP_BOTH)
    assert [type(x) for x in actions] == [P.Overwrite, P.CreateBoth]
    assert actions[1].record.last_name == "B" and actions[1].record.uid != "u1"


def test_callback_policy_decides() -> None:
    policy = Policy.callback(lambda base, a, b: Contact(uid="u1", last_name="Chosen"))
    (action,) = plan(seen("a1", EDIT_A), seen("b1", EDIT_B), policy=policy)
    assert isinstance(action, P.DualWrite) and action.record.last_name == "Chosen"


def test_new_on_a_is_copied_to_b() -> None:
    (action,) = plan(seen("a9", Contact(uid="n1", last_name="New")), None, paired=False)
    assert isinstance(action, P.CopyNew) and action.target == "b"


def test_new_on_both_with_same_uid_and_content_links_no_duplicate() -> None:
    rec = Contact(uid="n1", last_name="Same")
    (action,) = plan(seen("a9", rec), seen("b9", rec), paired=False)
    assert isinstance(action, P.Link)


def test_new_on_both_without_uid_matches_by_fingerprint() -> None:
    rec = Contact(last_name="NoUid")
    (action,) = plan(seen("a9", rec), seen("b9", rec), paired=False)
    assert isinstance(action, P.Link)


def test_new_on_both_same_uid_different_content_is_a_conflict() -> None:
    actions = plan(
        seen("a9", Contact(uid="n1", last_name="X")),
        seen("b9", Contact(uid="n1", last_name="Y")),
        paired=False,
    )
    assert len(actions) == 1 and isinstance(actions[0], P.Overwrite)
    assert actions[0].target == "b" and actions[0].record.last_name == "X"


def test_unchanged_ignored_item_is_skipped_and_changed_one_retried() -> None:
    record = Contact(uid="n1", last_name="Refused")
    s = seen("a9", record)
    entry = IgnoredItem(1, "a", "a9", "permission", "no", s.fp, 0.0, False)
    delta = P.FolderDelta({"a9": s}, {}, {}, {}, ignored_a={"a9": entry})
    assert P.plan_folder(delta, Policy.A_WINS) == []
    changed = seen("a9", Contact(uid="n1", last_name="Changed"))
    delta = P.FolderDelta({"a9": changed}, {}, {}, {}, ignored_a={"a9": entry})
    actions = P.plan_folder(delta, Policy.A_WINS)
    assert [type(x) for x in actions] == [P.Unignore, P.CopyNew]


def test_unsupported_fields_are_kept_from_the_base() -> None:
    from oxsync.core.records import ItemKind
    from oxsync.core.store import Capabilities

    base = Contact(uid="u1", last_name="Base", hobby="chess")
    blob, fp = canonical(base)
    p = ItemPairRow(1, "a1", "b1", "v1", "v1", fp, fp, "contact", "u1", blob)
    from_b = Contact(uid="u1", last_name="Edited")  # B cannot hold `hobby`
    caps_b = Capabilities(unsupported_fields={ItemKind.CONTACT: frozenset({"hobby"})})
    delta = P.FolderDelta({}, {"b1": seen("b1", from_b)}, {"a1": p}, {"b1": p}, caps_b=caps_b)
    (action,) = P.plan_folder(delta, Policy.A_WINS)
    assert isinstance(action, P.Overwrite)
    assert action.record.hobby == "chess" and action.record.last_name == "Edited"


def _note_pair(base: Contact) -> tuple[ItemPairRow, object]:
    from oxsync.core.records import ItemKind
    from oxsync.core.store import Capabilities

    blob, fp = canonical(base)
    pair = ItemPairRow(1, "a1", "b1", "v1", "v1", fp, fp, "contact", "u1", blob)
    caps_b = Capabilities(unsupported_fields={ItemKind.CONTACT: frozenset({"note_html"})})
    return pair, caps_b


def test_rich_note_survives_a_plain_side_edit_of_another_field() -> None:
    base = Contact(uid="u1", last_name="Base", note="hello", note_html="<b>hello</b>")
    pair, caps_b = _note_pair(base)
    from_b = Contact(uid="u1", last_name="Edited", note="hello")  # plain side: no HTML
    delta = P.FolderDelta({}, {"b1": seen("b1", from_b)}, {"a1": pair}, {"b1": pair}, caps_b=caps_b)
    (action,) = P.plan_folder(delta, Policy.A_WINS)
    assert isinstance(action, P.Overwrite)
    assert action.record.note_html == "<b>hello</b>" and action.record.last_name == "Edited"


def test_plain_side_note_edit_drops_the_stale_rich_note() -> None:
    base = Contact(uid="u1", last_name="Base", note="hello", note_html="<b>hello</b>")
    pair, caps_b = _note_pair(base)
    from_b = Contact(uid="u1", last_name="Base", note="goodbye")
    delta = P.FolderDelta({}, {"b1": seen("b1", from_b)}, {"a1": pair}, {"b1": pair}, caps_b=caps_b)
    (action,) = P.plan_folder(delta, Policy.A_WINS)
    assert isinstance(action, P.Overwrite)
    assert action.record.note == "goodbye" and action.record.note_html is None
