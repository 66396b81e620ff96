"""``GET /api/v1/challenge``: a proof-of-work challenge for the booking and waitlist forms."""

from __future__ import annotations

from litestar import Controller, Response, get

from booking.api.dependencies import ClockDep, ProofOfWorkDep
from booking.pow import Challenge


class ChallengeController(Controller):
    path = "/api/v1/challenge"
    tags = ["booking"]  # noqa: RUF012 - Litestar reads a plain class attribute

    @get()
    async def challenge(self, pow: ProofOfWorkDep, clock: ClockDep) -> Response[Challenge]:
        """An ALTCHA challenge; its solution goes into the ``Altcha`` header of
        ``POST /api/v1/appointments`` or ``POST /api/v1/waitlist``, once, within 20 minutes."""
        return Response(
            pow.challenge(clock.now()),
            headers={"Cache-Control": "no-store"},
        )
