"""``python -m bench.sink PORT``: an SMTP server that accepts every message and keeps none.

A process of its own, as a real relay would be, so its work is not charged to the sender.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Discard:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        return "250 accepted"


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
