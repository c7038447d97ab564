"""The getting-started checklist: workspace and environment → connection → resource → key → first call,
each step ticked from the data of the environment picked in the header."""

from __future__ import annotations

import dataclasses

import reflex as rx

from vmx_app.services.onboarding import environment_progress_as
from vmx_app.state.workspace import WorkspaceState


@dataclasses.dataclass
class Step:
    id: str = ""
    title: str = ""
    hint: str = ""
    done: bool = False
    action: str = ""  # the button's label
    href: str = ""


class GettingStartedState(WorkspaceState):
    steps: list[Step] = []
    checked: bool = False

    @rx.var
    def remaining(self) -> int:
        return sum(1 for s in self.steps if not s.done)

    @rx.event
    async def refresh(self) -> None:
        """Runs when the checklist shows; settles the selection itself (the page's on_load may not have run
        yet on a client-side navigation)."""
        principal = await self.current_principal()
        if principal is None:
            return
        await self.load_context(principal)
        env_ready = bool(self.environment_id) and self.has_environment
        progress = None
        if env_ready:
            progress = await environment_progress_as(principal, self.workspace_id, self.environment_id)
        self.steps = [
            Step("workspace", "Create a workspace and an environment",
                 "An environment holds connections, resources and keys.", env_ready,
                 "Environments" if self.has_workspace else "Workspaces",
                 "/environments" if self.has_workspace else "/workspaces"),
            Step("connection", "Connect a provider", "Store the provider's API key in an AI connection.",
                 bool(progress and progress.connection), "Add a connection", "/ai-connections/edit"),
            Step("resource", "Create an AI resource", "The name your code calls, backed by a model.",
                 bool(progress and progress.resource), "Create a resource", "/ai-resources/edit"),
            Step("api-key", "Create an API key", "Your code sends it with each call.",
                 bool(progress and progress.api_key), "Create a key", "/api-keys"),
            Step("first-call", "Make a first call", "From the playground, or run a snippet from the Connect page.",
                 bool(progress and progress.first_call), "Open the playground", "/playground"),
        ]
        self.checked = True
