"""arq tasks. Each may run more than once, so each is safe to repeat."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from booking import appointments, queueing, waitlist
from booking.db import outbox
from booking.db.appointments import delete_old_idempotency_keys
from booking.db.privacy import erase_personal_data_before
from booking.grid import regenerate_all_grids
from booking.workers.enqueue import wake_matcher

log = logging.getLogger("booking.worker")

# A retry comes within minutes; the answer kept for it repeats the citizen's contact data.
IDEMPOTENCY_KEY_DAYS = 1


async def extend_grids(ctx: dict[str, Any]) -> list[str]:
    """Daily: move every location's bookable horizon one day on, and report conflicts."""
    async with ctx["db_pool"].acquire() as conn:
        reports = await regenerate_all_grids(conn, ctx["clock"].now())
    for report in reports:
        if report.conflict_units:
            log.warning(
                "grid of %s has %d units booked above its opening rules",
                report.location,
                len(report.conflict_units),
            )
    return [report.location for report in reports]


async def release_expired(ctx: dict[str, Any]) -> dict[str, int]:
    """Every half minute: expired holds and unconfirmed appointments give their units back."""
    async with ctx["db_pool"].acquire() as conn, conn.transaction():
        counts = await appointments.release_expired(conn, ctx["clock"].now())
    if counts.pending:
        await wake_matcher(ctx["redis"])  # a lapsed offer goes on to the next entry
    return {"holds": counts.holds, "pending": counts.pending}


async def match_waitlist(ctx: dict[str, Any]) -> dict[str, int]:
    """Every quarter minute and on demand: offer freed capacity to the waitlist, release
    what nobody wanted to the public once its moment has come."""
    done = await waitlist.allocate(ctx["db_pool"], ctx["settings"], ctx["clock"].now(), ctx["rng"])
    return {"offers": done.offers, "released": done.released, "lapsed": done.lapsed_entries}


async def close_queues(ctx: dict[str, Any]) -> int:
    """Every ten minutes: close tickets left waiting after hours, and yesterday's open ones."""
    grace = timedelta(minutes=ctx["settings"].queue_close_grace_minutes)
    async with ctx["db_pool"].acquire() as conn, conn.transaction():
        return await queueing.close_queues(conn, ctx["clock"].now(), grace)


async def forget_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Daily: a day after the request the key has served its purpose."""
    keep = timedelta(days=IDEMPOTENCY_KEY_DAYS)
    async with ctx["db_pool"].acquire() as conn:
        return await delete_old_idempotency_keys(conn, ctx["clock"].now() - keep)


async def create_reminders(ctx: dict[str, Any]) -> int:
    """Every five minutes: the reminders now due; writing them wakes the outbox relay."""
    settings = ctx["settings"]
    host = urlsplit(settings.public_url).hostname or "localhost"
    async with ctx["db_pool"].acquire() as conn:
        return len(await outbox.create_reminders(conn, ctx["clock"].now(), host))


async def erase_personal_data(ctx: dict[str, Any]) -> dict[str, int]:
    """Daily: blank citizens' contact data after the retention period (DSGVO, invariant 7)."""
    settings = ctx["settings"]
    async with ctx["db_pool"].acquire() as conn, conn.transaction():
        counts = await erase_personal_data_before(conn, settings.retention_days)
    log.info(
        "erased personal data: %d appointments, %d tickets, %d waitlist entries",
        counts.appointments,
        counts.tickets,
        counts.waitlist_entries,
    )
    return {
        "appointments": counts.appointments,
        "tickets": counts.tickets,
        "waitlist_entries": counts.waitlist_entries,
    }
