"""Demo data for ``booking seed-demo`` and ``booking dev``: one city, three offices.

Seeding twice changes nothing: locations that exist keep their hours and closures.
Demo logins and device tokens are fixed, well-known values, so only ``booking dev`` seeds
them (``seed_demo_access``); ``seed-demo``, which may run against production, never does.
"""

from __future__ import annotations

from datetime import date, datetime, time

import msgspec

from booking.auth.passwords import hash_password
from booking.auth.principals import DeviceKind, Role
from booking.db import Connection
from booking.db import catalogue as q
from booking.db import desks as desk_q
from booking.db import devices as device_q
from booking.db import staff as staff_q
from booking.db.catalogue import NewClosure, NewLocation, NewOpeningRule, NewService
from booking.grid import regenerate_all_grids
from booking.tokens import token_hash

_ID_CARD_DOCS = (
    ["Bisheriger Ausweis oder Pass", "Ein aktuelles biometrisches Passfoto",
     "Bei Namensänderung: Heirats- oder Geburtsurkunde"],
    ["Your current identity card or passport", "One recent biometric passport photo",
     "After a change of name: marriage or birth certificate"],
)  # fmt: skip

SERVICES: tuple[NewService, ...] = (
    NewService(slug="personalausweis", name_de="Personalausweis beantragen",
               name_en="Apply for an identity card",
               description_de="Neuer Personalausweis für Deutsche ab 16 Jahren.",
               description_en="A new identity card for German citizens aged 16 and over.",
               documents_de=_ID_CARD_DOCS[0], documents_en=_ID_CARD_DOCS[1],
               duration_minutes=20, queue_prefix="A"),
    NewService(slug="reisepass", name_de="Reisepass beantragen", name_en="Apply for a passport",
               description_de="Elektronischer Reisepass, Bearbeitungszeit etwa vier Wochen.",
               description_en="Electronic passport, ready in about four weeks.",
               documents_de=_ID_CARD_DOCS[0], documents_en=_ID_CARD_DOCS[1],
               duration_minutes=20, queue_prefix="A"),
    NewService(slug="wohnsitz-anmelden", name_de="Wohnsitz anmelden",
               name_en="Register your residence",
               description_de="Anmeldung innerhalb von zwei Wochen nach dem Einzug.",
               description_en="Register within two weeks of moving in.",
               documents_de=["Personalausweis oder Pass", "Wohnungsgeberbestätigung"],
               documents_en=["Identity card or passport", "Landlord's confirmation"],
               duration_minutes=15, queue_prefix="B"),
    NewService(slug="wohnsitz-ummelden", name_de="Wohnsitz ummelden",
               name_en="Change your address",
               description_de="Umzug innerhalb von Musterstadt.",
               description_en="Moving within Musterstadt.",
               documents_de=["Personalausweis oder Pass", "Wohnungsgeberbestätigung"],
               documents_en=["Identity card or passport", "Landlord's confirmation"],
               duration_minutes=10, queue_prefix="B"),
    NewService(slug="meldebescheinigung", name_de="Meldebescheinigung ausstellen",
               name_en="Certificate of registration",
               description_de="Bescheinigung über Ihre gemeldete Adresse.",
               description_en="Confirms your registered address.",
               documents_de=["Personalausweis oder Pass"],
               documents_en=["Identity card or passport"],
               duration_minutes=5, queue_prefix="C"),
    NewService(slug="fuehrungszeugnis", name_de="Führungszeugnis beantragen",
               name_en="Certificate of good conduct",
               description_de="Für Arbeitgeber oder Behörden; Gebühr 13 Euro.",
               description_en="For employers or authorities; fee 13 euros.",
               documents_de=["Personalausweis oder Pass"],
               documents_en=["Identity card or passport"],
               duration_minutes=10, queue_prefix="C"),
    NewService(slug="beglaubigung", name_de="Amtliche Beglaubigung",
               name_en="Certified copies",
               description_de="Beglaubigung von Kopien und Unterschriften.",
               description_en="Certification of copies and signatures.",
               documents_de=["Originaldokumente", "Personalausweis oder Pass"],
               documents_en=["Original documents", "Identity card or passport"],
               duration_minutes=10, queue_prefix="C"),
    NewService(slug="ausweis-abholen", name_de="Ausweisdokument abholen",
               name_en="Collect your ID document",
               description_de="Abholung eines fertigen Ausweises oder Passes.",
               description_en="Collect a finished identity card or passport.",
               documents_de=["Abholschein", "Bisheriges Dokument"],
               documents_en=["Collection slip", "Your previous document"],
               duration_minutes=5, queue_prefix="D"),
    NewService(slug="fahrzeug-zulassen", name_de="Fahrzeug zulassen",
               name_en="Register a vehicle",
               description_de="Neu- oder Wiederzulassung eines Fahrzeugs.",
               description_en="First or renewed registration of a vehicle.",
               documents_de=["Zulassungsbescheinigung Teil I und II", "eVB-Nummer",
                             "SEPA-Mandat für die Kfz-Steuer", "Personalausweis"],
               documents_en=["Registration certificate parts I and II", "Insurance code (eVB)",
                             "SEPA mandate for vehicle tax", "Identity card"],
               duration_minutes=30, queue_prefix="K"),
    NewService(slug="fahrzeug-abmelden", name_de="Fahrzeug außer Betrieb setzen",
               name_en="Deregister a vehicle",
               description_de="Abmeldung mit Kennzeichen und Zulassungsbescheinigung.",
               description_en="Bring the number plates and the registration certificate.",
               documents_de=["Kennzeichenschilder", "Zulassungsbescheinigung Teil I"],
               documents_en=["Number plates", "Registration certificate part I"],
               duration_minutes=15, queue_prefix="K"),
)  # fmt: skip

_CITIZEN_SERVICES = tuple(s.slug for s in SERVICES if s.queue_prefix in "ABCD")
_VEHICLE_SERVICES = ("fahrzeug-zulassen", "fahrzeug-abmelden")


def _citizen_office_hours(desks: int) -> list[NewOpeningRule]:
    """Typical Bürgeramt week: mornings, two afternoons, the long Thursday."""
    return [
        NewOpeningRule(1, time(8), time(12, 30), desks),
        NewOpeningRule(1, time(13, 30), time(16), desks - 1),
        NewOpeningRule(2, time(8), time(12, 30), desks),
        NewOpeningRule(3, time(8), time(12), desks),
        NewOpeningRule(4, time(10), time(19), desks),
        NewOpeningRule(5, time(8), time(12), desks - 1),
    ]


class DemoLocation(NewLocation, frozen=True, kw_only=True):
    services: tuple[str, ...]
    hours: list[NewOpeningRule]
    # Per-location durations where this office is slower or faster than the default.
    durations: dict[str, int] = msgspec.field(default_factory=dict)


LOCATIONS: tuple[DemoLocation, ...] = (
    DemoLocation(slug="mitte", name_de="Bürgeramt Musterstadt-Mitte",
                 name_en="Citizens' Office Musterstadt Centre",
                 street="Rathausplatz 1", postal_code="12345", city="Musterstadt",
                 phone="+49 1234 567-0", email="buergeramt-mitte@musterstadt.example",
                 services=_CITIZEN_SERVICES, hours=_citizen_office_hours(4)),
    DemoLocation(slug="nord", name_de="Bürgeramt Musterstadt-Nord",
                 name_en="Citizens' Office Musterstadt North",
                 street="Lindenallee 42", postal_code="12349", city="Musterstadt",
                 phone="+49 1234 567-200", email="buergeramt-nord@musterstadt.example",
                 services=_CITIZEN_SERVICES, hours=_citizen_office_hours(2),
                 durations={"personalausweis": 30, "reisepass": 30},
                 requires_confirmation=True),
    DemoLocation(slug="kfz", name_de="Kfz-Zulassungsstelle Musterstadt",
                 name_en="Vehicle Registration Office Musterstadt",
                 street="Am Gewerbepark 7", postal_code="12347", city="Musterstadt",
                 phone="+49 1234 567-300", email="kfz@musterstadt.example",
                 services=_VEHICLE_SERVICES, grid_minutes=15,
                 hours=[NewOpeningRule(day, time(7, 30), time(12, 30), 3) for day in range(1, 6)]
                 + [NewOpeningRule(4, time(14), time(18), 2)]),
)  # fmt: skip


def public_holidays(year: int) -> list[NewClosure]:
    """Nation-wide fixed holidays plus the two half days offices close on."""
    fixed = [
        ((1, 1), "Neujahr", "New Year's Day"),
        ((5, 1), "Tag der Arbeit", "Labour Day"),
        ((10, 3), "Tag der Deutschen Einheit", "German Unity Day"),
        ((12, 24), "Heiligabend", "Christmas Eve"),
        ((12, 25), "1. Weihnachtstag", "Christmas Day"),
        ((12, 26), "2. Weihnachtstag", "Boxing Day"),
        ((12, 31), "Silvester", "New Year's Eve"),
    ]
    return [NewClosure(date(year, m, d), date(year, m, d), de, en) for (m, d), de, en in fixed]


async def seed_demo(conn: Connection, now: datetime) -> str:
    year = now.year
    async with conn.transaction():
        service_ids = {svc.slug: await q.upsert_service(conn, svc) for svc in SERVICES}
        created = []
        for loc in LOCATIONS:
            location_id = await q.insert_location_if_missing(conn, loc)
            if location_id is None:
                continue
            created.append(loc.slug)
            for slug in loc.services:
                await q.offer_service(conn, location_id, service_ids[slug], loc.durations.get(slug))
            await q.insert_opening_rules(conn, location_id, loc.hours)
            await q.insert_closures(
                conn, location_id, public_holidays(year) + public_holidays(year + 1)
            )
            # As many desks as the busiest window opens, each serving everything offered.
            for number in range(1, max(rule.desks for rule in loc.hours) + 1):
                desk_id = await desk_q.insert_desk(conn, location_id, f"Schalter {number}")
                await desk_q.set_desk_services(
                    conn, desk_id, [service_ids[slug] for slug in loc.services]
                )
        locations, services = await q.count_catalogue(conn)
    await regenerate_all_grids(conn, now)
    new = f" (new: {', '.join(created)})" if created else " (nothing new)"
    return f"demo data: {locations} locations, {services} services{new}"


DEMO_PASSWORD = "demo-passwort"  # noqa: S105 - printed in the dev banner on purpose


class DemoLogin(msgspec.Struct, frozen=True):
    email: str
    display_name: str
    role: Role
    locations: tuple[str, ...] = ()


DEMO_LOGINS = (
    DemoLogin("admin@musterstadt.example", "Ada Admin", Role.ADMIN),
    DemoLogin("leitung.mitte@musterstadt.example", "Lena Leitung", Role.LOCATION_ADMIN, ("mitte",)),
    DemoLogin("schalter.mitte@musterstadt.example", "Sam Schalter", Role.DESK, ("mitte",)),
)


class DemoDevice(msgspec.Struct, frozen=True):
    location: str
    kind: DeviceKind
    token: str


DEMO_DEVICES = tuple(
    DemoDevice(loc.slug, kind, f"bkd_demo-{kind.value}-{loc.slug}")
    for loc in LOCATIONS
    for kind in DeviceKind
)


async def seed_demo_access(conn: Connection) -> str:
    """The demo logins and one kiosk and one display per office; existing ones stay as they are
    (a demo device revoked in the admin API stays revoked)."""
    password_hash = hash_password(DEMO_PASSWORD)
    created = 0
    async with conn.transaction():
        location_ids = await staff_q.location_ids(conn, [loc.slug for loc in LOCATIONS])
        for login in DEMO_LOGINS:
            new = staff_q.NewAccount(
                email=login.email, display_name=login.display_name, role=login.role.value,
                password_hash=password_hash,
            )  # fmt: skip
            user_id = await staff_q.insert_account_if_missing(conn, new)
            if user_id is not None:
                created += 1
                ids = [location_ids[slug] for slug in login.locations]
                await staff_q.set_locations(conn, user_id, ids)
        for device in DEMO_DEVICES:
            created += await device_q.insert_device_if_missing(
                conn, location_ids[device.location], device.kind.value,
                f"Demo {device.kind.value} {device.location}", token_hash(device.token),
            )  # fmt: skip
    return f"demo access: {len(DEMO_LOGINS)} logins, {len(DEMO_DEVICES)} devices ({created} new)"
