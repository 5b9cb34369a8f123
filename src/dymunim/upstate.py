"""What `dymunim up` knows about the processes it supervises, for the /health of its children.

`up` is not reachable over HTTP and Postgres cannot report its own restarts, so `up` keeps a small
JSON file under its data folder (path in DYMUNIM_UP_STATE_FILE) and the API reads it per request.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write(path: Path, state: dict[str, Any]) -> None:
    """Replace the file in one rename, so a reader never sees half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def postgres_check(path: Path | None) -> dict[str, Any] | None:
    """The `postgres` entry of /health: None when `up` supervises no Postgres (DATABASE_URL, no `up`)."""
    if path is None:
        return None
    try:
        pg = json.loads(path.read_text(encoding="utf-8")).get("postgres")
    except (OSError, ValueError) as exc:
        return {"ok": False, "error": f"cannot read {path.name}: {type(exc).__name__}"}
    if not isinstance(pg, dict):
        return None
    out: dict[str, Any] = {"ok": bool(pg.get("running")), "restarts": int(pg.get("restarts", 0)),
                           "last_restart_at": pg.get("last_restart_at")}
    if not out["ok"]:
        out["error"] = pg.get("error") or "postgres is down; `up` is restarting it"
    return out
