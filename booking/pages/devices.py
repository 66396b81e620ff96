"""The pages of the office's devices: the ticket kiosk and the display board.

They share the pages' frame (``page_router``: CSRF form tokens, HTML errors, no-store) in a
router of their own, so their device cookie is read on these routes and nowhere else.
"""

from __future__ import annotations

from litestar import Router

from booking.pages import page_router
from booking.pages.display import DisplayFeed, DisplayPages, DisplaySignIn
from booking.pages.kiosk import KioskPages, KioskSignIn
from booking.settings import Settings


def devices_router(settings: Settings) -> Router:
    return page_router(
        settings, "/", [KioskPages, KioskSignIn, DisplayPages, DisplayFeed, DisplaySignIn]
    )
