"""The console playground: calls go through the real gateway over HTTP with a key of the console session.

A session key is an ordinary API key of the environment named `playground-<session id>-<random>`,
labelled `playground`, expiring with the console session, and deleted when the session ends (logout,
password change). Nothing here skips the gateway: authentication, routing, capacity, fallback and the
audit row are those of any client call.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal
from vmx_app.db import session_scope
from vmx_app.errors import Unauthenticated
from vmx_app.models import ApiKey, AuthSession, Environment
from vmx_app.models.api_key import ApiKeyCreate
from vmx_app.models.request_audit import RequestAudit
from vmx_app.services import api_keys as keys_service
from vmx_app.services.access import env_module_for
from vmx_app.services.unit_of_work import use_session
from vmx_app.settings import get_settings

KEY_PREFIX = "playground-"
KEY_LABEL = "playground"
# A stream may wait on a slow model; the gateway's own deadlines apply inside this bound.
_publishing: set[asyncio.Task[None]] = set()
CALL_TIMEOUT = httpx.Timeout(connect=10.0, read=600.0, write=30.0, pool=10.0)


def _session_prefix(session_id: uuid.UUID) -> str:
    return f"{KEY_PREFIX}{session_id}-"


async def issue_session_key(*, env: Environment, session_id: uuid.UUID, user_id: uuid.UUID, email: str) -> str:
    """A new key of `env` for this console session (each browser tab asks for its own); its value is
    returned once and held only in that tab's server-side state."""
    async with session_scope() as session:
        auth = await session.get(AuthSession, session_id)
        if auth is None or auth.revoked_at is not None or auth.expires_at <= datetime.now(UTC):
            raise Unauthenticated("Session is invalid or has expired")
        data = ApiKeyCreate(name=_session_prefix(session_id) + secrets.token_hex(4),
                            description=f"Playground key of {email}; ends with that console session",
                            labels=[KEY_LABEL], expires_at=auth.expires_at)
        created = await keys_service.create_key(session, env=env, data=data, actor_id=user_id)
    return created.api_key_value


async def check_playground_as(principal: Principal, workspace_id: str, environment_id: str) -> Environment:
    """May the principal call this environment's resources from the console (`completion:execute`)."""
    async with use_session(None, readonly=True) as s:
        _, env = await env_module_for(s, principal, workspace_id, environment_id, "completion:execute",
                                      "completion")
    return env  # type: ignore[no-any-return]


async def issue_session_key_as(principal: Principal, workspace_id: str, environment_id: str) -> str:
    """`completion:execute` here, then a key of this console session (see `issue_session_key`)."""
    if principal.session_id is None:
        raise Unauthenticated("The playground needs a console session")
    env = await check_playground_as(principal, workspace_id, environment_id)
    return await issue_session_key(env=env, session_id=principal.session_id, user_id=principal.user_id,
                                   email=principal.email)


async def revoke_session_keys(*, session_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None,
                              keep_session: uuid.UUID | None = None, session: AsyncSession | None = None) -> int:
    """Delete the playground keys of one session, or of all of a user's sessions but `keep_session`.

    Without `session`, in a transaction of its own; with one, inside the caller's transaction. Either way
    the gateways are told only after the commit, so none reloads a deleted key in between."""
    stmt = select(ApiKey).where(col(ApiKey.name).startswith(KEY_PREFIX))
    if session_id is not None:
        stmt = stmt.where(col(ApiKey.name).startswith(_session_prefix(session_id)))
    if user_id is not None:
        stmt = stmt.where(ApiKey.created_by == user_id)
    if session is not None:
        rows = await _delete_keys(session, stmt, keep_session)
        _publish_after_commit(session, rows)
        return len(rows)
    async with session_scope() as own:
        rows = await _delete_keys(own, stmt, keep_session)
    for key in rows:
        await keys_service.publish_key_change(key)
    return len(rows)


async def _delete_keys(session: AsyncSession, stmt: Any, keep_session: uuid.UUID | None) -> list[ApiKey]:
    rows = [k for k in (await session.exec(stmt)).all()
            if keep_session is None or not k.name.startswith(_session_prefix(keep_session))]
    for key in rows:
        await session.delete(key)
    return rows


def _publish_after_commit(session: AsyncSession, rows: list[ApiKey]) -> None:
    if not rows:
        return
    loop = asyncio.get_running_loop()

    def publish(_: Any) -> None:
        for key in rows:
            task = loop.create_task(keys_service.publish_key_change(key))
            _publishing.add(task)  # held until done (the loop keeps only weak references)
            task.add_done_callback(_publishing.discard)

    event.listen(session.sync_session, "after_commit", publish, once=True)


def gateway_origin() -> str:
    """This process's own listener: the call leaves through the network stack like any client's."""
    settings = get_settings()
    host = settings.vmx_host if settings.vmx_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{settings.vmx_port}"


@dataclass
class CallEvent:
    kind: str  # headers | delta | usage | error | done
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def chat_body(resource: str, system: str, user: str, temperature: float | None,
              max_tokens: int | None) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system.strip() else []) + \
        [{"role": "user", "content": user}]
    body: dict[str, Any] = {"model": resource, "messages": messages, "stream": True,
                            "stream_options": {"include_usage": True}}
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


def _error_message(status: int, raw: bytes) -> str:
    try:
        err = orjson.loads(raw).get("error", {})
        return f"{status}: {err.get('message') or raw.decode(errors='replace')}"
    except (orjson.JSONDecodeError, AttributeError):
        return f"{status}: {raw[:500].decode(errors='replace')}"


async def stream_chat(base_url: str, api_key: str, body: dict[str, Any]) -> AsyncIterator[CallEvent]:
    """POST …/chat/completions with `stream: true`; yields the x-vmx-* headers first, then text deltas,
    the usage chunk and `done` (or one `error`)."""
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT) as client, client.stream(
            "POST", f"{base_url}/chat/completions", json=body,
            headers={"Authorization": f"Bearer {api_key}"}) as resp:
        headers = {k: v for k, v in resp.headers.items() if k.startswith("x-vmx-")}
        yield CallEvent("headers", data=headers | {"status": str(resp.status_code)})
        if resp.status_code != 200:
            yield CallEvent("error", _error_message(resp.status_code, await resp.aread()))
            return
        async for line in resp.aiter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                continue  # read to the end: leaving early would be a client disconnect (audited as 499)
            chunk = orjson.loads(payload)
            if "error" in chunk:
                yield CallEvent("error", str(chunk["error"].get("message", chunk["error"])))
                return
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield CallEvent("delta", text)
            if chunk.get("usage"):
                yield CallEvent("usage", data=chunk["usage"])
    yield CallEvent("done")


async def audit_row(request_id: str, environment_id: str, *, wait_s: float = 5.0) -> RequestAudit | None:
    """The call's audit row, once the writer has flushed it (it batches about every second)."""
    deadline = time.monotonic() + wait_s
    env = uuid.UUID(environment_id)
    while True:
        async with session_scope() as session:
            row = (await session.exec(select(RequestAudit).where(RequestAudit.environment_id == env,
                                                                 RequestAudit.request_id == request_id))).first()
        if row is not None or time.monotonic() >= deadline:
            return row
        await asyncio.sleep(0.25)
