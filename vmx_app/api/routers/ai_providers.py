"""The provider catalog (`/v1/ai-provider`): config forms (JSON Schema), defaults, capabilities."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from vmx_app.api.deps import Principal, authenticated
from vmx_app.errors import not_found
from vmx_app.services.providers import get_provider, list_providers

router = APIRouter(prefix="/v1/ai-provider", tags=["ai-providers"])


@router.get("")
async def providers(_: Annotated[Principal, Depends(authenticated())]) -> dict[str, Any]:
    data = list_providers()
    return {"data": data, "total": len(data)}


@router.get("/{provider}")
async def provider(provider: str, _: Annotated[Principal, Depends(authenticated())]) -> dict[str, Any]:
    info = get_provider(provider)
    if info is None:
        raise not_found(f"provider {provider!r}")
    return info.to_json()
