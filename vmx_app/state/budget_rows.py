"""The handlers of a budget editor (`components.budget_editor`), for any state with `budgets` rows: each row's
amount is checked when it is left (and again as it changes while in error) with the API's budget schema;
errors are keyed `budgets.<row>.amount_usd`. And the quick budget fields of a dialog (`budget_fields`), checked
by the shared field check as `budgets.<period>.amount_usd`."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from vmx_app.components.budget_editor import BudgetRow
from vmx_app.gateway.config import BudgetEntry
from vmx_app.state.field_check import NOT_SENT, FieldCheckMixin
from vmx_app.state.field_errors import field_problem


def budget_key(index: int) -> str:
    return f"budgets.{index}.amount_usd"


class BudgetRowsMixin(FieldCheckMixin, mixin=True):
    budgets: list[BudgetRow] = []

    def _check_amount(self, index: int, value: str) -> None:
        self._show_field_error(budget_key(index), field_problem(BudgetEntry, "amount_usd", value))

    @rx.event
    def add_budget(self) -> None:
        self.budgets = [*self.budgets, BudgetRow()]

    @rx.event
    def remove_budget(self, index: int) -> None:
        self.budgets = [r for i, r in enumerate(self.budgets) if i != index]
        # Keyed by row number: the rows after it moved up.
        self._forget_row_errors("budgets.")

    @rx.event
    def set_budget(self, index: int, key: str, value: Any) -> None:
        self.budgets = [dataclasses.replace(r, **{key: value}) if i == index else r for i, r in enumerate(self.budgets)]
        if key != "amount":
            return
        if budget_key(index) in self.field_errors:
            self._check_amount(index, value)
        if "budgets" in self.field_errors and not any(  # a save's refusal about the list: gone once all are fixed
                field_problem(BudgetEntry, "amount_usd", r.amount) for r in self.budgets):
            self._show_field_error("budgets", "")

    @rx.event
    def check_budget(self, index: int, value: str) -> None:
        """On blur of a row's amount."""
        self._check_amount(index, value)


class QuickBudgetsMixin(FieldCheckMixin, mixin=True):
    """A dialog with quick budget fields: each amount is checked on blur with the budget schema of the form's
    `budgets` list; one left empty is no budget of that period (`live_usage.budgets_of` does not send it)."""

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        if name == "amount_usd" and not str(raw or "").strip():
            return NOT_SENT
        return super()._field_value(form, name, raw)
