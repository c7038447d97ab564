"""The Reflex app: console pages plus our API mounted through `api_transformer`."""

from __future__ import annotations

import reflex as rx
from starlette.types import ASGIApp

from vmx_app.api.app import create_api
from vmx_app.api.cors import with_cors
from vmx_app.api.routers.completion import CompletionFastPath
from vmx_app.api.slow_clients import BodyReadDeadline
from vmx_app.lifecycle import lifespan
from vmx_app.pages import register_pages


class VmxApp(rx.App):
    """Reflex's backend with the completion fast path outermost: completion requests skip Reflex's own
    Starlette stack (CORS, context middleware, mounts) as they do in gateway-only mode; everything else,
    the lifespan included, goes to Reflex as usual. Bodies are read within VMX_BODY_READ_TIMEOUT_SECONDS."""

    def __call__(self) -> ASGIApp:
        return with_cors(BodyReadDeadline(CompletionFastPath(super().__call__())))


app = VmxApp(
    api_transformer=create_api(),  # our API, with Reflex's app mounted under it
)
app.register_lifespan_task(lifespan)
register_pages(app)
