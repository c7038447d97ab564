"""The aiohttp application behind the fake upstream: routing by path suffix, provider auth,
scripted behaviours, recording, and streaming with cuts and delays."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import upstream_anthropic as anthropic
from tests.fakes import upstream_bedrock as bedrock
from tests.fakes import upstream_openai as openai
from tests.fakes.upstream_behaviour import (
    DEFAULT_BEHAVIOUR,
    BadRequest,
    Behaviour,
    RecordedRequest,
    new_id,
    plan_answer,
)
from tests.fakes.upstream_routes import ROUTES, Family, Route, match_route

DEFAULT_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "anthropic.claude-3-haiku-20240307-v1:0")


class UpstreamState:
    """Scripts, defaults and recordings; safe to use from the test thread while the server runs."""

    def __init__(self, *, record: bool = True, models: tuple[str, ...] = DEFAULT_MODELS) -> None:
        self.record = record
        self.models = list(models)
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Behaviour]] = {}
        self._defaults: dict[str, Behaviour] = {}
        self._requests: list[RecordedRequest] = []

    def script(self, model: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for ``model`` (``"*"``: any model), consumed one per request."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(behaviours)

    def set_default(self, model: str, behaviour: Behaviour | None) -> None:
        """Persistent behaviour for ``model`` (``"*"``: any model); ``None`` removes it."""
        with self._lock:
            if behaviour is None:
                self._defaults.pop(model, None)
            else:
                self._defaults[model] = behaviour

    def pending(self, model: str) -> int:
        """Scripted behaviours not consumed yet."""
        with self._lock:
            return len(self._scripts.get(model, ()))

    def next_behaviour(self, model: str, last_user_text: str | None = None) -> Behaviour:
        with self._lock:
            for key in (model, "*"):
                for i, behaviour in enumerate(self._scripts.get(key) or ()):
                    if behaviour.when is None or behaviour.when in (last_user_text or ""):
                        del self._scripts[key][i]
                        return behaviour
            return self._defaults.get(model) or self._defaults.get("*") or DEFAULT_BEHAVIOUR

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("the fake upstream received no request")
            return self._requests[-1]

    def requests_for(self, model: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.model == model]

    def reset(self) -> None:
        """Forget recordings, scripts and defaults."""
        with self._lock:
            self._requests.clear()
            self._scripts.clear()
            self._defaults.clear()

    def _record(self, item: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(item)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, headers=headers, content_type="application/json")


def _family_headers(family: Family) -> dict[str, str]:
    if family == "openai":
        return {**openai.DEFAULT_HEADERS, "x-request-id": new_id("req_")}
    if family == "anthropic":
        return {**anthropic.default_headers(), "request-id": new_id("req_")}
    return {"x-amzn-requestid": new_id("")}


def _error(family: Family, status: int, message: str | None, headers: dict[str, str]) -> web.Response:
    if family == "openai":
        return _json(openai.error_body(status, message), status, headers)
    if family == "anthropic":
        return _json(anthropic.error_body(status, message), status, headers)
    body, extra = bedrock.error(status, message)
    return _json(body, status, {**headers, **extra})


def _has_bearer(headers: dict[str, str]) -> bool:
    token = headers.get("authorization", "")
    return token.startswith("Bearer ") and bool(token[7:].strip())


def _auth_failure(family: Family, headers: dict[str, str]) -> web.Response | None:
    if family == "openai":
        if not _has_bearer(headers):
            return _json(
                openai.error_body(401, "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."),
                401,
            )
    elif family == "anthropic":
        # Recent Anthropic SDKs send API keys as `Authorization: Bearer`; older ones as `x-api-key`.
        if not headers.get("x-api-key") and not _has_bearer(headers):
            return _json(anthropic.error_body(401, "x-api-key or Authorization header is required"), 401)
        if not headers.get("anthropic-version"):
            return _json(anthropic.error_body(400, "anthropic-version: header is required"), 400)
    elif not bedrock.has_sigv4(headers):
        body, extra = bedrock.auth_error()
        return _json(body, 403, extra)
    return None


def _drop(request: web.BaseRequest) -> web.StreamResponse:
    """Close the socket under the response. Buffered bytes are flushed first, then the peer sees the
    connection end without a complete HTTP message; aiohttp then finds the transport closing and
    gives up on the response quietly."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


def build_app(state: UpstreamState) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        name, path_model = match_route(request.method, request.path)
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                bad_json = True
        model = path_model or (body.get("model") if isinstance(body, dict) else None)
        if state.record:
            state._record(
                RecordedRequest(
                    request.method,
                    request.path,
                    headers,
                    body,
                    raw,
                    model if isinstance(model, str) else None,
                    name or "",
                )
            )
        if name is None:
            return _json(
                {
                    "error": {
                        "message": f"fake upstream has no route for {request.method} {request.path}",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "unknown_url",
                    }
                },
                404,
            )
        if name == "models":
            return _models(state, headers)
        family: Family = "anthropic" if name == "count_tokens" else ROUTES[name].family
        failure = _auth_failure(family, headers)
        if failure is not None:
            return failure
        base = _family_headers(family)
        if bad_json:
            return _error(family, 400, "The request body is not valid JSON.", base)
        if name == "count_tokens":
            scripted = state.next_behaviour(model) if isinstance(model, str) and state.pending(model) else None
            if scripted is not None and scripted.status >= 400:  # a scripted refusal, e.g. 401
                return _error(family, scripted.status, scripted.error_message, base)
            try:
                return _json(anthropic.count_tokens(body), headers=base)
            except BadRequest as exc:
                return _error(family, 400, str(exc), base)
        return await _complete(state, request, ROUTES[name], name, body, path_model, base)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _models(state: UpstreamState, headers: dict[str, str]) -> web.Response:
    with state._lock:
        names = list(dict.fromkeys([*state.models, *state._defaults, *state._scripts]))
    names = [n for n in names if n != "*"]
    if headers.get("anthropic-version"):
        failure = _auth_failure("anthropic", headers)
        if failure is not None:
            return failure
        data = [{"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"} for n in names]
        return _json(
            {
                "data": data,
                "has_more": False,
                "first_id": names[0] if names else None,
                "last_id": names[-1] if names else None,
            },
            headers=_family_headers("anthropic"),
        )
    failure = _auth_failure("openai", headers)
    if failure is not None:
        return failure
    data = [{"id": n, "object": "model", "created": 1700000000, "owned_by": "fake"} for n in names]
    return _json({"object": "list", "data": data}, headers=_family_headers("openai"))


async def _complete(
    state: UpstreamState,
    request: web.Request,
    route: Route,
    name: str,
    body: Any,
    path_model: str | None,
    base: dict[str, str],
) -> web.StreamResponse:
    try:
        view = route.parse(body, path_model)
    except BadRequest as exc:
        return _error(route.family, 400, str(exc), base)
    stream = view.stream if route.forced_stream is None else route.forced_stream
    behaviour = state.next_behaviour(view.model, view.last_user_text)
    headers = {**base, **behaviour.headers}
    if behaviour.delay_s:
        await asyncio.sleep(behaviour.delay_s)
    if behaviour.refuse:
        return _drop(request)
    if behaviour.status >= 400:
        return _error(route.family, behaviour.status, behaviour.error_message, headers)
    try:
        answer = plan_answer(view, behaviour, body)
    except ValueError as exc:  # a script that does not fit the request: make the test fail loudly
        return _error(route.family, 500, f"fake upstream script error: {exc}", headers)
    if name == "invoke":
        headers.update(bedrock.invoke_headers(answer))
    if not stream:
        response = _json(route.render(answer, body), behaviour.status, headers)
        if behaviour.cut_after_chunks is None:
            return response
        return await _cut_json(request, response)
    chunks = route.render_stream(answer, body, view)
    if name == "invoke-with-response-stream":
        headers["x-amzn-bedrock-content-type"] = "application/json"
    resp = web.StreamResponse(status=behaviour.status, headers=headers)
    resp.content_type = route.stream_type.split(";")[0]
    if "charset" in route.stream_type:
        resp.charset = "utf-8"
    await resp.prepare(request)
    cut = behaviour.cut_after_chunks
    for index, chunk in enumerate(chunks):
        if cut is not None and index >= cut:
            break
        if index and behaviour.chunk_delay_s:
            await asyncio.sleep(behaviour.chunk_delay_s)
        elif not index and behaviour.first_chunk_delay_s:
            await asyncio.sleep(behaviour.first_chunk_delay_s)
        await resp.write(chunk)
    if cut is None:
        await resp.write_eof()
        return resp
    if behaviour.error_event:
        await resp.write(route.stream_error(behaviour.error_message, min(cut, len(chunks))))
        await resp.write_eof()
        return resp
    return _drop(request)


async def _cut_json(request: web.Request, response: web.Response) -> web.StreamResponse:
    """A non-stream answer cut short: full Content-Length announced, half the body sent."""
    body = response.body
    assert isinstance(body, bytes)
    resp = web.StreamResponse(status=response.status, headers=response.headers)
    resp.content_length = len(body)
    await resp.prepare(request)
    await resp.write(body[: len(body) // 2])
    return _drop(request)
