"""The role editor's two views of one policy: statement rows (effect, actions, resource patterns) and the
JSON text. Switching views converts one into the other; JSON → statements → JSON gives back the same
document (its `$schema` kept), so either view can be trusted to save what it shows."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

import reflex as rx
from pydantic import ValidationError

from vmx_app.auth.policy import MODULES, parse_policy
from vmx_app.errors import Invalid

if TYPE_CHECKING:
    from vmx_app.state.workspace import WorkspaceState as _Base
else:
    _Base = rx.State

ACTION_CHOICES: list[str] = ["*", *sorted({f"{m.name}:*" for m in MODULES}),
                             "*:get", "*:list", *[a for m in MODULES for a in m.actions]]
# The catalog's resource strings with their ${…} placeholders as wildcards: "workspace:*:environment:*".
RESOURCE_CHOICES: list[str] = sorted({"*", *[re.sub(r"\$\{[^}]+\}", "*", p)
                                             for m in MODULES for p in (m.base_resource, m.item_resource)]})

@dataclasses.dataclass
class StatementRow:
    effect: str = "allow"
    actions: list[str] = dataclasses.field(default_factory=list)
    resources: list[str] = dataclasses.field(default_factory=list)
    action_draft: str = ""
    resource_draft: str = ""


def parse_policy_text(text: str) -> dict[str, Any]:
    """The JSON text as an object; the error says where it breaks."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"The policy is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                      code="invalid_policy", field="policy") from exc
    if not isinstance(value, dict):
        raise Invalid('The policy must be a JSON object: {"statements": [...]}', code="invalid_policy",
                      field="policy")
    return value


def rows_from_policy(policy: dict[str, Any]) -> list[StatementRow]:
    """Statement rows of a policy object; raises Invalid when it is not a valid policy document."""
    try:
        document = parse_policy(policy)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Invalid(f"The policy is not valid: {where}: {first.get('msg')}", code="invalid_policy",
                      field="policy") from exc
    return [StatementRow(effect=s.effect, actions=list(s.actions), resources=list(s.resources))
            for s in document.statements]


def policy_from_rows(rows: list[StatementRow], schema: str | None) -> dict[str, Any]:
    policy: dict[str, Any] = {"$schema": schema} if schema else {}
    policy["statements"] = [{"effect": r.effect, "actions": list(r.actions), "resources": list(r.resources)}
                            for r in rows]
    return policy


class RoleStatementsMixin(_Base, mixin=True):
    statements: list[StatementRow] = []
    policy_text: str = ""
    policy_view: str = "statements"  # statements | json
    policy_error: str = ""
    policy_schema: str = ""

    def _open_policy(self, text: str) -> None:
        """Show a stored (or template) policy in both views."""
        self.policy_text, self.policy_error, self.policy_view = text, "", "statements"
        try:
            policy = parse_policy_text(text)
            self.statements = rows_from_policy(policy)
            self.policy_schema = str(policy.get("$schema") or "")
        except Invalid as exc:
            self.statements, self.policy_view, self.policy_error = [], "json", exc.message

    def _current_policy(self) -> dict[str, Any]:
        """What saving sends: the view the user is looking at."""
        if self.policy_view == "json":
            policy = parse_policy_text(self.policy_text)
            rows_from_policy(policy)  # refused here, under the editor, in the same words as the views
            return policy
        return policy_from_rows(self.statements, self.policy_schema or None)

    @rx.event
    def set_policy_view(self, view: str) -> None:
        if view == self.policy_view:
            return
        if view == "json":
            self.policy_text = json.dumps(policy_from_rows(self.statements, self.policy_schema or None), indent=2)
            self.policy_view, self.policy_error = "json", ""
            return
        try:
            policy = parse_policy_text(self.policy_text)
            self.statements = rows_from_policy(policy)
        except Invalid as exc:
            self.policy_error = exc.message  # stays on the JSON view until it is fixed
            return
        self.policy_schema = str(policy.get("$schema") or "")
        self.policy_view, self.policy_error = "statements", ""

    @rx.event
    def set_policy_text(self, text: str) -> None:
        self.policy_text = text
        if self.policy_error:  # a fixed error clears at once
            try:
                rows_from_policy(parse_policy_text(text))
                self.policy_error = ""
            except Invalid as exc:
                self.policy_error = exc.message

    def _change(self, index: int, **fields: Any) -> None:
        self.statements = [dataclasses.replace(r, **fields) if i == index else r
                           for i, r in enumerate(self.statements)]

    @rx.event
    def add_statement(self) -> None:
        self.statements = [*self.statements, StatementRow()]

    @rx.event
    def remove_statement(self, index: int) -> None:
        self.statements = [r for i, r in enumerate(self.statements) if i != index]

    @rx.event
    def set_effect(self, index: int, effect: str) -> None:
        self._change(index, effect=effect)

    @rx.event
    def set_draft(self, index: int, kind: str, text: str) -> None:
        self._change(index, **{f"{kind}_draft": text})

    @rx.event
    def add_pattern(self, index: int, kind: str) -> None:
        """Add the typed action or resource pattern (`kind`: action | resource) to the statement."""
        row = self.statements[index]
        draft = getattr(row, f"{kind}_draft").strip()
        values = getattr(row, f"{kind}s")
        if draft and draft not in values:
            self._change(index, **{f"{kind}s": [*values, draft.lower() if kind == "action" else draft],
                                   f"{kind}_draft": ""})

    @rx.event
    def remove_pattern(self, index: int, kind: str, position: int) -> None:
        values = getattr(self.statements[index], f"{kind}s")
        self._change(index, **{f"{kind}s": [v for j, v in enumerate(values) if j != position]})
