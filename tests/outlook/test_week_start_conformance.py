"""What the conformance property ``test_what_a_store_reads_back_is_no_edit_to_the_engine``
found once its settings took effect (they sat on a helper): pinned as plain tests.

- every other Sunday and Monday (the week-start gap): read back on other days than
  ``stored_form`` predicts; now refused unless the store knows weeks start on Monday;
- an update without an HTML note over an item whose body was HTML, with the same text:
  the body was left alone (to keep rich text), so the item read back with the old
  ``note_html``, which ``stored_form`` of the update does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime

from oxsync.adapters.outlook import OutlookStore
from oxsync.core import records as r
from oxsync.core.store import Applied, Create, Failure, FailureKind, Item, Update
from oxsync.testing.outlook import Application, constants
from oxsync.testing.samples import comparable
from tests.outlook.helpers import default

SUNDAY = datetime(2000, 1, 2, tzinfo=UTC)


def sunday_monday() -> r.Event:
    return r.Event(
        uid="found",
        start=SUNDAY,
        end=SUNDAY,
        timezone="Europe/Paris",
        recurrence=r.Recurrence(
            frequency=r.Frequency.WEEKLY,
            interval=2,
            weekdays=r.Weekday.SUNDAY | r.Weekday.MONDAY,
            deleted=(datetime(2000, 1, 10).date(),),
        ),
    )


def test_the_found_sunday_monday_series_is_refused_without_a_week_start() -> None:
    store = OutlookStore(Application(tz="Europe/Paris"))
    (done,) = store.apply(default(store, r.FolderKind.CALENDAR), [Create(sunday_monday())])
    assert isinstance(done, Failure) and done.kind is FailureKind.INVALID, done


def test_the_found_sunday_monday_series_reads_back_as_stored_form_from_monday() -> None:
    app = Application(tz="Europe/Paris", first_day_of_week=constants.olMonday)
    store = OutlookStore(app, first_day_of_week=r.Weekday.MONDAY)
    folder = default(store, r.FolderKind.CALENDAR)
    event = sunday_monday()
    (done,) = store.apply(folder, [Create(event)])
    assert isinstance(done, Applied), done
    got = store.fetch(folder, [done.id])[done.id]
    assert isinstance(got, Item), got
    caps = store.capabilities
    assert comparable(got.record, caps) == comparable(store.stored_form(event), caps)


def test_an_update_without_html_over_an_html_note_of_the_same_text_drops_the_html() -> None:
    store = OutlookStore(Application())
    folder = default(store, r.FolderKind.CONTACTS)
    (created,) = store.apply(folder, [Create(r.Contact(uid="c", note_html="0"))])
    assert isinstance(created, Applied), created
    first = store.fetch(folder, [created.id])[created.id]
    assert isinstance(first, Item) and first.record.note_html == "0"  # type: ignore[union-attr]
    plain = r.Contact(uid="c", note="0")
    (updated,) = store.apply(folder, [Update(created.id, plain, first.version)])
    assert isinstance(updated, Applied), updated
    got = store.fetch(folder, [created.id])[created.id]
    assert isinstance(got, Item)
    caps = store.capabilities
    assert comparable(got.record, caps) == comparable(store.stored_form(plain), caps)
    assert got.record.note == "0" and got.record.note_html is None  # type: ignore[union-attr]
