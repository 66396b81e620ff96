"""Rendering a page: its language, the link to the other language, and the language cookie.

The language is ``?lang=`` when given (remembered in a cookie), else the cookie, else German.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Template

from booking.i18n import DEFAULT, Language, is_language
from booking.settings import Settings

LANG_COOKIE = "lang"
_YEAR = 365 * 24 * 3600

Params = Iterable[tuple[str, str]]


def language(request: Request[Any, Any, Any]) -> Language:
    asked = request.query_params.get("lang")
    if is_language(asked):
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if is_language(kept) else DEFAULT


def url(path: str, params: Params = ()) -> str:
    query = urlencode(list(params))
    return f"{path}?{query}" if query else path


def page(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    switch: tuple[str, Params] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Template:
    """``switch`` is the path and parameters the language link keeps (default: this GET's)."""
    lang = language(request)
    other = "en" if lang == "de" else "de"
    path, params = switch or (
        request.url.path,
        [(k, v) for k, v in request.query_params.multi_items() if k != "lang"],
    )
    cookies = []
    asked = request.query_params.get("lang")
    if is_language(asked) and request.cookies.get(LANG_COOKIE) != asked:
        settings: Settings = request.app.state.settings
        remembered = Cookie(
            key=LANG_COOKIE, value=asked, max_age=_YEAR, path="/", samesite="lax",
            httponly=True, secure=settings.secure_cookies,
        )  # fmt: skip
        cookies.append(remembered)
    return Template(
        template_name=template,
        context={
            "lang": lang,
            "other_lang": other,
            "switch_url": url(path, [*params, ("lang", other)]),
            **context,
        },
        status_code=status,
        cookies=cookies,
        headers=dict(headers or {}),
    )
