"""/health: is the database answering, is the executor answering. No token needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dymunim.api.deps import State
from dymunim.db.queries import q

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
    ex = await state.executor.health()
    checks["executor"] = {"ok": bool(ex.get("ok")), **{k: v for k, v in ex.items() if k != "ok"}}
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)
