"""Who is calling and may they do this here: the one authorization path of the API and the console.

The API's route guards (`api/deps.py`), the console's handlers (`state/access.py`) and the services call
these checks, so both front ends refuse the same things with the same codes. Scope comes before policy:
another tenant's workspace is a 404 (`not_found`), never a 403, so its ids reveal nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.policy import PolicyDocument, evaluate, module_resource, parse_policy
from vmx_app.auth.tokens import hash_session_token
from vmx_app.db import session_scope
from vmx_app.errors import Forbidden, NotFound
from vmx_app.models import AuthSession, Environment, MemberRole, Role, RoleAssignment, User, UserState, Workspace
from vmx_app.models.workspace import WorkspaceMember

log = logging.getLogger("vmx.auth")

ADMIN_ROLE = "admin"
SESSION_COOKIE = "vmx_session"  # the console's session; API clients may send it as a Bearer token


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user: their roles' policies decide every action (`require`)."""

    user_id: uuid.UUID
    email: str
    name: str
    is_admin: bool
    policies: list[PolicyDocument]
    session_id: uuid.UUID | None
    state: str = UserState.ACTIVE.value
    roles: tuple[str, ...] = field(default=())


# --- who is calling ---------------------------------------------------------------------------


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


# --- may they do it ---------------------------------------------------------------------------


def allowed(principal: Principal, action: str, resource: str) -> bool:
    """For hiding what would be refused (console buttons); `require` is the check that counts."""
    return evaluate(principal.policies, action, resource).allowed


def require(principal: Principal, action: str, resource: str) -> None:
    decision = evaluate(principal.policies, action, resource)
    if not decision.allowed:
        raise Forbidden(decision.message, details={"action": action, "resource": resource})


def require_new_name(principal: Principal, action: str, old_resource: str, new_resource: str) -> None:
    """A rename is authorized against the new name too: a deny on `…:ai-resource:prod-*` must not be
    escaped by renaming `prod-x` to `x` (or walked into by renaming `x` to `prod-x`)."""
    if new_resource != old_resource:
        require(principal, action, new_resource)


def require_item_rename(principal: Principal, action: str, workspace: Workspace, environment: Environment,
                        module: str, old_name: str, new_name: str | None) -> None:
    """`require_new_name` for an item of an environment (connection, resource, API key)."""
    if new_name is not None:
        require_new_name(principal, action, module_resource(workspace.name, environment.name, module, old_name),
                         module_resource(workspace.name, environment.name, module, new_name))


async def member_role(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    return (await session.exec(
        select(WorkspaceMember.role).where(WorkspaceMember.workspace_id == workspace_id,
                                           WorkspaceMember.user_id == user_id)
    )).first()


async def workspace_scope(session: AsyncSession, principal: Principal, workspace_id: uuid.UUID) -> Workspace:
    """The workspace, if the principal is a member (admins see all); 404 otherwise, never 403."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    if not principal.is_admin and await member_role(session, workspace_id, principal.user_id) is None:
        raise NotFound("Workspace not found")
    return workspace


async def require_owner(session: AsyncSession, principal: Principal, workspace: Workspace) -> None:
    """Rename, delete and member changes: OWNER membership on top of the policy (admins exempt)."""
    if principal.is_admin:
        return
    if await member_role(session, workspace.id, principal.user_id) != MemberRole.OWNER.value:
        raise Forbidden("Only the workspace's owners can do this", code="owner_required")


async def environment_scope(session: AsyncSession, principal: Principal, workspace_id: uuid.UUID,
                            environment_id: uuid.UUID) -> tuple[Workspace, Environment]:
    workspace = await workspace_scope(session, principal, workspace_id)
    environment = await session.get(Environment, environment_id)
    if environment is None or environment.workspace_id != workspace.id:
        raise NotFound("Environment not found")
    return workspace, environment


async def item_in_environment(session: AsyncSession, environment: Environment, model: type[SQLModel],
                              item_id: uuid.UUID, module: str) -> Any:
    """An item of `module` that lives in `environment` (else 404). `model` needs `environment_id`."""
    item = await session.get(model, item_id)
    if item is None or item.environment_id != environment.id:  # type: ignore[attr-defined]
        raise NotFound(f"{module} not found")
    return item
