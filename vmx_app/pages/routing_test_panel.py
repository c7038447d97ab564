"""The Routing tab's "Test routing" panel: which rule a sample request would hit, before saving.

The console's twin of `POST /v1/ai-resource/{ws}/{env}/{id}/routing-test`: the same pure dry run
(`vmx_app.gateway.routing_dry_run`), but on the routing conditions as they stand in the form, unsaved.
A saved resource is tested through its config-cache snapshot (the models and defaultArgs the gateway
really uses) with this process's live error rates; a new one through the unsaved form, with no
error history (0 %). Nothing is saved, sent to a provider or counted. It needs the action the API route
checks, `ai-resource:routing-test` (admins and power users; not the read-only role): a user is offered
exactly what the API would let them do.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.gateway.config import ResourceConfig, RoutingConfig
from vmx_app.gateway.merge import EnvelopeError
from vmx_app.gateway.routing import validate_routing
from vmx_app.gateway.routing_dry_run import ENDPOINTS, dry_run, infer_endpoint
from vmx_app.gateway.types import Endpoint, ErrorRateFn
from vmx_app.pages.resource_editor_form import FormError
from vmx_app.pages.resource_editor_state import ROUTING_TEST_ACTION, ResourceEditorState
from vmx_app.services import config_cache, resource_admin
from vmx_app.services.gateway_runtime import get_engine
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect

AUTO = "auto"
ENDPOINT_CHOICES: list[str] = [AUTO, *ENDPOINTS]
# The payload keys a ResourceConfig takes (it forbids the others: name, description, assignApiKeys).
CONFIG_KEYS: tuple[str, ...] = tuple(f.alias or name for name, f in ResourceConfig.model_fields.items())
ACTION_COLORS: dict[str, str] = {"route": "green", "block": "red", "none": "gray", "secondary": "blue",
                                 "invalid": "amber"}


def default_sample(resource_name: str) -> str:
    """The smallest chat body that routes like a real call to this resource."""
    body = {"model": resource_name or "my-resource", "messages": [{"role": "user", "content": "Hello"}]}
    return json.dumps(body, indent=2)


def _no_errors(_window: int, _status: str | int) -> float:
    return 0.0


def _slot_label(slot: dict[str, Any] | None) -> str:
    return "" if slot is None else f"{slot.get('provider', '')}/{slot.get('model', '')}"


class RoutingTestState(ResourceEditorState):
    """A substate, so the handler reads the editor's unsaved form (and `_payload()`) directly."""

    sample_text: str = ""
    api_key_name: str = ""
    endpoint_choice: str = AUTO
    test_error: str = ""
    has_result: bool = False
    result_action: str = ""
    result_color: str = "gray"
    result_condition: str = ""
    result_model: str = ""
    result_trace: list[str] = []
    # Which user and resource the panel was prepared for, and the sample it prefilled (to tell an untouched one).
    _prepared_for: str = ""
    _prefilled: str = ""

    @rx.event
    def prepare(self) -> None:
        """On mount (each time the Routing tab opens): a fresh panel for another resource or user, else
        the sample as left; an untouched sample follows a renamed resource."""
        editor = f"{self.user_id}:{self.resource_id or 'new'}"
        prefill = default_sample(self.name.strip())
        if editor != self._prepared_for:
            self._prepared_for = editor
            self.sample_text, self.api_key_name, self.endpoint_choice = prefill, "", AUTO
            self._clear_result()
        elif self.sample_text == self._prefilled:
            self.sample_text = prefill
        self._prefilled = prefill

    @rx.event
    def set_sample_text(self, value: str) -> None:
        self.sample_text = value

    @rx.event
    def set_api_key_name(self, value: str) -> None:
        self.api_key_name = value

    @rx.event
    def set_endpoint_choice(self, value: str) -> None:
        self.endpoint_choice = value if value in ENDPOINT_CHOICES else AUTO

    def _clear_result(self) -> None:
        self.test_error, self.has_result = "", False
        self.result_action, self.result_color, self.result_condition = "", "gray", ""
        self.result_model, self.result_trace = "", []

    def _sample(self) -> dict[str, Any] | None:
        try:
            sample = json.loads(self.sample_text)
        except json.JSONDecodeError as exc:
            self.test_error = f"Sample request: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            return None
        if not isinstance(sample, dict):
            self.test_error = "Sample request: must be a JSON object (a completion request body)"
            return None
        return sample

    def _routing(self, payload: dict[str, Any]) -> RoutingConfig | None:
        """The form's routing, checked like a save would check it. No routing object = no rules
        (not None: dry_run would fall back to the saved rules)."""
        try:
            routing = RoutingConfig.model_validate(payload.get("routing") or {})
        except ValidationError as exc:
            self.test_error = f"Invalid routing: {error_text(exc)}"
            return None
        problems = validate_routing(routing)
        if problems:
            self.test_error = f"Invalid routing: {'; '.join(problems)}"
            return None
        return routing

    async def _authorized_scope(self) -> tuple[str, str | None] | None:
        """(environment id, the saved name or None for a new resource), once `ai-resource:routing-test` holds."""
        principal = await self.current_principal()
        if principal is None:
            return None
        try:
            return await resource_admin.routing_test_scope_as(principal, self.workspace_id, self.environment_id,
                                                              self.resource_id, ROUTING_TEST_ACTION)
        except DomainError as exc:
            self.test_error = error_text(exc)
            return None

    @rx.event
    async def run_test(self) -> EventSpec | None:
        self._clear_result()
        scope = await self._authorized_scope()  # first: nothing is evaluated for whoever may not view it
        if scope is None:
            return None if self.test_error else login_redirect()
        env_id, saved_name = scope
        sample = self._sample()
        if sample is None:
            return None
        try:
            payload = self._payload()
        except (FormError, json.JSONDecodeError) as exc:
            self.test_error = str(exc)
            return None
        routing = self._routing(payload)
        if routing is None:
            return None
        snapshot = await config_cache.get_resource(env_id, saved_name) if saved_name else None
        error_rate: ErrorRateFn = _no_errors
        if snapshot is not None:
            resource: ResourceConfig = snapshot
            error_rate = get_engine().deps.primary_error_rate(snapshot)  # as the API route reads it
        else:
            try:
                resource = ResourceConfig.model_validate({k: payload[k] for k in CONFIG_KEYS if k in payload})
            except ValidationError as exc:
                self.test_error = f"The resource is not complete yet: {error_text(exc)}"
                return None
        endpoint: Endpoint = (self.endpoint_choice if self.endpoint_choice in ENDPOINTS  # type: ignore[assignment]
                              else infer_endpoint(sample))
        try:
            out = dry_run(resource, sample, endpoint, error_rate=error_rate,
                          api_key_name=self.api_key_name.strip() or None, routing=routing)
        except EnvelopeError as exc:
            self.test_error = f"Sample request: {exc} (request.{exc.field})"
            return None
        except ValidationError as exc:  # e.g. resourceConfigOverrides that do not fit a resource
            self.test_error = f"Sample request: {error_text(exc)}"
            return None
        self._show(out)
        return None

    def _show(self, out: dict[str, Any]) -> None:
        action = str(out.get("action", ""))
        index = out.get("conditionIndex")
        self.result_action, self.result_color = action, ACTION_COLORS.get(action, "gray")
        if index is not None:
            self.result_condition = f"#{index + 1} {out.get('description') or '(no description)'}"
        else:  # vmx.secondaryModelIndex skips routing altogether
            self.result_condition = "routing skipped" if action in ("secondary", "invalid") else "none matched"
        model = out.get("model")
        self.result_model = _slot_label(model) if model else ("none: the request is refused" if action in
                                                               ("block", "invalid") else "")
        # The trace ends with the decisive reason, so the reason is not shown twice.
        self.result_trace = [str(line) for line in out.get("trace") or [out.get("reason") or ""]]
        self.has_result = True


# ---- UI ----------------------------------------------------------------------------------------------

T = RoutingTestState


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def _result() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Action", size="2", weight="medium"),
            rx.badge(T.result_action, color_scheme=T.result_color, id="routing-test-action", size="2"),
            rx.text(rx.text.strong("Condition "), T.result_condition, size="2", id="routing-test-condition"),
            spacing="3", align="center", wrap="wrap",
        ),
        rx.cond(T.result_model != "",
                rx.text(rx.text.strong("Model called "), rx.code(T.result_model), size="2",
                        id="routing-test-model"),
                rx.fragment()),
        rx.box(rx.foreach(T.result_trace, lambda line: rx.text(line, size="1", font_family="monospace")),
               id="routing-test-trace", width="100%", padding="8px", border_radius="6px",
               background=rx.color("gray", 2)),
        spacing="2", width="100%",
    )


def routing_test_panel() -> rx.Component:
    """Never disabled for read-only users: a dry run changes nothing."""
    return rx.card(rx.vstack(
        rx.heading("Test routing", size="3"),
        rx.text("Runs a sample request through the conditions above as edited (unsaved), against the saved "
                "resource's models and live error rates (a new resource: the form, 0 % errors). Nothing is "
                "sent to a provider.", size="2", color_scheme="gray"),
        _field("Sample request", rx.text_area(
            value=T.sample_text, on_change=T.set_sample_text, id="routing-test-sample", rows="8",
            font_family="var(--code-font-family, monospace)", font_size="13px", spell_check=False, width="100%")),
        rx.hstack(
            _field("API key name (optional)", rx.input(
                value=T.api_key_name, on_change=T.set_api_key_name, id="routing-test-api-key-name",
                placeholder="for apiKeyName rules", width="100%")),
            _field("Endpoint", rx.select(ENDPOINT_CHOICES, value=T.endpoint_choice, on_change=T.set_endpoint_choice,
                                         id="routing-test-endpoint", width="100%")),
            rx.button(rx.icon("play", size=14), "Test", on_click=T.run_test, type="button", id="routing-test-run",
                      disabled=~T.can_test_routing),
            spacing="3", align="end", width="100%",
        ),
        rx.cond(T.test_error != "",
                rx.callout(T.test_error, icon="triangle_alert", color_scheme="red", size="1", width="100%",
                           id="routing-test-error"),
                rx.fragment()),
        rx.cond(T.has_result, _result(), rx.fragment()),
        spacing="3", width="100%",
    ), width="100%", on_mount=T.prepare)
