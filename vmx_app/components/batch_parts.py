"""Small stateless pieces of the batches page: a status badge and a progress bar with its numbers."""

from __future__ import annotations

from typing import Any

import reflex as rx


def status_badge(status: rx.Var[str]) -> rx.Component:
    color = rx.match(status, ("COMPLETED", "green"), ("FAILED", "red"), ("CANCELLED", "amber"),
                     ("RUNNING", "blue"), "gray")
    return rx.badge(status, color_scheme=color, high_contrast=True,  # type: ignore[arg-type]
                    custom_attrs={"data-testid": "batch-status"})


def progress_bar(percent: rx.Var[int], label: rx.Var[str] | str, **props: Any) -> rx.Component:
    """`percent` of 100, named for screen readers (a progress bar without a name is not announced usefully)."""
    return rx.progress(value=percent, max=100, custom_attrs={"aria-label": label, "data-percent": percent},
                       **props)


def progress_cell(row: Any) -> rx.Component:
    """A batch row's bar with "done / total (percent)" under it; `row` has percent, progress, short_id."""
    return rx.vstack(
        progress_bar(row.percent, "Progress of batch " + row.short_id, width="120px"),
        rx.text(row.progress + " (" + row.percent.to_string() + " %)", size="1", color=rx.color("gray", 11),
                white_space="nowrap"),
        spacing="1",
    )
