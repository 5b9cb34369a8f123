"""A throwaway embedded Postgres 16 per test module, for tests below the HTTP layer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dymunim.db.embedded import EmbeddedPostgres


@pytest.fixture(scope="module")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pg = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")))
    dsn = pg.start()
    yield dsn
    pg.stop()


@pytest.fixture
def fresh_dsn(pg_dsn: str) -> Iterator[str]:
    """An empty database of its own on the module's server: made-up migrations touch nothing else."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
