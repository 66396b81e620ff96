"""The worker's kept SMTP connections, against a real SMTP server on loopback.

Whatever happens to a kept connection, a message counts as sent only once the server took it,
and the next message still goes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from booking.embedded import free_port
from booking.settings import Settings
from booking.smtp import PermanentFailure, Relay, TemporaryFailure
from tests.workers.test_notifications import Inbox


class Server(Inbox):
    """The inbox, also knowing the connection each message came on; refuses as told."""

    def __init__(self) -> None:
        super().__init__(free_port())
        self.connection_of: dict[str, int] = {}  # Message-ID -> the session it came in
        self.defer_data = 0  # this many DATA commands get a 451
        self.close_next_mail = False  # answer the next MAIL with 421, as at an idle timeout

    async def handle_MAIL(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.close_next_mail:
            self.close_next_mail = False
            return "421 4.4.2 idle too long, closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.defer_data:
            self.defer_data -= 1
            return "451 4.3.0 try again later"
        answer = await super().handle_DATA(server, session, envelope)
        self.connection_of[self.ids()[-1]] = id(session)
        return answer

    def connections(self) -> int:
        return len(set(self.connection_of.values()))


@pytest.fixture
def server() -> Iterator[Server]:
    smtp = Server()
    smtp.start()
    yield smtp
    smtp.stop()


@pytest.fixture
async def relay(server: Server) -> AsyncIterator[Relay]:
    kept = Relay(Settings(smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none"))
    yield kept
    await kept.close()


def mail(n: int, to: str = "erika@example.org") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "termine@example.org", to
    message["Message-ID"] = f"<m{n}@test>"
    message.set_content("Hallo")
    return message


async def test_a_series_of_mails_all_arrive_over_one_connection(
    server: Server, relay: Relay
) -> None:
    for n in range(5):
        await relay.send(mail(n))
    assert server.ids() == [f"<m{n}@test>" for n in range(5)]
    assert server.connections() == 1


async def test_the_next_mail_arrives_when_the_server_restarted_in_between(
    server: Server, relay: Relay
) -> None:
    await relay.send(mail(1))
    server.stop()
    server.start()
    await relay.send(mail(2))
    assert server.ids() == ["<m1@test>", "<m2@test>"]


async def test_a_server_closing_a_kept_connection_costs_the_next_mail_nothing(
    server: Server, relay: Relay
) -> None:
    await relay.send(mail(1))
    server.close_next_mail = True
    await relay.send(mail(2))
    assert server.ids() == ["<m1@test>", "<m2@test>"]
    assert server.connections() == 2


async def test_a_refused_recipient_fails_for_good_and_the_next_mail_still_arrives(
    server: Server, relay: Relay
) -> None:
    await relay.send(mail(1))
    server.refuse = "nobody@example.org"
    with pytest.raises(PermanentFailure, match="550"):
        await relay.send(mail(2, to="nobody@example.org"))
    await relay.send(mail(3))
    assert server.ids() == ["<m1@test>", "<m3@test>"]


async def test_a_deferred_message_is_not_sent_and_is_tried_again_later(
    server: Server, relay: Relay
) -> None:
    await relay.send(mail(1))
    server.defer_data = 1
    with pytest.raises(TemporaryFailure, match="451"):
        await relay.send(mail(2))
    await relay.send(mail(2))
    assert server.ids() == ["<m1@test>", "<m2@test>"]


async def test_a_server_that_is_down_is_a_temporary_failure(server: Server, relay: Relay) -> None:
    await relay.send(mail(1))
    server.stop()
    with pytest.raises(TemporaryFailure):
        await relay.send(mail(2))
    server.start()
    await relay.send(mail(2))
    assert server.ids() == ["<m1@test>", "<m2@test>"]
