"""Every message of the pages has its German translation, with the same placeholders."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from booking.i18n import formatted, read_catalogue
from booking.resources import frontend_dir

ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _singular(message: str | tuple[str, ...] | list[str]) -> str:
    return message if isinstance(message, str) else message[0]


def _extracted() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    return {message for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map)}


def test_the_german_catalogue_covers_every_message_with_its_placeholders() -> None:
    catalogue = read_catalogue(frontend_dir() / "locale", "de")
    messages = _extracted()
    assert len(messages) > 100  # the extraction found the templates and page modules
    problems = []
    for message in sorted(messages, key=str):
        key = _singular(message)
        found = catalogue.get(key)
        strings = found.string if found else None
        translations = [strings] if isinstance(strings, str) else list(strings or [""])
        if found is None or found.fuzzy or not all(translations):
            problems.append(f"untranslated: {message!r}")
            continue
        wanted = sorted(_PLACEHOLDER.findall(key))
        for text in translations:
            if sorted(_PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {key!r} -> {text!r}")
    stale = {_singular(m.id) for m in catalogue if m.id} - {_singular(m) for m in messages}
    problems += [f"no longer used: {m!r}" for m in sorted(stale, key=str)]
    assert not problems, "\n".join(problems)


def test_each_message_is_translated_in_one_area_file_only() -> None:
    seen: dict[str, str] = {}
    twice = []
    for path in sorted((frontend_dir() / "locale" / "de" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="de"):
                key = _singular(message.id)
                if key and key in seen:
                    twice.append(f"{key!r} in {seen[key]} and {path.name}")
                seen.setdefault(key, path.name)
    assert not twice, "\n".join(twice)


def test_dates_read_naturally_in_both_languages() -> None:
    day = date(2025, 6, 3)
    assert formatted(day, "long_date", "de") == "Dienstag, 3. Juni 2025"
    assert formatted(day, "long_date", "en") == "Tuesday 3 June 2025"
    assert formatted(day, "month", "de") == "Juni 2025"


def test_a_time_shows_its_own_zones_wall_clock_even_for_the_same_instant() -> None:
    """One instant, two offices' clocks: remembered formats must not mix them up."""
    berlin = datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    utc = berlin.astimezone(UTC)
    assert berlin == utc
    assert formatted(berlin, "clock", "de") == "23:30"
    assert formatted(utc, "clock", "de") == "22:30"
    assert formatted(berlin, "long_date", "de") == "Donnerstag, 31. Dezember 2026"
    assert formatted(utc, "long_date", "en") == "Thursday 31 December 2026"
    assert formatted(berlin, "month", "en") == "December 2026"
