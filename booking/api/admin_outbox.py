"""Mails that could not be delivered, for the office's admins: see why, and send again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, QueryParameter

from booking.api.admin_common import find_location
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import requires
from booking.auth.principals import Role
from booking.clock import Clock
from booking.db import Connection, outbox
from booking.errors import NotFound


class MessageOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    appointment: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt: datetime
    failed_at: datetime | None


async def retry(db: Connection, clock: Clock, slug: str, message_id: int) -> None:
    """Shared by the API and the admin pages."""
    location = await find_location(db, slug)
    if not await outbox.retry_failed(db, location.id, message_id, clock.now()):
        raise NotFound("No failed message with this id at this location.")


class OutboxController(Controller):
    path = "/locations/{slug:str}/outbox"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def messages(
        self,
        db: Transaction,
        slug: FromPath[str],
        status: Annotated[Literal["failed", "pending"], QueryParameter(name="status")] = "failed",
    ) -> list[MessageOut]:
        """Failed (permanently refused or given up) or still undelivered mails, newest first."""
        location = await find_location(db, slug)
        entries = await outbox.location_messages(
            db, location.id, failed=status == "failed", limit=200
        )
        return [
            MessageOut(
                e.id,
                e.kind,
                e.code,
                e.attempts,
                e.last_error,
                e.created_at,
                e.not_before,
                e.failed_at,
            )
            for e in entries
        ]

    @post("/{message_id:int}/retry", status_code=204)
    async def retry(
        self, db: Transaction, clock: ClockDep, slug: FromPath[str], message_id: FromPath[int]
    ) -> None:
        """After the address was corrected or the relay fixed; the outbox relay is woken."""
        await retry(db, clock, slug, message_id)
