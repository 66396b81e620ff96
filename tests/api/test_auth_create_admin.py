"""``booking create-admin``: the first login, made from the command line as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

PASSWORD = "first admin passphrase"


def create_admin(database_url: str, *args: str, password: str | None = PASSWORD) -> (
    subprocess.CompletedProcess[str]
):  # fmt: skip
    env = {**os.environ, "BOOKING_DATABASE_URL": database_url}
    env.pop("BOOKING_ADMIN_PASSWORD", None)
    if password is not None:
        env["BOOKING_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "booking", "create-admin", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def test_the_first_admin_signs_in_with_the_password_from_the_environment(
    database_url: str, db: asyncpg.Connection, client: AsyncTestClient[Litestar]
) -> None:
    made = create_admin(database_url, "--email", "Chef@Example.org", "--name", "Chefin")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("created admin chef@example.org (id ")
    assert PASSWORD not in made.stdout + made.stderr
    row = await db.fetchrow("select role, display_name, password_hash from staff_user")
    assert row is not None
    assert (row["role"], row["display_name"]) == ("admin", "Chefin")
    assert row["password_hash"].startswith("$argon2id$")
    assert await db.fetchval("select action from audit_log") == "staff.create"

    answer = await client.post(
        "/api/v1/auth/login", json={"email": "chef@example.org", "password": PASSWORD}
    )
    assert answer.json()["role"] == "admin"


def test_refusals_are_one_line_and_never_show_the_password(database_url: str) -> None:
    assert create_admin(database_url, "--email", "chef@example.org").returncode == 0
    cases = {
        ("chef@example.org", PASSWORD): "a staff user with this email exists already",
        ("other@example.org", "short"): "password: must be at least 12 characters long",
        ("not-an-email", PASSWORD): "email: is not an email address",
        ("other@example.org", None): "no terminal to ask for the password",
    }
    for (email, password), message in cases.items():
        result = create_admin(database_url, "--email", email, password=password)
        assert result.returncode == 2, result
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("booking: error: "), line
        assert message in line, line
        assert password is None or password not in result.stdout + result.stderr
