"""Plain pydantic shapes of the configuration the gateway reads.

These are the wire shapes of DESIGN §5 (camelCase JSON). The management API validates
request bodies with them, the database stores them as JSON, and the gateway receives
immutable snapshots of them from the config cache. No SQL or web imports here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

ProviderType = Literal[
    "openai", "anthropic", "gemini", "groq", "perplexity", "bedrock", "bedrock-invoke", "openai-compatible"
]
PROVIDER_TYPES: tuple[str, ...] = ProviderType.__args__  # type: ignore[attr-defined]

CapacityPeriod = Literal["minute", "hour", "day", "week", "month", "lifetime"]

RoutingField = Literal[
    "requestTokens", "messagesCount", "toolsCount", "hasTools", "stream", "firstMessage", "lastMessage",
    "allMessagesContent", "apiKeyName", "errorRate",
]
RoutingOperator = Literal[
    "equals", "notEquals", "greaterThan", "greaterThanOrEqual", "lessThan", "lessThanOrEqual", "contains",
    "notContains", "startsWith", "endsWith", "matches", "in", "notIn", "exists",
]


class CamelModel(BaseModel):
    """Base for every JSON shape: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class CapacityEntry(CamelModel):
    period: CapacityPeriod
    requests: int | None = Field(default=None, ge=0)
    tokens: int | None = Field(default=None, ge=0)
    enabled: bool = True
    dimension: Literal["source-ip"] | None = None


BudgetPeriod = Literal["day", "week", "month", "lifetime"]


class BudgetEntry(CamelModel):
    """A spend budget (DESIGN §10): at most `amountUsd` per UTC-aligned period."""

    period: BudgetPeriod
    amount_usd: float = Field(ge=0, le=1e9)
    enabled: bool = True


class ModelSlot(CamelModel):
    """One model reference: primary, secondary, fallback or routing destination."""

    provider: ProviderType
    model: str = Field(min_length=1)
    connection_id: str | None = None
    connection_name: str | None = None
    max_retries: int = Field(default=0, ge=0, le=10)
    timeout_ms: int | None = Field(default=None, ge=100, le=600_000)


class RoutingThen(ModelSlot):
    traffic: float | None = Field(default=None, ge=0, le=100)


class RoutingPredicate(CamelModel):
    """One simple-mode test. `field` is a RoutingField or `metadata.<key>`."""

    field: str = Field(min_length=1)
    operator: RoutingOperator
    value: Any = None
    window: int | None = Field(default=None, ge=1, le=180)

    @model_validator(mode="after")
    def _known_field(self) -> RoutingPredicate:
        if self.field not in RoutingField.__args__ and not self.field.startswith("metadata."):  # type: ignore[attr-defined]
            raise ValueError(f"unknown routing field {self.field!r}")
        return self


class RoutingCondition(CamelModel):
    description: str | None = None
    enabled: bool = True
    if_: list[RoutingPredicate] | None = Field(default=None, alias="if")
    expression: str | None = None
    action: Literal["block"] | None = None
    then: RoutingThen | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> RoutingCondition:
        if (self.if_ is None) == (self.expression is None):
            raise ValueError("a routing condition needs exactly one of `if` or `expression`")
        if self.action != "block" and self.then is None:
            raise ValueError("a routing condition needs `then` unless its action is `block`")
        return self


class RoutingConfig(CamelModel):
    enabled: bool = False
    mode: Literal["simple", "advanced"] | None = None
    conditions: list[RoutingCondition] = Field(default_factory=list)


class ResourceConfig(CamelModel):
    """The routable part of an AI Resource (what `resourceConfigOverrides` may patch)."""

    model: ModelSlot
    secondary_models: list[ModelSlot] = Field(default_factory=list)
    use_fallback: bool = False
    fallback_models: list[ModelSlot] = Field(default_factory=list)
    routing: RoutingConfig | None = None
    capacity: list[CapacityEntry] = Field(default_factory=list)
    enforce_capacity: bool = False
    default_args: dict[str, Any] = Field(default_factory=dict)


class ResourceSnapshot(ResourceConfig):
    """An AI Resource as the gateway sees it (connection references resolved to ids)."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")

    id: str
    workspace_id: str
    environment_id: str
    name: str
    budgets: list[BudgetEntry] = Field(default_factory=list)  # not in ResourceConfig: no override
    allow_overrides: bool = True  # not part of ResourceConfig: a request can never override it


class PoolConfig(CamelModel):
    """One prioritization pool (DESIGN §6): percent of a connection's minute token capacity."""

    name: str = Field(min_length=1, max_length=100)
    rank: int = Field(default=0, ge=0, le=1000)
    min_reservation: float = Field(default=0, ge=0, le=100)
    max_reservation: float = Field(default=100, ge=0, le=100)
    resources: list[str] = Field(default_factory=list, max_length=1000)


class EnvironmentSnapshot(CamelModel):
    """What the gate needs of an environment: its name (messages), budgets and prioritization pools."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")

    id: str
    workspace_id: str
    name: str
    budgets: list[BudgetEntry] = Field(default_factory=list)
    pools: list[PoolConfig] = Field(default_factory=list)


class ModelCapabilities(CamelModel):
    """What a model takes, when the name-based guess is wrong: set on a model pricing (catalog) entry
    and overridable per connection (`config.modelCapabilities: {"<model>": {...}}`). None = no opinion."""

    reasoning: bool | None = None  # takes reasoning_effort / thinking
    structured_output: bool | None = None  # Anthropic: native output_config.format (else a forced tool)


class ConnectionSnapshot(CamelModel):
    """An AI Connection as the gateway sees it: credentials decrypted, in memory only."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")

    id: str
    workspace_id: str
    environment_id: str
    name: str
    provider: ProviderType
    config: dict[str, Any]
    capacity: list[CapacityEntry] = Field(default_factory=list)
    allowed_models: list[str] = Field(default_factory=list)
    model_capabilities: dict[str, ModelCapabilities] = Field(default_factory=dict)


class ApiKeySnapshot(CamelModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="ignore")

    id: str
    workspace_id: str
    environment_id: str
    name: str
    enabled: bool = True
    resources: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    capacity: list[CapacityEntry] = Field(default_factory=list)
    enforce_capacity: bool = False
    budgets: list[BudgetEntry] = Field(default_factory=list)
    expires_at: float | None = None  # epoch seconds
    user_id: str | None = None  # the user the key belongs to (its creator): the audit row's userId
