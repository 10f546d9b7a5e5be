"""Declarative field tables: each native form <-> the canonical records of ``oxsync.core``.

One module per native form, one table per item kind in each:

- :mod:`oxsync.mappings.ox_xml` — OX WebDAV/XML elements (``encode`` / ``decode``);
- :mod:`oxsync.mappings.outlook` — Outlook object-model properties
  (``to_outlook`` / ``from_outlook``);
- :mod:`oxsync.mappings.ical` and :mod:`oxsync.mappings.vcard` — iCalendar and vCard;
- :mod:`oxsync.mappings.values` — the value conversions they share (enum tables,
  categories, OX milliseconds, Outlook's no-date, the sensitivity rule);
- :mod:`oxsync.mappings.recurrence` — one recurrence model in OX, Outlook and RRULE
  form, and DST-safe expansion.

Every converter reports all bad fields at once as :class:`oxsync.errors.MappingError`.
Each form publishes the canonical fields it cannot hold (``OX_UNSUPPORTED``,
``OUTLOOK_UNSUPPORTED``) for ``Capabilities.unsupported_fields``. See
``docs/mappings.md``.
"""
