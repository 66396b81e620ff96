"""Personal API tokens and device tokens: 256 random bits, kept only as their SHA-256.

A prefix tells people and secret scanners what a leaked token is; the random part alone
carries the security, so a hash without a key is enough to store it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from booking.db import Connection
from booking.db import devices as device_q
from booking.db import staff as staff_q
from booking.db.audit import Actor, record
from booking.db.devices import Device
from booking.db.staff import ApiToken
from booking.tokens import token_hash

API_TOKEN_PREFIX = "bkt_"  # noqa: S105 - a label, not a secret
DEVICE_TOKEN_PREFIX = "bkd_"  # noqa: S105 - a label, not a secret


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


async def issue_api_token(
    conn: Connection, actor: Actor, user_id: int, name: str
) -> tuple[ApiToken, str]:
    """The stored token and its secret, which is shown this once and never again."""
    secret = new_token(API_TOKEN_PREFIX)
    token = await staff_q.insert_api_token(conn, user_id, name, token_hash(secret))
    await record(conn, actor, "api_token.create", "api_token", token.id, None, {"user": user_id})
    return token, secret


async def register_device(
    conn: Connection, actor: Actor, location_id: int, kind: str, name: str
) -> tuple[Device, str]:
    """The registered device and its token, which is shown this once and never again."""
    secret = new_token(DEVICE_TOKEN_PREFIX)
    device = await device_q.insert_device(conn, location_id, kind, name, token_hash(secret))
    await record(conn, actor, "device.register", "device", device.id, location_id, {"kind": kind})
    return device, secret


async def revoke_device(
    conn: Connection, actor: Actor, location_id: int, device_id: int, now: datetime
) -> Device | None:
    """None when the location has no such device; its token stops working at once."""
    found = await device_q.revoke_device(conn, location_id, device_id, now)
    if found is None:
        return None
    device, revoked_now = found
    if revoked_now:
        await record(conn, actor, "device.revoke", "device", device.id, location_id)
    return device
