"""A local SMTP server that keeps every message as an .eml file, for ``booking dev``.

It is a real SMTP peer (aiosmtpd), so the worker's sending code runs unchanged in dev.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import msgspec
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class StoredMail(msgspec.Struct, frozen=True):
    name: str
    subject: str
    recipients: str
    received: str


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        data = envelope.original_content or envelope.content
        raw = data if isinstance(data, bytes) else str(data).encode()
        target = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = target.with_suffix(".part")
        tmp.write_bytes(raw)
        tmp.replace(target)  # a reader never sees half a message
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, folder: Path, port: int) -> None:
        # aiosmtpd logs every connection at INFO, which would bury the service's own output.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = port
        self._controller = Controller(_SaveToFolder(folder), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def list_mail(folder: Path) -> list[StoredMail]:
    """Newest first, with the headers a developer scans for."""
    found = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = read_mail(path)
        found.append(
            StoredMail(
                name=path.name,
                subject=str(message.get("Subject", "")),
                recipients=str(message.get("To", "")),
                received=datetime.strptime(path.name.partition("-")[0], "%Y%m%dT%H%M%S%f")
                .replace(tzinfo=UTC)
                .isoformat(timespec="seconds"),
            )
        )
    return found


def read_mail(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
