"""AI connections in the console: the list page's state, and helpers the resource editor shares
(the environment's connections as picker options, error text with slot paths)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal
from vmx_app.components.capacity_editor import capacity_entries, capacity_rows
from vmx_app.components.schema_form import ConfigField, schema_fields
from vmx_app.errors import DomainError
from vmx_app.models import AIConnection, Environment
from vmx_app.models.ai_connection import AIConnectionCreate
from vmx_app.services import ai_connections as service
from vmx_app.services import connection_admin
from vmx_app.services.connection_tests import config_digest
from vmx_app.services.providers import PROVIDERS, config_field_error, secret_fields
from vmx_app.state.access import allowed
from vmx_app.state.capacity_rows import CapacityRowsMixin
from vmx_app.state.crud import EnvModuleListMixin
from vmx_app.state.field_check import NOT_SENT, FieldCheckMixin
from vmx_app.state.live_usage import with_usage
from vmx_app.state.messages import error_text
from vmx_app.state.workspace import WorkspaceState
from vmx_app.vault import is_masked

MODULE = connection_admin.MODULE


@dataclasses.dataclass
class ConnectionRow:
    id: str = ""
    name: str = ""
    description: str = ""
    provider: str = ""
    provider_name: str = ""
    limits: str = ""
    allowed_models: str = ""
    credentials: str = "ok"
    test_status: str = "untested"  # untested | ok | failed: the last test of the current credentials
    test_message: str = ""


def test_status(public: dict[str, Any]) -> tuple[str, str]:
    """(status, words) from a connection's `lastTest`: what is known, nothing more."""
    last = public.get("lastTest")
    if not last:
        return "untested", "not tested since the credentials were set"
    when = str(last.get("testedAt") or "")[:16].replace("T", " ")
    if last.get("ok"):
        return "ok", f"ok, tested {when} UTC"
    return "failed", f"failed {when} UTC: {last.get('message') or 'no reason given'}"


@dataclasses.dataclass
class DiscoveredRow:
    model: str = ""
    period: str = ""
    requests: str = ""
    tokens: str = ""
    updated_at: str = ""


def _loc(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def problem_text(exc: Exception) -> str:
    """The message to show for a refused or invalid save: field paths as the API names them
    (`fallbackModels[1].timeoutMs`), never a stack trace."""
    if isinstance(exc, ValidationError):
        parts = [f"{_loc(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" if e.get("loc")
                 else str(e.get("msg", "invalid")) for e in exc.errors()]
        return "; ".join(parts) or "Invalid input"
    if isinstance(exc, DomainError):
        return error_text(exc)
    raise exc


def limits_summary(capacity: list[dict[str, Any]]) -> str:
    parts = []
    for entry in capacity:
        if not entry.get("enabled", True):
            continue
        limits = [f"{entry[k]} {k[:3] if k == 'requests' else 'tok'}" for k in ("requests", "tokens") if entry.get(k)]
        if limits:
            parts.append(f"{' / '.join(limits)} per {entry.get('period')}")
    return "; ".join(parts) or "unlimited"


def discovered_rows(discovered: dict[str, Any] | None) -> list[DiscoveredRow]:
    """`{"models": {model: {"updatedAt", "capacity": [...]}}}` (the original's shape; a bare model map is read
    the same way) flattened to one row per model and period."""
    discovered = discovered or {}
    models = discovered.get("models") if isinstance(discovered.get("models"), dict) else discovered
    rows: list[DiscoveredRow] = []
    for model, info in sorted(models.items()):
        info = info if isinstance(info, dict) else {}
        for entry in info.get("capacity") or []:
            rows.append(DiscoveredRow(model=model, period=str(entry.get("period") or ""),
                                      requests=str(entry.get("requests") or "—"),
                                      tokens=str(entry.get("tokens") or "—"),
                                      updated_at=str(info.get("updatedAt") or "")[:19].replace("T", " ")))
    return rows


def connection_row(public: dict[str, Any]) -> ConnectionRow:
    info = PROVIDERS.get(public["provider"])
    return ConnectionRow(id=public["id"], name=public["name"], description=public.get("description") or "",
                         provider=public["provider"], provider_name=info.name if info else public["provider"],
                         limits=limits_summary(public.get("capacity") or []),
                         allowed_models=", ".join(public.get("allowedModels") or []) or "any",
                         credentials=public.get("credentialsStatus") or "ok",
                         test_status=test_status(public)[0], test_message=test_status(public)[1])


async def connection_options(session: Any, environment_id: Any) -> list[dict[str, str]]:
    """The environment's connections for a picker: {"id", "label", "provider", "name", "models"}."""
    return options_of(await service.list_connections(session=session, environment_id=environment_id))


def options_of(rows: list[AIConnection], models: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
    """`models`: connection id → the model names to suggest (sent comma-separated)."""
    return [{"id": str(r.id), "label": f"{r.name} ({r.provider})", "provider": r.provider, "name": r.name,
             "models": ",".join((models or {}).get(str(r.id), []))} for r in rows]


class ConnectionsState(EnvModuleListMixin, WorkspaceState):
    """The connection list."""

    MODULE: ClassVar[str] = MODULE
    MODEL: ClassVar[type[SQLModel]] = AIConnection
    NOUN: ClassVar[str] = "Connection"
    rows: list[ConnectionRow] = []

    async def _list_rows(self, session: AsyncSession, environment: Environment) -> list[ConnectionRow]:
        rows = await service.list_connections(session=session, environment_id=environment.id)
        return [connection_row(await service.to_public(r)) for r in rows]

    async def _delete_row(self, session: AsyncSession, row: AIConnection) -> None:
        await service.delete_connection(session=session, row=row)


@dataclasses.dataclass
class ProviderOption:
    type: str = ""
    name: str = ""


PROVIDER_OPTIONS = [ProviderOption(type=p.type, name=p.name) for p in PROVIDERS.values()]
DEFAULT_PROVIDER = "openai"


class ConnectionEditorState(FieldCheckMixin, CapacityRowsMixin, WorkspaceState):
    """Create or edit one connection (`/ai-connections/edit?id=…`; no id = new)."""

    # Checked as they are filled, with the schema the service validates the connection with.
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"connection": AIConnectionCreate}
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "description"})

    connection_id: str = ""
    name: str = ""
    description: str = ""
    provider: str = DEFAULT_PROVIDER
    stored_provider: str = ""  # the saved provider: its masked secrets only stand for its own values
    fields: list[ConfigField] = []
    config: dict[str, str] = {}
    allowed_models: list[str] = []
    model_draft: str = ""
    discovered: list[DiscoveredRow] = []
    credentials: str = "ok"
    last_test_status: str = "untested"
    last_test_text: str = ""
    can_save: bool = False
    can_test: bool = False
    loaded: bool = False
    error: str = ""
    testing: bool = False
    test_result: str = ""  # "", "ok" or "error"
    test_models: list[str] = []
    test_error: str = ""
    # What the last test in this form checked (a digest, never the secrets) and its result: saving exactly
    # that config keeps the result as the connection's status.
    _tested: tuple[str, dict[str, Any]] | None = None

    @rx.var
    def is_new(self) -> bool:
        return self.connection_id == ""

    @rx.var
    def provider_description(self) -> str:
        info = PROVIDERS.get(self.provider)
        return info.description if info else ""

    def _reset(self) -> None:
        self.name = self.description = self.error = self.model_draft = ""
        self.provider, self.stored_provider, self.credentials = DEFAULT_PROVIDER, "", "ok"
        self.config, self.capacity, self.allowed_models, self.discovered = {}, [], [], []
        self.test_result, self.test_models, self.test_error, self._tested = "", [], "", None
        self.last_test_status, self.last_test_text = "untested", ""
        self.testing = self.loaded = False
        self.field_errors = {}
        self._set_fields(DEFAULT_PROVIDER)

    def _set_fields(self, provider: str) -> None:
        info = PROVIDERS.get(provider)
        self.fields = schema_fields(info.config_schema) if info else []

    def _fill(self, public: dict[str, Any]) -> None:
        self.connection_id = public["id"]
        self.name, self.description = public["name"], public.get("description") or ""
        self.provider = self.stored_provider = public["provider"]
        self._set_fields(self.provider)
        self.config = {k: "" if v is None else str(v) for k, v in (public.get("config") or {}).items()}
        self.capacity = capacity_rows(public.get("capacity"))
        self.allowed_models = list(public.get("allowedModels") or [])
        self.discovered = discovered_rows(public.get("discoveredCapacity"))
        self.credentials = public.get("credentialsStatus") or "ok"
        self.last_test_status, self.last_test_text = test_status(public)

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        self._reset()
        self.connection_id = self.router.url.query_parameters.get("id", "")
        if not self.environment_id:
            return None
        try:
            base, public = await connection_admin.open_editor_as(principal, self.workspace_id, self.environment_id,
                                                                 self.connection_id)
        except DomainError as exc:
            self.error = error_text(exc)
            return None
        item = MODULE
        if public is not None:
            self._fill(public)
            self.capacity = await with_usage(self.capacity, self.environment_id, "connection", self.connection_id)
            item = f"{MODULE}:{public['name']}"
        self.can_save = allowed(principal, f"{MODULE}:{'update' if self.connection_id else 'create'}",
                                f"{base}:{item}")
        self.can_test = allowed(principal, f"{MODULE}:test", f"{base}:{item}")
        self.loaded = True
        return None

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        """Form "config" (`config.<key>`): the provider's own config schema (JSON Schema, not pydantic) says
        what is wrong with the field, as the service's `validate_config` does for the whole config."""
        if form != "config":
            return raw
        problem = config_field_error(self.provider, name, str(raw or "").strip())
        if problem == "required":
            title = next((f.title for f in self.fields if f.key == name), name)
            raise ValueError(f"{title} is required.")
        if problem:
            raise ValueError(problem[:1].upper() + problem[1:] + ".")
        return NOT_SENT  # checked: no pydantic schema to run after it

    @rx.event
    def set_name(self, value: str) -> None:
        self.name = value
        self._recheck("connection", "name", value)

    @rx.event
    def set_description(self, value: str) -> None:
        self.description = value
        self._recheck("connection", "description", value)

    @rx.event
    def set_provider(self, value: str) -> None:
        if value not in PROVIDERS or value == self.provider:
            return
        self.provider = value
        self._set_fields(value)
        keys = {f.key for f in self.fields}
        # Masked secrets stand for the stored provider's values only; other keys carry over if the form has them.
        self.config = {k: v for k, v in self.config.items()
                       if k in keys and not (is_masked(v) and value != self.stored_provider)}
        self._forget_row_errors("config.")  # another provider's fields
        self.test_result = ""

    @rx.event
    def set_config(self, key: str, value: str) -> None:
        if key not in secret_fields(self.provider):  # secrets never enter state (see schema_form)
            self.config = {**self.config, key: value}
            self._recheck("config", f"config.{key}", value)

    @rx.event
    def set_model_draft(self, value: str) -> None:
        self.model_draft = value

    @rx.event
    def add_model(self) -> None:
        for model in (m.strip() for m in self.model_draft.split(",")):
            if model and model not in self.allowed_models:
                self.allowed_models = [*self.allowed_models, model]
        self.model_draft = ""

    @rx.event
    def add_model_on_enter(self, key: str) -> None:
        if key == "Enter":
            self.add_model()

    @rx.event
    def remove_model(self, model: str) -> None:
        self.allowed_models = [m for m in self.allowed_models if m != model]

    def _config_body(self, secrets: dict[str, Any]) -> dict[str, str]:
        """The config to send: the form's plain fields plus the secrets read from the page just now."""
        hidden = secret_fields(self.provider)
        keys = {f.key for f in self.fields}
        values = {k: v for k, v in self.config.items() if k not in hidden}
        values.update({k: str(v) for k, v in (secrets or {}).items() if k in hidden})
        return {k: v.strip() for k, v in values.items() if k in keys and v.strip()}

    def _body(self, secrets: dict[str, Any]) -> dict[str, Any]:
        return {"name": self.name.strip(), "description": self.description.strip() or None,
                "provider": self.provider, "config": self._config_body(secrets),
                "capacity": capacity_entries(self.capacity), "allowedModels": list(self.allowed_models)}

    @rx.event
    async def save(self, secrets: dict[str, Any]) -> EventSpec | None:
        """Called back by SECRETS_SCRIPT with the secret inputs' values."""
        principal = await self.current_principal()
        if principal is None:
            return rx.redirect("/login", replace=True)
        self.error = ""
        if not self._check_all("connection", {"name": self.name, "description": self.description}):
            return None
        body = self._body(secrets if isinstance(secrets, dict) else {})
        try:
            tested = self._tested[1] if self._tested is not None and \
                self._tested[0] == config_digest(self.provider, body["config"]) else None
            name = await connection_admin.save_connection_as(principal, self.workspace_id, self.environment_id,
                                                             self.connection_id, body, tested=tested)
        except (DomainError, ValidationError) as exc:
            self.error = self._place_refusal(exc, self.FORM_FIELDS, problem_text(exc))
            return None
        return [rx.toast.success(f"Connection {name} saved"), rx.redirect("/ai-connections")]  # type: ignore[return-value]

    @rx.event(background=True)
    async def test(self, secrets: dict[str, Any]) -> None:
        """Called back by SECRETS_SCRIPT with the secret inputs' values."""
        async with self:
            principal = await self.current_principal()
            if principal is None or self.testing:
                return
            self.testing, self.test_result, self.test_error, self.test_models = True, "", "", []
            ids = (self.workspace_id, self.environment_id, self.connection_id)
            provider, config = self.provider, self._config_body(secrets if isinstance(secrets, dict) else {})
        try:
            result = await connection_admin.test_connection_as(principal, *ids, provider, config)
        except DomainError as exc:
            result = {"ok": False, "error": {"message": problem_text(exc)}}
        async with self:
            self.testing = False
            self._tested = (config_digest(provider, config), result) if "error" not in result or \
                result["error"].get("code") != "invalid_config" else None
            if result.get("ok"):
                self.test_result, self.test_models = "ok", list(result.get("models") or [])
            else:
                err = result.get("error") or {}
                status = f" (HTTP {err['status']})" if err.get("status") else ""
                self.test_result, self.test_error = "error", f"{err.get('message') or 'failed'}{status}"
