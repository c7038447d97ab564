"""Console pages: each module registers its page (and its sidebar entry) with the app.

A page module exposes `register(app)`. Pages added by later modules (AI connections, resources,
pricing) call `register_nav_item` in their `register` and build their body with
`vmx_app.components.layout.console_layout`; their state derives from
`vmx_app.state.workspace.WorkspaceState` (see its docstring).
"""

from __future__ import annotations

import reflex as rx

_PAGE_MODULES = (
    "index",
    "login",
    "change_password",
    "workspaces",
    "environments",
    "members",
    "api_keys",
    "users",
    "roles",
    # AI connections, resources and model pricing (issue 4).
    "connections",
    "resources",
    "pricing",
    "pools",  # prioritization pools (issue 10)
    # Audit trail and usage analytics (issue 11).
    "audit",
    "usage",
    # The way in (issue 13).
    "connect",
    "playground",
    "batches",  # batch completions (issue 14)
    "not_found",
)


def register_pages(app: rx.App, extra_modules: tuple[str, ...] = ()) -> None:
    """Register the identity pages, then `extra_modules` (names under vmx_app.pages)."""
    from importlib import import_module

    for name in (*_PAGE_MODULES, *extra_modules):
        import_module(f"vmx_app.pages.{name}").register(app)
