"""The Reflex app: console pages plus our API mounted through `api_transformer`."""

from __future__ import annotations

import reflex as rx

from vmx_app.api.app import create_api
from vmx_app.api.routers.completion import CompletionFastPath
from vmx_app.lifecycle import lifespan
from vmx_app.pages import register_pages

app = rx.App(
    # Our API takes Reflex's app under it; the completion fast path then wraps everything (hot path first).
    api_transformer=[create_api(), CompletionFastPath],
)
app.register_lifespan_task(lifespan)
register_pages(app)
