"""The page for an address that leads nowhere: says so, shows the address, and offers the way back."""

from __future__ import annotations

import reflex as rx

from vmx_app.state.session import HOME_ROUTE, SessionState


def not_found_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("waypoints", size=22, color=rx.color("accent", 10)), rx.heading("VM-X", size="4"),
                          align="center", spacing="2"),
                rx.heading("Page not found", size="6", as_="h1"),
                rx.text("Nothing in VM-X lives at ", rx.code(SessionState.router.url.path), ".", size="2"),
                rx.text("The link may be old, or the address mistyped.", size="2", color=rx.color("gray", 11)),
                rx.hstack(
                    rx.link(rx.button(rx.icon("house", size=16), "Go to the console", id="not-found-home"),
                            href=HOME_ROUTE),
                    rx.button(rx.icon("arrow_left", size=16), "Back", variant="soft", color_scheme="gray",
                              on_click=rx.call_script("window.history.back()")),
                    spacing="3", wrap="wrap",
                ),
                spacing="4",
            ),
            size="4", max_width="480px", width="100%",
        ),
        min_height="100vh", padding="16px", background=rx.color("gray", 2),
    )


def register(app: rx.App) -> None:
    app.add_page(not_found_page, route="404", title="Page not found · VM-X")
