from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import asyncpg
import pytest

from booking.db.migrations import MigrationError, load_migrations, migrate
from booking.resources import sql_dir


async def _migrate_once(url: str, folder: Path | None = None) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return await migrate(conn, load_migrations(folder))
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_each_file_exactly_once(empty_database_url: str) -> None:
    results = await asyncio.gather(*(_migrate_once(empty_database_url) for _ in range(8)))
    names = [m.name for m in load_migrations()]
    assert sorted(results, key=len) == [[]] * 7 + [names]
    conn = await asyncpg.connect(empty_database_url)
    try:
        rows = await conn.fetch("select name from schema_migration order by version")
        tables = await conn.fetchval(
            "select count(*) from information_schema.tables where table_name = 'appointment'"
        )
    finally:
        await conn.close()
    assert [r["name"] for r in rows] == names
    assert tables == 1


@pytest.fixture
def migration_copy(tmp_path: Path) -> Path:
    for path in sql_dir().glob("0*.sql"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


async def test_a_changed_applied_migration_is_refused_and_nothing_runs(
    empty_database_url: str, migration_copy: Path
) -> None:
    await _migrate_once(empty_database_url, migration_copy)
    first = sorted(migration_copy.glob("0*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after release\n")
    (migration_copy / "9999_new_table.sql").write_text("create table must_not_exist (id int);")
    with pytest.raises(MigrationError, match=re.escape(f"migration {first.name} was changed")):
        await _migrate_once(empty_database_url, migration_copy)
    conn = await asyncpg.connect(empty_database_url)
    try:
        exists = await conn.fetchval("select to_regclass('must_not_exist') is not null")
    finally:
        await conn.close()
    assert exists is False


async def test_a_deleted_applied_migration_is_refused(
    empty_database_url: str, migration_copy: Path
) -> None:
    (migration_copy / "0999_extra.sql").write_text("create table extra (id int);")
    await _migrate_once(empty_database_url, migration_copy)
    (migration_copy / "0999_extra.sql").unlink()
    with pytest.raises(MigrationError, match=re.escape("0999_extra.sql is missing")):
        await _migrate_once(empty_database_url, migration_copy)


async def test_a_failing_migration_leaves_the_database_as_it_was(
    empty_database_url: str, migration_copy: Path
) -> None:
    (migration_copy / "0998_broken.sql").write_text("create table half (id int); select 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await _migrate_once(empty_database_url, migration_copy)
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await conn.fetchval("select to_regclass('schema_migration') is not null")
        half = await conn.fetchval("select to_regclass('half') is not null")
    finally:
        await conn.close()
    assert (applied, half) == (False, False)
