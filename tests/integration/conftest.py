"""A throwaway embedded Postgres 16 per test module, for tests below the HTTP layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dymunim.db.embedded import EmbeddedPostgres


@pytest.fixture(scope="module")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pg = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")))
    dsn = pg.start()
    yield dsn
    pg.stop()
