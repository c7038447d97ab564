"""The handlers of a budget editor (`components.budget_editor`), for any state with `budgets` rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from vmx_app.components.budget_editor import BudgetRow


class BudgetRowsMixin(rx.State, mixin=True):
    budgets: list[BudgetRow] = []

    @rx.event
    def add_budget(self) -> None:
        self.budgets = [*self.budgets, BudgetRow()]

    @rx.event
    def remove_budget(self, index: int) -> None:
        self.budgets = [r for i, r in enumerate(self.budgets) if i != index]

    @rx.event
    def set_budget(self, index: int, key: str, value: Any) -> None:
        self.budgets = [dataclasses.replace(r, **{key: value}) if i == index else r for i, r in enumerate(self.budgets)]
