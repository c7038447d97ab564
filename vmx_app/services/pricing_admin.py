"""Model prices as the signed-in principal: the API (`api/routers/model_pricing.py`) and the console
(`state/pricing.py`) call these, so both check `model-pricing:*` on `model-pricing:<provider>/<model>`
the same way. Each use case takes the caller's session or opens its own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.authorization import Principal, require
from vmx_app.auth.policy import model_pricing_resource
from vmx_app.errors import not_found
from vmx_app.models import ModelPricing
from vmx_app.models.model_pricing import ModelPricingCreate, ModelPricingUpdate
from vmx_app.services import model_pricing as service
from vmx_app.services.unit_of_work import use_session


async def list_prices() -> list[ModelPricing]:
    """The catalog: every signed-in user may read it."""
    async with use_session(None, readonly=True) as s:
        return await service.list_pricing(session=s)


async def price_for(session: AsyncSession, principal: Principal, price_id: uuid.UUID, action: str) -> ModelPricing:
    """The price (404 for unknown ids), then `action` on `model-pricing:<provider>/<model>`."""
    row = await session.get(ModelPricing, price_id)
    if row is None:
        raise not_found("model price")
    require(principal, action, model_pricing_resource(f"{row.provider}/{row.model}"))
    return row


async def create_price_as(principal: Principal, data: ModelPricingCreate, *,
                          session: AsyncSession | None = None) -> ModelPricing:
    require(principal, "model-pricing:create", model_pricing_resource())
    async with use_session(session) as s:
        return await service.create_pricing(session=s, data=data, user_id=principal.user_id)


async def save_price_as(principal: Principal, price_id: uuid.UUID | None, body: dict[str, Any]) -> None:
    """The console's dialog: update the price `price_id`, or with None create one (the permission is
    checked before the form's values, as the API's route guard does)."""
    async with use_session(None) as s:
        if price_id is None:
            require(principal, "model-pricing:create", model_pricing_resource())
            await service.create_pricing(session=s, data=ModelPricingCreate.model_validate(body),
                                         user_id=principal.user_id)
            return
        row = await price_for(s, principal, price_id, "model-pricing:update")
        await service.update_pricing(session=s, row=row, data=ModelPricingUpdate.model_validate(body),
                                     user_id=principal.user_id)


async def delete_price_as(principal: Principal, price_id: uuid.UUID) -> str:
    """Returns the deleted price's `provider/model` (for the console's toast)."""
    async with use_session(None) as s:
        row = await price_for(s, principal, price_id, "model-pricing:delete")
        label = f"{row.provider}/{row.model}"
        await service.delete_pricing(session=s, row=row)
    return label
