"""What an OX account reads back of a record written to it, without asking the server.

:func:`stored_form` runs a record through the path a write and the read after it take:
the store's own encoding (:func:`oxsync.mappings.ox_xml.encode`, as a create writes it),
what OX does to the saved elements (reference §2.3: an empty element is no field, the
alarm goes with ``alarm_flag``, a series' change exceptions are objects of their own that
take their day out of ``deleteexceptions``), and the store's decoding
(:func:`oxsync.mappings.ox_xml.decode`, exceptions folded into their series by
:mod:`oxsync.adapters.ox._series`). So every lossy conversion of the codec (sensitivity
PERSONAL read back PRIVATE, attendee roles and comments dropped, a yearly rule every N
years as monthly every 12·N, ...) comes from the code that really makes it, not from a
second table of rules.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from oxsync.adapters.ox._codec import Element, child_text, new_prop
from oxsync.adapters.ox._series import (
    date_position,
    exception_event,
    exception_from,
    with_exceptions,
)
from oxsync.core.records import (
    DistributionList,
    Event,
    EventException,
    ItemKind,
    Record,
    item_kind_of,
)
from oxsync.mappings import ox_xml

__all__ = ["stored_form"]

_OX = "{" + ox_xml.OX_NS + "}"
_ALARM, _ALARM_FLAG = _OX + "alarm", _OX + "alarm_flag"


def stored_form(
    record: Record,
    *,
    contact_ref: Callable[[str], tuple[str, str]],
    contact_uid: Callable[[str, str], str | None],
) -> Record:
    """What the store's ``fetch`` returns of an item created from ``record``.

    ``contact_ref`` / ``contact_uid`` are the store's (I/O-free) resolvers of list
    members' contact references. Raises :class:`~oxsync.errors.MappingError` for a
    record the store could not write.
    """
    kind = item_kind_of(record)
    if not isinstance(record, Event) or not record.exceptions:
        back = ox_xml.decode(kind, _saved(record, contact_ref), contact_uid=contact_uid)
    else:
        back = _series(record, contact_ref, contact_uid)
    files = getattr(record, "attachments", ())
    if files and not isinstance(back, DistributionList):
        back = attrs.evolve(back, attachments=files)  # written and listed in this order
    return back if back.uid == record.uid else attrs.evolve(back, uid=record.uid)


def _series(
    record: Event,
    contact_ref: Callable[[str], tuple[str, str]],
    contact_uid: Callable[[str, str], str | None],
) -> Record:
    """A series read back with its change exceptions: each one written as an object of
    its own (:func:`exception_event`) and read against the series read back, as
    ``_series_items`` writes and reads them (a series that does not recur keeps none:
    OX refuses them)."""
    prop = _saved(attrs.evolve(record, exceptions=()), contact_ref)
    if record.recurrence is None:
        return ox_xml.decode(ItemKind.EVENT, prop, contact_uid=contact_uid)
    objects = {
        date_position(record, change.original_start): _saved(
            exception_event(record, change), contact_ref
        )
        for change in record.exceptions
    }  # one object per day: a later exception of the same day replaces an earlier one
    _take_days(prop, objects)
    series = ox_xml.decode(ItemKind.EVENT, prop, contact_uid=contact_uid)
    if not isinstance(series, Event):
        return series
    changes: list[EventException] = []
    for position, saved in objects.items():
        occurrence = ox_xml.decode(ItemKind.EVENT, saved)
        found = (
            exception_from(series, occurrence, position) if isinstance(occurrence, Event) else None
        )
        if found is not None:
            changes.append(found)
    return with_exceptions(series, changes)


def _saved(record: Record, contact_ref: Callable[[str], tuple[str, str]]) -> Element:
    """The elements OX keeps of ``record`` written as a create."""
    prop = new_prop()
    ox_xml.encode(record, prop, full=False, contact_ref=contact_ref)
    flag = None
    for child in list(prop):
        if child.tag == _ALARM_FLAG:
            flag = child.text
            prop.remove(child)  # about the request, not a field OX keeps
        elif not (child.text or "").strip() and len(child) == 0 and not child.attrib:
            prop.remove(child)  # an empty element is no field (it clears one)
    if (flag or "").strip().lower() != "true":
        for child in list(prop.iterchildren(_ALARM)):
            prop.remove(child)  # OX saves an alarm only with alarm_flag true
    return prop


def _take_days(prop: Element, positions: dict[int, Element]) -> None:
    """The series after its exception objects were created: each day is a change
    exception, no longer a delete exception."""
    text = child_text(prop, "deleteexceptions")
    if not text:
        return
    kept = [d for d in text.split(",") if d.strip() and int(d) not in positions]
    for el in prop.iterchildren(_OX + "deleteexceptions"):
        el.text = ",".join(kept) or None
        if not kept:
            prop.remove(el)
        break
