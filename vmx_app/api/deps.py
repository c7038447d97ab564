"""Request dependencies of the management API: who is calling, and may they do this here.

Routes declare their check with one of the guard factories below (`require`, `workspace_guard`,
`environment_guard`, `env_guard`, `env_item_guard`). Guards run as dependencies, so scope (404) and
policy (403) are decided before the body is validated: a read-only user gets 403, not 422, whatever
the body. Each guard carries its action as `vmx_action`; the authorization matrix test reads it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ValidationError
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.api.errors import ApiError
from vmx_app.auth.policy import (
    PolicyDocument,
    environment_resource,
    evaluate,
    module_resource,
    parse_policy,
    workspace_resource,
)
from vmx_app.auth.tokens import hash_session_token
from vmx_app.db import session_scope
from vmx_app.models import AuthSession, Environment, Role, RoleAssignment, User, UserState, Workspace
from vmx_app.models.workspace import WorkspaceMember

log = logging.getLogger("vmx.auth")

SESSION_COOKIE = "vmx_session"
ADMIN_ROLE = "admin"
# What a user who must change their password may still call.
CHANGE_PASSWORD_ROUTES = frozenset({"/v1/auth/change-password", "/v1/auth/me", "/v1/auth/logout"})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    email: str
    name: str
    is_admin: bool
    policies: list[PolicyDocument]
    session_id: uuid.UUID | None
    state: str = UserState.ACTIVE.value
    roles: tuple[str, ...] = field(default=())


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


async def load_policies(session: AsyncSession, user_id: uuid.UUID) -> tuple[list[PolicyDocument], list[str]]:
    rows = (await session.exec(
        select(Role).join(RoleAssignment, RoleAssignment.role_id == Role.id)  # type: ignore[arg-type]
        .where(RoleAssignment.user_id == user_id)
    )).all()
    policies: list[PolicyDocument] = []
    for role in rows:
        try:
            policies.append(parse_policy(role.policy or {}))
        except ValidationError:
            # Stored policies are validated on write; a bad one grants nothing rather than failing logins.
            log.warning("role %s has an invalid policy document; ignored", role.name)
    return policies, sorted(r.name for r in rows)


async def principal_for_token(token: str) -> Principal | None:
    """The principal of a live session token, or None (unknown, expired, revoked, inactive user)."""
    now = datetime.now(UTC)
    # The primary, not a read replica: a session created a moment ago must be found, a revoked one not.
    async with session_scope() as session:
        row = (await session.exec(
            select(AuthSession, User).join(User, User.id == AuthSession.user_id)  # type: ignore[arg-type]
            .where(AuthSession.token_hash == hash_session_token(token))
        )).first()
        if row is None:
            return None
        auth_session, user = row
        if auth_session.revoked_at is not None or auth_session.expires_at <= now:
            return None
        if user.state == UserState.INACTIVE.value:
            return None
        policies, roles = await load_policies(session, user.id)
    return Principal(user_id=user.id, email=user.email, name=user.name, is_admin=ADMIN_ROLE in roles,
                     policies=policies, session_id=auth_session.id, state=user.state, roles=tuple(roles))


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
            raise ApiError(403, "password_change_required",
                           "Change your password first (POST /v1/auth/change-password)")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


# --- authorization ---------------------------------------------------------------------------


async def authorize(principal: Principal, action: str, resource: str) -> None:
    decision = evaluate(principal.policies, action, resource)
    if not decision.allowed:
        raise ApiError(403, "forbidden", decision.message, {"action": action, "resource": resource})


def is_allowed(principal: Principal, action: str, resource: str) -> bool:
    return evaluate(principal.policies, action, resource).allowed


async def member_role(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    return (await session.exec(
        select(WorkspaceMember.role).where(WorkspaceMember.workspace_id == workspace_id,
                                           WorkspaceMember.user_id == user_id)
    )).first()


async def workspace_scope(principal: Principal, workspace_id: uuid.UUID, *, session: AsyncSession) -> Workspace:
    """The workspace, if the principal is a member (admins see all); 404 otherwise, never 403,
    so ids of other tenants' workspaces reveal nothing."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise ApiError(404, "not_found", "Workspace not found")
    if not principal.is_admin and await member_role(session, workspace_id, principal.user_id) is None:
        raise ApiError(404, "not_found", "Workspace not found")
    return workspace


async def environment_scope(principal: Principal, workspace_id: uuid.UUID, environment_id: uuid.UUID, *,
                            session: AsyncSession) -> tuple[Workspace, Environment]:
    workspace = await workspace_scope(principal, workspace_id, session=session)
    environment = await session.get(Environment, environment_id)
    if environment is None or environment.workspace_id != workspace.id:
        raise ApiError(404, "not_found", "Environment not found")
    return workspace, environment


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


def require(action: str, resource: str) -> Callable[..., Awaitable[Principal]]:
    """A global action (users, roles, workspace list/create, pricing) on a fixed resource string."""

    async def guard(principal: CurrentPrincipal) -> Principal:
        await authorize(principal, action, resource)
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
        workspace = await workspace_scope(principal, ws, session=session)
        await authorize(principal, action, workspace_resource(workspace.name))
        return WorkspaceContext(principal, workspace)

    return tag_guard(guard, action, "workspace")


def environment_collection_guard(action: str) -> Callable[..., Awaitable[WorkspaceContext]]:
    """`/environment/{ws}` list/create: `action` on `workspace:<ws>:environment`."""

    async def guard(ws: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> WorkspaceContext:
        workspace = await workspace_scope(principal, ws, session=session)
        await authorize(principal, action, environment_resource(workspace.name))
        return WorkspaceContext(principal, workspace)

    return tag_guard(guard, action, "workspace")


def environment_guard(action: str) -> Callable[..., Awaitable[EnvContext]]:
    """`/environment/{ws}/{env}`: `action` on `workspace:<ws>:environment:<env>`."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, principal: CurrentPrincipal,
                    session: DbSession) -> EnvContext:
        workspace, environment = await environment_scope(principal, ws, env, session=session)
        await authorize(principal, action, environment_resource(workspace.name, environment.name))
        return EnvContext(principal, workspace, environment)

    return tag_guard(guard, action, "environment")


def env_guard(action: str, module: str) -> Callable[..., Awaitable[EnvContext]]:
    """`/<module>/{ws}/{env}` (list, create, queries): `action` on the module's base resource string."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, principal: CurrentPrincipal,
                    session: DbSession) -> EnvContext:
        workspace, environment = await environment_scope(principal, ws, env, session=session)
        await authorize(principal, action, module_resource(workspace.name, environment.name, module))
        return EnvContext(principal, workspace, environment)

    return tag_guard(guard, action, "environment")


def env_item_guard(action: str, module: str, model: type[SQLModel]) -> Callable[..., Awaitable[EnvItemContext]]:
    """`/<module>/{ws}/{env}/{id}`: the item must live in that environment (else 404), then `action`
    on `workspace:<ws>:environment:<env>:<module>:<item.name>`. `model` needs `environment_id` and `name`."""

    async def guard(ws: uuid.UUID, env: uuid.UUID, id: uuid.UUID, principal: CurrentPrincipal,  # noqa: A002
                    session: DbSession) -> EnvItemContext:
        workspace, environment = await environment_scope(principal, ws, env, session=session)
        item = await session.get(model, id)
        if item is None or item.environment_id != environment.id:  # type: ignore[attr-defined]
            raise ApiError(404, "not_found", f"{module} not found")
        resource = module_resource(workspace.name, environment.name, module, item.name)  # type: ignore[attr-defined]
        await authorize(principal, action, resource)
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


def page_params(page_index: Annotated[int, Query(alias="pageIndex", ge=0)] = 0,
                page_size: Annotated[int, Query(alias="pageSize", ge=1, le=1000)] = 100) -> PageParams:
    return PageParams(page_index, page_size)


Paging = Annotated[PageParams, Depends(page_params)]


def page(data: Sequence[Any], total: int, paging: PageParams) -> dict[str, Any]:
    """The list shape: `{"data", "total", "pageIndex", "pageSize"}`; pydantic items are dumped as
    camelCase JSON with nulls kept, like the single-item responses."""
    items = [d.model_dump(by_alias=True, mode="json") if isinstance(d, BaseModel) else d for d in data]
    return {"data": items, "total": total, "pageIndex": paging.page_index, "pageSize": paging.page_size}
