"""Sending messages over SMTP, and telling a temporary failure from a permanent one.

A temporary failure (server down, 4xx, timeout, a login problem the operator will fix) is
retried later; a permanent one (5xx for the recipient) is marked failed with its reason.

The worker keeps its connections open between messages (``Relay``): connecting, EHLO,
STARTTLS and login cost the relay and us more than a message itself. A kept connection
the server has closed meanwhile is noticed and the message goes out on a fresh one (should
the server have taken it just before dropping the line, the citizen gets it twice with the
same Message-ID: at least once, as after a killed worker). A message counts as sent only
when the server answered its DATA with 2xx.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.generator import BytesGenerator
from email.message import Message
from email.policy import Compat32
from io import BytesIO
from typing import Final, NamedTuple

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender

from booking.settings import Settings

TIMEOUT: Final = 30  # seconds for connecting and for each command
# A connection unused for longer is closed rather than reused: servers drop idle clients
# after a while (Postfix after 300 s), and one that did would only cost a failed attempt.
IDLE_SECONDS: Final = 30.0
# "Service not available, closing transmission channel": what a server says to a
# connection it is about to close (idle timeout, restart), not about the message.
_CLOSING: Final = 421


class _Wire(Compat32):
    """compat32 (as aiosmtplib writes our messages), without refolding a header that fits.

    ``booking.mail`` encodes every header to ASCII as it builds it, so nearly all fit on
    their line as they are; compat32 still takes each apart into a ``Header`` and puts it
    together again, a quarter of writing a mail.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and (self.max_line_length is None or len(name) + 2 + len(value) <= self.max_line_length)
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_WIRE: Final = _Wire()


def written(mail: Message) -> bytes:
    """``mail`` as it goes over the wire."""
    with BytesIO() as out:
        BytesGenerator(out, policy=_WIRE).flatten(mail)
        return out.getvalue()


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """This message will never be accepted; keep the reason for admins."""


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def _dropped(exc: Exception) -> bool:
    """Whether ``exc`` says the connection was gone, rather than anything about the message."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == _CLOSING
    return isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError)


@contextmanager
def _classified() -> Iterator[None]:
    """aiosmtplib's and the network's exceptions as TemporaryFailure or PermanentFailure."""
    try:
        yield
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


class _Envelope(NamedTuple):
    sender: str
    recipients: list[str]
    data: bytes
    options: list[str]  # for MAIL FROM


class Relay:
    """Connections to the configured relay, each used by one message at a time.

    There are never more than messages being sent at once (the outbox relay's lanes times
    their batch); the idle ones wait, most recently used first, until the next message or
    IDLE_SECONDS.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[tuple[float, aiosmtplib.SMTP]] = []  # (idle since, connection)

    async def send(self, mail: Message) -> None:
        """Return once the server accepted the message; raise TemporaryFailure or
        PermanentFailure otherwise."""
        sender, recipients = extract_sender(mail), extract_recipients(mail)
        if sender is None or not recipients:
            raise ValueError("a mail needs From and To")
        # An address beyond ASCII needs the server's SMTPUTF8, as in aiosmtplib's send_message.
        utf8 = not (sender + "".join(recipients)).isascii()
        envelope = _Envelope(sender, recipients, written(mail), ["SMTPUTF8"] if utf8 else [])
        with _classified():
            smtp = self._kept()
            if smtp is not None:
                try:
                    await self._send_on(smtp, envelope)
                except Exception as exc:
                    if not _dropped(exc):
                        raise
                else:
                    return
            await self._send_on(await self._connect(), envelope)

    async def close(self) -> None:
        """Say goodbye on every idle connection (the worker is stopping)."""
        idle, self._idle = self._idle, []
        for _, smtp in idle:
            with suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.quit(timeout=5)
            smtp.close()

    def _kept(self) -> aiosmtplib.SMTP | None:
        """The most recently used idle connection that is still open; stale ones are closed."""
        now = time.monotonic()
        while self._idle and now - self._idle[0][0] > IDLE_SECONDS:
            self._idle.pop(0)[1].close()
        while self._idle:
            _, smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
            smtp.close()
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_security == "starttls",
            use_tls=settings.smtp_security == "tls",
            timeout=TIMEOUT,
        )
        try:
            await smtp.connect()  # with EHLO, STARTTLS and login as configured
        except BaseException:
            smtp.close()
            raise
        return smtp

    async def _send_on(self, smtp: aiosmtplib.SMTP, mail: _Envelope) -> None:
        """One transaction; the connection is kept only when it went through cleanly
        (after an error reply or a timeout its state is not worth guessing)."""
        try:
            await smtp.sendmail(mail.sender, mail.recipients, mail.data, mail_options=mail.options)
        except BaseException:
            smtp.close()
            raise
        self._idle.append((time.monotonic(), smtp))
