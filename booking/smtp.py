"""Sending one message over SMTP, and telling a temporary failure from a permanent one.

A temporary failure (server down, 4xx, timeout, a login problem the operator will fix) is
retried later; a permanent one (5xx for the recipient) is marked failed with its reason.
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from booking.settings import Settings


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """This message will never be accepted; keep the reason for admins."""


def _permanent(code: int) -> bool:
    return 500 <= code < 600


async def send(message: EmailMessage, settings: Settings) -> None:
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_security == "starttls",
            use_tls=settings.smtp_security == "tls",
            timeout=30,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [error.code for error in exc.recipients]
        text = "; ".join(f"{error.code} {error.message}" for error in exc.recipients)
        if codes and all(_permanent(code) for code in codes):
            raise PermanentFailure(f"recipient refused: {text}") from None
        raise TemporaryFailure(f"recipient deferred: {text}") from None
    except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused) as exc:
        # The operator's configuration, not the message: deliver once it is fixed.
        raise TemporaryFailure(f"server refused us: {exc.code} {exc.message}") from None
    except aiosmtplib.SMTPResponseException as exc:
        if _permanent(exc.code):
            raise PermanentFailure(f"refused: {exc.code} {exc.message}") from None
        raise TemporaryFailure(f"deferred: {exc.code} {exc.message}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from None
