"""Named-query files: `-- name: <name>`, a one-line description, then SQL with %(named)s parameters.

Two files use this format: `store/queries.sql` (every statement a job goes through) and
`db/migrate.sql` (the migration runner's own). Python passes parameters and never builds SQL.
"""

from __future__ import annotations

import re
from importlib.resources import files

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, bytes]:
    parts = _NAME.split(text)
    out: dict[str, bytes] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in out:
            raise ValueError(f"query {name!r} is defined twice")
        out[name] = body.strip().encode()
    return out


def load(package: str, filename: str) -> dict[str, bytes]:
    return parse(files(package).joinpath(filename).read_text(encoding="utf-8"))
