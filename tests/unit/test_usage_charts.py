"""The usage page's charts: stacked bars add up to the totals (errors are part of the requests, cached
tokens part of the prompt's, reasoning part of the completion's: stacked as they come, each would be
counted twice), and a chart with nothing to show says so."""

from __future__ import annotations

from typing import Any

from vmx_app.state.usage import _figure, _stackable

ROWS: list[dict[str, Any]] = [
    {"time": "2026-12-02T10:00:00Z", "successCount": 7, "errorCount": 3, "promptTokens": 100, "cachedTokens": 40,
     "completionTokens": 50, "reasoningTokens": 20, "cost": 0.0},
    {"time": "2026-12-02T11:00:00Z", "successCount": 0, "errorCount": 0, "promptTokens": 0, "cachedTokens": 0,
     "completionTokens": 0, "reasoningTokens": 0, "cost": 0.0},
    {"time": "2026-12-02T12:00:00Z", "successCount": None, "errorCount": None, "promptTokens": None,
     "cachedTokens": None, "completionTokens": None, "reasoningTokens": None, "cost": None},
]


def _stack_total(fig: Any, index: int) -> float:
    return sum(trace.y[index] or 0 for trace in fig.data)


def test_stacked_bars_add_up_to_the_totals() -> None:
    rows = _stackable(ROWS)
    requests = _figure(rows, {"successCount": "succeeded", "errorCount": "errors"}, "Requests", "bar")
    tokens = _figure(rows, {"uncachedTokens": "prompt", "cachedTokens": "cached prompt", "answerTokens": "completion",
                            "reasoningTokens": "reasoning"}, "Tokens", "bar")
    assert _stack_total(requests, 0) == 10 and _stack_total(requests, 1) == 0
    assert _stack_total(tokens, 0) == 150  # prompt + completion, cached and reasoning inside them
    assert rows[2]["uncachedTokens"] is None  # an empty bucket stays a gap, not a zero
    assert not requests.layout.annotations


def test_a_chart_with_no_data_says_so() -> None:
    fig = _figure(_stackable(ROWS[1:]), {"timeToFirstTokenP50": "p50"}, "Time to first token (ms)")
    assert [a.text for a in fig.layout.annotations] == ["No data in this range"]
    assert not _figure(ROWS, {"cost": "USD"}, "Cost", "bar").layout.annotations  # $0 is a measurement
