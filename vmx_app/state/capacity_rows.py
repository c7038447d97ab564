"""The handlers of a capacity editor (`components.capacity_editor`), for any state with `capacity` rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from vmx_app.components.capacity_editor import CapacityRow


class CapacityRowsMixin(rx.State, mixin=True):
    capacity: list[CapacityRow] = []

    @rx.event
    def add_capacity(self) -> None:
        self.capacity = [*self.capacity, CapacityRow()]

    @rx.event
    def remove_capacity(self, index: int) -> None:
        self.capacity = [r for i, r in enumerate(self.capacity) if i != index]

    @rx.event
    def set_capacity(self, index: int, key: str, value: Any) -> None:
        rows = list(self.capacity)
        rows[index] = dataclasses.replace(rows[index], **{key: value})
        self.capacity = rows
