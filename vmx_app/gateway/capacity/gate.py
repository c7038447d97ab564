"""The capacity, budget and prioritization seam of the engine (DESIGN §2 step 5, §6, §10).

The engine asks the gate before every provider attempt (retries included) and reports the outcome
afterwards. A denial that another model could avoid (a connection's capacity, prioritization) moves
on to the next fallback leg; one that every leg would meet (resource or API-key capacity, a budget)
answers at once. `AllowAllGate` lets everything through; `CapacityGate` (enforcing.py) counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from vmx_app.gateway.config import (
    ApiKeySnapshot,
    ConnectionSnapshot,
    EnvironmentSnapshot,
    ModelSlot,
    ResourceSnapshot,
)
from vmx_app.gateway.errors import GateHold
from vmx_app.gateway.types import Usage

if TYPE_CHECKING:
    from vmx_app.gateway.capacity.batch_share import BatchScope


@dataclass(slots=True)
class LegContext:
    """What a gate needs to decide on one attempt: who calls what, through which connection, how big."""

    request_id: str
    workspace_id: str
    environment_id: str
    resource: ResourceSnapshot
    connection: ConnectionSnapshot
    slot: ModelSlot
    api_key: ApiKeySnapshot | None
    source_ip: str | None
    estimated_tokens: int
    stream: bool = False
    environment: EnvironmentSnapshot | None = None
    max_output_tokens: int | None = None  # the request's max_tokens (budgets reserve the worst case)
    batch: BatchScope | None = None  # a batch item: a share of each limit, plus the batch's own (issue 14)


@dataclass(slots=True)
class GateResult:
    """`allowed=False` carries the error the client sees (at once when `fallback` is False, else when
    no fallback is left): `code` `resource_exhausted`, `prioritization_gate_denied` or
    `budget_exceeded`; `message` names the level, entity, period and limit; `retry_after_s` becomes
    Retry-After. `headers` (`x-ratelimit-*`) go on the response whatever the outcome.
    `reservation` is opaque state the gate wants back in `settle` (the keys it took from). `hold` says
    which level held the request back when waiting can help (capacity, prioritization; not budgets)."""

    allowed: bool = True
    code: str | None = None
    message: str | None = None
    retry_after_s: float | None = None
    reservation: object | None = field(default=None, repr=False)
    status: int = 429
    error_type: str | None = None  # the OpenAI error `type` (rate_limit_error, insufficient_quota)
    fallback: bool = True
    headers: dict[str, str] | None = None
    hold: GateHold | None = None


ALLOWED = GateResult()


class Gate(Protocol):
    async def check(self, ctx: LegContext) -> GateResult:
        """Check and take capacity (and budget) for one attempt at every applicable level at once, or nothing."""
        ...

    async def settle(self, ctx: LegContext, result: GateResult, usage: Usage | None, *, failed: bool) -> None:
        """After the attempt: correct tokens and cost to `usage`; `failed` gives back what can be given back."""
        ...

    async def flush(self) -> None:
        """Write what settlement still holds (shutdown)."""
        ...


class AllowAllGate:
    """No capacity limits, budgets or prioritization."""

    async def check(self, ctx: LegContext) -> GateResult:
        return ALLOWED

    async def settle(self, ctx: LegContext, result: GateResult, usage: Usage | None, *, failed: bool) -> None:
        return None

    async def flush(self) -> None:
        return None
