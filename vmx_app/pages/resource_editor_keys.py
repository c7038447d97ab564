"""The resource editor's API keys tab: which keys may call this resource.

On a saved resource a tick assigns the key at once and an untick unassigns it (the key's own
`resources` list changes, as on the API keys page). A key whose only resource is this one cannot be
unticked here: an empty list would let it reach every resource, the opposite of what unticking means.
On a new resource the ticks are applied when it is first saved.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import reflex as rx
from reflex.event import EventSpec

from vmx_app.errors import DomainError
from vmx_app.services import api_key_admin
from vmx_app.state.messages import error_text
from vmx_app.state.session import login_redirect

if TYPE_CHECKING:
    from vmx_app.state.workspace import WorkspaceState as _EditorBase
else:
    _EditorBase = rx.State


@dataclasses.dataclass
class KeyOption:
    id: str = ""
    name: str = ""
    masked: str = ""
    assigned: bool = False  # lists this resource
    every_resource: bool = False  # an empty `resources` list already reaches every resource
    only_this: bool = False  # this resource is the only one it lists
    selected: bool = False  # a new resource: to be assigned on its first save


def key_option(key_id: str, name: str, masked: str, resources: list[str], resource_id: str) -> KeyOption:
    assigned = resource_id != "" and resource_id in resources
    return KeyOption(id=key_id, name=name, masked=masked, assigned=assigned, every_resource=not resources,
                     only_this=assigned and len(resources) == 1)


class ResourceKeysMixin(_EditorBase, mixin=True):
    api_keys: list[KeyOption] = []
    keys_note: str = ""

    if TYPE_CHECKING:  # provided by ResourceEditorState
        resource_id: str

    @rx.event
    async def toggle_key(self, key_id: str, selected: bool) -> EventSpec | None:
        if not self.resource_id:
            self.api_keys = [dataclasses.replace(k, selected=selected) if k.id == key_id else k
                             for k in self.api_keys]
            return None
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        try:
            name, resources = await api_key_admin.assign_resource_as(
                principal, self.workspace_id, self.environment_id, key_id, self.resource_id, selected)
        except DomainError as exc:
            return rx.toast.error(error_text(exc))
        self.api_keys = [key_option(k.id, k.name, k.masked, resources, self.resource_id) if k.id == key_id else k
                         for k in self.api_keys]
        return rx.toast.success(f"Key {name} {'assigned' if selected else 'unassigned'}")
