"""Model pricing (`/model-pricing`): USD per million tokens per provider and model. Everyone reads;
the add/edit/delete buttons show only for users whose policy allows them (admins)."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.crud import create_button, delete_action, edit_action
from vmx_app.components.fields import check_events, labelled
from vmx_app.components.forms import form_dialog
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.model_slot import PROVIDERS
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import actions_cell, cell, data_table, mono, notice
from vmx_app.state.pricing import SCHEMA_FIELDS, PriceRow, PricingState

S = PricingState
ROUTE = "/model-pricing"


def _price(value: rx.Var[str]) -> rx.Component:
    return rx.cond(value != "", rx.text("$", value, size="2"), rx.text("—", size="2", color_scheme="gray"))


def _row(row: PriceRow) -> rx.Component:
    label = f"{row.provider}/{row.model}"
    return rx.table.row(
        cell(rx.badge(row.provider, variant="soft")),
        cell(mono(row.model)),
        cell(_price(row.input)), cell(_price(row.output)), cell(_price(row.cached)), cell(_price(row.reasoning)),
        actions_cell(
            edit_action(S.can_update, f"Edit {label}", S.open_edit(row.id)),
            delete_action(S.can_delete, f"Delete {label}", title="Delete price?",
                          message=f"Costs of {label} will no longer be computed.",
                          confirm_label="Delete", on_confirm=S.delete(row.id), icon="trash-2"),
        ),
        custom_attrs={"data-row": label},
    )


def _input(label: str, key: str, value: rx.Var[str], *, number: bool = True, hint: str = "",
           required: bool = False) -> rx.Component:
    field = SCHEMA_FIELDS[key]
    return labelled(label, f"price-{key}", rx.input(
        value=value, on_change=lambda v: S.set_draft(key, v), id=f"price-{key}", name=f"price_{key}",
        type="number" if number else "text", min=0 if number else None, step="any" if number else None,
        width="100%", required=required, **check_events(S, "price", field, on_change=False)),
        S.field_errors.get(field, ""), required=required, hint=hint)


def _dialog() -> rx.Component:
    return form_dialog(
        rx.cond(S.editing_id != "", "Edit model price", "Add model price"),  # type: ignore[arg-type]
        labelled("Provider", "price-provider",
                 rx.select(PROVIDERS, value=S.draft.provider, on_change=lambda v: S.set_draft("provider", v),
                           id="price-provider", width="100%"), S.field_errors.get("provider", ""), required=True),
        _input("Model", "model", S.draft.model, number=False, hint="The model id as the provider names it.",
               required=True),
        rx.grid(_input("Input / 1M tokens", "input", S.draft.input),
                _input("Output / 1M tokens", "output", S.draft.output),
                _input("Cached input / 1M", "cached", S.draft.cached, hint="Empty: billed as input."),
                _input("Reasoning / 1M", "reasoning", S.draft.reasoning, hint="Empty: billed as output."),
                columns="2", spacing="3", width="100%"),
        open=S.dialog_open, on_open_change=S.set_dialog_open, on_submit=S.save, submit_label="Save",
        error=S.error, description="Prices in USD per million tokens.",
    )


def pricing_page() -> rx.Component:
    add = create_button("Add price", S.can_create, on_click=S.open_new, id="new-price")
    return console_layout(
        page_header("Model pricing", "USD per million tokens; the audit computes each request's cost from it.",
                    add),
        notice(S.list_error),
        rx.hstack(
            rx.select.root(
                rx.select.trigger(id="price-filter-provider", custom_attrs={"aria-label": "Provider"}),
                rx.select.content(rx.foreach(S.provider_choices, lambda p: rx.select.item(p, value=p))),
                value=S.provider_filter, on_change=S.set_provider_filter),
            rx.input(value=S.search, on_change=S.set_search, placeholder="Search models", id="price-search",
                     width="18em"),
            rx.text(S.visible.length(), " of ", S.rows.length(), " models", size="2",  # type: ignore[attr-defined]
                    color_scheme="gray"),
            spacing="3", align="center",
        ),
        data_table(["Provider", "Model", "Input", "Output", "Cached input", "Reasoning", ""], S.visible, _row,
                   empty="No prices match.", test_id="pricing-table"),
        _dialog(),
    )


def register(app: rx.App) -> None:
    app.add_page(pricing_page, route=ROUTE, on_load=S.load, title="Model pricing · VM-X")
    register_nav_item(NavItem("Model pricing", ROUTE, "circle-dollar-sign", order=130, section="AI"))
