"""``python -m bench.fanout_client URL SLUG TOKEN CLIENTS EVENTS``: display boards on SSE.

Opens CLIENTS streams, says ``ready`` once every stream is subscribed (its first message
came), then notes when each stream receives each call (``time.monotonic``, the same clock
in every process on Linux) and prints one JSON line: receipts per stream, reconnects and
its own CPU seconds. A stream that cannot connect or is refused tries again after a
moment, as a browser's EventSource does.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

RETRY_SECONDS = 1.0
# Boards switched on together still connect a hundred at a time: a burst of a thousand
# SYNs overflows the listen backlog, and a dropped SYN is retried only seconds later.
CONNECTING = 100


class Board:
    def __init__(self, url: str, slug: str, token: str, boards: Boards) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self.request = (
            f"GET /api/v1/locations/{slug}/display/stream HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        self.boards = boards
        self.receipts: list[float] = []

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            try:
                async with self.boards.connecting, asyncio.timeout(5):
                    reader, writer = await asyncio.open_connection(*self.address)
                    writer.write(self.request)
                    status = await reader.readline()
                if status.split()[1:2] == [b"200"]:
                    return reader, writer
                writer.close()
            except (OSError, IndexError, TimeoutError):
                pass
            self.boards.reconnects += 1
            await asyncio.sleep(RETRY_SECONDS)

    async def follow(self, events: int) -> None:
        reader, writer = await self._connect()
        chunked = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                chunked = True
        buffer, first = b"", True
        try:
            while len(self.receipts) < events:
                if chunked:
                    size = int((await reader.readline()).strip() or b"0", 16)
                    buffer += (await reader.readexactly(size + 2))[:-2]
                else:
                    buffer += await reader.read(65536)
                buffer = buffer.replace(b"\r\n", b"\n")  # Granian ends SSE lines with CRLF
                while b"\n\n" in buffer:
                    message, _, buffer = buffer.partition(b"\n\n")
                    if first:
                        first = False
                        self.boards.subscribed_one()
                    if b"event: call" in message:
                        self.receipts.append(time.monotonic())
        finally:
            writer.close()


class Boards:
    def __init__(self, clients: int) -> None:
        self.clients, self.subscribed, self.reconnects = clients, 0, 0
        self.all_subscribed = asyncio.Event()
        self.connecting = asyncio.Semaphore(CONNECTING)

    def subscribed_one(self) -> None:
        self.subscribed += 1
        if self.subscribed == self.clients:
            self.all_subscribed.set()


async def main(url: str, slug: str, token: str, clients: int, events: int) -> None:
    boards = Boards(clients)
    members = [Board(url, slug, token, boards) for _ in range(clients)]
    tasks = [asyncio.create_task(board.follow(events)) for board in members]
    try:
        await asyncio.wait_for(boards.all_subscribed.wait(), 90)
    except TimeoutError:
        print(f"only {boards.subscribed} of {clients} subscribed", flush=True)
        raise SystemExit(1) from None
    print("ready", flush=True)
    _, pending = await asyncio.wait(tasks, timeout=60)
    for task in pending:
        task.cancel()
    failures = sorted({repr(t.exception())[:200] for t in tasks if t.done() and t.exception()})
    found = {
        "receipts": [board.receipts for board in members],
        "failures": failures,
        "reconnects": boards.reconnects,
        "cpu": time.process_time(),
    }
    print(json.dumps(found), flush=True)


if __name__ == "__main__":
    url, slug, token, clients, events = sys.argv[1:6]
    asyncio.run(main(url, slug, token, int(clients), int(events)))
