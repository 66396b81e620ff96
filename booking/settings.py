"""One frozen Settings object, read from ``BOOKING_*`` once at start and passed explicitly.

Nothing else in the code base reads the environment, so a bad value is found here, at
start, with one clear line instead of a traceback deep inside a request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import msgspec

SmtpSecurity = Literal["none", "starttls", "tls"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its value."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/booking"
    redis_url: str = "redis://127.0.0.1:6379/0"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: SmtpSecurity = "none"
    mail_from: str = "Bürgerservice <termine@example.org>"
    db_pool_min: int = 1
    db_pool_max: int = 10
    db_timeout_seconds: float = 5.0
    retention_days: int = 2
    hold_minutes: int = 5
    confirmation_minutes: int = 30
    max_active_per_email: int = 2
    # Waitlist: how long an offer holds its time; how long freed capacity stays held back for
    # the waitlist before it goes public at a random moment within the window; how long a
    # lottery location collects freed capacity before it draws.
    waitlist_offer_minutes: int = 120
    waitlist_cooldown_minutes: int = 15
    waitlist_release_window_minutes: int = 30
    waitlist_lottery_minutes: int = 5
    # Proof of work (ALTCHA) for booking and joining the waitlist: the largest secret number
    # a client searches for, about half as many SHA-256 hashes on average; 0 switches it off.
    pow_difficulty: int = 100_000
    # How long a worker may take to send one mail before another worker may try it.
    outbox_lease_seconds: int = 300
    # The outbox relay is woken when rows commit; it also looks this often, for retries that
    # came due and rows written while it had no listening connection.
    outbox_poll_seconds: int = 5
    # Appointment check-in at the kiosk: from this long before the booked start until this
    # long after it; a later arrival gets a walk-in ticket from staff.
    check_in_early_minutes: int = 30
    check_in_late_minutes: int = 15
    # Tickets still waiting this long after a location's last opening window of the day are
    # closed by the worker; whatever is still open when the day is over, too.
    queue_close_grace_minutes: int = 30
    # A display board's live stream ends after this long and the board reconnects (losing
    # nothing): less than serve's shutdown grace, so an open stream never holds up a stop.
    event_stream_seconds: int = 20
    # The public availability answers are kept this long per process, so a rush on the same
    # office does not recompute the same answer thousands of times a second; booking always
    # decides on the database's current state. 0 switches the cache off.
    availability_cache_seconds: int = 2
    log_level: LogLevel = "INFO"
    dev_mail_dir: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or networks).
    trusted_proxies: str = ""
    # A staff session ends after this much inactivity, and however active after the maximum.
    session_idle_minutes: int = 30
    session_max_hours: int = 10
    # Failed password logins in a row that lock an account, and for how long.
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # Single sign-on by OpenID Connect: on when issuer and client id are set.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    # Claims carrying the role and the location slugs; dots reach into nested claims.
    oidc_role_claim: str = "booking_role"
    oidc_locations_claim: str = "booking_locations"

    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(
            ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    @property
    def dev_mode(self) -> bool:
        """The dev mail pages exist only where ``booking dev`` points them at its sink."""
        return bool(self.dev_mail_dir)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def secure_cookies(self) -> bool:
        """Browsers send Secure cookies over HTTPS only, so they follow the public URL."""
        return urlsplit(self.public_url).scheme == "https"


ENV_PREFIX: Final = "BOOKING_"
MIN_SECRET_LENGTH: Final = 32

# Values that may carry credentials are never echoed back in an error message.
_SECRET_FIELDS: Final = frozenset(
    {"database_url", "redis_url", "secret_key", "smtp_password", "oidc_client_secret"}
)


def _check_url(schemes: frozenset[str], need_host: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError for a non-numeric port
        except ValueError:
            return "is not a valid URL"
        if parts.scheme not in schemes:
            return f"must start with one of {', '.join(sorted(s + '://' for s in schemes))}"
        if need_host and not parts.hostname:
            return "needs a host name"
        return None

    return check


def _check_optional(check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    return lambda value: check(value) if value else None


def _check_range(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be between {low:g} and {high:g}"

    return check


_CHECKS: Final[Mapping[str, Callable[[Any], str | None]]] = {
    # A socket URL (postgresql://user@/db?host=/dir) has no host name in the authority.
    "database_url": _check_url(frozenset({"postgresql", "postgres"}), need_host=False),
    "redis_url": _check_url(frozenset({"redis", "rediss"}), need_host=True),
    "public_url": _check_url(frozenset({"http", "https"}), need_host=True),
    "smtp_port": _check_range(1, 65535),
    "db_pool_min": _check_range(0, 1000),
    "db_pool_max": _check_range(1, 1000),
    "db_timeout_seconds": _check_range(0.1, 600),
    "retention_days": _check_range(0, 3650),
    "hold_minutes": _check_range(1, 60),
    "confirmation_minutes": _check_range(5, 7 * 24 * 60),
    "max_active_per_email": _check_range(1, 100),
    "waitlist_offer_minutes": _check_range(5, 7 * 24 * 60),
    "waitlist_cooldown_minutes": _check_range(0, 24 * 60),
    "waitlist_release_window_minutes": _check_range(0, 24 * 60),
    "waitlist_lottery_minutes": _check_range(0, 24 * 60),
    "pow_difficulty": _check_range(0, 10_000_000),
    "outbox_lease_seconds": _check_range(1, 3600),
    "outbox_poll_seconds": _check_range(1, 3600),
    "check_in_early_minutes": _check_range(0, 12 * 60),
    "check_in_late_minutes": _check_range(0, 12 * 60),
    "queue_close_grace_minutes": _check_range(0, 12 * 60),
    "event_stream_seconds": _check_range(1, 24 * 3600),
    "availability_cache_seconds": _check_range(0, 60),
    "session_idle_minutes": _check_range(1, 24 * 60),
    "session_max_hours": _check_range(1, 7 * 24),
    "login_max_failures": _check_range(1, 100),
    "login_lock_minutes": _check_range(1, 24 * 60),
    "oidc_issuer": _check_optional(_check_url(frozenset({"http", "https"}), need_host=True)),
}


def require_secret_key(settings: Settings) -> None:
    """Processes that sign or hash tokens refuse to start with a guessable key."""
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"BOOKING_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random characters"
        )


def admin_password(environ: Mapping[str, str] | None = None) -> str | None:
    """``booking create-admin`` without a prompt, for scripts; not part of ``Settings``."""
    env = os.environ if environ is None else environ
    return env.get(ENV_PREFIX + "ADMIN_PASSWORD") or None


def env_names() -> frozenset[str]:
    """Every environment variable the service reads (compose.yaml is checked against it)."""
    return frozenset(ENV_PREFIX + name.upper() for name in Settings.__struct_fields__)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for name in Settings.__struct_fields__:
        key = ENV_PREFIX + name.upper()
        if key in env:
            raw[name] = env[key].strip()
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_describe_validation_error(str(exc))) from None
    for name, check in _CHECKS.items():
        problem = check(getattr(settings, name))
        if problem:
            shown = "" if name in _SECRET_FIELDS else f" (got {getattr(settings, name)!r})"
            raise SettingsError(f"{ENV_PREFIX}{name.upper()} {problem}{shown}")
    try:
        settings.proxy_networks()
    except ValueError:
        raise SettingsError(
            "BOOKING_TRUSTED_PROXIES must be comma-separated IP addresses or networks"
        ) from None
    if settings.db_pool_min > settings.db_pool_max:
        raise SettingsError("BOOKING_DB_POOL_MIN must not exceed BOOKING_DB_POOL_MAX")
    if settings.waitlist_lottery_minutes > settings.waitlist_cooldown_minutes:
        # Otherwise freed capacity could go public before the lottery drew for it.
        raise SettingsError(
            "BOOKING_WAITLIST_LOTTERY_MINUTES must not exceed BOOKING_WAITLIST_COOLDOWN_MINUTES"
        )
    return settings


def _describe_validation_error(message: str) -> str:
    # msgspec says "Expected `int`, got `str` - at `$.smtp_port`"; name the variable instead.
    text, _, where = message.partition(" - at `$.")
    field = where.rstrip("`")
    if field:
        return f"{ENV_PREFIX}{field.upper()}: {text.lower()}"
    return text
