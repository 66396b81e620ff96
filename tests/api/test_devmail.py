from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import msgspec
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.embedded import free_port
from booking.mailsink import MailSink
from booking.settings import Settings


async def test_mail_sent_to_the_dev_sink_is_listed_and_readable(
    settings: Settings, redis: Redis, tmp_path: Path
) -> None:
    sink = MailSink(tmp_path / "mail", free_port())
    sink.start()
    try:
        message = EmailMessage()
        message["From"] = "termine@musterstadt.example"
        message["To"] = "erika@example.org"
        message["Subject"] = "Ihr Termin am 3. Dezember"
        message.set_content("Buchungscode K7QF2M")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=sink.port)
    finally:
        sink.stop()
    dev = msgspec.structs.replace(settings, dev_mail_dir=str(tmp_path / "mail"))
    async with AsyncTestClient(app=create_app(dev)) as client:
        listing = await client.get("/dev/mail")
        assert listing.status_code == 200
        assert "Ihr Termin am 3. Dezember" in listing.text
        assert "erika@example.org" in listing.text
        name = next((tmp_path / "mail").glob("*.eml")).name
        raw = await client.get(f"/dev/mail/{name}")
        assert "Buchungscode K7QF2M" in raw.text
        escape = await client.get("/dev/mail/..%2Fsecret_key")
        assert escape.status_code == 404


async def test_dev_mail_pages_do_not_exist_outside_dev_mode(
    settings: Settings, redis: Redis
) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/dev/mail")).status_code == 404
