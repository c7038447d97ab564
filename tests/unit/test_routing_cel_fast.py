"""The fast CEL path answers exactly as celpy does, or defers to it.

Every expression below is evaluated three ways on the same variables: by celpy's interpreter alone (the
reference), by `evaluate_expression` (fast path first), and by the fast closures alone. The public
answer must equal the reference; the closures either agree or defer, never disagree.
"""

from __future__ import annotations

from typing import Any

import celpy
import pytest
from celpy import celtypes

from vmx_app.gateway import routing_cel
from vmx_app.gateway.routing_cel_fast import Defer, Unsupported, compile_fast

VARS: dict[str, Any] = {
    "requestTokens": 1200, "messagesCount": 3, "toolsCount": 0, "hasTools": False, "stream": True,
    "firstMessage": "You are helpful", "lastMessage": "This is URGENT, please", "allMessagesContent": "a b c",
    "metadata": {"tier": "gold", "score": 0.75, "n": 2, "tags": ["x", "y"], "nested": {"k": "v"}},
    "apiKeyName": None,
}
RATES = {(5, "any"): 0.6, (60, 500): 0.1}


def rate(window: int, status: str | int) -> float:
    return RATES.get((window, status), 0.0)


# (expression, the fast closures answer without deferring)
CASES: list[tuple[str, bool]] = [
    ("requestTokens > 1000", True),
    ("requestTokens >= 1200 && messagesCount < 3", True),
    ("requestTokens + 10 * 2 == 1220", True),
    ("-requestTokens < 0 && !(toolsCount != 0)", True),
    ("hasTools || stream", True),
    ("false && undefinedKeyLookup()", False),  # unknown function: compile-time Unsupported
    ("lastMessage.contains('URGENT') && firstMessage.startsWith('You') && allMessagesContent.endsWith('c')", True),
    ("size(lastMessage) > 5 && lastMessage.size() == size(lastMessage)", True),
    ("metadata.tier == 'gold' && metadata['n'] == 2 && metadata.score > 0.5", True),
    ("'x' in metadata.tags && 'tier' in metadata && !('zz' in metadata)", True),
    ("metadata.nested.k == 'v' && metadata.tags[1] == 'y'", True),
    ("errorRate(5, 'any') > 0.5 || requestTokens > 1000000", True),
    ("errorRate(60, 500) < 0.2 && errorRate() == 0.0", True),
    ("requestTokens > 1000 ? stream : hasTools", True),
    ("'ab' + 'cd' == 'abcd' && [1, 2] + [3] != [1]", False),  # list equality: deferred
    # mixed types, missing keys, errors, non-bool results: celpy answers
    ("metadata.score > 1", False),
    ("metadata.missing == 'x' || requestTokens > 1", False),
    ("requestTokens > 1 || metadata.missing == 'x'", True),
    ("apiKeyName == 'k'", False),
    ("apiKeyName == null", False),
    ("9223372036854775807 + requestTokens > 0", False),
    ("requestTokens", False),
    ("requestTokens / 0 == 1", False),
    ("1 in ['a', 1]", False),
    ("metadata.tags.exists(t, t == 'y')", False),
    ("lastMessage.matches('^This')", False),
    ("size(metadata.tags) == 2u", False),
]


def reference(expr: str) -> bool:
    program = routing_cel._env.program(routing_cel._env.compile(expr), functions=routing_cel._FUNCTION_BINDINGS)
    token = routing_cel._current_error_rate.set(rate)
    try:
        result = program.evaluate(routing_cel.to_cel_vars(VARS))
    except Exception:  # noqa: BLE001 - celpy's errors are "no match" for routing
        return False
    finally:
        routing_cel._current_error_rate.reset(token)
    return isinstance(result, celtypes.BoolType) and bool(result)


def fast_only(expr: str) -> bool | None:
    """The closures' own answer; None when they defer or do not support the expression."""
    env = celpy.Environment()
    try:
        return compile_fast(env.compile(expr), env)((VARS, rate))
    except (Defer, Unsupported):
        return None


@pytest.mark.parametrize(("expr", "fast"), CASES, ids=[c[0] for c in CASES])
def test_fast_path_agrees_with_celpy_or_defers(expr: str, fast: bool) -> None:
    if routing_cel.check_expression(expr) is not None:  # names checked at config time: not evaluated
        assert fast_only(expr) is None
        return
    want = reference(expr)
    matched, _ = routing_cel.evaluate_expression(expr, VARS, rate)
    assert matched is want
    own = fast_only(expr)
    assert own is None or own is want
    assert (own is not None) is fast


def test_explanations_match_celpy_for_deferred_answers() -> None:
    _, detail = routing_cel.evaluate_expression("requestTokens", VARS, rate)
    assert detail == "expression returned IntType, not a bool"
    _, detail = routing_cel.evaluate_expression("metadata.missing == 'x'", VARS, rate)
    assert detail.startswith("evaluation failed:")
    assert routing_cel.evaluate_expression("requestTokens > 1", VARS, rate) == (True, "expression is true")


def test_a_failing_error_rate_source_falls_back_and_does_not_match() -> None:
    def broken(_w: int, _s: str | int) -> float:
        raise RuntimeError("counters unavailable")

    matched, detail = routing_cel.evaluate_expression("errorRate(5, 'any') > 0.5", VARS, broken)
    assert not matched and "counters unavailable" in detail
