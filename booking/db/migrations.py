"""Forward-only plain-SQL migrations, applied in one transaction under an advisory lock.

Every applied file is recorded with its SHA-256; a file changed after it was applied is
refused loudly, because the database would silently differ from what the repository says.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import msgspec

from booking.db import Connection
from booking.resources import sql_dir

# Any constant works; it only has to be the same for every migrator of this database.
_LOCK_KEY = 0x626F6F6B696E67  # "booking"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The migration history and the files disagree; nothing was applied."""


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or sql_dir()
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            continue  # schema.sql and other files are for review, not migrations
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a number in {folder}")
    return found


async def migrate(conn: Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is pending and return the names applied; safe to run from many processes."""
    async with conn.transaction():
        # The lock is taken before anything else so that concurrent migrators queue here.
        await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            """
            create table if not exists schema_migration (
                version    integer primary key,
                name       text not null,
                checksum   text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        rows = await conn.fetch("select version, name, checksum from schema_migration")
        applied = {row["version"]: (row["name"], row["checksum"]) for row in rows}
        by_version = {m.version: m for m in migrations}
        for version, (name, checksum) in sorted(applied.items()):
            migration = by_version.get(version)
            if migration is None:
                raise MigrationError(f"applied migration {name} is missing from the files")
            if migration.checksum != checksum:
                raise MigrationError(
                    f"migration {name} was changed after it was applied "
                    "(write a new migration instead of editing an applied one)"
                )
        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "insert into schema_migration (version, name, checksum) values ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
            done.append(migration.name)
        return done
