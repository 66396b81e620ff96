"""The owner of an appointment or waitlist request, proven by a secret from their email.

Every owner route does the same: count the lookup against the client's limit (secrets must
not be guessable by trying), take the secret from ``Authorization: Bearer`` or ``?token=``,
and run one use case with it in a unit of work. The ``owner`` dependency does that once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import QueryParameter, SkipValidation

from booking import appointments as uc
from booking.api.client import client_address
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context
from booking.db import Connection
from booking.errors import NotFound
from booking.ratelimit import Limit

LOOKUP_LIMIT = Limit("lookup", 30, 60)

TokenQuery = Annotated[str | None, QueryParameter(name="token", max_length=200)]
T = TypeVar("T")
# A use case of the owner: (connection, context, code or id, secret).
OwnerWork = Callable[[Connection, Context, str, str], Awaitable[T]]


def presented_token(request: Request[Any, Any, Any], token: str | None) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    found = value.strip() if scheme.lower() == "bearer" else token
    if not found:
        # Same answer as a wrong token: a code alone reveals nothing (invariant 6).
        raise NotFound(uc.NOT_FOUND)
    return found


class Owner:
    def __init__(self, ctx: Context, secret: str, uow: UnitOfWork) -> None:
        self.ctx = ctx
        self.secret = secret
        self._uow = uow

    async def run(self, work: OwnerWork[T], key: str) -> T:
        return await self._uow.run(lambda conn: work(conn, self.ctx, key, self.secret), self.ctx)


async def provide_owner(
    *, request: Request[Any, Any, Any], settings: SettingsDep, clock: ClockDep,
    limiter: LimiterDep, uow: UnitOfWorkDep, token: TokenQuery = None,
) -> Owner:  # fmt: skip
    await limiter.hit(LOOKUP_LIMIT, client_address(request, settings))
    return Owner(Context(settings, clock.now()), presented_token(request, token), uow)


OwnerDep = NamedDependency[SkipValidation[Owner]]
