"""The getting-started checklist card, shown on the home page until every step is done."""

from __future__ import annotations

import reflex as rx

from vmx_app.state.getting_started import GettingStartedState, Step


def _step(step: Step) -> rx.Component:
    return rx.hstack(
        rx.cond(step.done, rx.icon("circle_check", size=20, color=rx.color("green", 10)),
                rx.icon("circle", size=20, color=rx.color("gray", 8))),
        rx.vstack(rx.text(step.title, size="2", weight="medium",
                          text_decoration=rx.cond(step.done, "line-through", "none")),
                  rx.text(step.hint, size="1", color=rx.color("gray", 10)), spacing="0"),
        rx.spacer(),
        rx.cond(step.done, rx.badge("done", color_scheme="green", high_contrast=True),
                rx.link(rx.button(step.action, size="1", variant="soft"), href=step.href)),
        align="center", spacing="3", width="100%",
        custom_attrs={"data-step": step.id, "data-done": rx.cond(step.done, "true", "false")},
    )


def getting_started_card() -> rx.Component:
    s = GettingStartedState
    card = rx.card(rx.vstack(
        rx.hstack(rx.icon("rocket", size=18), rx.heading("Getting started", size="3"), rx.spacer(),
                  rx.text(s.remaining.to_string() + " steps left", size="2", color=rx.color("gray", 10)),
                  align="center", width="100%"),
        rx.foreach(s.steps, _step),
        spacing="3", width="100%",
    ), width="100%", id="getting-started")
    return rx.box(rx.cond(s.checked & (s.remaining > 0), card, rx.fragment()), width="100%",
                  on_mount=s.refresh)
