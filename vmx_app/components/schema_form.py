"""A form generated from a provider's config JSON Schema (GET /v1/ai-provider's `configSchema`).

Secret fields (`format: secret`) are password inputs. A stored secret comes back masked (********);
the input shows the mask, and sending it back unchanged keeps the stored value.

Secret inputs are uncontrolled: what the user types never becomes a state var (Reflex persists state,
to disk by default). The owning state reads them at save/test time through `SECRETS_SCRIPT`, whose
result (`{key: value}`) arrives as the event's argument and is used, not stored. Each field is checked when
left with the shared field check (form "config", keyed `config.<key>`); a secret's check is sent only whether
it is filled (a stand-in), never what was typed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from vmx_app.components.fields import field_error, formatted_text


@dataclasses.dataclass
class ConfigField:
    key: str = ""
    title: str = ""
    description: str = ""
    secret: bool = False
    required: bool = False
    placeholder: str = ""


def schema_fields(schema: dict[str, Any]) -> list[ConfigField]:
    """The fields of an object schema, required ones first, otherwise in schema order."""
    required = set(schema.get("required") or [])
    fields = [ConfigField(key=key, title=str(prop.get("title") or key), description=str(prop.get("description") or ""),
                          secret=prop.get("format") == "secret", required=key in required,
                          placeholder=str(prop.get("default") or ("https://…" if prop.get("format") == "uri" else "")))
              for key, prop in (schema.get("properties") or {}).items()]
    return sorted(fields, key=lambda f: not f.required)


SECRETS_SCRIPT = ("Object.fromEntries(Array.from(document.querySelectorAll('input[data-secret-field]'))"
                  ".map((e) => [e.getAttribute('data-secret-field'), e.value]))")


def _filled(value: rx.Var) -> rx.Var:
    """What a secret input's check sends instead of the secret: the mask when filled (a filled secret passes
    every per-field rule: a non-empty string), "" when not."""
    return rx.cond(value != "", "********", "")


def _field(field: rx.Var, values: rx.Var, on_change: Any, read_only: Any, remount: Any, errors: rx.Var | None,
           check: Any) -> rx.Component:
    value = values[field.key].to(str)
    error_key = "config." + field.key
    checks: dict[str, Any] = {}
    secret_checks: dict[str, Any] = {}
    if errors is not None and check is not None:
        on_check, on_recheck = check
        checks = {"on_blur": lambda v: on_check("config", error_key, v)}
        secret_checks = {"on_blur": lambda v: on_check("config", error_key, _filled(v)),
                         "on_change": lambda v: on_recheck("config", error_key, _filled(v))}
    invalid = {"aria-invalid": rx.cond(errors.contains(error_key), "true", "false")} if checks else {}  # type: ignore[union-attr]
    secret_input = rx.input(
        default_value=value, type="password", id=f"config-{field.key}", key=f"{field.key}-{remount}",
        placeholder=rx.cond(value != "", "", "secret"), auto_complete="new-password", disabled=read_only,
        width="100%", custom_attrs={"data-secret-field": field.key, **invalid}, **secret_checks,
    )
    plain_input = rx.input(value=value, on_change=lambda v: on_change(field.key, v), type="text",
                           placeholder=field.placeholder, id=f"config-{field.key}", auto_complete="off",
                           disabled=read_only, width="100%", custom_attrs=invalid, **checks)
    return rx.vstack(
        rx.el.label(rx.hstack(rx.text(field.title, size="2", weight="medium"),
                              rx.cond(field.required, rx.text("*", color_scheme="red", size="2"), rx.fragment()),
                              rx.cond(field.secret, rx.badge("secret", color_scheme="gray", size="1"),
                                      rx.fragment()),
                              spacing="1", align="center"),
                    html_for=f"config-{field.key}"),
        rx.cond(field.secret, secret_input, plain_input),
        field_error(errors.get(error_key, ""), f"config-{field.key}") if checks else rx.fragment(),  # type: ignore[union-attr]
        formatted_text(field.description, size="1", color=rx.color("gray", 11)),
        spacing="1", width="100%",
    )


def schema_form(fields: rx.Var, values: rx.Var, *, on_change: Any, read_only: rx.Var | bool = False,
                remount: rx.Var | str = "", errors: rx.Var | None = None, check: Any = None) -> rx.Component:
    """`fields` is a list of ConfigField; `values` a dict key -> text (for secrets only the mask or "");
    `on_change(key, value)` for the non-secret fields. A new `remount` value resets the secret inputs
    to their (masked) defaults, e.g. after the provider changed. `errors` (the state's field errors) and
    `check` (its `check_field`, `recheck_field` events): each field is checked when left (module docstring)."""
    return rx.vstack(rx.foreach(fields, lambda f: _field(f, values, on_change, read_only, remount, errors, check)),
                     spacing="3", width="100%")
