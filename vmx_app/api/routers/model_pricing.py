"""The model pricing catalog (`/v1/model-pricing[/{id}]`): readable by every signed-in user, edited by
whoever holds `model-pricing:create|update|delete` (admins)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from vmx_app.api.deps import (
    CurrentPrincipal,
    DbSession,
    Paging,
    Principal,
    authenticated,
    page,
    require,
    tag_guard,
)
from vmx_app.auth.authorization import require_new_name
from vmx_app.auth.policy import model_pricing_resource
from vmx_app.errors import not_found
from vmx_app.models import ModelPricing
from vmx_app.models.model_pricing import ModelPricingCreate, ModelPricingPublic, ModelPricingUpdate
from vmx_app.services import model_pricing as service
from vmx_app.services import pricing_admin

router = APIRouter(prefix="/v1/model-pricing", tags=["model-pricing"])


@dataclass(frozen=True, slots=True)
class PricingContext:
    principal: Principal
    row: ModelPricing


def pricing_guard(action: str) -> Callable[..., Awaitable[PricingContext]]:
    """`/model-pricing/{id}`: 404 for unknown ids, then `action` on `model-pricing:<provider>/<model>`."""

    async def guard(id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> PricingContext:  # noqa: A002
        return PricingContext(principal, await pricing_admin.price_for(session, principal, id, action))

    return tag_guard(guard, action, "global")


@router.get("")
async def list_pricing(_: Annotated[Principal, Depends(authenticated())], session: DbSession, paging: Paging,
                       provider: Annotated[str | None, Query()] = None,
                       model: Annotated[str | None, Query(description="substring of the model id")] = None,
                       ) -> dict[str, Any]:
    rows = await service.list_pricing(session=session, provider=provider, model=model)
    window = rows[paging.offset:paging.offset + paging.page_size]
    return page([service.to_public(r).model_dump(by_alias=True, mode="json") for r in window], len(rows), paging)


@router.post("", status_code=201, response_model=ModelPricingPublic)
async def create_pricing(principal: Annotated[Principal, Depends(require("model-pricing:create",
                                                                         model_pricing_resource()))],
                         body: ModelPricingCreate, session: DbSession) -> ModelPricingPublic:
    return service.to_public(await pricing_admin.create_price_as(principal, body, session=session))


@router.get("/{id}", response_model=ModelPricingPublic)
async def get_pricing(id: uuid.UUID, _: Annotated[Principal, Depends(authenticated())],  # noqa: A002
                      session: DbSession) -> ModelPricingPublic:
    row = await session.get(ModelPricing, id)
    if row is None:
        raise not_found("model price")
    return service.to_public(row)


@router.put("/{id}", response_model=ModelPricingPublic)
async def update_pricing(ctx: Annotated[PricingContext, Depends(pricing_guard("model-pricing:update"))],
                         body: ModelPricingUpdate, session: DbSession) -> ModelPricingPublic:
    old = f"{ctx.row.provider}/{ctx.row.model}"
    new = f"{body.provider or ctx.row.provider}/{body.model or ctx.row.model}"
    require_new_name(ctx.principal, "model-pricing:update", model_pricing_resource(old),
                             model_pricing_resource(new))
    row = await service.update_pricing(session=session, row=ctx.row, data=body, user_id=ctx.principal.user_id)
    return service.to_public(row)


@router.delete("/{id}", status_code=204)
async def delete_pricing(ctx: Annotated[PricingContext, Depends(pricing_guard("model-pricing:delete"))],
                         session: DbSession) -> Response:
    await service.delete_pricing(session=session, row=ctx.row)
    return Response(status_code=204)
