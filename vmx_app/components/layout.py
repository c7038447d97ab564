"""The authenticated console layout: sidebar, header with the workspace/environment switcher and the
signed-in user, and the page body.

    def my_page() -> rx.Component:
        return console_layout(page_header("AI Connections", "…", create_button), my_table(),
                              title="AI Connections")

    app.add_page(my_page, route="/ai-connections", on_load=MyPageState.load, title="AI Connections · VM-X")
    register_nav_item(NavItem("AI Connections", "/ai-connections", "cable", order=110, section="AI"))
"""

from __future__ import annotations

import reflex as rx

from vmx_app.components.nav import NavItem, nav_sections
from vmx_app.state.session import SessionState
from vmx_app.state.workspace import WorkspaceState

SIDEBAR_WIDTH = "232px"
# Below 1024 px the sidebar shows icons only, so the page keeps its width (usable from 768 px).
NARROW_SIDEBAR = "60px"
WIDE_ONLY = rx.breakpoints(initial="none", md="block")


def _nav_link(item: NavItem) -> rx.Component:
    active = WorkspaceState.router.url.path == item.route
    link = rx.link(
        rx.hstack(rx.icon(item.icon, size=16), rx.text(item.label, size="2", display=WIDE_ONLY),
                  align="center", spacing="2",
                  padding_x="10px", padding_y="6px", border_radius="6px", width="100%",
                  background=rx.cond(active, rx.color("accent", 4), "transparent"),
                  color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
                  _hover={"background": rx.color("accent", 3)}),
        href=item.route, underline="none", width="100%", title=item.label,
        custom_attrs={"data-nav": item.route, "aria-label": item.label},
    )
    return rx.cond(SessionState.is_admin, link, rx.fragment()) if item.admin_only else link


def sidebar() -> rx.Component:
    sections = []
    for section, items in nav_sections():
        sections.append(rx.vstack(
            rx.text(section.upper(), size="1", weight="bold", color=rx.color("gray", 11), padding_x="10px",
                    display=WIDE_ONLY),
            *[_nav_link(item) for item in items],
            spacing="1", width="100%",
        ))
    return rx.vstack(
        rx.hstack(rx.icon("waypoints", size=22, color=rx.color("accent", 10)),
                  rx.heading("VM-X", size="5", display=WIDE_ONLY), align="center", spacing="2", padding="10px"),
        *sections,
        spacing="5", padding=rx.breakpoints(initial="6px", md="12px"),
        width=rx.breakpoints(initial=NARROW_SIDEBAR, md=SIDEBAR_WIDTH),
        min_width=rx.breakpoints(initial=NARROW_SIDEBAR, md=SIDEBAR_WIDTH), height="100vh",
        position="sticky", top="0", border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2), overflow_y="auto",
        custom_attrs={"role": "navigation", "aria-label": "Main"},
    )


def workspace_switcher() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="No workspace", min_width="150px",
                              custom_attrs={"aria-label": "Workspace"}),
            rx.select.content(rx.foreach(WorkspaceState.workspaces,
                                         lambda w: rx.select.item(w.name, value=w.id))),
            value=WorkspaceState.workspace_id,
            on_change=WorkspaceState.select_workspace,
            size="2",
        ),
        rx.icon("chevron_right", size=16, color=rx.color("gray", 9)),
        rx.select.root(
            rx.select.trigger(placeholder="No environment", min_width="140px",
                              custom_attrs={"aria-label": "Environment"}),
            rx.select.content(rx.foreach(WorkspaceState.environments,
                                         lambda e: rx.select.item(e.name, value=e.id))),
            value=WorkspaceState.environment_id,
            on_change=WorkspaceState.select_environment,
            size="2",
        ),
        align="center", spacing="2",
    )


def header() -> rx.Component:
    return rx.hstack(
        workspace_switcher(),
        rx.spacer(),
        rx.hstack(
            rx.icon("circle_user_round", size=18, color=rx.color("gray", 10)),
            rx.text(SessionState.user_email, size="2", custom_attrs={"data-testid": "user-email"},
                    display=WIDE_ONLY),
            rx.cond(SessionState.is_admin, rx.badge("admin", variant="soft"), rx.fragment()),
            rx.button(rx.icon("log_out", size=14), "Log out", variant="soft", color_scheme="gray", size="2",
                      on_click=SessionState.logout),
            align="center", spacing="3",
        ),
        width="100%", align="center", padding_x=rx.breakpoints(initial="12px", md="24px"), padding_y="12px",
        wrap="wrap", spacing="3",
        border_bottom=f"1px solid {rx.color('gray', 5)}", background=rx.color("gray", 1),
        position="sticky", top="0", z_index="10", custom_attrs={"role": "banner"},
    )


def page_header(title: str, description: str = "", *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.heading(title, size="6"),
                  rx.text(description, size="2", color=rx.color("gray", 11)) if description else rx.fragment(),
                  spacing="1"),
        rx.spacer(),
        *actions,
        width="100%", align="end", wrap="wrap", spacing="3",
    )


def console_layout(*children: rx.Component) -> rx.Component:
    """The page inside the console frame; shows a spinner until the session has been checked."""
    return rx.cond(
        SessionState.signed_in,
        rx.hstack(
            sidebar(),
            rx.vstack(
                header(),
                rx.el.main(rx.vstack(*children, spacing="5", padding=rx.breakpoints(initial="12px", md="24px"),
                                     width="100%", max_width="1200px"), width="100%", min_width="0"),
                spacing="0", width="100%", min_width="0", min_height="100vh", align="stretch",
            ),
            spacing="0", width="100%", align="start",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
