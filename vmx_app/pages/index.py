"""Landing page."""

from __future__ import annotations

import reflex as rx


def index() -> rx.Component:
    return rx.center(rx.vstack(rx.heading("VM-X"), rx.text("AI gateway console"), align="center"),
                     height="100vh")


def register(app: rx.App) -> None:
    app.add_page(index, route="/", title="VM-X")
