"""Console pages: each module adds its page(s) to the app."""

from __future__ import annotations

import reflex as rx


def register_pages(app: rx.App) -> None:
    from vmx_app.pages import index

    index.register(app)
