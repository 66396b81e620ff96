"""What a page behind a link from a mail works with.

The link names an appointment code or a waitlist id in its path and carries a secret: in
the query when the page shows (GET), in a hidden form field when its button acts (POST).
Every look is counted against the API's lookup limit, so secrets cannot be found by trying.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from booking import appointments as uc
from booking.api.client import client_address
from booking.api.owner import LOOKUP_LIMIT
from booking.appointments import Context
from booking.errors import NotFound
from booking.i18n import Language
from booking.pages.rendering import language
from booking.ratelimit import RateLimiter
from booking.settings import Settings


async def presented_secret(
    request: Request[Any, Any, Any], settings: Settings, limiter: RateLimiter
) -> str:
    await limiter.hit(LOOKUP_LIMIT, client_address(request, settings))
    if request.method == "POST":
        token = (await request.form()).get("token")
    else:
        token = request.query_params.get("token")
    if not token or len(str(token)) > 200:
        raise NotFound(uc.NOT_FOUND)  # the same answer as a wrong secret (invariant 6)
    return str(token)


class MailLink(msgspec.Struct, frozen=True):
    key: str
    secret: str
    ctx: Context
    lang: Language


async def mail_link(
    request: Request[Any, Any, Any], key: str, settings: Settings, now: datetime,
    limiter: RateLimiter,
) -> MailLink:  # fmt: skip
    secret = await presented_secret(request, settings, limiter)
    return MailLink(key, secret, Context(settings, now), language(request))


# The controllers behind mail links provide it as ``link``, each from its own path parameter.
MailLinkDep = NamedDependency[SkipValidation[MailLink]]
