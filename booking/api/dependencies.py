"""Request-scoped dependencies: the request owns its transaction, use cases never commit."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from booking.clock import Clock
from booking.db import Connection
from booking.settings import Settings


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_clock(state: State) -> Clock:
    clock: Clock = state.clock
    return clock


async def provide_transaction(state: State) -> AsyncGenerator[Connection, None]:
    """A connection inside a transaction that commits when the handler returns normally."""
    pool: asyncpg.Pool = state.db_pool
    async with pool.acquire() as conn, conn.transaction():
        yield conn


# Handlers name what they need explicitly; Litestar 3 drops inferred dependencies.
SettingsDep = NamedDependency[Settings]
ClockDep = NamedDependency[SkipValidation[Clock]]
Transaction = NamedDependency[SkipValidation[Connection]]
