"""Where the SQL migrations and the frontend live, in a source checkout and in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # A wheel carries the folder inside the package (see pyproject's force-include); a
    # checkout or an editable install has it beside the package.
    for candidate in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def sql_dir() -> Path:
    return _find("sql")


def frontend_dir() -> Path:
    return _find("frontend")
