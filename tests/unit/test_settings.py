from __future__ import annotations

import pytest

from booking.settings import SettingsError, env_names, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.database_url.startswith("postgresql://")
    assert settings.retention_days == 2


def test_values_are_read_from_booking_variables() -> None:
    settings = load_settings(
        {"BOOKING_SMTP_PORT": "2525", "BOOKING_SMTP_SECURITY": "starttls", "OTHER": "x"}
    )
    assert settings.smtp_port == 2525
    assert settings.smtp_security == "starttls"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BOOKING_DATABASE_URL": "mysql://db/x"}, "BOOKING_DATABASE_URL must start with"),
        ({"BOOKING_DATABASE_URL": "postgresql://h:port/x"}, "BOOKING_DATABASE_URL is not a valid"),
        ({"BOOKING_REDIS_URL": "redis://"}, "BOOKING_REDIS_URL needs a host name"),
        ({"BOOKING_SMTP_PORT": "abc"}, "BOOKING_SMTP_PORT: expected `int`"),
        ({"BOOKING_SMTP_PORT": "70000"}, "BOOKING_SMTP_PORT must be between 1 and 65535"),
        ({"BOOKING_SMTP_SECURITY": "ssl"}, "BOOKING_SMTP_SECURITY"),
        ({"BOOKING_DB_POOL_MIN": "9", "BOOKING_DB_POOL_MAX": "3"}, "must not exceed"),
    ],
)
def test_bad_values_are_named_clearly(env: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError, match=expected.replace("`", ".")):
        load_settings(env)


def test_a_secret_value_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"BOOKING_DATABASE_URL": "mysql://admin:hunter2@db/x"})
    assert "hunter2" not in str(caught.value)


def test_env_names_cover_every_setting() -> None:
    names = env_names()
    assert {"BOOKING_DATABASE_URL", "BOOKING_REDIS_URL", "BOOKING_PUBLIC_URL"} <= names
    assert all(name.startswith("BOOKING_") and name.isupper() for name in names)
