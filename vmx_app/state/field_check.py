"""Field-level checks while a form is being filled, the same way in every console form.

A field is checked when the user leaves it (blur); once it shows an error it is checked again at every
change, so the error goes the moment the value is fixed (and is not shouted while the first characters are
typed). The check is the schema the service validates the saved body with (`FIELD_SCHEMAS`: form name →
schema), so the console and the API cannot disagree; a page whose form sends a converted value (labels
typed comma-separated, a date for a datetime) says how in `_field_value`. An empty text counts as "not
given", which only a required field refuses: an edit dialog sends every field it shows (an emptied name is
refused by the update too), so it is checked with the create schema, unless empty means "keep" there.

Pages wire an input with `components.fields.check_events(State, form, field)`; a controlled input's own
setter calls `self._recheck(form, field, value)` instead. An input for one item of a list of models (a quick
budget: `budgets.day.amount_usd`) is checked with that item's schema, as the service checks the list.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Final

import reflex as rx
from pydantic import BaseModel, ValidationError

from vmx_app.errors import DomainError
from vmx_app.state.field_errors import banner_text, field_problem, refusal_field, split_refusal

# What `_field_value` answers for an input the form leaves out of the body (an empty quick budget: no budget).
NOT_SENT: Final = object()


def item_schema(schema: type[BaseModel] | None, name: str) -> type[BaseModel] | None:
    """The model of the items of `schema`'s list field `name` (`budgets` → BudgetEntry), else None."""
    info = schema.model_fields.get(name) if schema is not None else None
    pending = [info.annotation] if info is not None else []
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
        pending.extend(typing.get_args(kind))
    return None


class FieldCheckMixin(rx.State, mixin=True):
    field_errors: dict[str, str] = {}  # field (snake_case) → what is wrong with it, in plain words
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {}

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        """`raw` (what the input holds) as the form sends it to the service; raises to refuse it."""
        return raw

    def _field_problem(self, form: str, name: str, raw: Any) -> str:
        """`name` is a schema field, `<row>.<field>` for one of several inputs of that field (list rows), or
        `<list>.<row>.<field>`: a field of one item of the schema's list of models, or (no such list) of the
        schema itself, one of several such inputs (the resource's fallback slots: `fallback_models.0.model`)."""
        parts = name.split(".")
        name = parts[-1]
        schema = self.FIELD_SCHEMAS.get(form)
        if len(parts) == 3:  # an item of a list of models, or a numbered row of the form's own fields
            schema = item_schema(schema, parts[0]) or schema
        try:
            value = self._field_value(form, name, raw)
        except DomainError as exc:
            return refusal_field(exc.details).get(name) or exc.message
        except ValidationError:
            raise  # a bug in the page's conversion, not the user's input
        except ValueError as exc:
            return str(exc)
        if value is NOT_SENT or schema is None or name not in schema.model_fields:
            return ""
        return field_problem(schema, name, value)

    def _check_all(self, form: str, values: dict[str, Any]) -> bool:
        """Before a save: check every field the form shows (each error goes next to its field); True when
        all pass. A service that stops at its first problem would leave the others unsaid."""
        return not [name for name, value in values.items() if self._check(form, name, value)]

    def _place_refusal(self, exc: Exception, fields: frozenset[str], whole: str) -> str:
        """A refused save: errors about `fields` (those the form shows) go next to them; answers what the
        form's banner says (`whole`, the refusal's full text, or only what no field shows)."""
        self.field_errors, others = split_refusal(exc, fields)
        return banner_text(self.field_errors, others, whole)

    def _show_field_error(self, name: str, problem: str) -> None:
        others = {k: v for k, v in self.field_errors.items() if k != name}
        self.field_errors = {**others, name: problem} if problem else others

    def _forget_row_errors(self, prefix: str) -> None:
        """Rows moved or went: errors keyed by row number (`fallback_models.1.model`) no longer match them."""
        self.field_errors = {k: v for k, v in self.field_errors.items() if not k.startswith(prefix)}

    def _check(self, form: str, name: str, value: Any) -> str:
        problem = self._field_problem(form, name, value)
        self._show_field_error(name, problem)
        return problem

    def _recheck(self, form: str, name: str, value: Any) -> None:
        if name in self.field_errors:
            self._check(form, name, value)

    @rx.event
    def check_field(self, form: str, name: str, value: Any) -> None:
        """On blur: show what is wrong with the field, or nothing."""
        self._check(form, name, value)

    @rx.event
    def recheck_field(self, form: str, name: str, value: Any) -> None:
        """On change: an error already shown follows the value (gone once it is fixed)."""
        self._recheck(form, name, value)
