"""The Routing tab's condition builder: add, move, edit and remove conditions and their clauses.

A Reflex state mixin, so the resource editor keeps one state (the other tabs and the JSON view read the
same `conditions`); the slot helpers it calls (`model`, `_slot_change`, `_slot_connection`) are the
editor's own, shared with the model-slot tabs.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import reflex as rx

from vmx_app.pages.resource_editor_form import ClauseRow, ConditionRow, SlotRow, clauses_as_cel

if TYPE_CHECKING:
    from vmx_app.state.workspace import WorkspaceState as _EditorBase
else:
    _EditorBase = rx.State


class RoutingConditionsMixin(_EditorBase, mixin=True):
    conditions: list[ConditionRow] = []

    if TYPE_CHECKING:  # provided by ResourceEditorState
        model: SlotRow

        def _slot_change(self, slot: SlotRow, key: str, value: Any) -> SlotRow: ...

        def _slot_connection(self, slot: SlotRow, connection_id: str) -> SlotRow: ...

    def _set_condition_row(self, ci: int, cond: ConditionRow) -> None:
        rows = list(self.conditions)
        rows[ci] = cond
        self.conditions = rows

    @rx.event
    def add_condition(self) -> None:
        then = SlotRow(provider=self.model.provider, connection_id=self.model.connection_id)
        self.conditions = [*self.conditions, ConditionRow(clauses=[ClauseRow()], then=then)]

    @rx.event
    def remove_condition(self, ci: int) -> None:
        self.conditions = [c for i, c in enumerate(self.conditions) if i != ci]
        self._forget_row_errors("then.")

    @rx.event
    def move_condition_up(self, ci: int) -> None:
        rows = list(self.conditions)
        if 0 < ci < len(rows):
            rows[ci - 1], rows[ci] = rows[ci], rows[ci - 1]
            self.conditions = rows
            self._forget_row_errors("then.")

    @rx.event
    def set_condition(self, ci: int, key: str, value: Any) -> None:
        cond = dataclasses.replace(self.conditions[ci], **{key: value})
        if key == "advanced" and value and not cond.expression and cond.clauses:
            cond = dataclasses.replace(cond, expression=clauses_as_cel(cond.clauses))
        self._set_condition_row(ci, cond)

    @rx.event
    def set_then(self, ci: int, key: str, value: str) -> None:
        cond = self.conditions[ci]
        self._set_condition_row(ci, dataclasses.replace(cond, then=self._slot_change(cond.then, key, value)))
        self._recheck("then", f"then.{ci}.{key}", value)

    @rx.event
    def set_then_connection(self, ci: int, connection_id: str) -> None:
        cond = self.conditions[ci]
        self._set_condition_row(ci, dataclasses.replace(cond, then=self._slot_connection(cond.then, connection_id)))

    @rx.event
    def add_clause(self, ci: int) -> None:
        cond = self.conditions[ci]
        self._set_condition_row(ci, dataclasses.replace(cond, clauses=[*cond.clauses, ClauseRow()]))

    @rx.event
    def remove_clause(self, ci: int, ki: int) -> None:
        cond = self.conditions[ci]
        self._set_condition_row(ci, dataclasses.replace(cond, clauses=[c for i, c in enumerate(cond.clauses)
                                                                        if i != ki]))

    @rx.event
    def set_clause(self, ci: int, ki: int, key: str, value: str) -> None:
        cond = self.conditions[ci]
        clauses = list(cond.clauses)
        clauses[ki] = dataclasses.replace(clauses[ki], **{key: value})
        self._set_condition_row(ci, dataclasses.replace(cond, clauses=clauses))
