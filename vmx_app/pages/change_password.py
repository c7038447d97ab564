"""Change password: forced after a generated first-start password, or by choice."""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx
from pydantic import BaseModel, ValidationError
from reflex.event import EventSpec

from vmx_app.components.forms import text_field
from vmx_app.components.tables import notice
from vmx_app.errors import DomainError
from vmx_app.models import UserState
from vmx_app.models.user import ChangePasswordRequest
from vmx_app.services.sessions import change_password
from vmx_app.state.access import Principal
from vmx_app.state.field_check import FieldCheckMixin
from vmx_app.state.messages import error_text
from vmx_app.state.session import HOME_ROUTE, SessionState, login_redirect


class ChangePasswordState(FieldCheckMixin, SessionState):
    FIELD_SCHEMAS: ClassVar[dict[str, type[BaseModel]]] = {"password": ChangePasswordRequest}
    FORM_FIELDS: ClassVar[frozenset[str]] = frozenset({"current_password", "new_password", "confirm_password"})
    error: str = ""
    forced: bool = False

    def _field_value(self, form: str, name: str, raw: Any) -> Any:
        if name == "current_password" and not str(raw):
            raise ValueError("Current password is required.")  # the schema takes any text; empty is a slip
        return raw

    def _missing(self, form: dict[str, Any]) -> dict[str, str]:
        """What an empty or mistyped submit lacks, field by field."""
        problems = {name: self._field_problem("password", name, form.get(name, ""))
                    for name in ("current_password", "new_password")}
        if not form.get("confirm_password"):
            problems["confirm_password"] = "Repeat the new password."
        elif form.get("new_password", "") != form.get("confirm_password"):
            problems["confirm_password"] = "The new passwords do not match."
        return {k: v for k, v in problems.items() if v}

    @rx.event
    async def load(self) -> EventSpec | None:
        self.error, self.field_errors = "", {}
        principal = await self.principal_or_redirect(allow_change_password=True)
        if not isinstance(principal, Principal):
            return principal
        self.forced = principal.state == UserState.CHANGE_PASSWORD.value
        return None

    @rx.event
    async def submit(self, form: dict[str, Any]) -> list[EventSpec] | EventSpec | None:
        principal = await self.current_principal()
        if principal is None:
            return login_redirect()
        self.error = ""
        self.field_errors = self._missing(form)
        if self.field_errors:
            return None
        try:
            request = ChangePasswordRequest(current_password=form.get("current_password", ""),
                                            new_password=form.get("new_password", ""))
            await change_password(user_id=principal.user_id, session_id=principal.session_id,
                                  current_password=request.current_password, new_password=request.new_password)
        except (DomainError, ValidationError) as exc:
            self.error = self._place_refusal(exc, self.FORM_FIELDS, error_text(exc))
            return None
        return [rx.toast.success("Password changed"), rx.redirect(HOME_ROUTE, replace=True)]


def change_password_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Change your password", size="5"),
                rx.cond(ChangePasswordState.forced,
                        rx.text("Your password was set for you: choose your own before going on.", size="2"),
                        rx.text(SessionState.user_email, size="2", color=rx.color("gray", 11))),
                rx.form(
                    rx.vstack(
                        text_field("Current password", "current_password", type="password", required=True,
                                   check=(ChangePasswordState, "password")),
                        text_field("New password", "new_password", type="password", required=True,
                                   hint="At least 12 characters, and not a common password.",
                                   check=(ChangePasswordState, "password")),
                        text_field("Repeat the new password", "confirm_password", type="password", required=True,
                                   error=ChangePasswordState.field_errors.get("confirm_password", "")),
                        notice(ChangePasswordState.error),
                        rx.hstack(
                            rx.cond(ChangePasswordState.forced,
                                    rx.button("Log out", type="button", variant="soft", color_scheme="gray",
                                              on_click=SessionState.logout),
                                    rx.link(rx.button("Cancel", type="button", variant="soft", color_scheme="gray"),
                                            href=HOME_ROUTE)),
                            rx.button("Change password", type="submit"),
                            justify="end", spacing="3", width="100%",
                        ),
                        spacing="3", width="100%",
                    ),
                    on_submit=ChangePasswordState.submit,
                    reset_on_submit=False,
                    no_validate=True,  # the server names what is missing, next to the field
                    width="100%",
                ),
                spacing="4", width="100%",
            ),
            size="4", width="420px",
        ),
        height="100vh", background=rx.color("gray", 2),
    )


def register(app: rx.App) -> None:
    app.add_page(change_password_page, route="/change-password", on_load=ChangePasswordState.load,
                 title="Change password · VM-X")
