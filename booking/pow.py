"""Proof of work (ALTCHA) on the requests bots want most: booking and joining the waitlist.

No third party, no cookie, no tracking: the server signs a challenge (HMAC under a key
derived from ``BOOKING_SECRET_KEY``), the browser spends a moment finding the number that
solves it, and the request carries the solution in the ``Altcha`` header (ALTCHA's base64
JSON payload). A header, not a body field, so request bodies and their Idempotency-Key
hashes stay what they were.

A solution is good for one request until its challenge expires: the first use claims it in
Redis (``SET NX`` with the remaining lifetime); an Idempotency-Key retry of that same request
may present it again. When Redis is down the claim is skipped (fail open, like the rate
limiter): bookings must not depend on Redis, and the signature and the expiry, checked
without Redis, still bound what one solution can do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
from datetime import datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import parse_qs

import msgspec
from altcha.v1 import ChallengeOptions, Payload, create_challenge, verify_solution
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.errors import BookingError
from booking.settings import Settings

log = logging.getLogger("booking.pow")

HEADER = "Altcha"
LIFETIME = timedelta(minutes=20)  # the time a citizen may take over the form, with a margin
_MAX_PAYLOAD = 2000


class ProofRequired(BookingError):
    code = "pow_required"


class ProofInvalid(BookingError):
    code = "pow_invalid"


class ProofExpired(BookingError):
    code = "pow_expired"


class ProofReplayed(BookingError):
    code = "pow_replayed"


class Challenge(msgspec.Struct, frozen=True, rename={"max_number": "maxNumber"}):
    """An ALTCHA challenge, as the widget's ``challengeurl`` expects it."""

    algorithm: str
    challenge: str
    max_number: int
    salt: str
    signature: str


_Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{1,128}$")]


class _Solution(msgspec.Struct, frozen=True):
    algorithm: Literal["SHA-1", "SHA-256", "SHA-512"]
    challenge: _Hex
    number: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
    salt: Annotated[str, msgspec.Meta(max_length=500)]
    signature: _Hex


_AGAIN = "Please solve a new challenge and send the request again. / Bitte erneut versuchen."


class ProofOfWork:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._difficulty = settings.pow_difficulty
        # A key of its own: a challenge signature never doubles as any other secret.
        self._key = hmac.new(
            settings.secret_key.encode(), b"altcha challenge", hashlib.sha256
        ).hexdigest()

    def challenge(self, now: datetime) -> Challenge:
        made = create_challenge(
            ChallengeOptions(
                max_number=max(1, self._difficulty), hmac_key=self._key, expires=now + LIFETIME
            )
        )
        return Challenge(made.algorithm, made.challenge, made.max_number, made.salt, made.signature)

    async def check(self, presented: str | None, now: datetime, *, retry_of: str | None) -> None:
        """Accept a request with a valid, unexpired, unspent solution; raise otherwise.

        ``retry_of`` is the request's Idempotency-Key: its retries may reuse the solution.
        """
        if self._difficulty == 0:
            return
        if not presented:
            raise ProofRequired(f"This request needs a solved challenge in the {HEADER} header.")
        solution = _decoded(presented)
        verified, _ = verify_solution(
            Payload(
                solution.algorithm,
                solution.challenge,
                solution.number,
                solution.salt,
                solution.signature,
            ),
            self._key,
            # Expiry by our clock below; the library would read the system's.
            check_expires=False,
        )
        expires = _expiry(solution.salt)
        if not verified or expires is None:
            raise ProofInvalid("The challenge solution is not valid. " + _AGAIN)
        left = expires - now.timestamp()
        if left <= 0:
            raise ProofExpired("The challenge has expired. " + _AGAIN)
        await self._spend(solution.signature, math.ceil(left), retry_of)

    async def _spend(self, signature: str, seconds: int, retry_of: str | None) -> None:
        key = f"pow:{signature}"
        mark = hashlib.sha256(retry_of.encode()).hexdigest() if retry_of else ""
        try:
            if await self._redis.set(key, mark, nx=True, ex=seconds):
                return
            if mark and await self._redis.get(key) == mark.encode():
                return  # the same request again, under its Idempotency-Key
        except (RedisError, OSError):
            log.warning("proof-of-work replay check skipped: Redis unavailable")
            return
        raise ProofReplayed("This challenge solution was used already. " + _AGAIN)


def _decoded(presented: str) -> _Solution:
    if len(presented) > _MAX_PAYLOAD:
        raise ProofInvalid("The challenge solution is not valid. " + _AGAIN)
    try:
        return msgspec.json.decode(base64.b64decode(presented, validate=True), type=_Solution)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ProofInvalid("The challenge solution is not valid. " + _AGAIN) from None


def _expiry(salt: str) -> int | None:
    """The expiry the challenge was signed with (in its salt), in Unix seconds."""
    _, _, query = salt.partition("?")
    found = parse_qs(query).get("expires", [])
    return int(found[0]) if len(found) == 1 and found[0].isdigit() else None
