"""Who reaches which admin page: the JSON admin API's rules, as pages."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.admin_support import DESK, LOCATION_ADMIN, sign_in


async def test_signed_out_the_admin_pages_send_to_the_staff_login_and_back(page: Page) -> None:
    answer = await page.request.get("/admin/locations/mitte/hours", max_redirects=0)
    assert answer.status == 303
    assert answer.headers["location"] == "/staff/login?next=%2Fadmin%2Flocations%2Fmitte%2Fhours"


async def test_a_location_admin_sees_only_their_own_location(page: Page) -> None:
    await sign_in(page, LOCATION_ADMIN)
    await page.goto("/admin")
    cards = page.locator(".card__title")
    await expect(cards).to_have_text(["Bürgeramt Musterstadt-Mitte"])
    await page.goto("/admin/locations/mitte/hours")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Öffnungszeiten")

    for other in (
        "/admin/locations/kfz/hours",
        "/admin/locations/nord/closures",
        "/admin/locations/nord/statistics",
        "/admin/locations/kfz/devices",
    ):
        answer = await page.goto(other)
        assert answer is not None
        assert answer.status == 403, other
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Sie können diese Seite nicht öffnen"
        )
    # Changes are refused just the same, whatever the form says.
    await page.goto("/admin/locations/mitte/closures")
    token = await page.locator("input[name=_csrf_token]").first.input_value()
    refused = await page.request.post(
        "/admin/locations/kfz/closures",
        form={"_csrf_token": token, "first_day": "2030-01-02", "last_day": "2030-01-02",
              "reason_de": "", "reason_en": ""},
    )  # fmt: skip
    assert refused.status == 403


async def test_desk_staff_get_no_admin_page(page: Page) -> None:
    await sign_in(page, DESK)
    for path in ("/admin", "/admin/locations/mitte/hours", "/admin/users?lang=en"):
        answer = await page.goto(path)
        assert answer is not None
        assert answer.status == 403, path
    await expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
