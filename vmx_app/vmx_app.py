"""The Reflex app: console pages plus our API mounted through `api_transformer`."""

from __future__ import annotations

import reflex as rx

from vmx_app.api.app import create_api
from vmx_app.lifecycle import lifespan
from vmx_app.pages import register_pages

app = rx.App(
    api_transformer=create_api(),
)
app.register_lifespan_task(lifespan)
register_pages(app)
