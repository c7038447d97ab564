"""The model pricing catalog: CRUD, first-start seed, an in-memory lookup and the cost function the
audit uses."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.db import session_scope
from vmx_app.errors import Conflict
from vmx_app.gateway.config import ModelCapabilities
from vmx_app.gateway.convert.capabilities import guess_caps
from vmx_app.gateway.types import Usage
from vmx_app.models import ModelPricing
from vmx_app.models.base import utcnow
from vmx_app.models.model_pricing import ModelPricingCreate, ModelPricingPublic, ModelPricingUpdate
from vmx_app.services import config_events
from vmx_app.services.model_pricing_catalog import SEED_PRICES

log = logging.getLogger("vmx.pricing")

PER = 1_000_000
# Connections of these providers bill as another provider's catalog entries.
PRICING_PROVIDER = {"bedrock-invoke": "bedrock"}
# Bedrock cross-region inference profiles prefix the model id with a geography.
_PROFILE_PREFIX = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.(?=[a-z0-9-]+\.)")
_BOUNDARY = frozenset("-:@")
_LOOKUP_TTL_S = 60.0


# ---- cost -----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PriceEntry:
    provider: str
    model: str
    input: float
    output: float
    cached_input: float | None = None
    reasoning: float | None = None
    currency: str = "USD"
    capabilities: ModelCapabilities | None = None

    @classmethod
    def of(cls, row: ModelPricing) -> PriceEntry:
        caps = None
        if row.reasoning is not None or row.structured_output is not None:
            caps = ModelCapabilities(reasoning=row.reasoning, structured_output=row.structured_output)
        return cls(row.provider, row.model, row.input_per_million, row.output_per_million,
                   row.cached_input_per_million, row.reasoning_per_million, row.currency, caps)


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """Cached tokens are part of `prompt`, reasoning tokens part of `completion` (OpenAI's convention,
    which the gateway's canonical usage follows)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    reasoning: int = 0


def _counts(usage: TokenCounts | Usage | Mapping[str, Any]) -> TokenCounts:
    if isinstance(usage, TokenCounts):
        return usage
    if isinstance(usage, Usage):
        return TokenCounts(usage.input, usage.output, usage.cached_input, usage.reasoning)
    return TokenCounts(int(usage.get("prompt", 0) or 0), int(usage.get("completion", 0) or 0),
                       int(usage.get("cached", 0) or 0), int(usage.get("reasoning", 0) or 0))


def compute_cost(pricing: PriceEntry | ModelPricing | None,
                 usage: TokenCounts | Usage | Mapping[str, Any]) -> dict[str, Any]:
    """USD cost split by kind. Cached tokens are billed at the cached rate and not again as input;
    reasoning tokens at the reasoning rate (default: output) and not again as output.
    Without a price, every amount is 0 and ``priced`` is False."""
    if isinstance(pricing, ModelPricing):
        pricing = PriceEntry.of(pricing)
    u = _counts(usage)
    if pricing is None:
        return {"total": 0.0, "input": 0.0, "output": 0.0, "cached": 0.0, "reasoning": 0.0, "currency": "USD",
                "priced": False}
    cached = min(max(u.cached, 0), max(u.prompt, 0))
    reasoning = min(max(u.reasoning, 0), max(u.completion, 0))
    cached_rate = pricing.input if pricing.cached_input is None else pricing.cached_input
    reasoning_rate = pricing.output if pricing.reasoning is None else pricing.reasoning
    parts = {
        "input": (u.prompt - cached) * pricing.input / PER,
        "output": (u.completion - reasoning) * pricing.output / PER,
        "cached": cached * cached_rate / PER,
        "reasoning": reasoning * reasoning_rate / PER,
    }
    out: dict[str, Any] = {k: round(v, 10) for k, v in parts.items()}
    out["total"] = round(sum(parts.values()), 10)
    out["currency"] = pricing.currency
    out["priced"] = True
    return out


# ---- lookup ---------------------------------------------------------------------------------------------

def normalize_model(model: str) -> str:
    model = model.strip().removeprefix("models/")
    return _PROFILE_PREFIX.sub("", model)


class PricingLookup:
    """Pure, in-memory: exact (provider, model) first, then the longest catalog model that prefixes the
    requested id at a `-`, `:` or `@` boundary (dated ids such as gpt-4o-2024-08-06)."""

    def __init__(self, entries: Iterable[PriceEntry]) -> None:
        self._exact: dict[tuple[str, str], PriceEntry] = {}
        by_provider: dict[str, list[PriceEntry]] = {}
        for e in entries:
            self._exact[(e.provider, e.model)] = e
            by_provider.setdefault(e.provider, []).append(e)
        self._by_provider = {p: sorted(es, key=lambda e: len(e.model), reverse=True) for p, es in by_provider.items()}
        self._memo: dict[tuple[str, str], PriceEntry | None] = {}

    def __len__(self) -> int:
        return len(self._exact)

    def find(self, provider: str, model: str) -> PriceEntry | None:
        key = (provider, model)
        if key in self._memo:
            return self._memo[key]
        found = self._find(PRICING_PROVIDER.get(provider, provider), normalize_model(model))
        if found is None and provider == "openai-compatible":
            # A compatible server often hosts a known model (Azure's gpt-4o): use its list price.
            for other in self._by_provider:
                found = self._find(other, normalize_model(model))
                if found is not None:
                    break
        if len(self._memo) > 10_000:
            self._memo.clear()
        self._memo[key] = found
        return found

    def _find(self, provider: str, model: str) -> PriceEntry | None:
        exact = self._exact.get((provider, model))
        if exact is not None:
            return exact
        for entry in self._by_provider.get(provider, ()):
            if model.startswith(entry.model) and len(model) > len(entry.model) \
                    and model[len(entry.model)] in _BOUNDARY:
                return entry
        return None


_lookup: PricingLookup | None = None
_lookup_expires = 0.0
_generation = 0


async def get_pricing_lookup() -> PricingLookup:
    """The catalog in memory (reloaded after a change, or after a minute as a safety net)."""
    global _lookup, _lookup_expires
    if _lookup is not None and _lookup_expires > time.monotonic():
        return _lookup
    generation = _generation
    async with session_scope() as session:
        rows = (await session.exec(select(ModelPricing))).all()
    lookup = PricingLookup(PriceEntry.of(r) for r in rows)
    if generation == _generation:
        _lookup, _lookup_expires = lookup, time.monotonic() + _LOOKUP_TTL_S
    return lookup


async def price_for(provider: str, model: str) -> PriceEntry | None:
    return (await get_pricing_lookup()).find(provider, model)


async def cost_for(provider: str, model: str, usage: TokenCounts | Usage | Mapping[str, Any]) -> dict[str, Any]:
    return compute_cost(await price_for(provider, model), usage)


def _on_change(change: config_events.ConfigChange) -> None:
    global _lookup, _generation
    if change.kind in ("model-pricing", "all"):
        _generation += 1
        _lookup = None


config_events.add_invalidation_hook(_on_change)


# ---- catalog CRUD ---------------------------------------------------------------------------------------

def to_public(row: ModelPricing) -> ModelPricingPublic:
    return ModelPricingPublic.model_validate(row, from_attributes=True)


async def seed_pricing() -> int:
    """Fill an empty catalog with list prices. Runs at every start; a catalog that has rows (even after
    admins deleted some) is left alone. Returns the number of rows added."""
    try:
        async with session_scope() as session:
            if (await session.exec(select(func.count()).select_from(ModelPricing))).one():
                return 0
            for provider, model, inp, out, cached, reasoning in SEED_PRICES:
                caps = guess_caps(provider, model)  # explicit in the catalog, where admins can correct it
                session.add(ModelPricing(provider=provider, model=model, input_per_million=inp,
                                         output_per_million=out, cached_input_per_million=cached,
                                         reasoning_per_million=reasoning, reasoning=caps.reasoning,
                                         structured_output=caps.structured_output))
    except IntegrityError:
        return 0  # another process seeded it at the same moment
    log.info("seeded the model pricing catalog with %d models", len(SEED_PRICES))
    return len(SEED_PRICES)


async def list_pricing(*, session: AsyncSession, provider: str | None = None,
                       model: str | None = None) -> list[ModelPricing]:
    query = select(ModelPricing).order_by(ModelPricing.provider, ModelPricing.model)  # type: ignore[arg-type]
    if provider:
        query = query.where(ModelPricing.provider == provider)
    if model:
        query = query.where(ModelPricing.model.contains(model))  # type: ignore[attr-defined]
    return list((await session.exec(query)).all())


async def _commit(session: AsyncSession, provider: str, model: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"a price for {provider}/{model} already exists",
                       details={"provider": provider, "model": model}) from None
    await config_events.publish_change("model-pricing")


async def create_pricing(*, session: AsyncSession, data: ModelPricingCreate,
                         user_id: uuid.UUID | None) -> ModelPricing:
    row = ModelPricing(provider=data.provider, model=data.model.strip(), input_per_million=data.input_per_million,
                       output_per_million=data.output_per_million,
                       cached_input_per_million=data.cached_input_per_million,
                       reasoning_per_million=data.reasoning_per_million, currency=data.currency,
                       reasoning=data.reasoning, structured_output=data.structured_output,
                       created_by=user_id, updated_by=user_id)
    session.add(row)
    await _commit(session, row.provider, row.model)
    return row


async def update_pricing(*, session: AsyncSession, row: ModelPricing, data: ModelPricingUpdate,
                         user_id: uuid.UUID | None) -> ModelPricing:
    sent = data.model_fields_set
    for field in ("provider", "model", "input_per_million", "output_per_million", "currency"):
        if field in sent and getattr(data, field) is not None:
            value = getattr(data, field)
            setattr(row, field, value.strip() if isinstance(value, str) else value)
    for field in ("cached_input_per_million", "reasoning_per_million", "reasoning",
                  "structured_output"):  # null clears these
        if field in sent:
            setattr(row, field, getattr(data, field))
    row.updated_at = utcnow()
    row.updated_by = user_id
    session.add(row)
    await _commit(session, row.provider, row.model)
    return row


async def delete_pricing(*, session: AsyncSession, row: ModelPricing) -> None:
    await session.delete(row)
    await session.commit()
    await config_events.publish_change("model-pricing")
