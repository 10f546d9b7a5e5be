"""``AppointmentItem`` of the fake object model, its time zones and occurrences.

``Start``/``End`` are local wall-clock times (read back labelled UTC, like every COM
date); ``StartUTC``/``EndUTC`` are the true instants. All-day events are saved as local
midnight to local midnight (End exclusive). A recurring master shows its first
occurrence's times; ``GetOccurrence`` hands out occurrence objects whose ``Save`` /
``Delete`` record a changed / deleted exception on the master.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from oxsync.testing.outlook._base import OomObject, Recipients
from oxsync.testing.outlook._com import (
    E_FAIL,
    E_INVALIDARG,
    NO_DATE,
    com_error,
    labelled_utc,
    wall_clock,
)
from oxsync.testing.outlook._items import _COMMON, OutlookItem
from oxsync.testing.outlook._recurrence import (
    RecurrencePattern,
    occurrence_starts,
    validate_pattern,
)
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Application, Folder

__all__ = ["WINDOWS_ZONES", "AppointmentItem", "TimeZone", "TimeZones"]

WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Romance Standard Time": "Europe/Paris",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
    "India Standard Time": "Asia/Kolkata",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Fiji Standard Time": "Pacific/Fiji",
    "New Zealand Standard Time": "Pacific/Auckland",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Arabian Standard Time": "Asia/Dubai",
    "Singapore Standard Time": "Asia/Singapore",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "Central European Standard Time": "Europe/Warsaw",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "China Standard Time": "Asia/Shanghai",
}
"""Windows time-zone ids the fake knows, with their IANA equivalents (every zone the
Outlook adapter writes: tests/outlook/test_fake_model.py checks it)."""

_EXCEPTION_FIELDS = (
    "Subject",
    "Location",
    "Start",
    "End",
    "Body",
    "BusyStatus",
    "AllDayEvent",
    "ReminderSet",
    "ReminderMinutesBeforeStart",
)


class TimeZone(OomObject):
    """A Windows time zone (``ID`` is the Windows id)."""

    _PROPS: ClassVar[dict[str, Any]] = {"ID": "", "Name": "", "Bias": 0}
    _READONLY = frozenset(_PROPS)

    def __init__(self, app: Application, zone_id: str) -> None:
        super().__init__(app)
        self._p.update(ID=zone_id, Name=zone_id)
        self._zone = ZoneInfo(WINDOWS_ZONES[zone_id])


class TimeZones(OomObject):
    """``Application.TimeZones``: ``Item(id)`` and ``CurrentTimeZone``."""

    @property
    def CurrentTimeZone(self) -> TimeZone:
        """The zone Outlook shows local times in."""
        return TimeZone(self._app, self._app._windows_zone)

    def Item(self, Index: str) -> TimeZone:
        """The zone with Windows id ``Index``."""
        self._touch()
        if Index not in WINDOWS_ZONES:
            raise com_error(E_INVALIDARG, f"unknown time zone {Index!r}")
        return TimeZone(self._app, Index)


class AppointmentItem(OutlookItem):
    """``IPM.Appointment`` (OlObjectClass 26)."""

    _PROPS: ClassVar[dict[str, Any]] = {
        **_COMMON,
        "Start": NO_DATE,
        "End": NO_DATE,
        "AllDayEvent": False,
        "Location": "",
        "BusyStatus": constants.olBusy,
        "ReminderSet": True,
        "ReminderMinutesBeforeStart": 15,
        "MeetingStatus": 0,
        "ResponseStatus": 0,
        "ResponseRequested": True,
        "IsRecurring": False,
        "GlobalAppointmentID": "",
        "ConversationID": "",
        "ForceUpdateToAllAttendees": False,
    }
    _READONLY = OutlookItem._READONLY | {
        "ResponseStatus",
        "IsRecurring",
        "GlobalAppointmentID",
        "ConversationID",
    }
    _DATES = frozenset({"Start", "End"})
    CLASS = constants.olAppointment
    ITEM_TYPE = constants.olAppointmentItem
    MESSAGE_CLASS = "IPM.Appointment"

    def __init__(self, app: Application, folder: Folder | None) -> None:
        super().__init__(app, folder)
        now = app._to_local(app.clock.stamp())
        start = now.replace(minute=30 if now.minute < 30 else 0, second=0, microsecond=0)
        if now.minute >= 30:
            start += timedelta(hours=1)
        self._p.update(Start=start, End=start + timedelta(minutes=30))
        self._pattern: dict[str, Any] | None = None
        self._exceptions: list[dict[str, Any]] = []
        self._start_zone = app._windows_zone
        self._end_zone = app._windows_zone
        self._master: AppointmentItem | None = None
        self._original: datetime | None = None

    def _extra_state(self) -> dict[str, Any]:
        return {
            "pattern": copy.deepcopy(self._pattern),
            "exceptions": copy.deepcopy(self._exceptions),
            "zones": (self._start_zone, self._end_zone),
        }

    def _load_extra(self, state: dict[str, Any]) -> None:
        self._pattern = copy.deepcopy(state["pattern"])
        self._exceptions = copy.deepcopy(state["exceptions"])
        self._start_zone, self._end_zone = state["zones"]
        self._p["IsRecurring"] = self._pattern is not None

    # ------------------------------------------------------------------ times

    def _utc(self, local: datetime) -> datetime:
        return self._app._to_utc(local)

    @property
    def StartUTC(self) -> datetime:
        """Start as a true UTC instant."""
        return self._utc(self._p["Start"]).replace(tzinfo=UTC)

    @StartUTC.setter
    def StartUTC(self, value: datetime) -> None:
        self._set("Start", self._app._to_local(wall_clock(value).replace(tzinfo=UTC)))

    @property
    def EndUTC(self) -> datetime:
        """End as a true UTC instant."""
        return self._utc(self._p["End"]).replace(tzinfo=UTC)

    @EndUTC.setter
    def EndUTC(self, value: datetime) -> None:
        self._set("End", self._app._to_local(wall_clock(value).replace(tzinfo=UTC)))

    @property
    def Duration(self) -> int:
        """Length in minutes; setting it moves End."""
        return int((self._p["End"] - self._p["Start"]).total_seconds() // 60)

    @Duration.setter
    def Duration(self, minutes: int) -> None:
        self._set("End", self._p["Start"] + timedelta(minutes=int(minutes)))

    def _zone_get(self, which: str) -> TimeZone:
        return TimeZone(self._app, self._start_zone if which == "start" else self._end_zone)

    def _zone_set(self, which: str, zone: Any) -> None:
        zone_id = zone.ID if isinstance(zone, TimeZone) else str(zone)
        if zone_id not in WINDOWS_ZONES:
            raise com_error(E_INVALIDARG, f"unknown time zone {zone_id!r}")
        name = "Start" if which == "start" else "End"
        kept = self._in_zone(name, self._start_zone if which == "start" else self._end_zone)
        if which == "start":
            self._start_zone = zone_id
        else:
            self._end_zone = zone_id
        # Outlook keeps the wall clock in the item's zone and recomputes the local Start.
        instant = kept.replace(tzinfo=ZoneInfo(WINDOWS_ZONES[zone_id]))
        self._set(name, self._app._to_local(instant))

    def _in_zone(self, name: str, zone_id: str) -> datetime:
        utc = self._utc(self._p[name]).replace(tzinfo=UTC)
        return utc.astimezone(ZoneInfo(WINDOWS_ZONES[zone_id])).replace(tzinfo=None)

    @property
    def StartTimeZone(self) -> TimeZone:
        """Zone the start was entered in; setting it keeps that zone's wall clock."""
        return self._zone_get("start")

    @StartTimeZone.setter
    def StartTimeZone(self, zone: Any) -> None:
        self._zone_set("start", zone)

    @property
    def EndTimeZone(self) -> TimeZone:
        """Zone the end was entered in."""
        return self._zone_get("end")

    @EndTimeZone.setter
    def EndTimeZone(self, zone: Any) -> None:
        self._zone_set("end", zone)

    @property
    def StartInStartTimeZone(self) -> datetime:
        """Start as shown in StartTimeZone."""
        return labelled_utc(self._in_zone("Start", self._start_zone))

    @property
    def EndInEndTimeZone(self) -> datetime:
        """End as shown in EndTimeZone."""
        return labelled_utc(self._in_zone("End", self._end_zone))

    # ------------------------------------------------------------------ attendees

    @property
    def Recipients(self) -> Recipients:
        """Attendees (Type: olRequired / olOptional / olResource)."""
        return Recipients(self._app, self._recipients, self)

    def _names(self, kind: int) -> str:
        return "; ".join(r["Name"] for r in self._recipients if r["Type"] == kind)

    def _set_names(self, kind: int, text: str) -> None:
        from oxsync.testing.outlook._base import _resolve, new_recipient_record

        self._recipients[:] = [r for r in self._recipients if r["Type"] != kind]
        for name in filter(None, (n.strip() for n in (text or "").split(";"))):
            record = new_recipient_record(name)
            record["Type"] = kind
            _resolve(record)
            self._recipients.append(record)
        self._dirty = True

    @property
    def RequiredAttendees(self) -> str:
        """Semicolon-separated names of required attendees."""
        return self._names(constants.olRequired)

    @RequiredAttendees.setter
    def RequiredAttendees(self, value: str) -> None:
        self._set_names(constants.olRequired, value)

    @property
    def OptionalAttendees(self) -> str:
        """Semicolon-separated names of optional attendees."""
        return self._names(constants.olOptional)

    @OptionalAttendees.setter
    def OptionalAttendees(self, value: str) -> None:
        self._set_names(constants.olOptional, value)

    @property
    def Resources(self) -> str:
        """Semicolon-separated names of resources."""
        return self._names(constants.olResource)

    @Resources.setter
    def Resources(self, value: str) -> None:
        self._set_names(constants.olResource, value)

    @property
    def Organizer(self) -> str:
        """Name of the organizer (the profile's user for items created here)."""
        return str(self._app.Session.CurrentUser.Name)

    # ------------------------------------------------------------------ recurrence

    @property
    def RecurrenceState(self) -> int:
        """0 not recurring, 1 master, 2 occurrence, 3 exception."""
        if self._master is not None:
            changed = any(
                e["original"] == self._original and not e["deleted"]
                for e in self._master._exceptions
            )
            return constants.olApptException if changed else constants.olApptOccurrence
        return constants.olApptMaster if self._pattern is not None else 0

    def GetRecurrencePattern(self) -> RecurrencePattern:
        """The pattern (created — weekly, no end — making the item recurring, if none)."""
        self._touch()
        if self._master is not None:
            return self._master.GetRecurrencePattern()
        if self._pattern is None:
            # the pattern's times are wall-clock times in StartTimeZone (see _local_starts)
            start = (
                self._p["Start"]
                if self._p["AllDayEvent"]
                else self._in_zone("Start", self._start_zone)
            )
            self._pattern = RecurrencePattern.initial(
                start, self.Duration, self._app.first_day_of_week
            )
            self._p["IsRecurring"] = True
            self._dirty = True
        return RecurrencePattern(self)

    def ClearRecurrencePattern(self) -> None:
        """Make the appointment single again (exceptions are dropped)."""
        self._touch()
        self._pattern = None
        self._exceptions = []
        self._p["IsRecurring"] = False
        self._dirty = True

    def _validate(self) -> None:
        if self._p["End"] < self._p["Start"]:
            raise com_error(E_INVALIDARG, "The end date you entered occurs before the start date.")
        if self._pattern is not None:
            validate_pattern(self._pattern)
            first = next(occurrence_starts(self._pattern), None)
            if first is None:
                raise com_error(E_FAIL, "the recurrence pattern has no occurrence")

    def _before_save(self) -> None:
        p = self._p
        if p["AllDayEvent"]:
            start = datetime.combine(p["Start"].date(), time())
            end = p["End"]
            if end.time() != time() or end <= start:
                end = datetime.combine(end.date(), time()) + timedelta(days=1)
            p["Start"], p["End"] = start, max(end, start + timedelta(days=1))
        if self._pattern is not None and self._master is None:
            first = next(self._local_starts())
            p["Start"] = first
            p["End"] = first + timedelta(minutes=self._pattern["Duration"])
        if not p["GlobalAppointmentID"]:
            p["GlobalAppointmentID"] = (
                "040000008200E00074C5B7101A82E008" + "0" * 32 + uuid.uuid4().hex.upper()
            )

    # ------------------------------------------------------------------ occurrences

    @classmethod
    def _occurrence(cls, master: AppointmentItem, original: datetime) -> AppointmentItem:
        occ = cls(master._app, master._folder)
        occ._load(master._state())
        occ._pattern = None
        occ._exceptions = []
        occ._master = master
        occ._original = original
        assert master._pattern is not None
        occ._p["Start"] = original
        occ._p["End"] = original + timedelta(minutes=master._pattern["Duration"])
        for exc in master._exceptions:
            if exc["original"] == original and not exc["deleted"]:
                occ._p.update(exc["props"])
        occ._p["IsRecurring"] = True
        occ._dirty = False
        return occ

    def Save(self) -> None:
        """Save; on an occurrence, record a changed exception on the master."""
        if self._master is None:
            super().Save()
            return
        self._touch()
        self._validate()
        master, original = self._master, self._original
        assert master._pattern is not None and original is not None
        base = {"Start": original, "End": original + timedelta(minutes=master._pattern["Duration"])}
        changed = {
            name: self._p[name]
            for name in _EXCEPTION_FIELDS
            if self._p[name] != base.get(name, master._p[name])
        }
        master._exceptions[:] = [e for e in master._exceptions if e["original"] != original]
        master._exceptions.append({"original": original, "deleted": False, "props": changed})
        master._exceptions.sort(key=lambda e: e["original"])
        master._dirty = True
        master.Save()
        self._dirty = False

    def Delete(self) -> None:
        """Delete; on an occurrence, record a deleted exception on the master."""
        if self._master is None:
            super().Delete()
            return
        self._touch()
        master, original = self._master, self._original
        assert original is not None
        master._exceptions[:] = [e for e in master._exceptions if e["original"] != original]
        master._exceptions.append({"original": original, "deleted": True, "props": {}})
        master._exceptions.sort(key=lambda e: e["original"])
        master._dirty = True
        master.Save()
        self._dead = True

    def _local_starts(self, last_day: date | None = None) -> Iterator[datetime]:
        """Session-local start of every occurrence (deleted ones included), in order.

        As in Outlook, a pattern's days (PatternStartDate…) and StartTime are wall-clock
        values in the series' StartTimeZone (RecurrencePattern.StartTime in the object
        model's documentation): a New York series on Tuesdays at 20:00 falls on
        Wednesdays at 02:00 in a Paris session. ``last_day`` is a session-local day. An
        all-day series keeps its days on the session's calendar (its occurrences are
        whole local days, midnight to midnight).
        """
        assert self._pattern is not None
        if self._p["AllDayEvent"]:
            yield from occurrence_starts(self._pattern, last_day=last_day)
            return
        zone = ZoneInfo(WINDOWS_ZONES[self._start_zone])
        local = self._app._to_local
        # a pattern day is at most a day from the session's day of the same occurrence
        limit = None if last_day is None else last_day + timedelta(days=1)
        for wall in occurrence_starts(self._pattern, last_day=limit):
            start = local(wall.replace(tzinfo=zone))
            if last_day is not None and start.date() > last_day:
                return
            yield start

    def _occurrence_items(self, first: datetime, last: datetime) -> list[AppointmentItem]:
        """Occurrences (exceptions applied, deleted ones skipped) starting in [first, last]."""
        if self._pattern is None:
            return [self] if first <= self._p["Start"] <= last else []
        out = []
        deleted = {e["original"].date() for e in self._exceptions if e["deleted"]}
        for start in self._local_starts(last_day=last.date()):
            if start.date() in deleted:
                continue
            occ = AppointmentItem._occurrence(self, start)
            if first <= occ._p["Start"] <= last:
                out.append(occ)
        return out
