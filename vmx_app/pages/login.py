"""Sign-in: email/password, and "SSO Login" when OIDC is configured.

The browser posts the credentials straight to `POST /v1/auth/login` (the password never passes
through Reflex state), so the API's response sets the HttpOnly session cookie. A full page load
follows: the new websocket's handshake carries the cookie, which the console's states resolve.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from vmx_app.components.tables import notice
from vmx_app.services.oidc import is_enabled as oidc_enabled
from vmx_app.state.session import HOME_ROUTE, SessionState

OIDC_LOGIN_URL = "/v1/auth/oidc/login"

_LOGIN_SCRIPT = """(async () => {
  const data = Object.fromEntries(new FormData(document.getElementById('login-form')));
  let response;
  try {
    response = await fetch('/v1/auth/login', {method: 'POST', credentials: 'include',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({email: data.email || '', password: data.password || ''})});
  } catch (e) { return 'The server cannot be reached'; }
  if (response.ok) { window.location.assign('/'); return ''; }
  let body = {};
  try { body = await response.json(); } catch (e) {}
  return (body.error && body.error.message) || ('Sign-in failed (HTTP ' + response.status + ')');
})()"""


class LoginState(SessionState):
    error: str = ""
    busy: bool = False
    sso_enabled: bool = False

    @rx.event
    async def load(self) -> EventSpec | None:
        self.error = ""
        self.busy = False
        self.sso_enabled = oidc_enabled()
        if await self.current_principal() is not None:
            return rx.redirect(HOME_ROUTE, replace=True)
        return None

    @rx.event
    def submit(self) -> EventSpec:
        self.busy = True
        self.error = ""
        return rx.call_script(_LOGIN_SCRIPT, callback=LoginState.login_failed)

    @rx.event
    def login_failed(self, message: str) -> None:
        # Also called after a success (with ""), just before the page navigates away.
        self.error = message or ""
        self.busy = message == ""


def login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(rx.text("Email", size="2", weight="medium"), html_for="login-email"),
            rx.input(name="email", id="login-email", type="email", placeholder="you@example.com",
                     auto_complete="username", required=True, width="100%", size="3"),
            rx.el.label(rx.text("Password", size="2", weight="medium"), html_for="login-password"),
            rx.input(name="password", id="login-password", type="password", auto_complete="current-password",
                     required=True, width="100%", size="3"),
            notice(LoginState.error),
            rx.button("Sign in", type="submit", width="100%", size="3", loading=LoginState.busy),
            spacing="2", width="100%",
        ),
        id="login-form",
        on_submit=LoginState.submit,
        reset_on_submit=False,
        width="100%",
    )


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("waypoints", size=28, color=rx.color("accent", 10)),
                          rx.heading("VM-X", size="7"), align="center", spacing="2"),
                rx.text("Sign in to the AI gateway console", size="2", color=rx.color("gray", 11)),
                login_form(),
                rx.cond(
                    LoginState.sso_enabled,
                    rx.vstack(
                        rx.hstack(rx.separator(size="4"), rx.text("or", size="1", color=rx.color("gray", 10)),
                                  rx.separator(size="4"), align="center", width="100%"),
                        # A full page load (not a client-side route): the API redirects to the provider.
                        rx.button(rx.el.a(rx.icon("shield_check", size=16), "SSO Login", href=OIDC_LOGIN_URL,
                                          custom_attrs={"reloadDocument": True}),
                                  as_child=True, variant="outline", width="100%", size="3"),
                        width="100%", spacing="3",
                    ),
                    rx.fragment(),
                ),
                spacing="4", width="100%", align="center",
            ),
            size="4", width="400px",
        ),
        height="100vh", background=rx.color("gray", 2),
    )


def register(app: rx.App) -> None:
    app.add_page(login_page, route="/login", on_load=LoginState.load, title="Sign in · VM-X")
