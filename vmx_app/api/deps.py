"""Request dependencies of the management API: who is calling, and may they do this here.

Routes declare their check with one of the guard factories below (`require`, `workspace_guard`,
`environment_guard`, `env_guard`, `env_item_guard`). Guards run as dependencies, so scope (404) and
policy (403) are decided before the body is validated: a read-only user gets 403, not 422, whatever
the body. Each guard carries its action as `vmx_action`; the authorization matrix test reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.api.errors import ApiError
from vmx_app.auth.authorization import (
    SESSION_COOKIE,
    Principal,
    environment_scope,
    item_in_environment,
    principal_for_token,
    require_item_rename,
    workspace_scope,
)
from vmx_app.auth.authorization import (
    require as authorize,
)
from vmx_app.auth.policy import environment_resource, module_resource, workspace_resource
from vmx_app.db import session_scope
from vmx_app.errors import Forbidden
from vmx_app.models import Environment, UserState, Workspace

# What a user who must change their password may still call.
CHANGE_PASSWORD_ROUTES = frozenset({"/v1/auth/change-password", "/v1/auth/me", "/v1/auth/logout"})


# --- database session ------------------------------------------------------------------------


async def get_db() -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the route returns (before the response is sent)."""
    async with session_scope() as session:
        yield session


# scope="function": commit before the response goes out, so a client's next request sees the write.
DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]


# --- authentication --------------------------------------------------------------------------


def unauthorized(message: str = "Authentication required") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def request_token(request: Request) -> str | None:
    """The session token from `Authorization: Bearer` (API clients) or the cookie (console)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.cookies.get(SESSION_COOKIE) or None


async def get_principal(request: Request) -> Principal:
    token = request_token(request)
    if not token:
        raise unauthorized()
    principal = await principal_for_token(token)
    if principal is None:
        raise unauthorized("Session is invalid or has expired")
    if principal.state == UserState.CHANGE_PASSWORD.value:
        route_path = getattr(request.scope.get("route"), "path", request.url.path)
        if route_path not in CHANGE_PASSWORD_ROUTES:
            raise Forbidden("Change your password first (POST /v1/auth/change-password)",
                            code="password_change_required")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


# --- authorization ---------------------------------------------------------------------------


# --- guards: dependencies that scope and authorize before the body is read --------------------

Guard = Callable[..., Awaitable[Any]]
G = TypeVar("G", bound=Guard)


def tag_guard(guard: G, action: str, kind: str) -> G:
    """Record the action a guard checks (read by the authorization matrix test)."""
    guard.vmx_action = action  # type: ignore[attr-defined]
    guard.vmx_scope = kind  # type: ignore[attr-defined]
    return guard


@dataclass(frozen=True, slots=True)
class WorkspaceContext:
    principal: Principal
    workspace: Workspace


@dataclass(frozen=True, slots=True)
class EnvContext:
    principal: Principal
    workspace: Workspace
    environment: Environment


@dataclass(frozen=True, slots=True)
class EnvItemContext:
    principal: Principal
    workspace: Workspace
    environment: Environment
    item: Any


def authorize_item_rename(ctx: EnvItemContext, action: str, module: str, new_name: str | None) -> None:
    require_item_rename(ctx.principal, action, ctx.workspace, ctx.environment, module, ctx.item.name, new_name)


def require(action: str, resource: str) -> Callable[..., Awaitable[Principal]]:
    """A global action (users, roles, workspace list/create, pricing) on a fixed resource string."""

    async def guard(principal: CurrentPrincipal) -> Principal:
        authorize(principal, action, resource)
        return principal

    return tag_guard(guard, action, "global")


def authenticated() -> Callable[..., Awaitable[Principal]]:
    """Any signed-in user (self-service routes, catalogs without a policy action)."""

    async def guard(principal: CurrentPrincipal) -> Principal:
        return principal

    return tag_guard(guard, "", "authenticated")


def workspace_guard(action: str) -> Callable[..., Awaitable[WorkspaceContext]]:
    """Routes with `{ws}`: membership, then `action` on `workspace:<ws.name>`."""

    async def guard(ws: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> WorkspaceContext:
        workspace = await workspace_scope(session, principal, ws)
        authorize(principal, action, workspace_resource(workspace.name))
        return WorkspaceContext(principal, workspace)

    return tag_guard(guard, action, "workspace")


def environment_collection_guard(action: str) -> Callable[..., Awaitable[WorkspaceContext]]:
    """`/environment/{ws}` list/create: `action` on `workspace:<ws>:environment`."""

    async def guard(ws: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> WorkspaceContext:
        workspace = await workspace_scope(session, principal, ws)
        authorize(principal, action, environment_resource(workspace.name))
        return WorkspaceContext(principal, workspace)

    return tag_guard(guard, action, "workspace")


def environment_guard(action: str) -> Callable[..., Awaitable[EnvContext]]:
    """`/environment/{ws}/{env}`: `action` on `workspace:<ws>:environment:<env>`."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, principal: CurrentPrincipal,
                    session: DbSession) -> EnvContext:
        workspace, environment = await environment_scope(session, principal, ws, env)
        authorize(principal, action, environment_resource(workspace.name, environment.name))
        return EnvContext(principal, workspace, environment)

    return tag_guard(guard, action, "environment")


def env_guard(action: str, module: str) -> Callable[..., Awaitable[EnvContext]]:
    """`/<module>/{ws}/{env}` (list, create, queries): `action` on the module's base resource string."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, principal: CurrentPrincipal,
                    session: DbSession) -> EnvContext:
        workspace, environment = await environment_scope(session, principal, ws, env)
        authorize(principal, action, module_resource(workspace.name, environment.name, module))
        return EnvContext(principal, workspace, environment)

    return tag_guard(guard, action, "environment")


def env_item_guard(action: str, module: str, model: type[SQLModel]) -> Callable[..., Awaitable[EnvItemContext]]:
    """`/<module>/{ws}/{env}/{id}`: the item must live in that environment (else 404), then `action`
    on `workspace:<ws>:environment:<env>:<module>:<item.name>`. `model` needs `environment_id` and `name`."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, id: uuid.UUID, principal: CurrentPrincipal,  # noqa: A002
                    session: DbSession) -> EnvItemContext:
        workspace, environment = await environment_scope(session, principal, ws, env)
        item = await item_in_environment(session, environment, model, id, module)
        resource = module_resource(workspace.name, environment.name, module, item.name)  # type: ignore[attr-defined]
        authorize(principal, action, resource)
        return EnvItemContext(principal, workspace, environment, item)

    return tag_guard(guard, action, "item")


# --- paging ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageParams:
    page_index: int
    page_size: int

    @property
    def offset(self) -> int:
        return self.page_index * self.page_size


# Bounded so offset = index × size stays a 64-bit integer on every database (1e20 overflowed SQLite: 500).
MAX_PAGE_INDEX = 1_000_000
MAX_PAGE_SIZE = 1000


def page_params(page_index: Annotated[int, Query(alias="pageIndex", ge=0, le=MAX_PAGE_INDEX)] = 0,
                page_size: Annotated[int, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE)] = 100) -> PageParams:
    return PageParams(page_index, page_size)


Paging = Annotated[PageParams, Depends(page_params)]


def page(data: Sequence[Any], total: int, paging: PageParams) -> dict[str, Any]:
    """The list shape: `{"data", "total", "pageIndex", "pageSize"}`; pydantic items are dumped as
    camelCase JSON with nulls kept, like the single-item responses."""
    items = [d.model_dump(by_alias=True, mode="json") if isinstance(d, BaseModel) else d for d in data]
    return {"data": items, "total": total, "pageIndex": paging.page_index, "pageSize": paging.page_size}
