"""The outbox relay: each worker sends the due outbox rows, leased from PostgreSQL in batches.

PostgreSQL is the mail queue: a row is due once committed (or when its retry time comes),
and a relay leases a batch with SKIP LOCKED, so the relays of several workers share the
work and never hold the same row. Writing rows notifies the channel ``outbox`` at commit
(sql/0008), which wakes the relays at once; they also look every ``outbox_poll_seconds``,
for retries that came due and for rows written while they had no listening connection. A
relay killed mid-send leaves leases that run out; those rows are then sent again with
the same Message-ID (invariant 3: at most once in normal operation, never lost).

A row's lease is committed before its mail is built and sent, and the outcome after, so
no transaction stays open during SMTP. Two lanes take turns: while one batch waits on
the SMTP server, the next is leased and built.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextlib import suppress
from datetime import datetime, timedelta
from email.message import Message
from typing import Literal, NamedTuple

import asyncpg

from booking import notifications
from booking.clock import Clock
from booking.db import Connection, outbox
from booking.db.listener import listen
from booking.db.outbox import OutboxMessage
from booking.settings import Settings
from booking.smtp import PermanentFailure, TemporaryFailure

log = logging.getLogger("booking.outbox")

CHANNEL = "outbox"
LANES = 4
BATCH = 5  # rows per lane: at most LANES * BATCH mails (and SMTP connections) in flight

Outcome = Literal["sent", "noted", "failed", "retry"]


class Attempt(NamedTuple):
    message: OutboxMessage
    outcome: Outcome
    reason: str  # for "noted": why no mail was needed; else the SMTP server's answer


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        clock: Clock,
        send: notifications.Sender,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._clock = clock
        self._send = send
        self._wake = asyncio.Event()
        self._stopping = False

    async def drain(self) -> int:
        """Send until nothing is due; returns how many rows were handled."""
        return sum(await asyncio.gather(*(self._lane() for _ in range(LANES))))

    async def run(self) -> None:
        """Drain whenever woken and every ``outbox_poll_seconds``, until ``stop``."""
        listening = listen(
            self._settings.database_url, CHANNEL, lambda *_: self._wake.set(),
            on_ready=self._wake.set, on_lost=lambda: None,
            connect_timeout=self._settings.db_timeout_seconds,
        )  # fmt: skip
        listener = asyncio.create_task(listening, name="outbox-listener")
        try:
            while not self._stopping:
                self._wake.clear()
                await self.drain()
                with suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.outbox_poll_seconds):
                        await self._wake.wait()
        finally:
            listener.cancel()
            with suppress(asyncio.CancelledError):
                await listener

    def stop(self) -> None:
        """Lease nothing more; the batches in flight are finished."""
        self._stopping = True
        self._wake.set()

    async def _lane(self) -> int:
        handled = 0
        try:
            while not self._stopping and (done := await self._batch()):
                handled += done
        except Exception as exc:  # noqa: BLE001 - the relay must outlive any one failure
            # Say, the database went away. The lane's leased rows are tried again once their
            # leases run out; the relay looks again when woken or at its next poll.
            log.warning("outbox relay lane stopped (%s)", type(exc).__name__)
        return handled

    async def _batch(self) -> int:
        """Lease, build, send and record one batch; how many rows it had."""
        now = self._clock.now()
        lease_for = timedelta(seconds=self._settings.outbox_lease_seconds)
        async with self._pool.acquire() as conn:
            batch = await outbox.lease_due(conn, now, lease_for, BATCH)
            mails = [await self._build(conn, now, message) for message in batch]
        attempts = await asyncio.gather(*map(self._attempt, batch, mails))
        if attempts:
            async with self._pool.acquire() as conn:
                await _record(conn, now, attempts)
        return len(batch)

    async def _build(
        self, conn: Connection, now: datetime, message: OutboxMessage
    ) -> Message | str | Exception:
        try:
            return await notifications.build(conn, self._settings, now, message)
        except Exception as exc:  # noqa: BLE001 - one row's failure is tried again later, alone
            return exc

    async def _attempt(self, message: OutboxMessage, mail: Message | str | Exception) -> Attempt:
        if isinstance(mail, str):
            return Attempt(message, "noted", mail)
        if isinstance(mail, Exception):
            return _temporary(message, f"could not build the mail: {type(mail).__name__}")
        try:
            await self._send(mail)
        except PermanentFailure as exc:
            return Attempt(message, "failed", str(exc))
        except TemporaryFailure as exc:
            return _temporary(message, str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded with the others, not stranding them
            return _temporary(message, f"could not send the mail: {type(exc).__name__}")
        return Attempt(message, "sent", "")


def _temporary(message: OutboxMessage, reason: str) -> Attempt:
    if message.attempts >= notifications.MAX_ATTEMPTS:
        return Attempt(message, "failed", f"gave up after {message.attempts} attempts: {reason}")
    return Attempt(message, "retry", reason)


async def _record(conn: Connection, now: datetime, attempts: list[Attempt]) -> None:
    """The outcomes: the usual one, sent, in one statement; the others row by row."""
    await outbox.mark_sent_many(conn, [a.message.id for a in attempts if a.outcome == "sent"], now)
    for a in attempts:
        if a.outcome == "noted":
            await outbox.mark_sent(conn, a.message.id, now, a.reason)
        elif a.outcome == "failed":
            await outbox.mark_failed(conn, a.message.id, now, a.reason)
        elif a.outcome == "retry":
            at = now + notifications.backoff(a.message.attempts)
            await outbox.retry_later(conn, a.message.id, at, a.reason)
        if a.outcome != "sent":
            # The SMTP reason may quote the address: it goes to the database, not the log.
            what = a.reason if a.outcome == "noted" else a.outcome
            log.info("outbox message %d (%s): %s", a.message.id, a.message.kind, what)
    counts = Counter(a.outcome for a in attempts)
    log.info("outbox: %d sent, %d without mail, %d failed, %d to retry",
             counts["sent"], counts["noted"], counts["failed"], counts["retry"])  # fmt: skip
