"""The converted body of one leg and what conversion keeps between turns.

- What the model takes (`ModelCaps`): the name-based guess, the catalog entry's flags, then the
  connection's `modelCapabilities` override. Parameters the model cannot take are left out and each
  such drop becomes a `conversion` event on the audit row.
- Signed thinking for clients that drop it: after an Anthropic answer with thinking and tool calls the
  blocks are kept by tool-call id; before the next Anthropic call they are put back into the
  assistant turn that lacks them. None found for the last tool-use turn: thinking is off for that
  request rather than a 400 from Anthropic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from vmx_app.gateway.config import ConnectionSnapshot, ModelSlot
from vmx_app.gateway.convert.capabilities import ModelCaps, resolve_caps
from vmx_app.gateway.convert.common import keep_thinking
from vmx_app.gateway.dispatch import WirePlan, converted_body, parse_canonical
from vmx_app.gateway.thinking_store import Blocks, ThinkingStore
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalStreamEvent,
    Message,
    MessageDelta,
    Part,
    Role,
    ThinkingDelta,
    ThinkingPart,
    ToolCallPart,
    ToolCallStart,
)


def model_caps(capabilities: Any, conn: ConnectionSnapshot, model: str) -> ModelCaps:
    catalog = capabilities(conn.provider, model) if capabilities is not None else None
    return resolve_caps(conn.provider, model, catalog, conn.model_capabilities.get(model))


async def leg_body(st: Any, plan: WirePlan, conn: ConnectionSnapshot, slot: ModelSlot, capabilities: Any,
                   store: ThinkingStore | None) -> dict[str, Any]:
    """The provider body of a converted leg; conversion notes go to the request's audit events."""
    if st.canonical is None:
        st.canonical = parse_canonical(st.endpoint, st.merged)
    canonical: CanonicalRequest = st.canonical
    caps = model_caps(capabilities, conn, slot.model)
    notes: list[str] = []
    if plan.shape == "anthropic" and caps.reasoning and canonical.reasoning is not None \
            and canonical.reasoning.enabled and store is not None:
        canonical = await restore_thinking(store, st.ctx.environment_id, canonical, notes)
    body = converted_body(plan, canonical, slot.model, conn.provider, caps, notes)
    for note in notes:
        st.ctx.add_conversion_event(provider=conn.provider, model=slot.model, note=note)
    return body


def _signed(part: Part) -> bool:
    return isinstance(part, ThinkingPart) and keep_thinking(part, "anthropic")


def _part(block: dict[str, Any]) -> ThinkingPart:
    if block.get("type") == "redacted_thinking":
        return ThinkingPart(redacted=block.get("data"), origin="anthropic")
    return ThinkingPart(block.get("thinking") or "", block.get("signature"), origin="anthropic")


async def restore_thinking(store: ThinkingStore, scope: str, req: CanonicalRequest,
                           notes: list[str]) -> CanonicalRequest:
    """A copy of `req` with kept thinking put back into tool-use turns that lack it (the shared
    request is left alone: other legs may go elsewhere)."""
    wanting = [i for i, m in enumerate(req.messages) if m.role is Role.ASSISTANT
               and any(isinstance(p, ToolCallPart) for p in m.content) and not any(_signed(p) for p in m.content)]
    if not wanting:
        return req
    first_ids = [next(p.id for p in req.messages[i].content if isinstance(p, ToolCallPart)) for i in wanting]
    found = await store.get(scope, first_ids)
    messages = list(req.messages)
    for i, blocks in zip(wanting, found, strict=True):
        if blocks:
            kept = [p for p in messages[i].content if not isinstance(p, ThinkingPart)]
            messages[i] = Message(Role.ASSISTANT, [*(_part(b) for b in blocks), *kept], messages[i].name)
    out = dataclasses.replace(req, messages=messages)
    last = max((i for i, m in enumerate(messages) if m.role is Role.ASSISTANT), default=None)
    if last is not None and last in wanting and not found[wanting.index(last)]:
        notes.append("thinking disabled: the client did not send back the thinking of its last tool-use "
                     "turn and none was kept for it")
        out.reasoning = None
    return out


def blocks_of(parts: Sequence[Part]) -> Blocks:
    out: Blocks = []
    for p in parts:
        if isinstance(p, ThinkingPart) and p.redacted:
            out.append({"type": "redacted_thinking", "data": p.redacted})
        elif isinstance(p, ThinkingPart) and p.signature:
            out.append({"type": "thinking", "thinking": p.text, "signature": p.signature})
    return out


async def remember(store: ThinkingStore | None, scope: str, content: Sequence[Part]) -> None:
    """Keep the signed thinking of an Anthropic answer that called tools, by each call's id."""
    if store is None:
        return
    ids = [p.id for p in content if isinstance(p, ToolCallPart)]
    blocks = blocks_of(content)
    if ids and blocks:
        await store.put(scope, ids, blocks)


class ThinkingKeeper:
    """The same for a converted stream: collects thinking and tool-call ids, keeps them when the
    message ends (before the client sees the end, so its next turn finds them)."""

    def __init__(self, store: ThinkingStore, scope: str) -> None:
        self._store = store
        self._scope = scope
        self._thinking: dict[int, ThinkingPart] = {}
        self._ids: list[str] = []
        self._done = False

    async def feed(self, events: list[CanonicalStreamEvent]) -> None:
        for ev in events:
            if isinstance(ev, ThinkingDelta):
                part = self._thinking.setdefault(ev.index, ThinkingPart(origin="anthropic"))
                part.text += ev.text
                part.signature = ev.signature or part.signature
                part.redacted = ev.redacted or part.redacted
            elif isinstance(ev, ToolCallStart):
                self._ids.append(ev.id)
            elif isinstance(ev, MessageDelta) and not self._done:
                self._done = True
                parts: list[Part] = [self._thinking[i] for i in sorted(self._thinking)]
                await remember(self._store, self._scope, [*parts, *(ToolCallPart(i, "") for i in self._ids)])
