"""Admins' statistics of one location over a range of local days, as JSON or CSV.

CSV is the JSON flattened: one row per day and a last row ``total``, nested names joined
with ``_`` (``waiting_minutes_median``), comma-separated, RFC 4180 quoting and CRLF, UTF-8,
``.`` as decimal point, empty cells for null. Both come from the same object, so the two
formats cannot disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter

from booking import statistics
from booking.api.admin_common import find_location
from booking.api.dependencies import Transaction
from booking.auth.guards import requires
from booking.auth.principals import Role
from booking.statistics import DayFigures, Figures

_CSV = "text/csv"
Format = Literal["json", "csv"]


class StatisticsOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    time_zone: str
    from_: date = msgspec.field(name="from")
    to: date
    days: list[DayFigures]
    total: Figures


def _flatten(prefix: str, value: object) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}_{key}" if prefix else key, inner)
    else:
        yield prefix, value


def _flat(figures: Figures) -> dict[str, object]:
    return dict(_flatten("", msgspec.to_builtins(figures)))


def statistics_csv(report: StatisticsOut) -> bytes:
    total = {"day": "total", **_flat(report.total)}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(total), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_flat(day) for day in report.days)
    writer.writerow(total)
    return out.getvalue().encode()


def _wants_csv(request: Request[Any, Any, Any], format_: Format | None) -> bool:
    """``?format=`` wins; otherwise the Accept header, JSON when it does not care."""
    if format_ is not None:
        return format_ == "csv"
    return request.accept.best_match([MediaType.JSON, _CSV], default=MediaType.JSON) == _CSV


class StatisticsController(Controller):
    path = "/locations/{slug:str}/statistics"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def location_statistics(
        self,
        *,
        request: Request[Any, Any, Any],
        db: Transaction,
        slug: FromPath[str],
        from_: Annotated[date, QueryParameter(name="from", description="first local day")],
        to: Annotated[date, QueryParameter(description="last local day, at most 366 days on")],
        format_: Annotated[Format | None, QueryParameter(name="format")] = None,
    ) -> Response[StatisticsOut | bytes]:
        """Per local day and in total; see docs/design/statistics.md for what each figure counts."""
        location = await find_location(db, slug)
        found = await statistics.location_statistics(db, location.id, location.time_zone, from_, to)
        report = StatisticsOut(
            location=location.slug,
            time_zone=location.time_zone,
            from_=found.first_day,
            to=found.last_day,
            days=found.days,
            total=found.total,
        )
        headers = {"Vary": "Accept"}
        if not _wants_csv(request, format_):
            return Response(report, media_type=MediaType.JSON, headers=headers)
        filename = f"statistics-{location.slug}-{from_}-{to}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(
            statistics_csv(report),
            media_type=f"{_CSV}; header=present",  # Litestar adds the charset, UTF-8
            headers=headers,
        )
