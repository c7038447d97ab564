"""Role policies: `module:verb` actions on resource strings, wildcards, deny wins, no match denies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The document's schema lives beside the role table; the policy's users keep importing it from here.
from vmx_app.models.policy_document import POLICY_SCHEMA_URL as POLICY_SCHEMA_URL
from vmx_app.models.policy_document import PolicyDocument as PolicyDocument
from vmx_app.models.policy_document import PolicyStatement as PolicyStatement


def parse_policy(data: Mapping[str, Any] | PolicyDocument) -> PolicyDocument:
    """Validate a stored or submitted policy (raises pydantic.ValidationError)."""
    if isinstance(data, PolicyDocument):
        return data
    return PolicyDocument.model_validate(data)


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`*` = any run of characters (including `:`), `?` = one character; anchored at both ends."""
    parts: list[str] = []
    for ch in pattern:
        if ch == "*":
            if parts and parts[-1] == ".*":
                continue  # `**` is the same as `*`; collapsing avoids needless backtracking
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.DOTALL)


def matches(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).fullmatch(value) is not None


def _statement_matches(statement: PolicyStatement, action: str, resource: str) -> bool:
    return any(matches(p, action) for p in statement.actions) and any(
        matches(p, resource) for p in statement.resources)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    action: str
    resource: str
    # The deciding statement: the deny that matched, or the first matching allow; None = nothing matched.
    statement: PolicyStatement | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def explicitly_denied(self) -> bool:
        return not self.allowed and self.statement is not None

    @property
    def message(self) -> str:
        if self.allowed:
            return f"{self.action} on {self.resource} is allowed"
        if self.statement is not None:
            return f"Not authorized: {self.action} on {self.resource} is denied by a role policy"
        return f"Not authorized: no role allows {self.action} on {self.resource}"


def evaluate(documents: Iterable[PolicyDocument], action: str, resource: str) -> Decision:
    """Deny wins across all the user's roles; an allow is needed otherwise; no match denies."""
    action = action.lower()
    first_allow: PolicyStatement | None = None
    for document in documents:
        for statement in document.statements:
            if not _statement_matches(statement, action, resource):
                continue
            if statement.effect == "deny":
                return Decision(False, action, resource, statement)
            if first_allow is None:
                first_allow = statement
    return Decision(first_allow is not None, action, resource, first_allow)


# --- resource strings -------------------------------------------------------------------------


def workspace_resource(ws_name: str | None = None) -> str:
    return "workspace" if ws_name is None else f"workspace:{ws_name}"


def environment_resource(ws_name: str, env_name: str | None = None) -> str:
    base = f"workspace:{ws_name}:environment"
    return base if env_name is None else f"{base}:{env_name}"


def module_resource(ws_name: str, env_name: str, module: str, name: str | None = None) -> str:
    base = f"workspace:{ws_name}:environment:{env_name}:{module}"
    return base if name is None else f"{base}:{name}"


def role_resource(name: str | None = None) -> str:
    return "role" if name is None else f"role:{name}"


def user_resource(email: str | None = None) -> str:
    return "user" if email is None else f"user:{email}"


def model_pricing_resource(name: str | None = None) -> str:
    return "model-pricing" if name is None else f"model-pricing:{name}"


# --- action catalog (GET /v1/role/permissions) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModulePermissions:
    name: str
    actions: tuple[str, ...]
    base_resource: str
    item_resource: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "actions": list(self.actions),
            "baseResource": self.base_resource,
            "itemResource": self.item_resource,
        }


_CRUD = ("list", "get", "create", "update", "delete")
_MEMBERSHIP = ("get-members", "update-member-role", "assign", "unassign")
_WS = "workspace:${workspace.name}"
_ENV = f"{_WS}:environment:${{environment.name}}"


def _module(name: str, verbs: tuple[str, ...], base: str, item: str | None = None) -> ModulePermissions:
    return ModulePermissions(name, tuple(f"{name}:{v}" for v in verbs), base, item or base)


def _env_module(name: str, verbs: tuple[str, ...], item: bool = True) -> ModulePermissions:
    base = f"{_ENV}:{name}"
    return _module(name, verbs, base, f"{base}:${{{name}.name}}" if item else base)


MODULES: tuple[ModulePermissions, ...] = (
    _module("workspace", (*_CRUD, *_MEMBERSHIP), "workspace", _WS),
    _module("environment", _CRUD, f"{_WS}:environment", _ENV),
    _env_module("ai-connection", (*_CRUD, "test")),
    _env_module("ai-resource", (*_CRUD, "routing-test")),
    _env_module("api-key", _CRUD),
    _env_module("pool-definition", ("get", "update", "delete"), item=False),
    _env_module("completion", ("execute",), item=False),
    _env_module("completion-batch", ("list", "get", "create", "cancel")),
    _env_module("completion-metrics", ("get-error-rate",), item=False),
    _env_module("completion-audit", ("list", "get", "export"), item=False),
    _env_module("completion-usage", ("query",), item=False),
    _env_module("budget-status", ("get",), item=False),
    _module("user", _CRUD, "user", "user:${user.email}"),
    _module("role", (*_CRUD, "get-members", "assign", "unassign"), "role", "role:${role.name}"),
    _module("model-pricing", _CRUD, "model-pricing", "model-pricing:${model-pricing.name}"),
)

ACTIONS: tuple[str, ...] = tuple(action for module in MODULES for action in module.actions)


def permissions_catalog() -> dict[str, Any]:
    """Body of GET /v1/role/permissions."""
    return {"modules": [module.to_json() for module in MODULES]}


# --- seeded roles ------------------------------------------------------------------------------


def _doc(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.model_validate({"statements": list(statements)})


ADMIN_POLICY = _doc({"effect": "allow", "actions": ["*"], "resources": ["*"]})
POWER_USER_POLICY = _doc(
    {
        "effect": "deny",
        "actions": [
            "user:create",
            "user:update",
            "user:delete",
            "role:create",
            "role:update",
            "role:delete",
            "role:assign",
            "role:unassign",
        ],
        "resources": ["*"],
    },
    {"effect": "allow", "actions": ["*"], "resources": ["*"]},
)
# Every read verb of the catalog: get, list, get-members, get-error-rate, and usage queries.
READ_ONLY_POLICY = _doc({"effect": "allow", "actions": ["*:get", "*:list", "*:get-*", "completion-usage:query"],
                         "resources": ["*"]})
# What earlier versions seeded; a stored read-only role still equal to one of these is upgraded at start.
LEGACY_READ_ONLY_POLICIES = (_doc({"effect": "allow", "actions": ["*:get", "*:list"], "resources": ["*"]}),)


@dataclass(frozen=True, slots=True)
class SeedRole:
    name: str
    description: str
    policy: PolicyDocument


SEEDED_ROLES: tuple[SeedRole, ...] = (
    SeedRole("admin", "Full access to everything", ADMIN_POLICY),
    SeedRole(
        "power-user",
        "Can create workspaces, environments, connections and resources, but cannot manage roles or users",
        POWER_USER_POLICY,
    ),
    SeedRole("read-only", "Can only read/list resources", READ_ONLY_POLICY),
)
