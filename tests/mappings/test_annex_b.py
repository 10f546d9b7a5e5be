"""Every row of the OXtender manual's Annex B (tables 11.1–11.3) survives
Outlook -> canonical -> OX XML -> canonical -> Outlook.

Rows are written out below from ``shared/reference/oxtender-manual-fr.txt`` chapter 11 and
``field-map.md`` (OOM property, OX element). ``annex_ox == "--"`` marks rows the manual
says the OXtender did not synchronise; they are carried anyway where OX has a field
(field-map.md §5). Two kinds of rows cannot go through the OX *XML* document and are
proved differently: attachments (the OX adapter moves them through
``webdav.attachments``; here: Outlook <-> canonical, and the field is declared in
``OX_UNSUPPORTED`` so a merge keeps it) and "Contacts" links (no field anywhere).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from oxsync.core.records import ItemKind
from oxsync.mappings import outlook, ox_xml

TZ = ZoneInfo("Europe/Paris")


class Row(NamedTuple):
    table: str
    label: str  # Outlook tab › field, as printed in the manual
    annex_ox: str  # MailXchange field as printed, "--" = not synchronised by OXtender
    props: dict[str, Any]  # Outlook properties set for this row
    element: str | None  # OX element that must carry it (None: not in the XML document)


C, A, T = "11.1", "11.2", "11.3"
_ATTACH = [{"FileName": "plan.pdf", "ContentType": "application/pdf", "Data": b"%PDF-1"}]
_GRACE = [{"Name": "Grace Hopper", "Address": "grace@example.org", "Type": 1,
           "MeetingResponseStatus": 3}]  # fmt: skip

ROWS = [
    Row(C, "Général › Nom complet Titre", "Titre", {"Title": "Dr"}, "title"),
    Row(C, "Nom complet Prénom", "Prénom", {"FirstName": "Éloïse"}, "first_name"),
    Row(C, "Nom complet Deuxième prénom", "Second prénom", {"MiddleName": "Zoé"}, "second_name"),
    Row(C, "Nom complet Nom", "Nom", {"LastName": "Dupont-Søren"}, "last_name"),
    Row(C, "Nom complet Suffixe", "Suffixe", {"Suffix": "Jr."}, "suffix"),
    Row(C, "Titre", "Position", {"JobTitle": "Ingénieure"}, "position"),
    Row(C, "Société", "Société", {"CompanyName": "Açme & Fils"}, "company"),
    Row(C, "Téléphone Bureau", "Tél. (professionnel)",
        {"BusinessTelephoneNumber": "+33 1 23 45 67 89"}, "phone_business"),
    Row(C, "Téléphone Domicile", "Tél. (privé)", {"HomeTelephoneNumber": "+33 4 00"}, "phone_home"),
    Row(C, "Télécopie (bureau)", "Fax (professionnel)", {"BusinessFaxNumber": "+33 1 99"},
        "fax_business"),
    Row(C, "Téléphone mobile", "Portable", {"MobileTelephoneNumber": "+33 6 12"}, "mobile1"),
    Row(C, "Assistant(e)", "--", {"AssistantTelephoneNumber": "+33 1 11"}, "phone_assistant"),
    Row(C, "Bureau 2", "Tél. (professionnel 2)", {"Business2TelephoneNumber": "+33 1 22"},
        "phone_business2"),
    Row(C, "Rappel", "--", {"CallbackTelephoneNumber": "+33 1 33"}, "callback"),
    Row(C, "Voiture", "Tél. (voiture)", {"CarTelephoneNumber": "+33 6 44"}, "phone_car"),
    Row(C, "Société (téléphone)", "Tél. (de la société)",
        {"CompanyMainTelephoneNumber": "+33 1 55"}, "phone_company"),
    Row(C, "Domicile 2", "Tél. (privé 2)", {"Home2TelephoneNumber": "+33 4 66"}, "phone_home2"),
    Row(C, "Télécopie (domicile)", "Fax (privé)", {"HomeFaxNumber": "+33 4 77"}, "fax_home"),
    Row(C, "RNIS", "--", {"ISDNNumber": "+33 1 88"}, "isdn"),
    # Note A of field-map.md: the second "Téléphone mobile" entry stands for Radio.
    Row(C, "Téléphone mobile (2e entrée)", "--", {"RadioTelephoneNumber": "+33 6 99"}, "radio"),
    Row(C, "Autre", "Tél. (autre)", {"OtherTelephoneNumber": "+33 9 00"}, "phone_other"),
    Row(C, "Autre Télécopie", "Fax (autre)", {"OtherFaxNumber": "+33 9 01"}, "fax_other"),
    Row(C, "Radiomessagerie", "Afficheur portable", {"PagerNumber": "0800"}, "pager"),
    Row(C, "Principal", "--", {"PrimaryTelephoneNumber": "+33 1 00"}, "primary"),
    Row(C, "Télex", "Télex", {"TelexNumber": "42 TLX"}, "telex"),
    Row(C, "TTY/TDD", "Télécopieur / tél. malentendants", {"TTYTDDTelephoneNumber": "+33 1 77"},
        "tty_tdd"),
    *[
        Row(C, f"Adresses {fr} {part_fr}", part_fr, {f"{oom}Address{part}": f"{oom} {part} ✓"},
            f"{prefix}{element}")
        for fr, oom, prefix in (("Bureau", "Business", "business_"), ("Domicile", "Home", ""),
                                ("Autre", "Other", "second_"))
        for part_fr, part, element in (("Rue", "Street", "street"),
                                       ("Code postal", "PostalCode", "postal_code"),
                                       ("Ville", "City", "city"), ("Dép/Région", "State", "state"),
                                       ("Pays", "Country", "country"))
    ],
    Row(C, "Adresse de messagerie", "Courriel (professionnel)",
        {"Email1Address": "eloise@example.fr"}, "email1"),
    Row(C, "Adresse de messagerie 2", "Courriel (privé)", {"Email2Address": "e@home.fr"}, "email2"),
    Row(C, "Adresse de messagerie 3", "Courriel (autre)", {"Email3Address": "e@other.fr"},
        "email3"),
    Row(C, "Page Web", "URL", {"WebPage": "https://example.fr/éloïse"}, "url"),
    Row(C, "Messagerie instantanée", "MI (professionnelle)", {"IMAddress": "xmpp:e@example.fr"},
        "instant_messenger"),
    Row(C, "(champ de commentaires)", "Commentaires", {"Body": "Ligne 1\r\nLigne 2 — ✓"}, "note"),
    Row(C, "(fichiers insérés)", "Pièces jointes", {"_attachments": _ATTACH}, None),
    Row(C, "Catégories", "Marques", {"Categories": "Clients;VIP"}, "categories"),
    Row(C, "Privé", "Type", {"Sensitivity": 2}, "private_flag"),
    Row(C, "Détails › Service", "Département", {"Department": "R&D"}, "department"),
    Row(C, "Bureau", "Numéro de salle", {"OfficeLocation": "B-204"}, "room_number"),
    Row(C, "Profession", "Profession", {"Profession": "Chimiste"}, "profession"),
    Row(C, "Responsable", "Directeur", {"ManagerName": "M. Curie"}, "managers_name"),
    Row(C, "Assistant(e)", "Assistant", {"AssistantName": "Mme Hopper"}, "assistants_name"),
    Row(C, "Surnom", "Surnom", {"NickName": "Lolo"}, "nickname"),
    Row(C, "Conjoint(e)", "Nom du conjoint", {"Spouse": "Pierre"}, "spouse_name"),
    Row(C, "Anniversaire", "Date de naissance", {"Birthday": datetime(1867, 11, 7)}, "birthday"),
    Row(C, "Anniversaire de mariage", "Anniversaire", {"Anniversary": datetime(1895, 7, 26)},
        "anniversary"),
    # ------------------------------------------------------------------ 11.2 appointments
    Row(A, "Rendez-vous › À", "Participants / Ressources", {"_recipients": _GRACE},
        "participants"),
    Row(A, "Objet", "Description", {"Subject": "Réunion ✓"}, "title"),
    Row(A, "Emplacement", "Lieu", {"Location": "Salle 3"}, "location"),
    Row(A, "Catégorie du calendrier", "--", {"_appointment_color": 4}, "color_label"),
    # the last Sunday of March 2026 is the Paris DST change
    Row(A, "Début", "Date de début", {"Start": datetime(2026, 3, 29, 9, 0)}, "start_date"),
    Row(A, "Journée entière", "Journée entière",
        {"AllDayEvent": True, "Start": datetime(2026, 3, 29), "End": datetime(2026, 3, 31)},
        "full_time"),
    Row(A, "Heure de fin", "Date de fin", {"End": datetime(2026, 3, 29, 18, 30)}, "end_date"),
    Row(A, "Rappel", "Me le rappeler", {"ReminderSet": True, "ReminderMinutesBeforeStart": 30},
        "alarm"),
    Row(A, "Disponibilité: Libre", "Afficher comme disponible", {"BusyStatus": 0}, "shown_as"),
    Row(A, "Disponibilité: Provisoire", "Afficher comme temporaire", {"BusyStatus": 1},
        "shown_as"),
    Row(A, "Disponibilité: Occupé(e)", "Afficher comme réservé", {"BusyStatus": 2}, "shown_as"),
    Row(A, "Disponibilité: Absent(e) du bureau", "Afficher comme absent", {"BusyStatus": 3},
        "shown_as"),
    Row(A, "(champ de commentaires)", "Commentaires", {"Body": "Ordre du jour"}, "note"),
    Row(A, "(fichiers joints)", "Pièces jointes", {"_attachments": _ATTACH}, None),
    Row(A, "Catégories", "Marques", {"Categories": "Projets;Équipe"}, "categories"),
    Row(A, "Privé", "Type", {"Sensitivity": 2}, "private_flag"),
    # ------------------------------------------------------------------ 11.3 tasks
    Row(T, "Tâche › À", "Participants", {"_recipients": _GRACE}, "participants"),
    Row(T, "Objet", "Sujet", {"Subject": "Tâche ✓"}, "title"),
    Row(T, "Échéance", "Date d'échéance", {"DueDate": datetime(2026, 4, 1)}, "end_date"),
    Row(T, "Début", "Date de début", {"StartDate": datetime(2026, 3, 30)}, "start_date"),
    *[
        Row(T, f"État {fr}", f"État {ox}", {"Status": n}, "status")
        for n, (fr, ox) in enumerate((("Non commencée", "Non démarré"),
                                      ("En cours de réalisation", "En cours"),
                                      ("Terminée", "Terminé"),
                                      ("Attente de quelqu'un d'autre", "En attente"),
                                      ("Différée", "Mis en attente")))
    ],
    Row(T, "Priorité (haute)", "Priorité", {"Importance": 2}, "priority"),
    Row(T, "Priorité (basse)", "Priorité", {"Importance": 0}, "priority"),
    Row(T, "% achevé", "% accompli", {"PercentComplete": 42}, "percent_completed"),
    Row(T, "Rappel", "Me le rappeler",
        {"ReminderSet": True, "ReminderTime": datetime(2026, 3, 31, 8, 30)}, "alarm"),
    Row(T, "(champ de commentaires)", "Commentaires", {"Body": "À faire"}, "note"),
    Row(T, "(fichiers insérés)", "Pièces jointes", {"_attachments": _ATTACH}, None),
    Row(T, "Catégories", "Marques", {"Categories": "Perso"}, "categories"),
    Row(T, "Privé", "Type", {"Sensitivity": 2}, "private_flag"),
    Row(T, "Détails › Date de fin", "--", {"DateCompleted": datetime(2026, 4, 2)},
        "date_completed"),
    Row(T, "Travail total", "Durée estimée", {"TotalWork": 480}, "target_duration"),
    Row(T, "Travail réel", "Durée actuelle", {"ActualWork": 90}, "actual_duration"),
    Row(T, "Sociétés", "Sociétés", {"Companies": "Açme; Initech"}, "companies"),
    Row(T, "Kilométrage", "Distance", {"Mileage": "120 km"}, "trip_meter"),
    Row(T, "Informations facturation", "Informations de facturation",
        {"BillingInformation": "Projet 7"}, "billing_information"),
]  # fmt: skip

NOT_CARRIED = [
    (A, "Contacts", "--", "Links: Outlook item links have no OX field and no canonical field"),
    (T, "Contacts", "--", "Links / ContactNames: no OX field and no canonical field"),
]

KIND = {C: ItemKind.CONTACT, A: ItemKind.EVENT, T: ItemKind.TASK}
BASE: dict[str, dict[str, Any]] = {
    C: {},
    A: {
        "Subject": "Base",
        "Start": datetime(2026, 3, 29, 8, 0),
        "End": datetime(2026, 3, 29, 19, 0),
        "AllDayEvent": False,
    },
    T: {"Subject": "Base"},
}


def _ox_trip(kind: ItemKind, record: Any) -> tuple[Any, etree._Element]:
    prop = ox_xml.new_prop()
    ox_xml.encode(record, prop)
    parsed = etree.fromstring(etree.tostring(prop))
    return ox_xml.decode(kind, parsed), parsed


def _id(row: Row) -> str:
    return f"{row.table}-{row.label}-{'-'.join(row.props)}"


def test_annex_b_has_every_row_of_the_manual():
    counts = {t: sum(1 for row in ROWS if row.table == t) for t in (C, A, T)}
    # 59 contact rows (28 of them addresses/phones); appointments: 16 rows of the table with
    # availability split in four (+1 for "Contacts", not carried); tasks likewise.
    assert counts[C] == 59
    assert counts[A] + 1 == 17
    assert counts[T] + 2 == 25  # two extra: high and low priority; + "Contacts"


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_annex_b_row_survives_outlook_ox_outlook(row: Row):
    kind = KIND[row.table]
    props = {**BASE[row.table], **row.props}
    canonical = outlook.from_outlook(kind, props, tz=TZ)
    if row.element is None:
        # attachments: the XML document cannot hold them; the OX adapter uploads them.
        assert row.props.keys() == {"_attachments"}
        assert "attachments" in ox_xml.OX_UNSUPPORTED[kind]
        back = outlook.to_outlook(canonical, tz=TZ)
        assert back["_attachments"] == row.props["_attachments"]
        return
    again, xml = _ox_trip(kind, canonical)
    carrier = xml.find(f"{{{ox_xml.OX_NS}}}{row.element}")
    assert carrier is not None and (carrier.text or len(carrier)), row.element
    back = outlook.to_outlook(again, tz=TZ)
    for key, value in row.props.items():
        assert back[key] == value, (row.label, key)


@pytest.mark.parametrize(("table", "label", "annex", "why"), NOT_CARRIED)
def test_rows_without_any_field_are_documented(table, label, annex, why):
    assert annex == "--"
    kind = KIND[table]
    record = outlook.from_outlook(kind, {**BASE[table], "Links": ["x"]}, tz=TZ)
    assert "Links" not in outlook.to_outlook(record, tz=TZ), why


def test_optional_attendee_becomes_required_through_ox():
    """field-map §4: OX has no required/optional distinction (documented loss)."""
    optional = [{**_GRACE[0], "Type": 2}]
    record = outlook.from_outlook(ItemKind.EVENT, {**BASE[A], "_recipients": optional}, tz=TZ)
    again, _ = _ox_trip(ItemKind.EVENT, record)
    assert outlook.to_outlook(again, tz=TZ)["_recipients"][0]["Type"] == 1
