"""Reflex configuration; every value comes from vmx_app.settings."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from vmx_app.api.slow_clients import install_granian_limits
from vmx_app.settings import get_settings

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
_settings = get_settings()
install_granian_limits()  # header read timeout on the Reflex-hosted server (DESIGN §11)

config = rx.Config(
    app_name="vmx_app",
    frontend_port=_settings.vmx_port,
    backend_port=_settings.vmx_port,
    api_url=_settings.public_base_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="indigo"))],
    disable_plugins=[SitemapPlugin],
)
