"""The store's named queries (`queries.sql`), loaded once. Only modules of `dymunim.store` import this."""

from __future__ import annotations

from functools import cache

from dymunim.db.named import load


@cache
def _all() -> dict[str, bytes]:
    return load("dymunim.store", "queries.sql")


def q(name: str) -> bytes:
    """The SQL of one named query; a KeyError names a query that does not exist."""
    return _all()[name]
