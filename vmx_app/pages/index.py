"""`/`: where login and SSO land; sends the user on to the console (or to sign in)."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from vmx_app.state.access import Principal
from vmx_app.state.session import HOME_ROUTE, SessionState


class IndexState(SessionState):
    @rx.event
    async def load(self) -> EventSpec:
        principal = await self.principal_or_redirect()
        if not isinstance(principal, Principal):
            return principal
        return rx.redirect(HOME_ROUTE, replace=True)


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


def register(app: rx.App) -> None:
    app.add_page(index, route="/", on_load=IndexState.load, title="VM-X")
