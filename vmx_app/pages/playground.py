"""`/playground`: send messages to an AI resource through the real gateway and watch the streamed answer
with the gateway's decisions (routed model, fallback legs, tokens, cost, latency)."""

from __future__ import annotations

import reflex as rx

from vmx_app.components.fields import labelled
from vmx_app.components.layout import console_layout, page_header
from vmx_app.components.nav import NavItem, register_nav_item
from vmx_app.components.tables import notice, requires_selection
from vmx_app.state.playground import Decision, PlaygroundState

ROUTE = "/playground"


def _form() -> rx.Component:
    s = PlaygroundState
    return rx.card(rx.vstack(
        labelled("AI resource", "pg-resource", rx.select.root(
            rx.select.trigger(id="pg-resource", width="100%", custom_attrs={"aria-label": "AI resource"}),
            rx.select.content(rx.foreach(s.resources, lambda r: rx.select.item(r, value=r))),
            value=s.resource, on_change=s.set_resource), required=True),
        labelled("System message", "pg-system", rx.text_area(
            id="pg-system", value=s.system, on_change=s.set_system, rows="3", width="100%",
            placeholder="You are a helpful assistant.")),
        labelled("User message", "pg-prompt", rx.text_area(
            id="pg-prompt", value=s.prompt, on_change=s.set_prompt, rows="5", width="100%", required=True),
            s.prompt_error, required=True),
        rx.hstack(
            labelled("Temperature", "pg-temperature", rx.input(
                id="pg-temperature", value=s.temperature, on_change=s.set_temperature, placeholder="default",
                input_mode="decimal", width="100%"), s.temperature_error, hint="0 to 2"),
            labelled("Max tokens", "pg-max-tokens", rx.input(
                id="pg-max-tokens", value=s.max_tokens, on_change=s.set_max_tokens, placeholder="default",
                input_mode="numeric", width="100%"), s.max_tokens_error),
            spacing="3", width="100%", align="start",
        ),
        rx.button(rx.icon("send", size=16), "Send", id="pg-send", on_click=s.send, loading=s.running,
                  disabled=s.resource == "", width="100%"),
        rx.text("Calls go through this environment's gateway URL with a key of your console session "
                "(it ends when you log out) and are audited like any other call.",
                size="1", color=rx.color("gray", 10)),
        spacing="3", width="100%",
    ), width="100%")


def _decision(row: Decision) -> rx.Component:
    return rx.hstack(rx.text(row.label, size="2", color=rx.color("gray", 11), min_width="130px"),
                     rx.text(row.value, size="2", custom_attrs={"data-decision": row.label}),
                     spacing="3", width="100%", align="start")


def _answer() -> rx.Component:
    s = PlaygroundState
    return rx.card(rx.vstack(
        rx.heading("Answer", size="3"),
        notice(s.error),
        rx.box(rx.cond(s.answer != "", rx.text(s.answer, white_space="pre-wrap", size="2"),
                       rx.text(rx.cond(s.running, "Waiting for the first token…", "The answer streams here."),
                               size="2", color=rx.color("gray", 10))),
               id="pg-answer", width="100%", min_height="120px", custom_attrs={"aria-live": "polite"}),
        rx.cond(s.decisions.length() > 0,  # type: ignore[attr-defined]
                rx.vstack(rx.separator(width="100%"), rx.heading("Gateway decisions", size="2"),
                          rx.foreach(s.decisions, _decision), rx.foreach(s.stats, _decision),
                          spacing="2", width="100%", id="pg-decisions"),
                rx.fragment()),
        spacing="3", width="100%",
    ), width="100%")


def _body() -> rx.Component:
    s = PlaygroundState
    empty = rx.callout(rx.hstack(rx.text("This environment has no AI resource to call yet."),
                                 rx.link(rx.button("Create an AI resource", size="1"), href="/ai-resources/edit"),
                                 align="center", spacing="3", wrap="wrap"), icon="info", width="100%")
    grid = rx.grid(_form(), _answer(), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")
    return rx.cond(s.can_call, rx.cond(s.resources.length() > 0, grid, empty),  # type: ignore[attr-defined]
                   notice(s.access_error))


def playground_page() -> rx.Component:
    return console_layout(
        page_header("Playground", "Try an AI resource through the gateway, as your code would call it."),
        requires_selection(PlaygroundState.has_environment, "Pick an environment (or create one) first.", _body()),
    )


def register(app: rx.App) -> None:
    register_nav_item(NavItem("Playground", ROUTE, "message_square_text", order=126, section="AI"))
    app.add_page(playground_page, route=ROUTE, on_load=PlaygroundState.load, title="Playground · VM-X")
