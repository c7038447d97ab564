"""The Connect page's state: the public gateway URL of the current environment, its AI resources, and
the snippets for the chosen one."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.services import resource_admin
from vmx_app.services.connect_snippets import EndpointUrl, Snippet, endpoint_urls, gateway_base, snippets
from vmx_app.settings import get_settings
from vmx_app.state.access import Principal
from vmx_app.state.workspace import WorkspaceState

PLACEHOLDER_RESOURCE = "my-resource"


def public_origin(browser_origin: str) -> str:
    """Where clients reach this server: VMX_BASE_URL when the operator set it, else the origin the
    console was opened at (what the user typed, proxies included)."""
    configured = get_settings().vmx_base_url
    if configured:
        return configured.rstrip("/")
    return browser_origin if browser_origin.startswith("http") else f"http://localhost:{get_settings().vmx_port}"


async def resource_names(principal: Principal, workspace_id: str, environment_id: str) -> list[str]:
    """The environment's AI resources the user may list (none when the policy refuses it)."""
    try:
        return await resource_admin.resource_names_as(principal, workspace_id, environment_id)
    except DomainError:
        return []


class ConnectState(WorkspaceState):
    origin: str = ""
    resources: list[str] = []
    resource: str = ""

    @rx.var
    def base_url(self) -> str:
        if not (self.workspace_id and self.environment_id):
            return ""
        return gateway_base(self.origin, self.workspace_id, self.environment_id)

    @rx.var
    def urls(self) -> list[EndpointUrl]:
        return endpoint_urls(self.base_url) if self.base_url else []

    @rx.var
    def code(self) -> list[Snippet]:
        return snippets(self.base_url, self.resource or PLACEHOLDER_RESOURCE) if self.base_url else []

    @rx.event
    async def load(self) -> EventSpec | None:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        await self.load_context(principal)
        self.origin = public_origin(self.router.url.origin)
        self.resources = []
        if self.environment_id:
            self.resources = await resource_names(principal, self.workspace_id, self.environment_id)
        # A resource named in the link (`?resource=chat`, from the resources page) is preselected.
        wanted = self.router.url.query_parameters.get("resource", "")
        if wanted in self.resources:
            self.resource = wanted
        elif self.resource not in self.resources:
            self.resource = self.resources[0] if self.resources else ""
        return None

    @rx.event
    def set_resource(self, name: str) -> None:
        self.resource = name
