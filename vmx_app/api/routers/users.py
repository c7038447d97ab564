"""Users (`/v1/user`): admin-managed accounts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from vmx_app.api.deps import (
    CurrentPrincipal,
    DbSession,
    Paging,
    Principal,
    authorize,
    page,
    require,
    tag_guard,
)
from vmx_app.auth.authorization import require_new_name
from vmx_app.auth.policy import user_resource
from vmx_app.models import User
from vmx_app.models.user import UserCreate, UserPublic, UserUpdate
from vmx_app.services import user_admin
from vmx_app.services import users as users_service

router = APIRouter(prefix="/v1/user", tags=["users"])


@dataclass(frozen=True, slots=True)
class UserContext:
    principal: Principal
    user: User


def user_guard(action: str) -> Callable[..., Awaitable[UserContext]]:
    """`/user/{id}`: 404 for unknown ids, then `action` on `user:<email>`."""

    async def guard(id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> UserContext:  # noqa: A002
        user = await users_service.get_user(session, id)
        authorize(principal, action, user_resource(user.email))
        return UserContext(principal, user)

    return tag_guard(guard, action, "global")


@router.get("")
async def list_users(principal: Annotated[Principal, Depends(require("user:list", user_resource()))],
                     session: DbSession, paging: Paging) -> dict[str, Any]:
    rows, total = await users_service.list_users(session, offset=paging.offset, limit=paging.page_size)
    return page(rows, total, paging)


@router.post("", status_code=201, response_model=UserPublic)
async def create_user(principal: Annotated[Principal, Depends(require("user:create", user_resource()))],
                      body: UserCreate, session: DbSession) -> UserPublic:
    user = await user_admin.create_user_as(principal, body, session=session)
    return (await users_service.to_public(session, [user]))[0]


@router.get("/{id}", response_model=UserPublic)
async def get_user(ctx: Annotated[UserContext, Depends(user_guard("user:get"))], session: DbSession) -> UserPublic:
    return (await users_service.to_public(session, [ctx.user]))[0]


@router.put("/{id}", response_model=UserPublic)
async def update_user(ctx: Annotated[UserContext, Depends(user_guard("user:update"))], body: UserUpdate,
                      session: DbSession) -> UserPublic:
    if body.email is not None:
        require_new_name(ctx.principal, "user:update", user_resource(ctx.user.email),
                                 user_resource(body.email))
    user = await users_service.update_user(session, user=ctx.user, data=body, actor_id=ctx.principal.user_id)
    return (await users_service.to_public(session, [user]))[0]


@router.delete("/{id}", status_code=204)
async def delete_user(ctx: Annotated[UserContext, Depends(user_guard("user:delete"))],
                      session: DbSession) -> Response:
    await users_service.delete_user(session, user=ctx.user, actor_id=ctx.principal.user_id)
    return Response(status_code=204)
