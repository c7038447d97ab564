"""The completion API (DESIGN §4): OpenAI Chat Completions and Responses, Anthropic Messages (and
count_tokens), and the model list, under /v1/completion/{ws}/{env}. Thin: the engine does the work.

`router` declares the routes for the OpenAPI document. Requests are served by `CompletionFastPath`, an
ASGI wrapper around the whole app that takes `/v1/completion/…` before Starlette's middleware stack,
route matching and FastAPI's dependency machinery run (most of the framework cost of the hot path),
and dispatches on the path tail. Both call the same handlers.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vmx_app.api.completion_auth import api_key_hash, read_body
from vmx_app.api.completion_openapi import ANTHROPIC_ERRORS, OPENAI_ERRORS, completion_path
from vmx_app.api.request_ip import request_source_ip
from vmx_app.api.sse_response import SSEResponse
from vmx_app.gateway import catalog
from vmx_app.gateway.engine import GatewayRequest, GatewayResponse
from vmx_app.gateway.errors import GatewayError, error_body
from vmx_app.gateway.types import Endpoint
from vmx_app.services.gateway_runtime import ready_engine
from vmx_app.settings import get_settings

PREFIX = "/v1/completion/"
router = APIRouter(prefix="/v1/completion/{ws}/{env}", tags=["completion"], dependencies=[Depends(completion_path)])
log = logging.getLogger("vmx.gateway")
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def _request(request: Request, endpoint: Endpoint, with_body: bool = True) -> GatewayRequest:
    params = request.path_params
    settings = get_settings()
    limit = settings.vmx_max_body_bytes
    body = await read_body(request, limit) if with_body else b""
    return GatewayRequest(
        workspace_id=params["ws"], environment_id=params["env"], endpoint=endpoint,
        body=body, key_hash=api_key_hash(request), source_ip=request_source_ip(request),
        anthropic_beta=request.headers.get("anthropic-beta"), body_limit=limit,
        max_json_depth=settings.vmx_max_json_depth,
        traceparent=request.headers.get("traceparent"),
    )


def _response(r: GatewayResponse) -> Response:
    if r.stream is not None:
        return SSEResponse(r.stream, status_code=r.status, headers={**r.headers, **_SSE_HEADERS},
                                 media_type=r.media_type)
    return Response(r.body, status_code=r.status, headers=r.headers, media_type=r.media_type)


async def _complete(request: Request, endpoint: Endpoint) -> Response:
    engine = await ready_engine()
    return _response(await engine.complete(await _request(request, endpoint)))


@router.post("/chat/completions", summary="OpenAI Chat Completions", responses=OPENAI_ERRORS)
async def chat_completions(request: Request) -> Response:
    return await _complete(request, "chat")


@router.post("/responses", summary="OpenAI Responses", responses=OPENAI_ERRORS)
async def responses(request: Request) -> Response:
    return await _complete(request, "responses")


@router.post("/anthropic/messages", summary="Anthropic Messages", responses=ANTHROPIC_ERRORS)
@router.post("/anthropic/v1/messages", summary="Anthropic Messages (Anthropic SDK base URL …/anthropic)",
             responses=ANTHROPIC_ERRORS)
async def anthropic_messages(request: Request) -> Response:
    return await _complete(request, "anthropic")


@router.post("/anthropic/messages/count_tokens", summary="Anthropic count_tokens", responses=ANTHROPIC_ERRORS)
@router.post("/anthropic/v1/messages/count_tokens", summary="Anthropic count_tokens", responses=ANTHROPIC_ERRORS)
async def anthropic_count_tokens(request: Request) -> Response:
    engine = await ready_engine()
    return _response(await catalog.count_tokens(engine, await _request(request, "anthropic")))


@router.get("/models", summary="The environment's AI resources as an OpenAI model list", responses=OPENAI_ERRORS)
async def models(request: Request) -> Response:
    engine = await ready_engine()
    return _response(await catalog.list_models(engine, await _request(request, "chat", with_body=False)))


@router.get("/anthropic/v1/models", summary="The environment's AI resources as an Anthropic model list",
            responses=ANTHROPIC_ERRORS)
async def anthropic_models(request: Request) -> Response:
    engine = await ready_engine()
    req = await _request(request, "anthropic", with_body=False)
    return _response(await catalog.list_models(engine, req, "anthropic"))


_HANDLERS = {
    ("POST", "chat/completions"): chat_completions,
    ("POST", "responses"): responses,
    ("POST", "anthropic/messages"): anthropic_messages,
    ("POST", "anthropic/v1/messages"): anthropic_messages,
    ("POST", "anthropic/messages/count_tokens"): anthropic_count_tokens,
    ("POST", "anthropic/v1/messages/count_tokens"): anthropic_count_tokens,
    ("GET", "models"): models,
    ("GET", "anthropic/v1/models"): anthropic_models,
}


def _error(status: int, message: str, rest: str) -> Response:
    """The fast path's own errors, in the shape of the route family asked for (DESIGN §4)."""
    shape: Endpoint = "anthropic" if rest.startswith("anthropic/") else "chat"
    etype = "invalid_request_error" if status == 405 else None  # a wrong method is the caller's request
    return Response(error_body(shape, GatewayError(status, message, type=etype)), status_code=status,
                    media_type="application/json")


async def _dispatch(request: Request) -> Response:
    rest = request.path_params["rest"]
    handler = _HANDLERS.get((request.method, rest))
    if handler is None:
        known = any(tail == rest for _, tail in _HANDLERS)
        return _error(405, "method not allowed", rest) if known else \
            _error(404, f"no completion route {request.url.path}", rest)
    return await handler(request)


class CompletionFastPath:
    """ASGI wrapper: `/v1/completion/{ws}/{env}/{rest}` straight to the handlers, the rest to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        ws, _, tail = path[len(PREFIX):].partition("/")
        env, _, rest = tail.partition("/")
        if not (ws and env and rest):
            response: Response = _error(404, f"no completion route {path}", rest)
        else:
            scope["path_params"] = {"ws": ws, "env": env, "rest": rest}
            try:
                response = await _dispatch(Request(scope, receive))
            except Exception:  # the engine answers its own errors; this is a bug, never a hang
                log.exception("completion route %s failed", path)
                response = _error(500, "internal error", rest)
        await response(scope, receive, send)
