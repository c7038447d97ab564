"""The completion API (DESIGN §4): OpenAI Chat Completions and Responses, Anthropic Messages (and
count_tokens), and the model list, under /v1/completion/{ws}/{env}. Thin: the engine does the work.

`router` declares the routes for the OpenAPI document. Requests are served by `fast_router`: one plain
Starlette route in front of them that dispatches on the path tail, which skips FastAPI's per-request
dependency machinery (about half the framework cost of the hot path). Both call the same handlers.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from vmx_app.api.completion_auth import api_key_hash, read_body, source_ip
from vmx_app.gateway import catalog
from vmx_app.gateway.engine import GatewayRequest, GatewayResponse
from vmx_app.gateway.errors import Endpoint
from vmx_app.services.gateway_runtime import ready_engine
from vmx_app.settings import get_settings

router = APIRouter(prefix="/v1/completion/{ws}/{env}", tags=["completion"])
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


async def _request(request: Request, endpoint: Endpoint, with_body: bool = True) -> GatewayRequest:
    params = request.path_params
    limit = get_settings().vmx_max_body_bytes
    body = await read_body(request, limit) if with_body else b""
    return GatewayRequest(
        workspace_id=params["ws"], environment_id=params["env"], endpoint=endpoint,
        body=body, key_hash=api_key_hash(request), source_ip=source_ip(request),
        anthropic_beta=request.headers.get("anthropic-beta"), body_limit=limit,
    )


def _response(r: GatewayResponse) -> Response:
    if r.stream is not None:
        return StreamingResponse(r.stream, status_code=r.status, headers={**r.headers, **_SSE_HEADERS},
                                 media_type=r.media_type)
    return Response(r.body, status_code=r.status, headers=r.headers, media_type=r.media_type)


async def _complete(request: Request, endpoint: Endpoint) -> Response:
    engine = await ready_engine()
    return _response(await engine.complete(await _request(request, endpoint)))


@router.post("/chat/completions", summary="OpenAI Chat Completions")
async def chat_completions(request: Request) -> Response:
    return await _complete(request, "chat")


@router.post("/responses", summary="OpenAI Responses")
async def responses(request: Request) -> Response:
    return await _complete(request, "responses")


@router.post("/anthropic/messages", summary="Anthropic Messages")
@router.post("/anthropic/v1/messages", summary="Anthropic Messages (Anthropic SDK base URL …/anthropic)")
async def anthropic_messages(request: Request) -> Response:
    return await _complete(request, "anthropic")


@router.post("/anthropic/messages/count_tokens", summary="Anthropic count_tokens")
@router.post("/anthropic/v1/messages/count_tokens", summary="Anthropic count_tokens")
async def anthropic_count_tokens(request: Request) -> Response:
    engine = await ready_engine()
    return _response(await catalog.count_tokens(engine, await _request(request, "anthropic")))


@router.get("/models", summary="The environment's AI resources as an OpenAI model list")
async def models(request: Request) -> Response:
    engine = await ready_engine()
    return _response(await catalog.list_models(engine, await _request(request, "chat", with_body=False)))


@router.get("/anthropic/v1/models", summary="The environment's AI resources as an Anthropic model list")
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


async def _dispatch(request: Request) -> Response:
    handler = _HANDLERS.get((request.method, request.path_params["rest"]))
    if handler is None:
        known = any(tail == request.path_params["rest"] for _, tail in _HANDLERS)
        status = 405 if known else 404
        message = "method not allowed" if known else f"no completion route {request.url.path}"
        return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                       "code": str(status)}}, status_code=status)
    return await handler(request)


fast_router = APIRouter()
fast_router.routes.append(Route("/v1/completion/{ws}/{env}/{rest:path}", _dispatch, methods=["GET", "POST"],
                                include_in_schema=False))
