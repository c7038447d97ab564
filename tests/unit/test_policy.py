"""Policy engine: anchored wildcards, deny wins across roles, no match denies, seeded roles."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from vmx_app.auth.policy import (
    ACTIONS,
    ADMIN_POLICY,
    MODULES,
    POLICY_SCHEMA_URL,
    POWER_USER_POLICY,
    READ_ONLY_POLICY,
    SEEDED_ROLES,
    PolicyDocument,
    PolicyStatement,
    compile_pattern,
    environment_resource,
    evaluate,
    matches,
    model_pricing_resource,
    module_resource,
    parse_policy,
    permissions_catalog,
    role_resource,
    user_resource,
    workspace_resource,
)


def doc(*statements: tuple[str, list[str], list[str]]) -> PolicyDocument:
    return parse_policy(
        {"statements": [{"effect": e, "actions": a, "resources": r} for e, a, r in statements]}
    )


RES = module_resource("acme", "prod", "ai-resource", "chat")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "anything:at:all", True),
        ("*", "", True),
        ("**", "x", True),
        ("workspace:*", "workspace:acme:environment:prod:ai-resource:chat", True),
        ("workspace:*", "workspace", False),
        ("workspace*", "workspace", True),
        ("workspace:?", "workspace:a", True),
        ("workspace:?", "workspace:ab", False),
        ("workspace:?", "workspace:", False),
        ("?", "", False),
        ("prod-??", "prod-01", True),
        ("prod-??", "prod-1", False),
        # Anchoring: a pattern must match the whole string, not a substring.
        ("resource:get", "ai-resource:get", False),
        ("ai-resource:get", "ai-resource:get", True),
        ("ai-resource:get", "ai-resource:get-members", False),
        ("*:get", "ai-resource:get", True),
        ("*:get", "ai-resource:get-members", False),
        ("*:get", "workspace:acme:get", True),
        ("workspace:acme", "workspace:acme:environment:prod", False),
        ("a*b*c", "a-b-c", True),
        ("a*b*c", "acb", False),
        # Regex characters in patterns are literal.
        ("workspace.x", "workspaceXx", False),
        ("a+b", "aab", False),
        ("a+b", "a+b", True),
        ("[ab]", "a", False),
        ("(.*)", "anything", False),
        ("(.*)", "(.*)", True),
        ("user:a@b.c", "user:a@bxc", False),
        # Case-sensitive names.
        ("workspace:Acme", "workspace:acme", False),
        # Newlines in a value do not escape a wildcard.
        ("workspace:*", "workspace:a\nb", True),
    ],
)
def test_wildcard_matching(pattern: str, value: str, expected: bool) -> None:
    assert matches(pattern, value) is expected


def test_compiled_patterns_are_cached() -> None:
    assert compile_pattern("workspace:*:x?") is compile_pattern("workspace:*:x?")


@pytest.mark.parametrize(
    ("documents", "action", "resource", "allowed", "decided_by"),
    [
        ([], "ai-resource:get", RES, False, None),
        ([doc(("allow", ["ai-resource:get"], [RES]))], "ai-resource:get", RES, True, "allow"),
        ([doc(("allow", ["ai-resource:get"], [RES]))], "ai-resource:update", RES, False, None),
        ([doc(("allow", ["ai-resource:*"], ["workspace:other:*"]))], "ai-resource:get", RES, False, None),
        ([doc(("allow", ["resource:get"], ["*"]))], "ai-resource:get", RES, False, None),
        # Deny wins within a document, whatever the statement order.
        (
            [doc(("allow", ["*"], ["*"]), ("deny", ["ai-resource:delete"], ["*"]))],
            "ai-resource:delete",
            RES,
            False,
            "deny",
        ),
        (
            [doc(("deny", ["ai-resource:delete"], ["*"]), ("allow", ["*"], ["*"]))],
            "ai-resource:delete",
            RES,
            False,
            "deny",
        ),
        # Deny wins across roles, whatever the role order.
        ([ADMIN_POLICY, doc(("deny", ["*"], ["workspace:acme:*"]))], "ai-resource:get", RES, False, "deny"),
        ([doc(("deny", ["*"], ["workspace:acme:*"])), ADMIN_POLICY], "ai-resource:get", RES, False, "deny"),
        # A deny elsewhere does not block an unrelated allow.
        ([ADMIN_POLICY, doc(("deny", ["*"], ["workspace:other:*"]))], "ai-resource:get", RES, True, "allow"),
        (
            [READ_ONLY_POLICY, doc(("allow", ["ai-resource:update"], ["workspace:acme:*"]))],
            "ai-resource:update",
            RES,
            True,
            "allow",
        ),
    ],
)
def test_evaluate(
    documents: list[PolicyDocument], action: str, resource: str, allowed: bool, decided_by: str | None
) -> None:
    decision = evaluate(documents, action, resource)
    assert decision.allowed is allowed
    assert bool(decision) is allowed
    assert (decision.statement.effect if decision.statement else None) == decided_by
    assert decision.explicitly_denied is (decided_by == "deny")
    if not allowed:
        assert action in decision.message and resource in decision.message
        assert ("denied by a role policy" in decision.message) is (decided_by == "deny")


ADMIN, POWER, READ = "admin", "power-user", "read-only"
SEEDED = {role.name: role.policy for role in SEEDED_ROLES}


@pytest.mark.parametrize(
    ("roles", "action", "resource", "allowed"),
    [
        ([ADMIN], "user:create", user_resource(), True),
        ([ADMIN], "role:assign", role_resource("power-user"), True),
        ([ADMIN], "workspace:delete", workspace_resource("acme"), True),
        ([POWER], "workspace:create", workspace_resource(), True),
        ([POWER], "environment:create", environment_resource("acme"), True),
        ([POWER], "ai-connection:create", module_resource("acme", "prod", "ai-connection"), True),
        ([POWER], "ai-connection:test", module_resource("acme", "prod", "ai-connection", "openai"), True),
        ([POWER], "completion:execute", module_resource("acme", "prod", "completion"), True),
        ([POWER], "user:list", user_resource(), True),
        ([POWER], "user:get", user_resource("a@b.c"), True),
        ([POWER], "role:list", role_resource(), True),
        ([POWER], "user:create", user_resource(), False),
        ([POWER], "user:update", user_resource("a@b.c"), False),
        ([POWER], "user:delete", user_resource("a@b.c"), False),
        ([POWER], "role:create", role_resource(), False),
        ([POWER], "role:delete", role_resource("admin"), False),
        ([POWER], "role:assign", role_resource("admin"), False),
        ([POWER], "role:unassign", role_resource("admin"), False),
        # [better] deny wins across roles: admin + power-user still cannot create users.
        ([ADMIN, POWER], "user:create", user_resource(), False),
        ([POWER, ADMIN], "role:assign", role_resource("admin"), False),
        ([READ], "ai-resource:get", RES, True),
        ([READ], "ai-resource:list", module_resource("acme", "prod", "ai-resource"), True),
        ([READ], "workspace:get", workspace_resource("acme"), True),
        ([READ], "model-pricing:list", model_pricing_resource(), True),
        ([READ], "ai-resource:create", module_resource("acme", "prod", "ai-resource"), False),
        ([READ], "ai-connection:test", module_resource("acme", "prod", "ai-connection", "openai"), False),
        ([READ], "workspace:get-members", workspace_resource("acme"), True),
        ([READ], "completion:execute", module_resource("acme", "prod", "completion"), False),
        ([READ], "completion-usage:query", module_resource("acme", "prod", "completion-usage"), True),
        ([READ], "user:delete", user_resource("a@b.c"), False),
        ([READ, POWER], "ai-resource:create", module_resource("acme", "prod", "ai-resource"), True),
    ],
)
def test_seeded_roles(roles: list[str], action: str, resource: str, allowed: bool) -> None:
    assert evaluate([SEEDED[r] for r in roles], action, resource).allowed is allowed


def test_seeded_roles_over_the_whole_catalog() -> None:
    resource = module_resource("acme", "prod", "x", "y")
    for action in ACTIONS:
        assert evaluate([ADMIN_POLICY], action, resource).allowed
        verb = action.split(":", 1)[1]
        reads = verb in ("get", "list") or verb.startswith("get-") or action == "completion-usage:query"
        assert evaluate([READ_ONLY_POLICY], action, resource).allowed is reads
        denied = action.split(":", 1)[0] in ("user", "role") and verb in (
            "create",
            "update",
            "delete",
            "assign",
            "unassign",
        )
        assert evaluate([POWER_USER_POLICY], action, resource).allowed is not denied


def test_seeded_role_documents() -> None:
    assert [r.name for r in SEEDED_ROLES] == ["admin", "power-user", "read-only"]
    assert READ_ONLY_POLICY.to_json() == {
        "$schema": POLICY_SCHEMA_URL,
        "statements": [{"effect": "allow", "actions": ["*:get", "*:list", "*:get-*", "completion-usage:query"],
                        "resources": ["*"]}],
    }
    assert ADMIN_POLICY.to_json()["statements"] == [{"effect": "allow", "actions": ["*"], "resources": ["*"]}]
    # Stored JSON parses back to the same document.
    for role in SEEDED_ROLES:
        assert parse_policy(role.policy.to_json()) == role.policy


@pytest.mark.parametrize(
    ("effect", "normalized"), [("allow", "allow"), ("ALLOW", "allow"), (" Deny ", "deny"), ("DENY", "deny")]
)
def test_effect_is_case_insensitive(effect: str, normalized: str) -> None:
    statement = PolicyStatement.model_validate({"effect": effect, "actions": ["*"], "resources": ["*"]})
    assert statement.effect == normalized


def test_action_patterns_are_lowercased() -> None:
    denied = doc(("deny", ["AI-Resource:Delete"], ["*"]), ("allow", ["*"], ["*"]))
    assert denied.statements[0].actions == ("ai-resource:delete",)
    assert not evaluate([denied], "ai-resource:delete", RES).allowed
    assert not evaluate([denied], "AI-RESOURCE:DELETE", RES).allowed


@pytest.mark.parametrize(
    "statement",
    [
        {"effect": "permit", "actions": ["*"], "resources": ["*"]},
        {"effect": "", "actions": ["*"], "resources": ["*"]},
        {"effect": "allow", "actions": [], "resources": ["*"]},
        {"effect": "allow", "actions": ["*"], "resources": []},
        {"effect": "allow", "actions": ["  "], "resources": ["*"]},
        {"effect": "allow", "actions": ["*"], "resources": ["x" * 513]},
        {"effect": "allow", "actions": ["*"]},
        {"effect": "allow", "action": ["*"], "actions": ["*"], "resources": ["*"]},
    ],
)
def test_invalid_statements_are_rejected(statement: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_policy({"statements": [statement]})


def test_document_accepts_schema_alias_and_rejects_unknown_fields() -> None:
    parsed = parse_policy({"$schema": "custom", "statements": []})
    assert parsed.schema_ == "custom" and parsed.statements == ()
    assert not evaluate([parsed], "workspace:get", workspace_resource("acme")).allowed
    with pytest.raises(ValidationError):
        parse_policy({"statement": []})


def test_resource_builders() -> None:
    assert workspace_resource() == "workspace"
    assert workspace_resource("acme") == "workspace:acme"
    assert environment_resource("acme") == "workspace:acme:environment"
    assert environment_resource("acme", "prod") == "workspace:acme:environment:prod"
    assert module_resource("acme", "prod", "api-key") == "workspace:acme:environment:prod:api-key"
    assert RES == "workspace:acme:environment:prod:ai-resource:chat"
    assert role_resource() == "role" and role_resource("admin") == "role:admin"
    assert user_resource() == "user" and user_resource("a@b.c") == "user:a@b.c"
    assert model_pricing_resource("gpt-4o") == "model-pricing:gpt-4o"


def test_action_catalog() -> None:
    expected = {
        f"{m}:{v}"
        for m in (
            "environment",
            "ai-connection",
            "ai-resource",
            "api-key",
            "user",
            "workspace",
            "role",
            "model-pricing",
        )
        for v in ("list", "get", "create", "update", "delete")
    }
    expected |= {
        "workspace:get-members",
        "workspace:update-member-role",
        "workspace:assign",
        "workspace:unassign",
        "role:get-members",
        "role:assign",
        "role:unassign",
        "pool-definition:get",
        "pool-definition:update",
        "pool-definition:delete",
        "completion:execute",
        "completion-batch:list",
        "completion-batch:get",
        "completion-batch:create",
        "completion-batch:cancel",
        "completion-metrics:get-error-rate",
        "completion-audit:list",
        "completion-audit:get",
        "completion-audit:export",
        "completion-usage:query",
        "budget-status:get",
        "ai-connection:test",
        "ai-resource:routing-test",
    }
    assert set(ACTIONS) == expected
    assert len(ACTIONS) == len(set(ACTIONS))
    for module in MODULES:
        assert all(a.startswith(module.name + ":") for a in module.actions)
        assert re.fullmatch(r"[a-z-]+", module.name)


def test_permissions_catalog_json() -> None:
    catalog = permissions_catalog()
    by_name = {m["name"]: m for m in catalog["modules"]}
    assert set(by_name["ai-connection"]) == {"name", "actions", "baseResource", "itemResource"}
    assert by_name["ai-connection"]["baseResource"] == (
        "workspace:${workspace.name}:environment:${environment.name}:ai-connection"
    )
    assert by_name["ai-connection"]["itemResource"].endswith(":ai-connection:${ai-connection.name}")
    assert by_name["workspace"]["itemResource"] == "workspace:${workspace.name}"
    assert [a for m in catalog["modules"] for a in m["actions"]] == list(ACTIONS)
