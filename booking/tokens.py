"""Booking codes and the secrets behind manage and confirmation links.

A token is an HMAC of the booking code and a per-appointment salt under the server's secret
key. The database keeps only its SHA-256 (invariant: tokens stored only as hashes), yet the
worker can re-derive the token to put the link into an email, and an Idempotency-Key replay
can return the same link. The manage token and the confirmation token use different labels,
so one never works as the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Literal

# No 0/O, 1/I/L, U/V look-alikes: codes are read aloud on the phone and typed at kiosks.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
CODE_LENGTH = 6

Purpose = Literal["manage", "confirm"]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """What a person typed or a scanner read, in canonical form (case, spaces, dashes)."""
    return raw.strip().upper().replace(" ", "").replace("-", "")


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def derive_token(secret_key: str, purpose: Purpose, code: str, salt: bytes) -> str:
    """256 bits, URL-safe: the secret in a manage or confirmation link."""
    mac = hmac.new(secret_key.encode(), f"{purpose}\0{code}\0".encode() + salt, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_matches(presented: str, stored_hash: bytes | None) -> bool:
    # Constant-time, and a missing hash never matches.
    return stored_hash is not None and hmac.compare_digest(token_hash(presented), stored_hash)
