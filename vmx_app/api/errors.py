"""Management API errors: `{"error": {"code", "message", "details"}}` (DESIGN §8)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vmx_app.api.responses import OrjsonResponse
from vmx_app.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

# One place where a domain refusal becomes an HTTP status.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409, TooLarge: 413,
    RateLimited: 429, Unavailable: 502,
}


def domain_status(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


class ApiError(Exception):
    """An HTTP-only refusal of the API layer itself (a 401 with its `WWW-Authenticate` challenge);
    use cases raise `vmx_app.errors` domain errors instead."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> OrjsonResponse:
        return OrjsonResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status,
                              headers=exc.headers)

    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> OrjsonResponse:
        details = exc.details
        if details is None and exc.field:
            details = {"field": exc.field}
        headers = None
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        return OrjsonResponse(error_body(exc.code, exc.message, details), status_code=domain_status(exc),
                              headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> OrjsonResponse:
        details = [{"field": _field_path(e.get("loc", ())), "message": e.get("msg", "invalid")}
                   for e in exc.errors()]
        fields = ", ".join(d["field"] for d in details)
        return OrjsonResponse(error_body("validation_error", f"invalid request: {fields}", details),
                              status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> OrjsonResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        return OrjsonResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                              headers=getattr(exc, "headers", None))
