"""Staff passwords: argon2id hashes (argon2-cffi's RFC 9106 defaults) and the length policy.

Hashing takes tens of milliseconds of CPU on purpose, so request handlers run it in a
thread and keep the event loop free.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from booking.errors import InvalidInput

MIN_LENGTH = 12
# Hashing cost grows with the input; a megabyte "password" must not become a denial of service.
MAX_LENGTH = 1024


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _decoy_hash() -> str:
    """Verified against when there is no real hash, so a miss takes as long as a wrong guess."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_policy(password: str) -> None:
    """Length is what makes a password strong (NIST SP 800-63B), not character classes."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput.field("password", f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise InvalidInput.field("password", f"must be at most {MAX_LENGTH} characters long")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def generated_password() -> str:
    """For resets without a chosen password: 96 random bits, shown once to the admin."""
    return secrets.token_urlsafe(12)


def _verify(stored: str | None, password: str) -> tuple[bool, str | None]:
    hasher = _hasher()
    try:
        hasher.verify(stored or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


async def verify_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a new hash when the parameters have grown since."""
    return await asyncio.to_thread(_verify, stored, password)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)
