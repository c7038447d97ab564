"""Who is signed in: the console's root state.

The session token lives in the HttpOnly `vmx_session` cookie that `POST /v1/auth/login` sets; the
browser sends it with the websocket handshake, so handlers read it from `self.router.headers.cookie`
and resolve it against the same session table the API uses. It is never copied into a state var.

Every console page state derives from `SessionState` (usually through `WorkspaceState`):

    class MyPageState(WorkspaceState):
        @rx.event
        async def load(self) -> EventReturn:          # the page's on_load
            principal = await self.principal_or_redirect()
            if not isinstance(principal, Principal):
                return principal                       # to /login or /change-password
            ...

Handlers that change data call `await self.current_principal()` (None → return `LOGIN_REDIRECT`).
"""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from vmx_app.auth.authorization import SESSION_COOKIE, Principal, principal_for_token
from vmx_app.models import UserState

LOGIN_ROUTE = "/login"
CHANGE_PASSWORD_ROUTE = "/change-password"
HOME_ROUTE = "/workspaces"

# The cookie is HttpOnly: logging out goes through the API, which revokes the session and clears it.
# A full page load afterwards opens a new websocket, whose handshake no longer carries the cookie.
LOGOUT_SCRIPT = (
    "fetch('/v1/auth/logout', {method: 'POST', credentials: 'include'})"
    f".finally(() => window.location.assign('{LOGIN_ROUTE}'))"
)


def cookie_value(cookie_header: str, name: str) -> str | None:
    """One cookie from a `Cookie:` header; tolerant of the odd cookie other apps on the host may set."""
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            return value.strip('"')
    return None



def login_redirect() -> EventSpec:
    return rx.redirect(LOGIN_ROUTE, replace=True)


class SessionState(rx.State):
    """The signed-in user, as far as the UI needs it (no token, no policy documents)."""

    user_id: str = ""
    user_email: str = ""
    user_name: str = ""
    user_roles: list[str] = []
    is_admin: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id != ""

    @rx.var
    def user_label(self) -> str:
        return self.user_name or self.user_email

    def _session_token(self) -> str | None:
        return cookie_value(self.router.headers.cookie, SESSION_COOKIE)

    async def current_principal(self) -> Principal | None:
        """The principal of this browser's session, resolved again on every call (a revoked or expired
        session stops working at the next click, not at the next login)."""
        token = self._session_token()
        principal = await principal_for_token(token) if token else None
        if principal is None:
            self._forget_user()
        else:
            self._remember(principal)
        return principal

    async def principal_or_redirect(self, *, allow_change_password: bool = False) -> Principal | EventSpec:
        """For on_load handlers: the principal, or the redirect the page must return."""
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        if principal.state == UserState.CHANGE_PASSWORD.value and not allow_change_password:
            return rx.redirect(CHANGE_PASSWORD_ROUTE, replace=True)
        return principal

    def _remember(self, principal: Principal) -> None:
        self.user_id = str(principal.user_id)
        self.user_email = principal.email
        self.user_name = principal.name
        self.user_roles = list(principal.roles)
        self.is_admin = principal.is_admin

    def _forget_user(self) -> None:
        self.user_id = ""
        self.user_email = ""
        self.user_name = ""
        self.user_roles = []
        self.is_admin = False

    @rx.event
    def logout(self) -> EventSpec:
        self._forget_user()
        return rx.call_script(LOGOUT_SCRIPT)

