"""/healthz (the process is up) and /readyz (database reachable, migrations current)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep
from modelgate.db import migration_status

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database reachable and migrations current",
    responses={503: {"description": "database unreachable or migrations pending"}},
)
def readyz(engine: EngineDep) -> Any:
    try:
        status = migration_status(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"ready": False, "database": f"unreachable: {type(exc).__name__}"}, status_code=503
        )
    ready = bool(status["up_to_date"])
    body = {"ready": ready, "database": "ok", "migrations": status}
    if not ready:
        body["hint"] = "run `modelgate db upgrade`"
    return JSONResponse(body, status_code=200 if ready else 503)
