"""Who is asking: a signed-in staff member as one request sees them, and the roles."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from booking.auth.sessions import Session
from booking.db.audit import Actor
from booking.db.staff import StaffAccount


class Role(StrEnum):
    """Each role includes the ones below it: a location admin may also run the queue."""

    DESK = "desk"
    LOCATION_ADMIN = "location_admin"
    ADMIN = "admin"

    def includes(self, other: Role) -> bool:
        return _RANK[self] >= _RANK[other]


_RANK = {Role.DESK: 0, Role.LOCATION_ADMIN: 1, Role.ADMIN: 2}


class DeviceKind(StrEnum):
    KIOSK = "kiosk"  # ticket terminal
    DISPLAY = "display"  # display board


class LocationRef(msgspec.Struct, frozen=True):
    id: int
    slug: str


class Staff(msgspec.Struct, frozen=True, kw_only=True):
    """``session`` is None when the request came with a personal API token."""

    id: int
    email: str
    display_name: str
    role: Role
    locations: tuple[LocationRef, ...]
    session: Session | None = None

    @classmethod
    def of(cls, account: StaffAccount, session: Session | None) -> Staff:
        return cls(
            id=account.id,
            email=account.email,
            display_name=account.display_name,
            role=Role(account.role),
            locations=tuple(
                LocationRef(id, slug)
                for id, slug in zip(account.location_ids, account.location_slugs, strict=True)
            ),
            session=session,
        )

    @property
    def location_slugs(self) -> frozenset[str]:
        return frozenset(location.slug for location in self.locations)

    def works_at(self, slug: str) -> bool:
        """Admins work everywhere; everyone else where staff_location puts them."""
        return self.role is Role.ADMIN or slug in self.location_slugs

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.id)
