"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import ORJSONResponse

from vmx_app.services.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz() -> ORJSONResponse:
    checks = await readiness()
    ok = all(c["ok"] for c in checks.values())
    return ORJSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                          status_code=200 if ok else 503)
