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
from vmx_app.services import workspace_admin
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
        switcher = await workspace_admin.switcher_for(principal, self.workspace_id, limit=MAX_OPTIONS)
        self.workspaces = [WorkspaceOption(id=str(w.id), name=w.name, member_role=w.member_role or "")
                           for w in switcher.workspaces]
        self.workspace_id = switcher.workspace_id
        envs = [EnvironmentOption(id=str(e.id), name=e.name) for e in switcher.environments]
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
