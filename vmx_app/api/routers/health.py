"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from vmx_app.api.responses import OrjsonResponse
from vmx_app.services.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz() -> OrjsonResponse:
    checks = await readiness()
    ok = all(c["ok"] for c in checks.values())
    return OrjsonResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                          status_code=200 if ok else 503)
