"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from starlette.responses import Response

from vmx_app.api.responses import OrjsonResponse
from vmx_app.services.health import readiness
from vmx_app.settings import get_settings
from vmx_app.shutdown import is_draining
from vmx_app.telemetry import prometheus_registry

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz() -> OrjsonResponse:
    """Each dependency in the body; 503 when one is not ready, or once shutdown has begun (draining)."""
    checks = await readiness()
    ok = all(c["ok"] for c in checks.values())
    status = "draining" if is_draining() else "ok" if ok else "unavailable"
    return OrjsonResponse({"status": status, "checks": checks}, status_code=200 if status == "ok" else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """METRICS_PROMETHEUS=true: the OpenTelemetry metrics in the Prometheus text format; METRICS_BEARER_TOKEN,
    when set, is required as `Authorization: Bearer <token>`."""
    registry = prometheus_registry()
    if registry is None:
        return OrjsonResponse({"error": {"message": "metrics are off: set METRICS_PROMETHEUS=true"}}, status_code=404)
    token = get_settings().metrics_bearer_token
    if token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return OrjsonResponse({"error": {"message": "a valid bearer token is required"}}, status_code=401,
                                  headers={"www-authenticate": "Bearer"})
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
