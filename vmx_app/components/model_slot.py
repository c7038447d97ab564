"""One model slot: provider, connection picker, model, and the inline maxRetries / timeoutMs (and traffic,
for routing destinations). Used for the primary, secondary, fallback and routing `then` slots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from vmx_app.components.fields import field_error
from vmx_app.gateway.config import PROVIDER_TYPES

PROVIDERS: list[str] = list(PROVIDER_TYPES)


def _labelled(label: str, control: rx.Component, width: str | None = None, html_for: Any = None) -> rx.Component:
    caption = rx.text(label, size="1", weight="medium", color=rx.color("gray", 11))
    return rx.vstack(rx.el.label(caption, html_for=html_for) if html_for is not None else caption, control,
                     spacing="1", width=width)


def model_datalists(connections: rx.Var) -> rx.Component:
    """One `<datalist id="models-{connection id}">` per connection (its `models`: the allowed models, or
    the provider's models in the pricing catalog); a slot's model input points at its connection's."""
    return rx.fragment(rx.foreach(connections, lambda o: rx.el.datalist(
        rx.foreach(o["models"].to(str).split(","), lambda m: rx.el.option(value=m)),
        id="models-" + o["id"].to(str))))


def connection_picker(value: rx.Var, options: rx.Var, on_change: Callable[[Any], Any], *, element_id: Any,
                      disabled: rx.Var | bool = False) -> rx.Component:
    """`options` is a list of {"id", "label"} dicts (the environment's connections)."""
    return rx.select.root(
        rx.select.trigger(placeholder="Choose a connection", id=element_id, width="100%",
                          custom_attrs={"aria-label": "Connection"}),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["id"]))),
        value=value, on_change=on_change, disabled=disabled,
    )


def model_slot(slot: rx.Var, *, prefix: Any, connections: rx.Var, on_field: Callable[[str, Any], Any],
               on_connection: Callable[[Any], Any], traffic: bool = False, on_remove: Any = None,
               on_up: Any = None, read_only: rx.Var | bool = False, errors: rx.Var | None = None,
               key: Any = "", on_check: Callable[[Any, Any], Any] | None = None) -> rx.Component:
    """`on_field(key, value)` sets one text field of the slot; `on_connection(id)` picks a connection
    (the state also sets the provider from it). `prefix` (a str or a Var) makes element ids unique.
    `errors` (the state's field errors) and `on_check(error key, value)` (the shared field check): each text
    field is checked when left and shows its own error, keyed `key` + its name (`fallback_models.0.model`)."""

    def checked(field: str, control_id: Any, **props: Any) -> rx.Component:
        if errors is None or on_check is None:
            return rx.input(id=control_id, **props)
        error_key = key + field
        attrs = {**props.pop("custom_attrs", {}),
                 "aria-invalid": rx.cond(errors.contains(error_key), "true", "false")}  # type: ignore[attr-defined]
        return rx.fragment(
            rx.input(id=control_id, on_blur=lambda v: on_check(error_key, v), custom_attrs=attrs, **props),
            field_error(errors.get(error_key, ""), control_id))  # type: ignore[attr-defined]

    controls: list[rx.Component] = [
        _labelled("Provider", rx.select.root(
            rx.select.trigger(placeholder="Provider", id=f"{prefix}-provider", width="100%",
                              custom_attrs={"aria-label": "Provider"}),
            rx.select.content(*[rx.select.item(p, value=p) for p in PROVIDERS]),
            value=slot.provider, on_change=lambda v: on_field("provider", v), disabled=read_only),
                  width="12em", html_for=f"{prefix}-provider"),
        _labelled("Connection", connection_picker(slot.connection_id, connections, on_connection,
                                                  element_id=f"{prefix}-connection", disabled=read_only),
                  width="14em", html_for=f"{prefix}-connection"),
        _labelled("Model", checked(
            "model", f"{prefix}-model", value=slot.model, on_change=lambda v: on_field("model", v),
            placeholder="gpt-4o-mini", disabled=read_only, width="100%",
            custom_attrs={"list": "models-" + slot.connection_id.to(str), "autoComplete": "off"}),
                  width="14em", html_for=f"{prefix}-model"),
        _labelled("Max retries", checked("max_retries", f"{prefix}-max-retries", value=slot.max_retries,
                                         on_change=lambda v: on_field("max_retries", v), type="number", min=0,
                                         max=10, disabled=read_only, width="6em"), html_for=f"{prefix}-max-retries"),
        _labelled("Timeout (ms)", checked("timeout_ms", f"{prefix}-timeout-ms", value=slot.timeout_ms,
                                          on_change=lambda v: on_field("timeout_ms", v), type="number", min=100,
                                          max=600000, placeholder="none", disabled=read_only, width="8em"),
                  html_for=f"{prefix}-timeout-ms"),
    ]
    if traffic:
        controls.append(_labelled("Traffic %", checked("traffic", f"{prefix}-traffic", value=slot.traffic,
                                                       on_change=lambda v: on_field("traffic", v), type="number",
                                                       min=0, max=100, placeholder="100", disabled=read_only,
                                                       width="6em"), html_for=f"{prefix}-traffic"))
    buttons: list[rx.Component] = []
    if on_up is not None:
        buttons.append(rx.icon_button(rx.icon("arrow-up", size=14), on_click=on_up, variant="ghost", type="button",
                                      aria_label="Move up", disabled=read_only))
    if on_remove is not None:
        buttons.append(rx.icon_button(rx.icon("trash-2", size=14), on_click=on_remove, variant="ghost",
                                      color_scheme="red", type="button", aria_label="Remove model",
                                      id=f"{prefix}-remove", disabled=read_only))
    return rx.hstack(
        *controls,
        rx.cond(slot.connection_name != "",
                rx.badge(rx.text("by name: ", slot.connection_name), color_scheme="amber",
                         high_contrast=True), rx.fragment()),
        rx.hstack(*buttons, spacing="1", align="end", padding_bottom="0.4em") if buttons else rx.fragment(),
        spacing="3", align="end", wrap="wrap", width="100%",
    )
