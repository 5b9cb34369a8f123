"""/health: is the database answering, is the executor answering. No token needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dymunim.api.deps import State
from dymunim.db.queries import q
from dymunim.dispatch.dispatcher import HEALTH_PERIOD_S

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database and executor health")
async def health(state: State) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with state.pool.connection(timeout=5) as conn:
            await conn.execute(q("ping"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # any failure here is the answer, not an error
        checks["database"] = {"ok": False, "error": f"database unreachable: {type(exc).__name__}"}
    try:
        async with state.pool.connection(timeout=5) as conn:
            rows = await (await conn.execute(q("dispatchers_alive"), {"seconds": 3 * HEALTH_PERIOD_S})).fetchall()
        checks["dispatchers"] = {"ok": bool(rows), "alive": [
            {"id": r["dispatcher_id"], "pid": r["pid"], "hostname": r["hostname"], "in_flight": r["in_flight"],
             "last_seen": r["last_seen"].isoformat()} for r in rows]}
        if not rows:
            checks["dispatchers"]["error"] = "no dispatcher has reported in the last 15 s: jobs will wait"
    except Exception as exc:  # the database check above already says why
        checks["dispatchers"] = {"ok": False, "error": f"unknown: {type(exc).__name__}"}
    ex = await state.executor.health()
    checks["executor"] = {"ok": bool(ex.get("ok")), **{k: v for k, v in ex.items() if k != "ok"}}
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)
