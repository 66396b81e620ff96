"""The pages' two languages: gettext catalogues and Babel formats, wired into Jinja.

English is the source language of every message in the templates and the page modules;
German, the default of every page, comes from the ``.po`` files in
``frontend/locale/de/LC_MESSAGES/``: one per area of pages (citizen, staff, kiosk, ...), so
the areas' catalogues change independently; they are merged into one catalogue. The files are
compiled in memory when the app is created, so running needs no build step;
``tests/unit/test_i18n.py`` fails when a message lacks its German translation or is
translated in two files. ``pybabel extract -F babel.cfg -o /tmp/messages.pot .`` lists every
message; add new ones to the file of their area.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Final, Literal, TypeGuard

from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine

from booking.resources import frontend_dir

Language = Literal["de", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("de", "en")
DEFAULT: Final[Language] = "de"
_LOCALES: Final[Mapping[Language, Locale]] = {
    "de": Locale.parse("de_DE"),
    "en": Locale.parse("en_GB"),
}

Catalogues = Mapping[Language, gettext.NullTranslations]


def is_language(value: object) -> TypeGuard[Language]:
    return value in LANGUAGES


def N_(message: str) -> str:  # noqa: N802 - the name gettext's extractors look for
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


def read_catalogue(locale_dir: Path, language: Language) -> Catalog:
    """Every area's ``.po`` file of one language, merged."""
    merged = Catalog(locale=language)
    for path in sorted((locale_dir / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale=language):
                if message.id:
                    merged[message.id] = message
    return merged


def load_catalogues(locale_dir: Path) -> Catalogues:
    def compiled(language: Language) -> gettext.GNUTranslations:
        mo = BytesIO()
        write_mo(mo, read_catalogue(locale_dir, language))
        mo.seek(0)
        return gettext.GNUTranslations(mo)

    return {"de": compiled("de"), "en": gettext.NullTranslations()}


def _language(ctx: Context) -> Language:
    found = ctx.get("lang")
    return found if is_language(found) else DEFAULT


def install(env: Environment, catalogues: Catalogues) -> None:
    """``_()``, ``ngettext()`` and date filters that follow the template's ``lang``."""

    @pass_context
    def translate(ctx: Context, message: str) -> str:
        return catalogues[_language(ctx)].gettext(message)

    @pass_context
    def translate_plural(ctx: Context, singular: str, plural: str, n: int) -> str:
        return catalogues[_language(ctx)].ngettext(singular, plural, n)

    def formatter(kind: str) -> Any:
        @pass_context
        def format_(ctx: Context, value: date | datetime) -> str:
            return formatted(value, kind, _language(ctx))

        return format_

    @pass_context
    def local(ctx: Context, record: object, field: str) -> Any:
        """``service | local("name")``: the record's ``name_de`` or ``name_en``."""
        return getattr(record, f"{field}_{_language(ctx)}")

    @pass_context
    def weekdays(ctx: Context) -> tuple[tuple[str, str], ...]:
        """(short, full) names from Monday, for a month's column headers."""
        return _weekdays(_language(ctx))

    env.filters["local"] = local
    env.globals["weekdays"] = weekdays
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translate, translate_plural, newstyle=True
    )
    for kind in _FORMATS:
        env.filters[kind] = formatter(kind)


# Date and time formats for the pages; values arrive in the office's own time zone.
_FORMATS: Final[Mapping[str, str]] = {
    "long_date": "EEEE, d. MMMM y",  # Dienstag, 3. Juni 2025
    "short_date": "EEE, d. MMM",  # Di., 3. Juni
    "month": "LLLL y",  # Juni 2025
    "weekday": "EEEE",
    "clock": "HH:mm",
}
_ENGLISH: Final[Mapping[str, str]] = {
    "long_date": "EEEE d MMMM y",  # Tuesday 3 June 2025
    "short_date": "EEE d MMM",
}


def formatted(value: date | datetime, kind: str, language: Language) -> str:
    """``value`` as its own time zone's wall clock shows it (no pattern names a zone)."""
    wall = value.replace(tzinfo=None) if isinstance(value, datetime) else value
    return _formatted(wall, kind, language)


# A month page formats hundreds of days and times, the same ones for every citizen asking;
# Babel takes tens of microseconds each. Keyed by wall time: equal instants in different
# zones show different times.
@lru_cache(maxsize=16_384)
def _formatted(value: date, kind: str, language: Language) -> str:
    pattern = (_ENGLISH if language == "en" else {}).get(kind, _FORMATS[kind])
    locale = _LOCALES[language]
    if kind == "clock" and isinstance(value, datetime):
        return format_time(value, pattern, locale=locale)
    return format_date(value, pattern, locale=locale)


@cache
def _weekdays(language: Language) -> tuple[tuple[str, str], ...]:
    locale = _LOCALES[language]
    short = get_day_names("abbreviated", locale=locale)
    full = get_day_names("wide", locale=locale)
    return tuple((short[day], full[day]) for day in range(7))


def install_translations(engine: JinjaTemplateEngine) -> None:
    """The template engine's hook: catalogues compiled from ``frontend/locale`` at start."""
    install(engine.engine, load_catalogues(frontend_dir() / "locale"))
