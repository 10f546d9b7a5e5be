"""``TaskItem`` of the fake object model, with Outlook's status / percent coupling."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from oxsync.testing.outlook._base import (
    Recipients,
)
from oxsync.testing.outlook._com import E_INVALIDARG, NO_DATE, com_error
from oxsync.testing.outlook._items import _COMMON, OutlookItem
from oxsync.testing.outlook.constants import constants

if TYPE_CHECKING:
    from oxsync.testing.outlook._model import Application, Folder

__all__ = ["TaskItem"]


class TaskItem(OutlookItem):
    """``IPM.Task`` (OlObjectClass 48), with Outlook's status / percent / complete coupling."""

    _PROPS: ClassVar[dict[str, Any]] = {
        **_COMMON,
        "StartDate": NO_DATE,
        "DueDate": NO_DATE,
        "DateCompleted": NO_DATE,
        "Complete": False,
        "Status": 0,
        "PercentComplete": 0,
        "ReminderSet": False,
        "ReminderTime": NO_DATE,
        "TotalWork": 0,
        "ActualWork": 0,
        "ContactNames": "",
        "Owner": "",
        "Ownership": 0,
        "DelegationState": 0,
        "Delegator": "",
        "ResponseState": 0,
        "Role": "",
        "TeamTask": False,
        "StatusUpdateRecipients": "",
        "StatusOnCompletionRecipients": "",
        "IsRecurring": False,
    }
    _READONLY = OutlookItem._READONLY | {
        "Ownership",
        "DelegationState",
        "Delegator",
        "ResponseState",
        "IsRecurring",
    }
    _DATES = frozenset({"StartDate", "DueDate", "DateCompleted", "ReminderTime"})
    CLASS = constants.olTask
    ITEM_TYPE = constants.olTaskItem
    MESSAGE_CLASS = "IPM.Task"

    def __init__(self, app: Application, folder: Folder | None) -> None:
        super().__init__(app, folder)
        self._pattern: dict[str, Any] | None = None

    def _extra_state(self) -> dict[str, Any]:
        return {"pattern": copy.deepcopy(self._pattern)}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self._pattern = copy.deepcopy(state.get("pattern"))
        self._p["IsRecurring"] = self._pattern is not None

    _SET_HOOKS: ClassVar[frozenset[str]] = OutlookItem._SET_HOOKS | {
        "PercentComplete",
        "Status",
        "Complete",
    }

    def _set(self, name: str, value: Any) -> None:
        super()._set(name, value)
        p = self._p
        if name == "PercentComplete":
            if not 0 <= p["PercentComplete"] <= 100:
                raise com_error(E_INVALIDARG, "PercentComplete must be within 0..100")
            if p["PercentComplete"] == 100:
                self._complete()
            elif p["Status"] == constants.olTaskComplete or p["Complete"]:
                p["Complete"] = False
                p["DateCompleted"] = NO_DATE
                p["Status"] = (
                    constants.olTaskInProgress
                    if p["PercentComplete"]
                    else constants.olTaskNotStarted
                )
        elif name == "Status":
            if p["Status"] == constants.olTaskComplete:
                self._complete()
            elif p["Complete"]:
                p["Complete"] = False
                p["DateCompleted"] = NO_DATE
                if p["PercentComplete"] == 100:
                    p["PercentComplete"] = 0
        elif name == "Complete":
            if p["Complete"]:
                self._complete()
            elif p["Status"] == constants.olTaskComplete:
                p["Status"] = constants.olTaskNotStarted
                p["PercentComplete"] = 0
                p["DateCompleted"] = NO_DATE

    def _complete(self) -> None:
        p = self._p
        p["Complete"] = True
        p["Status"] = constants.olTaskComplete
        p["PercentComplete"] = 100
        if p["DateCompleted"] == NO_DATE:
            today = self._app._to_local(self._app.clock.stamp())
            p["DateCompleted"] = datetime(today.year, today.month, today.day)

    def MarkComplete(self) -> None:
        """Set 100 %, Complete and DateCompleted = today."""
        self._touch()
        self._complete()
        self._dirty = True

    @property
    def Recipients(self) -> Recipients:
        """Assignees of a delegated task."""
        return Recipients(self._app, self._recipients, self)

    def Assign(self) -> None:
        """Turn the task into an assignment (delegated, state unknown until answered)."""
        self._touch()
        self._p["Ownership"] = constants.olDelegatedTask
        self._p["DelegationState"] = constants.olTaskDelegationUnknown
        self._p["Delegator"] = self._app.Session.CurrentUser.Name
        self._dirty = True

    def GetRecurrencePattern(self) -> Any:
        """The recurrence pattern (created, making the task recurring, if none)."""
        from oxsync.testing.outlook._recurrence import RecurrencePattern

        self._touch()
        if self._pattern is None:
            self._pattern = RecurrencePattern.initial(
                self._task_anchor(), 0, self._app.first_day_of_week
            )
            self._p["IsRecurring"] = True
            self._dirty = True
        return RecurrencePattern(self)

    def ClearRecurrencePattern(self) -> None:
        """Make the task non-recurring."""
        self._touch()
        self._pattern = None
        self._p["IsRecurring"] = False
        self._dirty = True

    def _task_anchor(self) -> datetime:
        for name in ("StartDate", "DueDate"):
            if self._p[name] != NO_DATE:
                return datetime.combine(self._p[name].date(), datetime.min.time())
        today = self._app._to_local(self._app.clock.stamp())
        return datetime(today.year, today.month, today.day)

    def _validate(self) -> None:
        if self._pattern is not None:
            from oxsync.testing.outlook._recurrence import validate_pattern

            validate_pattern(self._pattern)
        if self._p["Ownership"] == constants.olNewTask and self._p["EntryID"] == "":
            self._p["Ownership"] = constants.olOwnTask
