"""The capacity and prioritization seam of the engine (DESIGN §2 step 5, §6).

The engine asks the gate once per leg, right before the provider call, and reports the real usage
afterwards. A denial is treated like an upstream 429: the next fallback leg is tried. The capacity
issue plugs its counters in behind this Protocol; until then `AllowAllGate` lets everything through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from vmx_app.gateway.config import ApiKeySnapshot, ConnectionSnapshot, ModelSlot, ResourceSnapshot


@dataclass(slots=True)
class LegContext:
    """What a gate needs to decide on one leg: who calls what, through which connection, how big."""

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


@dataclass(slots=True)
class GateResult:
    """`allowed=False` carries the 429 the client sees when no fallback is left.

    `code` is `resource_exhausted` (capacity) or `prioritization_gate_denied`; `message` names the
    level, entity, period and limit; `retry_after_s` becomes the Retry-After header.
    `reservation` is opaque state the gate wants back in `settle` (e.g. the keys it incremented).
    """

    allowed: bool = True
    code: str | None = None
    message: str | None = None
    retry_after_s: float | None = None
    reservation: object | None = field(default=None, repr=False)


ALLOWED = GateResult()


class Gate(Protocol):
    async def check(self, ctx: LegContext) -> GateResult:
        """Check and take capacity for one leg at every applicable level at once, or nothing."""
        ...

    async def settle(self, ctx: LegContext, result: GateResult, used_tokens: int | None) -> None:
        """After the call: correct the token estimate to the real usage (None: the call failed)."""
        ...


class AllowAllGate:
    """No capacity limits and no prioritization: the default until the capacity issue lands."""

    async def check(self, ctx: LegContext) -> GateResult:
        return ALLOWED

    async def settle(self, ctx: LegContext, result: GateResult, used_tokens: int | None) -> None:
        return None
