"""The SQL one real request sends, recorded, and replayed by pgbench as the yardstick.

A request runs once in-process against the bench database with its pool wrapped: every
statement, its arguments, its transaction bounds and the rows it got back are kept. The
pgbench script is then exactly that SQL with the arguments as literals, except values that
must differ per transaction (unique keys, the start, the desk) and ids an earlier statement
returned, which become pgbench variables (``\\gset``), so a change to the use case changes
its yardstick too.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import TracebackType
from typing import Any

import asyncpg

# Ids in the bench data start at multiples of this, one range per table (bench.data), so a
# large integer in a later statement that an earlier one returned is that very id, never
# a count, a quantity or another table's id.
FIRST_ID = 1_000_000


@dataclass
class Statement:
    sql: str
    args: tuple[Any, ...] = ()
    row: Mapping[str, Any] | None = None  # the one row it returned, if exactly one


@dataclass
class Recording:
    statements: list[Statement] = field(default_factory=list)

    def add(self, sql: str, args: Sequence[Any], rows: Sequence[Mapping[str, Any]]) -> None:
        row = dict(rows[0]) if len(rows) == 1 else None
        self.statements.append(Statement(sql, tuple(args), row))


class _Transaction:
    def __init__(self, inner: Any, recording: Recording, depth: list[int]) -> None:
        self._inner, self._recording, self._depth = inner, recording, depth

    async def __aenter__(self) -> None:
        name = f"s{self._depth[0]}"
        self._recording.add("BEGIN" if self._depth[0] == 0 else f"SAVEPOINT {name}", (), ())
        self._depth[0] += 1
        await self._inner.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(kind, exc, tb)
        self._depth[0] -= 1
        top = self._depth[0] == 0
        name = f"s{self._depth[0]}"
        if kind is None:
            self._recording.add("COMMIT" if top else f"RELEASE SAVEPOINT {name}", (), ())
        else:
            self._recording.add("ROLLBACK" if top else f"ROLLBACK TO SAVEPOINT {name}", (), ())


class RecordingConnection:
    """Passes every call on to the real connection and writes down what went over the wire."""

    def __init__(self, conn: Any, recording: Recording) -> None:
        self._conn, self._recording, self._depth = conn, recording, [0]

    async def fetch(self, sql: str, *args: Any, **kw: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._conn.fetch(sql, *args, **kw)
        self._recording.add(sql, args, rows)
        return rows

    async def fetchrow(self, sql: str, *args: Any, **kw: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._conn.fetchrow(sql, *args, **kw)
        self._recording.add(sql, args, [] if row is None else [row])
        return row

    async def fetchval(self, sql: str, *args: Any, column: int = 0, **kw: Any) -> Any:
        row = await self.fetchrow(sql, *args, **kw)
        return None if row is None else row[column]

    async def execute(self, sql: str, *args: Any, **kw: Any) -> str:
        status: str = await self._conn.execute(sql, *args, **kw)
        self._recording.add(sql, args, ())
        return status

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]], **kw: Any) -> None:
        await self._conn.executemany(sql, args, **kw)
        for one in args:
            self._recording.add(sql, one, ())

    def transaction(self, **kw: Any) -> _Transaction:
        if kw:
            raise NotImplementedError(f"recording a transaction with {kw}")
        return _Transaction(self._conn.transaction(), self._recording, self._depth)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class RecordingPool:
    """Stands in for the app's asyncpg pool while one request runs."""

    def __init__(self, pool: asyncpg.Pool, recording: Recording) -> None:
        self._pool, self.recording = pool, recording

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[RecordingConnection]:
        async with self._pool.acquire() as conn:
            yield RecordingConnection(conn, self.recording)

    def acquire(self, **_: Any) -> Any:
        return self._acquire()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self._acquire() as conn:
            return await conn.fetchval(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


# -- the pgbench script ----------------------------------------------------------------------


def _text(value: str, cast: str = "") -> str:
    # An E'' string with the colon escaped: pgbench takes ":name" for one of its variables.
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "''")
        .replace(":", "\\072")
        .replace(";", "\\073")
        .replace("\n", "\\n")
    )
    return f"E'{escaped}'{cast}"


def _array_item(value: Any) -> str:
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_CASTS: tuple[tuple[type, str], ...] = (
    # datetime before date: a datetime is a date too.
    (datetime, "::timestamptz"),
    (date, "::date"),
    (time, "::time"),
    (uuid.UUID, "::uuid"),
)


def _text_form(value: Any) -> tuple[str, str]:
    """(text, cast) of a value PostgreSQL reads from a string."""
    if isinstance(value, timedelta):
        return f"{value.total_seconds()} seconds", "::interval"
    if isinstance(value, dict):
        return json.dumps(value), "::jsonb"
    if isinstance(value, list | tuple):
        return "{" + ",".join(_array_item(v) for v in value) + "}", ""
    for kind, cast in _CASTS:
        if isinstance(value, kind):
            text = value.isoformat() if isinstance(value, datetime | date | time) else str(value)
            return text, cast
    return str(value), ""


def literal(value: Any) -> str:
    """``value`` as SQL text that needs no parameter and never looks like a pgbench variable."""
    if value is None or isinstance(value, bool):
        return {None: "NULL", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return f"({value})"
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    return _text(*_text_form(value))


def _key(value: Any) -> tuple[type, Any]:
    return (type(value), tuple(value) if isinstance(value, list) else value)


def _returned(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value >= FIRST_ID) or (
        isinstance(value, uuid.UUID)
    )


_PLACEHOLDER = re.compile(r"\$(\d+)")


def pgbench_script(
    recording: Recording, *, preamble: Sequence[str], varying: Mapping[Any, str]
) -> str:
    """The recorded statements as a pgbench script.

    ``varying`` maps a recorded argument value to the SQL expression that replaces it in
    every transaction (``"('b' || :u || '@example.org')"``); ``preamble`` sets those
    variables. Ids returned by one statement and passed to a later one become variables.
    """
    fixed = {_key(value): expression for value, expression in varying.items()}
    sources: dict[tuple[type, Any], str] = {}
    rendered: list[tuple[str, int]] = []
    used: set[int] = set()
    for index, statement in enumerate(recording.statements):

        def argument(match: re.Match[str], args: tuple[Any, ...] = statement.args) -> str:
            value = args[int(match.group(1)) - 1]
            if _key(value) in fixed:
                return fixed[_key(value)]
            if _returned(value) and _key(value) in sources:
                name = sources[_key(value)]
                used.add(int(name[1:].partition("_")[0]))
                return f"(:{name})"
            return literal(value)

        sql = _PLACEHOLDER.sub(argument, statement.sql.strip().rstrip(";"))
        rendered.append((sql, index))
        for column, value in (statement.row or {}).items():
            if _returned(value) and _key(value) not in fixed and column.isidentifier():
                sources[_key(value)] = f"r{index}_{column}"
    lines = [*preamble]
    for sql, index in rendered:
        lines.append(f"{sql} \\gset r{index}_" if index in used else f"{sql};")
    return "\n".join(lines) + "\n"
