"""The playground's state: a chat call to one AI resource through the real gateway, streamed into the
page, with the gateway's decisions (x-vmx-* headers) and the call's audit row beside the answer."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.services import playground
from vmx_app.services.connect_snippets import gateway_base
from vmx_app.state.access import Principal
from vmx_app.state.connect import resource_names
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect
from vmx_app.state.workspace import WorkspaceState


@dataclasses.dataclass
class Decision:
    label: str = ""
    value: str = ""


def decisions_from_headers(h: dict[str, str]) -> list[Decision]:
    """The gateway's choices in words: where the call went, and each routing or fallback event."""
    rows = [Decision("Request id", h.get("x-vmx-request-id", "")),
            Decision("Routed to", f"{h.get('x-vmx-model', '?')} ({h.get('x-vmx-provider', '?')})")]
    for i in range(int(h.get("x-vmx-event-count", "0") or 0)):
        p = f"x-vmx-event-{i}-"
        if h.get(p + "type") == "fallback":
            rows.append(Decision(f"Fallback leg {i + 1}", f"{h.get(p + 'fallback-failed-model')} failed "
                                 f"({h.get(p + 'fallback-failure-reason')}, {h.get(p + 'fallback-status-code')})"))
        else:
            rows.append(Decision(f"Routing {i + 1}", f"{h.get(p + 'routing-original-model')} → "
                                 f"{h.get(p + 'routing-routed-model')}"))
    rows.append(Decision("Gate / routing", f"{h.get('x-vmx-gate-duration-ms', '0')} ms / "
                         f"{h.get('x-vmx-routing-duration-ms', '0')} ms"))
    return [r for r in rows if r.value]


def parse_number(text: str, *, low: float, high: float, integer: bool) -> tuple[float | int | None, str]:
    """(value, "") or (None, why) for an optional numeric field; "" means not set."""
    text = text.strip()
    if not text:
        return None, ""
    try:
        value: float | int = int(text) if integer else float(text)
    except ValueError:
        return None, "Enter a whole number." if integer else "Enter a number, e.g. 0.7."
    if not low <= value <= high:
        return None, f"Use a value from {low:g} to {high:g}."
    return value, ""


class PlaygroundState(WorkspaceState):
    resources: list[str] = []
    resource: str = ""
    system: str = ""
    prompt: str = "Say hello in five words."
    temperature: str = ""
    max_tokens: str = ""
    temperature_error: str = ""
    max_tokens_error: str = ""
    prompt_error: str = ""
    answer: str = ""
    error: str = ""
    running: bool = False
    decisions: list[Decision] = []
    stats: list[Decision] = []
    can_call: bool = False
    access_error: str = ""
    # The tab's session key: the value stays server-side (backend var), one per environment.
    _key: str = ""
    _key_env: str = ""

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        self.resources, self.can_call, self.access_error = [], False, ""
        if not self.environment_id:
            return None
        try:
            await playground.check_playground_as(principal, self.workspace_id, self.environment_id)
        except DomainError as exc:
            self.access_error = error_text(exc)
            return None
        self.can_call = True
        self.resources = await resource_names(principal, self.workspace_id, self.environment_id)
        if self.resource not in self.resources:
            self.resource = self.resources[0] if self.resources else ""
        return None

    @rx.event
    def set_resource(self, value: str) -> None:
        self.resource = value

    @rx.event
    def set_system(self, value: str) -> None:
        self.system = value

    @rx.event
    def set_prompt(self, value: str) -> None:
        self.prompt = value
        self.prompt_error = "" if value.strip() else self.prompt_error

    @rx.event
    def set_temperature(self, value: str) -> None:
        self.temperature = value
        self.temperature_error = parse_number(value, low=0, high=2, integer=False)[1]

    @rx.event
    def set_max_tokens(self, value: str) -> None:
        self.max_tokens = value
        self.max_tokens_error = parse_number(value, low=1, high=1_000_000, integer=True)[1]

    def _validated_body(self) -> dict[str, Any] | None:
        temperature, self.temperature_error = parse_number(self.temperature, low=0, high=2, integer=False)
        max_tokens, self.max_tokens_error = parse_number(self.max_tokens, low=1, high=1_000_000, integer=True)
        self.prompt_error = "" if self.prompt.strip() else "Write the user message to send."
        if self.temperature_error or self.max_tokens_error or self.prompt_error or not self.resource:
            return None
        return playground.chat_body(self.resource, self.system, self.prompt, temperature,
                                    None if max_tokens is None else int(max_tokens))

    async def _session_key(self, principal: Principal) -> str:
        if self._key and self._key_env == self.environment_id:
            return self._key
        self._key = await playground.issue_session_key_as(principal, self.workspace_id, self.environment_id)
        self._key_env = self.environment_id
        return self._key

    @rx.event(background=True)
    async def send(self) -> Any:
        async with self:
            if self.running:
                return None
            principal = await self.current_principal()
            if principal is None:
                return login_redirect()
            body = self._validated_body()
            if body is None:
                return None
            self.running, self.answer, self.error, self.decisions, self.stats = True, "", "", [], []
            try:
                key = await self._session_key(principal)
            except DomainError as exc:
                self.running, self.error = False, error_text(exc)
                return None
            base = gateway_base(playground.gateway_origin(), self.workspace_id, self.environment_id)
            env_id = self.environment_id
        await self._call(base, key, body, env_id)
        return None

    async def _call(self, base: str, key: str, body: dict[str, Any], env_id: str) -> None:
        started = time.monotonic()
        first: float | None = None
        headers: dict[str, str] = {}
        usage: dict[str, Any] = {}
        try:
            async for event in playground.stream_chat(base, key, body):
                async with self:
                    if event.kind == "headers":
                        headers = event.data
                        self.decisions = decisions_from_headers(headers)
                    elif event.kind == "delta":
                        first = first or time.monotonic()
                        self.answer += event.text
                    elif event.kind == "usage":
                        usage = event.data
                    elif event.kind == "error":
                        self.error = event.text
                        if headers.get("status") == "401":
                            self._key = ""  # revoked or expired: the next send asks for a new one
        except Exception as exc:  # noqa: BLE001 - the network, a broken stream: said on the page, not raised
            async with self:
                self.error = f"The call failed: {type(exc).__name__}: {exc}"
        total_ms = (time.monotonic() - started) * 1000
        stats = [Decision("Tokens", f"{usage.get('prompt_tokens', 0)} in / {usage.get('completion_tokens', 0)} "
                          f"out / {usage.get('total_tokens', 0)} total") if usage else Decision(),
                 Decision("Latency", f"{total_ms:.0f} ms total"
                          + (f", first token after {(first - started) * 1000:.0f} ms" if first else ""))]
        request_id = headers.get("x-vmx-request-id", "")
        row = await playground.audit_row(request_id, env_id) if request_id else None
        if row is not None:
            cost = (row.cost or {}).get("total")
            stats.append(Decision("Cost", f"${cost:.6f}" if isinstance(cost, int | float) else "no price known"))
            stats.append(Decision("Audited", f"status {row.status_code}, key {row.api_key_name}"))
        async with self:
            self.stats = [s for s in stats if s.value]
            self.running = False
