"""Request-scoped dependencies: the request owns its transaction, use cases never commit."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import NamedTuple

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from booking.api.unit_of_work import UnitOfWork
from booking.clock import Clock
from booking.db import Connection
from booking.pow import ProofOfWork
from booking.ratelimit import RateLimiter
from booking.search_cache import Searches
from booking.settings import Settings


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_clock(state: State) -> Clock:
    clock: Clock = state.clock
    return clock


def provide_unit_of_work(state: State) -> UnitOfWork:
    return UnitOfWork(state.db_pool, state.redis)


def provide_limiter(state: State) -> RateLimiter:
    limiter: RateLimiter = state.limiter
    return limiter


def provide_proof_of_work(state: State) -> ProofOfWork:
    pow_: ProofOfWork = state.pow
    return pow_


class Rush(NamedTuple):
    """What the rush's hottest routes (searching, booking, their pages) need, from the app's state.

    Litestar resolves two or more dependencies of a request in an anyio task group of their
    own: on the availability route that cost a third of the throughput, on the booking a
    tenth of its CPU.
    """

    settings: Settings
    clock: Clock
    limiter: RateLimiter
    pow: ProofOfWork
    searches: Searches


def rush(state: State) -> Rush:
    return Rush(state.settings, state.clock, state.limiter, state.pow, state.searches)


async def provide_transaction(state: State) -> AsyncGenerator[Connection, None]:
    """A connection inside a transaction that commits when the handler returns normally."""
    pool: asyncpg.Pool = state.db_pool
    async with pool.acquire() as conn, conn.transaction():
        yield conn


# Handlers name what they need explicitly; Litestar 3 drops inferred dependencies.
SettingsDep = NamedDependency[Settings]
LimiterDep = NamedDependency[SkipValidation[RateLimiter]]
ProofOfWorkDep = NamedDependency[SkipValidation[ProofOfWork]]
UnitOfWorkDep = NamedDependency[SkipValidation[UnitOfWork]]
ClockDep = NamedDependency[SkipValidation[Clock]]
Transaction = NamedDependency[SkipValidation[Connection]]
