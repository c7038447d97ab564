"""Prioritization pools (`/pools`, DESIGN §6, §12): ordered pools of resources sharing each connection's
minute token capacity, edited as a whole, with each pool's current share beside it."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.fields import field_error
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import notice, requires_selection
from vmx_app.state.pools import PoolRow, PoolsState
from vmx_app.state.workspace import WorkspaceState

S = PoolsState
ROUTE = "/pools"
NO_ENV = "Choose a workspace and an environment (top left) to see its pools."
READ_ONLY = ~S.can_update


def _field(label: str, row: PoolRow, i: rx.Var, key: str, width: str, *, number: bool = False) -> rx.Component:
    """One field of a pool row: checked when left, and again as it changes while it shows an error."""
    error_key = i.to(str) + "." + key  # type: ignore[attr-defined]
    error = S.field_errors.get(error_key, "")
    return rx.vstack(
        rx.el.label(rx.text(label, size="1", color_scheme="gray"), html_for=f"pool-{i}-{key}"),
        rx.input(value=getattr(row, key), on_change=lambda v: S.set_pool(i, key, v), id=f"pool-{i}-{key}",
                 type="number" if number else "text", disabled=READ_ONLY, width=width,
                 on_blur=lambda v: S.check_field("pool", error_key, v),
                 custom_attrs={"aria-invalid": rx.cond(error != "", "true", "false")}),
        field_error(error, f"pool-{i}-{key}"),
        spacing="1", width=width)


def _pool(row: PoolRow, i: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            _field("Name", row, i, "name", "12em"),
            _field("Rank (1 = first)", row, i, "rank", "7em", number=True),
            _field("Min %", row, i, "min_reservation", "7em", number=True),
            _field("Max %", row, i, "max_reservation", "7em", number=True),
            rx.spacer(),
            rx.icon_button(rx.icon("trash-2", size=14), on_click=S.remove_pool(i), variant="ghost",
                           color_scheme="red", disabled=READ_ONLY, aria_label="Remove pool", type="button"),
            align="end", spacing="3", width="100%"),
        _field("Resources (names, comma-separated)", row, i, "resources", "100%"),
        rx.cond(row.allocation != "", rx.hstack(
            rx.badge("current share", color_scheme="blue"),
            rx.text(row.allocation, size="2", id=f"pool-{i}-allocation"), spacing="2", align="center"),
            rx.fragment()),
        spacing="3", width="100%"), width="100%")


def pools_page() -> rx.Component:
    body = rx.vstack(
        rx.text("A pool gets at least its minimum percent of a connection's minute token capacity while it has "
                "traffic, grows toward its maximum while others are idle, and a higher rank takes its share back "
                "first. Known resources: ", rx.text.em(S.resource_names.join(", ")),  # type: ignore[attr-defined]
                size="2", color_scheme="gray"),
        rx.foreach(S.pools, _pool),
        rx.cond(S.pools.length() == 0,  # type: ignore[attr-defined]
                rx.text("No pools: every resource shares the connections' capacity first come, first served.",
                        size="2", color_scheme="gray"), rx.fragment()),
        notice(S.error),
        rx.hstack(
            rx.button(rx.icon("plus", size=14), "Add pool", on_click=S.add_pool, variant="soft",
                      disabled=READ_ONLY, id="pool-add"),
            rx.button("Save pools", on_click=S.save, disabled=READ_ONLY, id="pools-save"),
            rx.cond(S.saved & S.can_delete, rx.button("Delete definition", on_click=S.delete, variant="soft",
                                                      color_scheme="red", id="pools-delete"), rx.fragment()),
            spacing="2"),
        spacing="4", width="100%")
    return console_layout(
        page_header("Prioritization pools", "Share each connection's minute tokens between groups of resources."),
        requires_selection(WorkspaceState.has_environment, NO_ENV, rx.cond(S.loaded, body, notice(S.error))),
    )


def register(app: rx.App) -> None:
    app.add_page(pools_page, route=ROUTE, on_load=S.load, title="Pools · VM-X")
    register_nav_item(NavItem("Pools", ROUTE, "layers", order=125, section="AI"))
