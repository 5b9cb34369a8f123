"""Load the named queries of `queries.sql` once; callers get bytes ready for psycopg."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, bytes]:
    parts = _NAME.split(text)
    out: dict[str, bytes] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in out:
            raise ValueError(f"query {name!r} is defined twice in queries.sql")
        out[name] = body.strip().encode()
    return out


@cache
def _all() -> dict[str, bytes]:
    return parse(files("dymunim.db").joinpath("queries.sql").read_text(encoding="utf-8"))


def q(name: str) -> bytes:
    """The SQL of one named query; a KeyError names a query that does not exist."""
    return _all()[name]
