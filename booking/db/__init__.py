"""Database access: the pool, the migration runner and one query module per aggregate."""

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# Query functions accept a plain connection (CLI, tests) as well as one from the pool.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
