"""Provider transport against tiny in-test servers that answer like each provider."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from multidict import CIMultiDict

from vmx_app.gateway.adapters import (
    AdapterConfigError,
    ProviderError,
    ProviderNetworkError,
    ProviderTimeout,
    SSEDecoder,
    UpstreamCall,
    close_all,
    get_adapter,
)
from vmx_app.gateway.adapters.base import parse_error_body, parse_retry_after
from vmx_app.gateway.config import ConnectionSnapshot

SEEN: list[dict[str, Any]] = []
SECRET = "secret-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conn(provider: str, config: dict[str, Any], cid: str = "c1") -> ConnectionSnapshot:
    return ConnectionSnapshot(
        id=cid, workspace_id="ws", environment_id="env", name=cid, provider=provider, config=config
    )


def sse(*events: Any, name: str | None = None) -> bytes:
    out = b""
    for ev in events:
        data = ev if isinstance(ev, str) else json.dumps(ev)
        out += (f"event: {name}\n" if name else "").encode() + f"data: {data}\n\n".encode()
    return out


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude (lengths + CRC), string headers, payload, message CRC."""
    raw = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode() for k, v in headers.items()
    )
    prelude = struct.pack(">II", 16 + len(raw) + len(payload), len(raw))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + raw + payload
    return body + struct.pack(">I", zlib.crc32(body))


def aws_event(kind: str, payload: dict[str, Any]) -> bytes:
    return frame({":event-type": kind, ":message-type": "event"}, json.dumps({**payload, "p": "abc"}).encode())


def invoke_chunk(data: dict[str, Any]) -> bytes:
    return aws_event("chunk", {"bytes": base64.b64encode(json.dumps(data).encode()).decode()})


CHAT_STREAM = sse(
    {"choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}]},
    {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    "[DONE]",
)
ANTHROPIC_EVENTS = [
    ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
    ("content_block_delta", {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}}),
    ("message_stop", {"type": "message_stop"}),
]
CONVERSE_EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}}),
]


async def _write_slowly(request: web.Request, body: bytes, step: int = 7, pause: float = 0.0,
                        ctype: str = "text/event-stream") -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": ctype, "X-RateLimit-Limit-Requests": "100"})
    await resp.prepare(request)
    try:
        for i in range(0, len(body), step):  # odd-sized pieces exercise incremental decoding
            await resp.write(body[i : i + step])
            if pause:
                await asyncio.sleep(pause)
    except ConnectionResetError:  # the client gave up (timeout tests)
        pass
    return resp


async def handler(request: web.Request) -> web.StreamResponse:
    raw = await request.read()
    peer = request.transport.get_extra_info("peername") if request.transport else None
    SEEN.append({"method": request.method, "raw_path": request.raw_path, "headers": CIMultiDict(request.headers),
                 "body": raw, "peer": peer})
    path = request.path
    body = json.loads(raw) if raw else {}
    model = body.get("model", "")
    if path.endswith("/models") or path in ("/foundation-models", "/inference-profiles"):
        return _models(request)
    if model == "err500":
        return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
    if model == "err429":
        return web.json_response({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                                 status=429, headers={"retry-after": "7"})
    if model == "slow":
        await asyncio.sleep(1.5)
    if path.startswith("/model/"):
        return await _bedrock(request, body)
    if path == "/pplx/chat/completions":
        return web.json_response({"error": {"message": "model required"}}, status=400)
    stream = body.get("stream")
    if path.endswith("/messages"):
        if not stream:
            return web.json_response({"type": "message", "content": [{"type": "text", "text": "Hi"}]})
        events = ANTHROPIC_EVENTS
        if model == "midError":
            events = [*events[:2], ("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                           "message": "Overloaded"}})]
        return await _write_slowly(request, b"".join(sse(d, name=n) for n, d in events))
    if path.endswith("/responses"):
        done = {"type": "response.completed", "response": {"usage": {"input_tokens": 3}}}
        return await _write_slowly(request, sse({"type": "response.output_text.delta", "delta": "Hi"},
                                                name="response.output_text.delta") + sse(done, name=done["type"]))
    if not stream:
        return web.json_response({"id": "x", "choices": [{"message": {"content": "Hi"}}]},
                                 headers={"X-RateLimit-Limit-Requests": "100"})
    if model == "stall":
        return await _write_slowly(request, CHAT_STREAM, step=CHAT_STREAM.index(b"\n\n") + 2, pause=1.0)
    if model == "cleanCut":
        return await _write_slowly(request, CHAT_STREAM[: CHAT_STREAM.index(b"\n\n") + 2])
    if model == "midError":
        return await _write_slowly(request, CHAT_STREAM[:40] + CHAT_STREAM[40: CHAT_STREAM.index(b"\n\n") + 2]
                                   + sse({"error": {"message": "rate limited", "type": "rate_limit_exceeded"}}))
    return await _write_slowly(request, CHAT_STREAM)


def _models(request: web.Request) -> web.Response:
    path = request.path
    if path == "/pplx/models":
        return web.json_response({"error": "not found"}, status=404)
    if path == "/foundation-models":
        return web.json_response({"modelSummaries": [
            {"modelId": "anthropic.claude-v2:1", "providerName": "Anthropic", "outputModalities": ["TEXT"]},
            {"modelId": "meta.llama3", "providerName": "Meta", "outputModalities": ["TEXT"]},
            {"modelId": "amazon.titan-image", "providerName": "Amazon", "outputModalities": ["IMAGE"]}]})
    if path == "/inference-profiles":
        return web.json_response({"message": "not authorized"}, status=403)
    if path == "/anthropic/v1/models":  # two pages
        after = request.query.get("after_id")
        return web.json_response({"data": [{"id": "claude-b" if after else "claude-a"}],
                                  "has_more": not after, "last_id": "claude-b" if after else "claude-a"})
    return web.json_response({"data": [{"id": "models/gemini-x"}, {"id": "gpt-x"}]})


async def _bedrock(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    model = request.raw_path.split("/")[2]
    kind = request.raw_path.rsplit("/", 1)[1]
    if model == "bad":
        return web.json_response({"message": "Malformed input"}, status=400,
                                 headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/"})
    if kind == "converse":
        return web.json_response({"output": {"message": {"content": [{"text": "Hi"}]}}, "stopReason": "end_turn"})
    if kind == "invoke":
        return web.json_response({"type": "message", "content": [{"type": "text", "text": "Hi"}]})
    if kind == "converse-stream":
        frames = [aws_event(k, p) for k, p in CONVERSE_EVENTS]
        if model == "throttled":
            frames = [*frames[:2], frame({":exception-type": "throttlingException", ":message-type": "exception"},
                                         b'{"message":"Too many requests"}')]
    else:
        frames = [invoke_chunk(d) for _, d in ANTHROPIC_EVENTS]
    return await _write_slowly(request, b"".join(frames), step=13, ctype="application/vnd.amazon.eventstream")


async def _dropper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers 200 with one chunked SSE event, then cuts the connection."""
    await reader.readuntil(b"\r\n\r\n")
    chunk = CHAT_STREAM[: CHAT_STREAM.index(b"\n\n") + 2]
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    await writer.drain()
    writer.close()


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture(scope="module")
async def dropper() -> AsyncIterator[str]:
    srv = await asyncio.start_server(_dropper, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
    srv.close()


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    yield f"http://127.0.0.1:{port}"
    moto.stop()


@pytest.fixture(autouse=True)
async def _reset() -> AsyncIterator[None]:
    SEEN.clear()
    yield
    await close_all()


def chat(model: str = "ok", stream: bool = False, timeout_s: float | None = 5.0, **kw: Any) -> UpstreamCall:
    return UpstreamCall("openai-chat", model, {"model": model, "stream": stream}, stream, timeout_s, **kw)


def verify_sigv4(rec: dict[str, Any], secret: str) -> bool:
    """Recompute the SigV4 signature from what the server received."""
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/bedrock/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})", rec["headers"]["Authorization"])
    assert m, rec["headers"]["Authorization"]
    access, region, signed, signature = m.groups()
    headers = {h: rec["headers"][h] for h in signed.split(";")}
    req = AWSRequest(method=rec["method"], url=f"http://{headers['host']}{rec['raw_path']}", headers=headers,
                     data=rec["body"])
    req.context["timestamp"] = rec["headers"]["X-Amz-Date"]
    creds = ReadOnlyCredentials(access, secret, rec["headers"].get("X-Amz-Security-Token"))
    signer = SigV4Auth(creds, "bedrock", region)
    return hmac.compare_digest(signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req),
                               signature)


# --- SSE decoding and error parsing -------------------------------------------------------------

def test_sse_decoder_is_incremental_and_tolerant() -> None:
    text = (b": comment\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\ndata: {\"y\":2}\n\n"
            b"event: b\rdata: {}\r\r" + b"data: [DONE]\n\ndata: {\"after\":1}\n\n")
    whole = SSEDecoder()
    expected = [("a", {"x": 1}), (None, {"y": 2}), ("b", {})]
    assert whole.feed(text) == expected and whole.done
    one_by_one, got = SSEDecoder(), []
    for i in range(len(text)):
        got += one_by_one.feed(text[i : i + 1])
    assert got == expected and one_by_one.done
    with pytest.raises(ProviderError) as err:
        SSEDecoder().feed(b"data: {oops\n\n")
    assert err.value.status == 502


def test_error_bodies_and_retry_after() -> None:
    assert parse_error_body(b'{"error":{"message":"m","type":"t"}}') == ("m", "t")
    assert parse_error_body(b'[{"error":{"code":400,"message":"g","status":"INVALID_ARGUMENT"}}]') == (
        "g", "INVALID_ARGUMENT")
    assert parse_error_body(b'{"message":"bedrock says"}') == ("bedrock says", None)
    assert parse_error_body(b"Bad Gateway") == ("Bad Gateway", None)
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    http_date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (parse_retry_after({"retry-after": http_date}) or 0) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None


# --- OpenAI-compatible and Anthropic ------------------------------------------------------------

async def test_openai_send_and_stream_reuse_one_connection(server: str) -> None:
    adapter = get_adapter(conn("openai", {"apiKey": "sk-1", "baseUrl": server + "/v1"}))
    assert adapter.wires() == ("openai-chat", "openai-responses")
    resp = await adapter.send(chat(extra_headers={"OpenAI-Beta": "x"}))
    assert resp.status == 200 and resp.json == {"id": "x", "choices": [{"message": {"content": "Hi"}}]}
    assert resp.headers["x-ratelimit-limit-requests"] == "100" and resp.raw.startswith(b"{")
    assert SEEN[0]["headers"]["Authorization"] == "Bearer sk-1" and SEEN[0]["headers"]["OpenAI-Beta"] == "x"
    async with await adapter.stream(chat(stream=True)) as st:
        events = [e async for e in st.events]
    assert [d["choices"][0]["delta"].get("content") for _, d in events[:2]] == ["Hel", "lo"]
    assert events[2] == (None, {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    st2 = await adapter.stream(UpstreamCall("openai-chat", "m", b'{"model":"ok","stream":true}', True, 5.0))
    assert b"".join([c async for c in st2.raw_chunks]) == CHAT_STREAM
    await st2.aclose()
    assert SEEN[2]["body"] == b'{"model":"ok","stream":true}'
    assert SEEN[0]["peer"] == SEEN[1]["peer"] == SEEN[2]["peer"]  # keep-alive: one pooled connection


async def test_responses_anthropic_and_wires(server: str) -> None:
    openai = get_adapter(conn("openai", {"apiKey": "k", "baseUrl": server + "/v1"}))
    st = await openai.stream(UpstreamCall("openai-responses", "m", {"model": "ok", "stream": True}, True, 5.0))
    assert [n async for n, _ in st.events] == ["response.output_text.delta", "response.completed"]
    await st.aclose()
    claude = get_adapter(conn("anthropic", {"apiKey": "ak", "baseUrl": server + "/anthropic/v1"}, "c2"))
    assert claude.wires() == ("anthropic",)
    resp = await claude.send(UpstreamCall("anthropic", "m", {"model": "ok"}, extra_headers={"anthropic-beta": "b1"}))
    assert resp.json and resp.json["type"] == "message"
    headers = SEEN[-1]["headers"]
    assert (headers["x-api-key"], headers["anthropic-version"], headers["anthropic-beta"]) == ("ak", "2023-06-01", "b1")
    async with await claude.stream(UpstreamCall("anthropic", "m", {"model": "ok", "stream": True}, True)) as st:
        assert [e async for e in st.events] == ANTHROPIC_EVENTS
    assert get_adapter(conn("groq", {"apiKey": "g"}, "c3")).wires() == ("openai-chat",)
    with pytest.raises(ValueError):
        await claude.send(chat())


async def test_in_stream_errors_raise_after_earlier_events(server: str) -> None:
    claude = get_adapter(conn("anthropic", {"apiKey": "ak", "baseUrl": server + "/anthropic/v1"}))
    got: list[Any] = []
    st = await claude.stream(UpstreamCall("anthropic", "m", {"model": "midError", "stream": True}, True, 5.0))
    with pytest.raises(ProviderError) as err:
        async for event in st.events:
            got.append(event)
    assert got == ANTHROPIC_EVENTS[:2] and err.value.status == 529 and err.value.message == "Overloaded"
    openai = get_adapter(conn("openai-compatible", {"baseUrl": server + "/v1"}, "c2"))
    st = await openai.stream(chat("midError", stream=True))
    with pytest.raises(ProviderError) as err:
        _ = [e async for e in st.events]
    assert err.value.status == 429 and err.value.error_type == "rate_limit_exceeded"
    assert "Authorization" not in SEEN[-1]["headers"]  # no apiKey configured


async def test_error_statuses_carry_message_and_retry_after(server: str) -> None:
    adapter = get_adapter(conn("openai", {"apiKey": "k", "baseUrl": server + "/v1"}))
    with pytest.raises(ProviderError) as err:
        await adapter.send(chat("err500"))
    assert (err.value.status, err.value.message, err.value.error_type) == (500, "boom", "server_error")
    with pytest.raises(ProviderError) as err:
        await adapter.stream(chat("err429", stream=True))
    assert (err.value.status, err.value.message, err.value.retry_after_s) == (429, "slow down", 7.0)
    assert b"rate_limit_error" in err.value.body and err.value.headers["retry-after"] == "7"


async def test_timeouts(server: str) -> None:
    adapter = get_adapter(conn("openai", {"apiKey": "k", "baseUrl": server + "/v1"}))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        await adapter.send(chat("slow", timeout_s=0.2))
    assert time.monotonic() - started < 1.0
    st = await adapter.stream(chat("stall", stream=True, timeout_s=0.3))
    got: list[Any] = []
    with pytest.raises(ProviderTimeout):
        async for event in st.events:
            got.append(event)
    await st.aclose()
    assert len(got) == 1  # the first event arrived; the gap after it was too long


async def test_network_errors(server: str, dropper: str) -> None:
    refused = get_adapter(conn("openai-compatible", {"baseUrl": f"http://127.0.0.1:{_free_port()}/v1"}))
    with pytest.raises(ProviderNetworkError):
        await refused.send(chat())
    cut = get_adapter(conn("openai-compatible", {"baseUrl": dropper + "/v1"}, "c2"))
    for mode in ("events", "raw_chunks"):
        st = await cut.stream(chat(stream=True))
        with pytest.raises(ProviderNetworkError):
            _ = [e async for e in getattr(st, mode)]
        await st.aclose()
    clean = get_adapter(conn("openai-compatible", {"baseUrl": server + "/v1"}, "c3"))
    for mode in ("events", "raw_chunks"):  # HTTP-clean end, but no finish_reason and no [DONE]
        st = await clean.stream(chat("cleanCut", stream=True))
        with pytest.raises(ProviderNetworkError, match="natural end"):
            _ = [e async for e in getattr(st, mode)]
        await st.aclose()


async def test_list_models(server: str) -> None:
    gemini = get_adapter(conn("gemini", {"apiKey": "k", "baseUrl": server + "/v1"}))
    assert await gemini.list_models() == ["gemini-x", "gpt-x"]
    claude = get_adapter(conn("anthropic", {"apiKey": "k", "baseUrl": server + "/anthropic/v1"}, "c2"))
    assert await claude.list_models() == ["claude-a", "claude-b"]
    pplx = get_adapter(conn("perplexity", {"apiKey": "k", "baseUrl": server + "/pplx"}, "c3"))
    assert "sonar" in await pplx.list_models()
    assert SEEN[-1]["raw_path"] == "/pplx/chat/completions" and SEEN[-1]["body"] == b"{}"


async def test_registry_defaults_and_rebuild_on_edit(server: str) -> None:
    first = conn("openai", {"apiKey": "k", "baseUrl": server + "/v1"})
    adapter = get_adapter(first)
    assert get_adapter(first) is adapter and get_adapter(conn("openai", dict(first.config))) is adapter
    await adapter.send(chat())
    session = adapter._client._session  # type: ignore[union-attr]
    edited = get_adapter(conn("openai", {"apiKey": "k2", "baseUrl": server + "/v1"}))
    assert edited is not adapter
    await asyncio.sleep(0.05)
    assert session is not None and session.closed  # the retired client closed once idle
    await edited.send(chat())
    assert SEEN[-1]["headers"]["Authorization"] == "Bearer k2"
    defaults = {"openai": "https://api.openai.com/v1", "groq": "https://api.groq.com/openai/v1",
                "gemini": "https://generativelanguage.googleapis.com/v1beta/openai",
                "perplexity": "https://api.perplexity.ai"}
    for provider, base in defaults.items():
        adapter = get_adapter(conn(provider, {"apiKey": "k"}, provider))
        assert str(adapter._urls["openai-chat"]) == base + "/chat/completions"  # type: ignore[union-attr]
    with pytest.raises(AdapterConfigError):
        get_adapter(conn("openai-compatible", {"apiKey": "k"}, "x"))


# --- Bedrock -----------------------------------------------------------------------------------

def bedrock(server: str, invoke: bool = False, cid: str = "b1", **extra: Any) -> Any:
    config = {"region": "us-east-1", "accessKeyId": "AKIDTEST", "secretAccessKey": SECRET, "endpointUrl": server,
              **extra}
    return get_adapter(conn("bedrock-invoke" if invoke else "bedrock", config, cid))


async def test_bedrock_converse_is_signed_and_decoded(server: str) -> None:
    adapter = bedrock(server, sessionToken="tok")
    assert adapter.wires() == ("bedrock-converse",)
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v2:1"
    resp = await adapter.send(UpstreamCall("bedrock-converse", arn, {"messages": []}, timeout_s=5.0))
    assert resp.json and resp.json["stopReason"] == "end_turn"
    rec = SEEN[-1]
    assert rec["raw_path"] == "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F" \
                              "us.anthropic.claude-v2%3A1/converse"
    assert rec["headers"]["X-Amz-Security-Token"] == "tok" and verify_sigv4(rec, SECRET)
    async with await adapter.stream(UpstreamCall("bedrock-converse", "m.x:0", {"messages": []}, True)) as st:
        events = [e async for e in st.events]
    assert events == [{k: p} for k, p in CONVERSE_EVENTS]  # padding "p" stripped
    assert SEEN[-1]["raw_path"] == "/model/m.x%3A0/converse-stream" and verify_sigv4(SEEN[-1], SECRET)
    with pytest.raises(ProviderError) as err:
        await adapter.send(UpstreamCall("bedrock-converse", "bad", {"messages": []}))
    assert (err.value.status, err.value.message, err.value.error_type) == (400, "Malformed input",
                                                                           "ValidationException")
    st = await adapter.stream(UpstreamCall("bedrock-converse", "throttled", {"messages": []}, True))
    with pytest.raises(ProviderError) as err:
        _ = [e async for e in st.events]
    assert err.value.status == 429 and err.value.message == "Too many requests"
    await st.aclose()
    assert await adapter.list_models() == ["anthropic.claude-v2:1", "meta.llama3"]
    assert verify_sigv4(SEEN[-2], SECRET)


async def test_bedrock_invoke_anthropic_body(server: str) -> None:
    adapter = bedrock(server, invoke=True)
    assert adapter.wires() == ("bedrock-invoke",)
    body = {"model": "claude", "stream": True, "max_tokens": 5, "messages": []}
    call = UpstreamCall("bedrock-invoke", "anthropic.claude-v2:1", body, True, 5.0, {"anthropic-beta": "a, b"})
    async with await adapter.stream(call) as st:
        assert [e async for e in st.events] == ANTHROPIC_EVENTS
    rec = SEEN[-1]
    assert rec["raw_path"].endswith("/invoke-with-response-stream") and verify_sigv4(rec, SECRET)
    assert json.loads(rec["body"]) == {"max_tokens": 5, "messages": [], "anthropic_version": "bedrock-2023-05-31",
                                       "anthropic_beta": ["a", "b"]}
    assert body["model"] == "claude"  # the caller's dict is not mutated
    resp = await adapter.send(UpstreamCall("bedrock-invoke", "anthropic.claude-v2:1", {"messages": []}))
    assert resp.json and resp.json["type"] == "message" and SEEN[-1]["raw_path"].endswith("%3A1/invoke")
    assert await adapter.list_models() == ["anthropic.claude-v2:1"]


async def test_bedrock_assume_role_via_sts(server: str, sts_url: str) -> None:
    adapter = bedrock(server, iamRoleArn="arn:aws:iam::123456789012:role/vmx", externalId="ext",
                      stsEndpointUrl=sts_url)
    await adapter.send(UpstreamCall("bedrock-converse", "m", {"messages": []}, timeout_s=5.0))
    creds = adapter._creds._cached
    assert creds is not None and creds.access_key != "AKIDTEST" and creds.token
    rec = SEEN[-1]
    assert rec["headers"]["X-Amz-Security-Token"] == creds.token
    assert f"Credential={creds.access_key}/" in rec["headers"]["Authorization"]
    assert verify_sigv4(rec, creds.secret_key)
    await adapter.send(UpstreamCall("bedrock-converse", "m", {"messages": []}))
    assert adapter._creds._cached is creds  # cached, no second AssumeRole
    adapter._creds._expires_at = time.time() + 120  # inside the refresh window: background refresh
    await adapter.send(UpstreamCall("bedrock-converse", "m", {"messages": []}))
    assert SEEN[-1]["headers"]["X-Amz-Security-Token"] == creds.token  # this call used the old ones
    for _ in range(100):
        if adapter._creds._cached is not creds:
            break
        await asyncio.sleep(0.02)
    assert adapter._creds._cached is not creds and adapter._creds._expires_at > time.time() + 600
