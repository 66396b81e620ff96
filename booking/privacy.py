"""One citizen's data on request (DSGVO Art. 15 and 17): found by email address, exported or
erased by an admin. The daily erasure after the retention period is ``tasks.erase_personal_data``.
"""

from __future__ import annotations

from booking import appointments
from booking.appointments import Context
from booking.db import Connection
from booking.db import privacy as q
from booking.db.privacy import CitizenData, ErasedCounts


async def export(conn: Connection, email: str) -> CitizenData:
    return await q.citizen_data(conn, email)


async def erase(conn: Connection, ctx: Context, email: str) -> ErasedCounts:
    """Blank the citizen's data everywhere, then cancel their upcoming appointments.

    An appointment nobody can be reached for or recognised at would hold its desks for no
    one, so it gives them back (invariant 4). Cancelled after the erasure, it sends no mail
    to the address that asked to be forgotten.
    """
    upcoming = await q.upcoming_appointment_codes(conn, email, ctx.now)
    erased = await q.erase_citizen(conn, email)
    for code in upcoming:
        await appointments.cancel_by_staff(conn, ctx, code)
    return erased
