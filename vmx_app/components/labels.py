"""Words for stored enum values (`CHANGE_PASSWORD` → "Change password"): badges and pickers show these,
forms still submit the stored value."""

from __future__ import annotations

from typing import Any

import reflex as rx

USER_STATES: dict[str, str] = {"ACTIVE": "Active", "INACTIVE": "Inactive", "CHANGE_PASSWORD": "Change password"}
MEMBER_ROLES: dict[str, str] = {"OWNER": "Owner", "MEMBER": "Member"}


def enum_text(value: rx.Var[str], labels: dict[str, str]) -> rx.Var[str]:
    """The label of `value`, or the value itself when it has none."""
    return rx.match(value, *[(k, v) for k, v in labels.items()], value)  # type: ignore[return-value]


def enum_select(labels: dict[str, str], *, name: str = "", value: Any = None, default_value: Any = None,
                on_change: Any = None, field_id: str = "", aria_label: Any = None, size: str = "2") -> rx.Component:
    """A select listing `labels`' words whose value is the stored enum."""
    trigger_attrs = {"aria-label": aria_label} if aria_label is not None else {}
    props: dict[str, Any] = {"size": size}
    if name:
        props["name"] = name
    if value is not None:
        props["value"] = value
    if default_value is not None:
        props["default_value"] = default_value
    if on_change is not None:
        props["on_change"] = on_change
    return rx.select.root(
        rx.select.trigger(id=field_id or None, custom_attrs=trigger_attrs, width="100%"),
        rx.select.content(*[rx.select.item(text, value=key) for key, text in labels.items()]),
        **props,
    )
