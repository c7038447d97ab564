"""The current workspace and environment: the switcher in the header, remembered in localStorage.

Pages scoped to a workspace or an environment derive their state from `WorkspaceState` and call
`await self.load_context(principal)` in their on_load; afterwards `self.workspace_id` and
`self.environment_id` hold a valid selection (or "" when there is none) and the switcher lists are
fresh. Switching re-navigates to the current route, which runs the page's on_load again, so a page
never needs its own switch handling.
"""

from __future__ import annotations

import dataclasses

import reflex as rx
from reflex.event import EventSpec

from vmx_app.auth.authorization import Principal
from vmx_app.auth.policy import environment_resource
from vmx_app.db import session_scope
from vmx_app.models import Workspace
from vmx_app.services.environments import list_environments
from vmx_app.services.workspaces import list_workspaces
from vmx_app.state.access import allowed
from vmx_app.state.session import SessionState

# The switcher lists everything a user can see; a console user with more workspaces than this has
# bigger problems than a long dropdown.
MAX_OPTIONS = 500


@dataclasses.dataclass
class WorkspaceOption:
    id: str = ""
    name: str = ""
    member_role: str = ""  # OWNER, MEMBER, or "" for an admin who is not a member


@dataclasses.dataclass
class EnvironmentOption:
    id: str = ""
    name: str = ""


class WorkspaceState(SessionState):
    workspaces: list[WorkspaceOption] = []
    environments: list[EnvironmentOption] = []
    # The selection itself is the remembered value: the browser keeps it across reloads and logins.
    workspace_id: str = rx.LocalStorage("", name="vmx.workspace")
    environment_id: str = rx.LocalStorage("", name="vmx.environment")

    @rx.var
    def workspace_name(self) -> str:
        return next((w.name for w in self.workspaces if w.id == self.workspace_id), "")

    @rx.var
    def workspace_member_role(self) -> str:
        return next((w.member_role for w in self.workspaces if w.id == self.workspace_id), "")

    @rx.var
    def environment_name(self) -> str:
        return next((e.name for e in self.environments if e.id == self.environment_id), "")

    @rx.var
    def has_workspace(self) -> bool:
        return any(w.id == self.workspace_id for w in self.workspaces)

    @rx.var
    def has_environment(self) -> bool:
        return any(e.id == self.environment_id for e in self.environments)

    async def load_context(self, principal: Principal) -> None:
        """Refresh the switcher lists and settle the selection on something this user can see."""
        async with session_scope(readonly=True) as session:
            rows, _ = await list_workspaces(session, user_id=principal.user_id, see_all=principal.is_admin,
                                            offset=0, limit=MAX_OPTIONS)
            self.workspaces = [WorkspaceOption(id=str(w.id), name=w.name, member_role=w.member_role or "")
                               for w in rows]
            ids = [w.id for w in self.workspaces]
            if self.workspace_id not in ids:
                self.workspace_id = ids[0] if ids else ""
            selected = next((w for w in rows if str(w.id) == self.workspace_id), None)
            envs: list[EnvironmentOption] = []
            if selected is not None and allowed(principal, "environment:list", environment_resource(selected.name)):
                workspace = await session.get(Workspace, selected.id)
                if workspace is not None:
                    env_rows, _ = await list_environments(session, workspace=workspace, offset=0, limit=MAX_OPTIONS)
                    envs = [EnvironmentOption(id=str(e.id), name=e.name) for e in env_rows]
        self.environments = envs
        env_ids = [e.id for e in envs]
        if self.environment_id not in env_ids:
            self.environment_id = env_ids[0] if env_ids else ""

    def _reload_page(self) -> EventSpec:
        # Same route again: the frontend runs the page's on_load, which reloads its data.
        return rx.redirect(self.router.url.path or "/", replace=True)

    @rx.event
    def select_workspace(self, workspace_id: str) -> EventSpec:
        if workspace_id != self.workspace_id:
            self.workspace_id = workspace_id
            self.environment_id = ""
        return self._reload_page()

    @rx.event
    def select_environment(self, environment_id: str) -> EventSpec:
        self.environment_id = environment_id
        return self._reload_page()
