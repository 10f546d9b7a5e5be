"""Outlook enumeration values used by the fake (the ``win32com.client.constants`` names).

Values are those of the Outlook object model reference (``outlook-object-model.md`` §2,
§3 and §11), so code written against ``constants.olFolderContacts`` and friends reads
the same here and on Windows.
"""

from __future__ import annotations

__all__ = ["PS_PUBLIC_STRINGS", "constants"]

PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
"""Property set where UserProperties land (for PropertyAccessor / Table columns)."""


class _Constants:
    """Namespace of Outlook constants, like ``win32com.client.constants``."""

    # OlDefaultFolders
    olFolderDeletedItems = 3
    olFolderOutbox = 4
    olFolderSentMail = 5
    olFolderInbox = 6
    olFolderCalendar = 9
    olFolderContacts = 10
    olFolderJournal = 11
    olFolderNotes = 12
    olFolderTasks = 13
    olFolderDrafts = 16
    # OlBodyFormat
    olFormatUnspecified = 0
    olFormatPlain = 1
    olFormatHTML = 2
    olFormatRichText = 3
    # OlItemType
    olMailItem = 0
    olAppointmentItem = 1
    olContactItem = 2
    olTaskItem = 3
    olJournalItem = 4
    olNoteItem = 5
    olPostItem = 6
    olDistributionListItem = 7
    # OlObjectClass
    olAppointment = 26
    olRecurrencePattern = 28
    olException = 30
    olContact = 40
    olMail = 43
    olTask = 48
    olDistributionList = 69
    # OlSensitivity
    olNormal = 0
    olPersonal = 1
    olPrivate = 2
    olConfidential = 3
    # OlBusyStatus
    olFree = 0
    olTentative = 1
    olBusy = 2
    olOutOfOffice = 3
    olWorkingElsewhere = 4
    # OlTaskStatus
    olTaskNotStarted = 0
    olTaskInProgress = 1
    olTaskComplete = 2
    olTaskWaiting = 3
    olTaskDeferred = 4
    # OlImportance
    olImportanceLow = 0
    olImportanceNormal = 1
    olImportanceHigh = 2
    # OlRecurrenceType
    olRecursDaily = 0
    olRecursWeekly = 1
    olRecursMonthly = 2
    olRecursMonthNth = 3
    olRecursYearly = 5
    olRecursYearNth = 6
    # OlDaysOfWeek
    olSunday = 1
    olMonday = 2
    olTuesday = 4
    olWednesday = 8
    olThursday = 16
    olFriday = 32
    olSaturday = 64
    # OlMeetingStatus
    olNonMeeting = 0
    olMeeting = 1
    olMeetingReceived = 3
    olMeetingCanceled = 5
    # OlResponseStatus
    olResponseNone = 0
    olResponseOrganized = 1
    olResponseTentative = 2
    olResponseAccepted = 3
    olResponseDeclined = 4
    olResponseNotResponded = 5
    # OlTaskDelegationState
    olTaskNotDelegated = 0
    olTaskDelegationUnknown = 1
    olTaskDelegationAccepted = 2
    olTaskDelegationDeclined = 3
    # OlTaskOwnership
    olNewTask = 0
    olDelegatedTask = 1
    olOwnTask = 2
    # OlMeetingRecipientType
    olOrganizer = 0
    olRequired = 1
    olOptional = 2
    olResource = 3
    # OlAttachmentType
    olByValue = 1
    olByReference = 4
    olEmbeddeditem = 5
    olOLE = 6
    # OlRecurrenceState
    olApptNotRecurring = 0
    olApptMaster = 1
    olApptOccurrence = 2
    olApptException = 3
    # OlUserPropertyType
    olText = 1
    olNumber = 3
    olDateTime = 5
    olYesNo = 6
    olDuration = 7
    olKeywords = 11
    olPercent = 12
    olCurrency = 14
    olInteger = 20
    # OlTableContents
    olUserItems = 0
    olHiddenItems = 1
    # OlMailingAddress
    olNone = 0
    olHome = 1
    olBusiness = 2
    olOther = 3
    # OlGender
    olUnspecified = 0
    olFemale = 1
    olMale = 2


constants = _Constants()
"""The Outlook constants (``constants.olFolderContacts == 10``)."""
