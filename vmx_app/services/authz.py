"""What a user may do: exact checks for one resource, and the summary `/v1/auth/me` returns so the
console can hide what the server would refuse anyway."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.policy import ACTIONS, PolicyDocument, matches
from vmx_app.models import User, Workspace, WorkspaceMember


def action_summary(policies: list[PolicyDocument]) -> dict[str, str]:
    """Per catalog action: "all" (allowed on every resource), "some" (allowed on some resources,
    or allowed but denied on some) or "none". Resource-level answers need `auth.authorization.allowed`."""
    summary: dict[str, str] = {}
    for action in ACTIONS:
        allows = [s for d in policies for s in d.statements if s.effect == "allow"
                  and any(matches(p, action) for p in s.actions)]
        denies = [s for d in policies for s in d.statements if s.effect == "deny"
                  and any(matches(p, action) for p in s.actions)]
        if not allows or any("*" in s.resources for s in denies):
            summary[action] = "none"
        elif not denies and any("*" in s.resources for s in allows):
            summary[action] = "all"
        else:
            summary[action] = "some"
    return summary


async def memberships(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.exec(
        select(Workspace.id, Workspace.name, WorkspaceMember.role)
        .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)  # type: ignore[arg-type]
        .where(WorkspaceMember.user_id == user_id).order_by(Workspace.name)
    )).all()
    return [{"workspaceId": str(ws_id), "workspaceName": name, "role": role} for ws_id, name, role in rows]


async def me(session: AsyncSession, *, user_id: uuid.UUID, is_admin: bool, roles: list[str],
             policies: list[PolicyDocument]) -> dict[str, Any]:
    user = await session.get(User, user_id)
    if user is None:  # deleted while the session was in flight
        return {}
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "state": user.state,
        "sso": user.oidc_subject is not None,
        "isAdmin": is_admin,
        "roles": roles,
        "policies": [p.to_json() for p in policies],
        "permissions": action_summary(policies),
        "memberships": await memberships(session, user.id),
    }
