"""The role policy document's shape: stored in `role.policy`, validated on write, read by the
authorization (`auth/policy.py` evaluates it). It lives beside the table so models import no use case."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

POLICY_SCHEMA_URL = "https://vm-x.ai/schema/role-policy.json"

# Patterns are short; the cap keeps a hostile policy from making matching expensive.
Pattern = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]


class PolicyStatement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    effect: Literal["allow", "deny"]
    actions: tuple[Pattern, ...] = Field(min_length=1)
    resources: tuple[Pattern, ...] = Field(min_length=1)

    @field_validator("effect", mode="before")
    @classmethod
    def _normalize_effect(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("actions")
    @classmethod
    def _lowercase_actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Actions are lowercase identifiers; a capitalised deny must not silently miss.
        return tuple(a.lower() for a in value)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: str | None = Field(default=POLICY_SCHEMA_URL, alias="$schema")
    statements: tuple[PolicyStatement, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stored/returned shape: `{"$schema", "statements": [...]}`."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
