"""Routing decisions, the CEL mode, config-time validation and the error-rate counters."""

from __future__ import annotations

import random
from typing import Any

import pytest

from vmx_app.gateway import routing_cel
from vmx_app.gateway.config import RoutingConfig
from vmx_app.gateway.metrics import ErrorRateCounters
from vmx_app.gateway.routing import (
    RoutingInput,
    apply_operator,
    evaluate_routing,
    routing_input_from_body,
    validate_routing,
)

GROQ = {"provider": "groq", "model": "llama-3.1-70b-versatile"}

# The seeds' examples (002), YAML turned into JSON verbatim.
SEED_TOKENS = {"enabled": True, "conditions": [{
    "description": "Use Groq for small requests",
    "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}],
    "then": {"provider": "groq", "model": "llama-3.1-70b-versatile"}}]}
SEED_ERROR_RATE = {"enabled": True, "conditions": [{
    "description": "Switch to Anthropic if error rate is high",
    "if": [{"field": "errorRate", "operator": "greaterThan", "value": 10, "window": 10}],
    "then": {"provider": "anthropic", "model": "claude-3-5-sonnet-20241022"}}]}
SEED_TOOLS = {"enabled": True, "conditions": [{
    "description": "Use GPT-4 for requests with tools",
    "if": [{"field": "hasTools", "operator": "equals", "value": True}],
    "then": {"provider": "openai", "model": "gpt-4o"}}]}
SEED_ADVANCED = {"enabled": True, "mode": "advanced", "conditions": [{
    "description": "Complex routing logic",
    "expression": "requestTokens < 100 && errorRate(10, 'any') < 5\n",
    "then": {"provider": "groq", "model": "llama-3.1-70b-versatile", "traffic": 50}}]}


def no_errors(window: int, status: str | int) -> float:
    return 0.0


def cfg(*conditions: dict[str, Any]) -> RoutingConfig:
    return RoutingConfig.model_validate({"enabled": True, "conditions": list(conditions)})


def cond(preds: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"then": dict(GROQ), **extra}
    if preds is not None:
        out["if"] = preds
    return out


CHAT = {"model": "r", "stream": True, "tools": [{"type": "function", "function": {"name": "f"}}],
        "messages": [{"role": "system", "content": "be brief"},
                     {"role": "user", "content": [{"type": "text", "text": "hello"},
                                                  {"type": "image_url", "image_url": {"url": "x"}},
                                                  {"type": "text", "text": "world"}]}]}
INP = routing_input_from_body(CHAT, "chat", {"tier": "gold", "org": {"plan": "pro"}, "n": "7"}, "ci-key")


# ---- inputs --------------------------------------------------------------------------------------------

def test_input_from_chat_body() -> None:
    assert (INP.messages_count, INP.tools_count, INP.has_tools, INP.stream) == (2, 1, True, True)
    assert INP.first_message == "be brief"
    assert INP.last_message == "hello world"
    assert INP.all_messages_content == "be brief hello world"
    assert INP.api_key_name == "ci-key" and INP.request_tokens > 3


def test_input_from_responses_and_anthropic_bodies() -> None:
    r = routing_input_from_body({"input": "just text"}, "responses", None, None)
    assert (r.messages_count, r.first_message, r.has_tools, r.stream) == (1, "just text", False, False)
    r = routing_input_from_body({"input": [{"role": "user", "content": [{"type": "input_text", "text": "a"}]},
                                           {"type": "function_call_output", "call_id": "c", "output": "42"}]},
                                "responses", None, None)
    assert (r.messages_count, r.all_messages_content, r.last_message) == (2, "a 42", "42")
    answer = {"role": "assistant", "content": [{"type": "text", "text": "ans"}]}
    a = routing_input_from_body({"system": "sys", "tools": [{"name": "t"}] * 3,
                                 "messages": [{"role": "user", "content": "q"}, answer]},
                                "anthropic", {}, None, request_tokens=1234)
    assert (a.messages_count, a.tools_count, a.first_message, a.last_message) == (2, 3, "q", "ans")
    assert a.request_tokens == 1234


# ---- operators and fields ------------------------------------------------------------------------------

@pytest.mark.parametrize(("op", "actual", "value", "expected"), [
    ("equals", 5, 5, True), ("equals", 5, "5", True), ("equals", "abc", "abc", True),
    ("equals", "a", "b", False),
    ("equals", True, True, True), ("equals", True, "true", True), ("equals", False, True, False),
    ("equals", None, "x", False),
    ("notEquals", 5, 6, True), ("notEquals", "a", "a", False),
    ("greaterThan", 10, 5, True), ("greaterThan", 5, 5, False), ("greaterThan", "10", "9", True),
    ("greaterThanOrEqual", 5, 5, True), ("greaterThanOrEqual", 4, 5, False),
    ("lessThan", 99, 100, True), ("lessThan", 100, 100, False), ("lessThan", 2.5, "3", True),
    ("lessThanOrEqual", 100, 100, True), ("lessThanOrEqual", 101, 100, False),
    ("lessThan", "apple", "banana", True), ("lessThan", None, 5, False), ("greaterThan", "abc", 5, False),
    ("contains", "hello world", "lo w", True), ("contains", "hello", "xyz", False),
    ("contains", ["a", "b"], "b", True), ("contains", ["a"], "c", False), ("contains", None, "x", False),
    ("notContains", "hello", "xyz", True), ("notContains", "hello", "ell", False),
    ("startsWith", "hello", "he", True), ("startsWith", "hello", "lo", False),
    ("endsWith", "hello", "lo", True), ("endsWith", "hello", "he", False), ("endsWith", None, "x", False),
    ("matches", "order #1234", r"#\d{4}", True), ("matches", "order", r"^\d+$", False),
    ("matches", "anything", "(unclosed", False), ("matches", None, ".*", False),
    ("in", "gold", ["gold", "silver"], True), ("in", "gold", " silver , gold ", True),
    ("in", 3, "1,2,3", True), ("in", "bronze", "gold,silver", False),
    ("notIn", "bronze", ["gold"], True), ("notIn", "gold", "gold, silver", False),
    ("exists", "x", None, True), ("exists", 0, None, True), ("exists", False, None, True),
    ("exists", "", None, False), ("exists", None, None, False), ("exists", [], None, False),
    ("noSuchOperator", 1, 1, False),
])
def test_operator_table(op: str, actual: Any, value: Any, expected: bool) -> None:
    assert apply_operator(op, actual, value) is expected


@pytest.mark.parametrize(("field", "operator", "holds", "fails"), [
    ("requestTokens", "greaterThan", 3, 100_000), ("messagesCount", "equals", 2, 3),
    ("toolsCount", "equals", 1, 0),
    ("hasTools", "equals", True, False), ("stream", "equals", "true", "false"),
    ("firstMessage", "equals", "be brief", "hello"), ("lastMessage", "startsWith", "hello", "world"),
    ("allMessagesContent", "contains", "brief hello", "goodbye"), ("apiKeyName", "in", "ci-key,other", "x,y"),
    ("metadata.tier", "equals", "gold", "silver"), ("metadata.org.plan", "equals", "pro", "free"),
    ("metadata.n", "greaterThan", 6, 7), ("errorRate", "lessThan", 1, 0),
])
def test_every_field_routes(field: str, operator: str, holds: Any, fails: Any) -> None:
    for value, action in ((holds, "route"), (fails, "none")):
        routing = cfg(cond([{"field": field, "operator": operator, "value": value}]))
        d = evaluate_routing(routing, INP, no_errors)
        assert d.action == action, d.reason
        if action == "route":
            assert d.slot is not None and d.slot.model == GROQ["model"]


def test_missing_metadata_key_does_not_match() -> None:
    d = evaluate_routing(cfg(cond([{"field": "metadata.absent", "operator": "exists"}])), INP, no_errors)
    assert d.action == "none"


# ---- the seeds' examples --------------------------------------------------------------------------------

def test_seed_token_rule() -> None:
    routing = RoutingConfig.model_validate(SEED_TOKENS)
    small = routing_input_from_body({"messages": [{"role": "user", "content": "hi"}]}, "chat", {}, None)
    big = routing_input_from_body({"messages": [{"role": "user", "content": "x" * 2000}]}, "chat", {}, None)
    d = evaluate_routing(routing, small, no_errors)
    assert (d.action, d.condition_index, d.description) == ("route", 0, "Use Groq for small requests")
    assert d.slot is not None and (d.slot.provider, d.slot.model) == ("groq", "llama-3.1-70b-versatile")
    assert d.label == "routing.conditions[0].then" and "requestTokens" in d.reason
    assert evaluate_routing(routing, big, no_errors).action == "none"


def test_seed_tools_rule() -> None:
    routing = RoutingConfig.model_validate(SEED_TOOLS)
    assert evaluate_routing(routing, INP, no_errors).slot.model == "gpt-4o"  # type: ignore[union-attr]
    assert evaluate_routing(routing, RoutingInput(), no_errors).action == "none"


def test_seed_error_rate_rule_switches_after_failures() -> None:
    routing = RoutingConfig.model_validate(SEED_ERROR_RATE)
    counters, key, now = ErrorRateCounters(), ("res", "conn", "gpt-4o"), 1_000_000.0
    seen: list[tuple[int, str | int]] = []

    def rate(window: int, status: str | int) -> float:
        seen.append((window, status))
        return counters.error_rate(key, window, status, now)

    for _ in range(90):
        counters.record(key, 200, now)
    assert evaluate_routing(routing, INP, rate).action == "none"
    for _ in range(10):
        counters.record(key, 503, now)
    assert evaluate_routing(routing, INP, rate).action == "none"  # exactly 10 % is not > 10
    counters.record(key, 500, now)
    d = evaluate_routing(routing, INP, rate)
    assert d.action == "route" and d.slot is not None and d.slot.provider == "anthropic"
    assert seen[-1] == (10, "any")


def test_seed_advanced_expression_verbatim() -> None:
    routing = RoutingConfig.model_validate(SEED_ADVANCED)
    assert validate_routing(routing) == []
    small = RoutingInput(request_tokens=40)
    assert evaluate_routing(routing, small, lambda w, s: 1.0, rand=lambda: 0.1).action == "route"
    assert evaluate_routing(routing, small, lambda w, s: 1.0, rand=lambda: 0.9).action == "none"  # traffic 50
    assert evaluate_routing(routing, small, lambda w, s: 7.0, rand=lambda: 0.1).action == "none"
    big = RoutingInput(request_tokens=400)
    assert evaluate_routing(routing, big, no_errors, rand=lambda: 0.1).action == "none"


# ---- evaluation order, traffic, block ------------------------------------------------------------------

def test_first_match_wins_and_disabled_are_skipped() -> None:
    always = [{"field": "messagesCount", "operator": "greaterThan", "value": 0}]
    routing = cfg(cond(always, enabled=False, then={"provider": "openai", "model": "off"}),
                  cond(always, then={"provider": "openai", "model": "first"}),
                  cond(always, then={"provider": "openai", "model": "second"}))
    d = evaluate_routing(routing, INP, no_errors)
    assert d.condition_index == 1 and d.slot is not None and d.slot.model == "first"
    assert "disabled" in d.trace[0]


def test_routing_disabled_or_absent() -> None:
    assert evaluate_routing(None, INP, no_errors).action == "none"
    off = RoutingConfig.model_validate({**SEED_TOOLS, "enabled": False})
    assert evaluate_routing(off, INP, no_errors).reason == "routing disabled"


def test_block_action() -> None:
    routing = cfg({"description": "no tools here", "action": "block",
                   "if": [{"field": "hasTools", "operator": "equals", "value": True}]})
    d = evaluate_routing(routing, INP, no_errors)
    assert d.block and d.action == "block" and d.slot is None and d.description == "no tools here"


@pytest.mark.parametrize(("traffic", "expected"), [(30, 600), (50, 1000), (90, 1800)])
def test_traffic_split_is_within_five_percent(traffic: int, expected: int) -> None:
    rng = random.Random(1234)
    routing = cfg(cond([], then={**GROQ, "traffic": traffic}))
    routed = sum(evaluate_routing(routing, INP, no_errors, rand=rng.random).action == "route"
                 for _ in range(2000))
    assert abs(routed - expected) <= 100


def test_lost_traffic_draw_falls_through_to_next_condition() -> None:
    routing = cfg(cond([], then={**GROQ, "traffic": 0}),
                  cond([], then={"provider": "openai", "model": "next"}))
    d = evaluate_routing(routing, INP, no_errors, rand=lambda: 0.0)
    assert d.condition_index == 1 and "traffic draw" in d.trace[0]


def test_failing_error_rate_source_is_no_match() -> None:
    def broken(window: int, status: str | int) -> float:
        raise ConnectionError("redis down")

    routing = cfg(cond([{"field": "errorRate", "operator": "greaterThan", "value": 1}]))
    assert evaluate_routing(routing, INP, broken).action == "none"
    assert evaluate_routing(cfg(cond(expression="errorRate(5, 500) > 1")), INP, broken).action == "none"


# ---- CEL ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "expected"), [
    ("hasTools && stream", True),
    ("messagesCount == 2 && toolsCount >= 1", True),
    ("lastMessage.contains('world') && firstMessage.startsWith('be')", True),
    ("allMessagesContent.matches('^be .* world$')", True),
    ("metadata.tier == 'gold' && metadata.org.plan == 'pro'", True),
    ("'tier' in metadata && !('absent' in metadata)", True),
    ("apiKeyName == 'ci-key'", True),
    ("errorRate(5, 500) > 2.0", True),
    ("errorRate(5, 'any') > 2.0", False),
    ("metadata.absent == 'x'", False),  # evaluation error: no match
    ("requestTokens", False),  # not a bool: no match
    ("[1, 2].exists(x, x > 1)", True),
])
def test_cel_expressions(expr: str, expected: bool) -> None:
    def rate(window: int, status: str | int) -> float:
        return 3.0 if status == 500 else 1.0

    assert validate_routing(cfg(cond(expression=expr))) == []
    assert (evaluate_routing(cfg(cond(expression=expr)), INP, rate).action == "route") is expected


def test_cel_compiles_once_per_expression() -> None:
    routing_cel.clear_cache()
    routing = RoutingConfig.model_validate(SEED_ADVANCED)
    for _ in range(200):
        evaluate_routing(routing, RoutingInput(request_tokens=10), no_errors, rand=lambda: 0.0)
    assert routing_cel.compile_count() == 1
    evaluate_routing(cfg(cond(expression="stream")), INP, no_errors)
    assert routing_cel.compile_count() == 2


# ---- config-time validation ------------------------------------------------------------------------

def test_validate_reports_paths() -> None:
    routing = cfg(
        cond([{"field": "requestTokens", "operator": "lessThan", "value": 10}]),
        cond([{"field": "lastMessage", "operator": "exists"},
              {"field": "lastMessage", "operator": "matches", "value": "([a-z"}]),
        cond(expression="requestTokens < && true"),
        cond(expression="requestTokenz < 100"),
        cond(expression="frobnicate(1) == 2"),
        cond([{"field": "apiKeyName", "operator": "equals"}]),
        cond([{"field": "errorRate", "operator": "greaterThan", "value": "high"}]),
    )
    errors = validate_routing(routing)
    assert [e.split(":")[0] for e in errors] == [
        "routing.conditions[1].if[1].value", "routing.conditions[2].expression",
        "routing.conditions[3].expression", "routing.conditions[4].expression",
        "routing.conditions[5].if[0].value", "routing.conditions[6].if[0].value",
    ]
    assert "requestTokenz" in errors[2] and "frobnicate" in errors[3]
    # invalid expressions still never match at runtime
    assert evaluate_routing(cfg(cond(expression="requestTokens < && true")), INP, no_errors).action == "none"


# ---- error-rate counters ------------------------------------------------------------------------------

def test_error_rate_counters_window_status_and_retention() -> None:
    c, key, t0 = ErrorRateCounters(), ("r", "c", "m"), 6_000_000.0
    assert c.error_rate(key, 10, "any", t0) == 0.0  # no traffic
    for status in (200, 201, 302, 429, 500, 500):
        c.record(key, status, t0)
    s = c.stats(key, 10, "any", t0)
    assert (s.total_success, s.total_failed, s.total_requests) == (2, 3, 5)  # 3xx is neither
    assert c.error_rate(key, 10, "any", t0) == pytest.approx(60.0)
    assert c.error_rate(key, 10, 500, t0) == pytest.approx(40.0)
    assert c.error_rate(key, 10, "429", t0) == pytest.approx(20.0)
    assert c.error_rate(("r", "c", "other"), 10, "any", t0) == 0.0
    later = t0 + 10 * 60
    c.record(key, 200, later)
    assert c.error_rate(key, 10, "any", later) == 0.0  # the old minute left the 10-minute window
    assert c.error_rate(key, 11, "any", later) == pytest.approx(50.0)
    c.record(("r", "c", "x"), 200, t0 + 4 * 3600)  # the next sweep drops everything past 3 h
    assert c.key_count() == 1
    with pytest.raises(ValueError):
        c.error_rate(key, 10, "teapot", t0)
