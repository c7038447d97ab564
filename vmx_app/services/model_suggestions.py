"""Which model names to offer in a model slot for a given connection: the connection's allowed models
when it restricts them, else the provider's models in the pricing catalog and the models the provider
listed in the connection's last successful test."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.models import AIConnection
from vmx_app.models.model_pricing import ModelPricing


async def suggested_models(session: AsyncSession, connections: Sequence[AIConnection]) -> dict[str, list[str]]:
    """Connection id → model names, sorted."""
    providers = {c.provider for c in connections if not c.allowed_models}
    catalog: dict[str, list[str]] = defaultdict(list)
    if providers:
        rows = (await session.exec(select(ModelPricing.provider, ModelPricing.model)
                                   .where(col(ModelPricing.provider).in_(providers)))).all()
        for provider, model in rows:
            catalog[provider].append(model)
    return {str(c.id): sorted(c.allowed_models) if c.allowed_models else
            sorted({*catalog.get(c.provider, []), *_listed(c)}) for c in connections}


def _listed(connection: AIConnection) -> list[str]:
    last = connection.last_test or {}
    return [str(m) for m in last.get("models") or []] if last.get("ok") else []
