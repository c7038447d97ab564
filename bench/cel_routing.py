"""Per-request cost of a routing rule: the simple (predicate) rule of the routed benchmark against the
same rule written as an advanced (CEL) expression, and a rule without routing as the floor.

    .venv/bin/python bench/cel_routing.py [--n 20000]

Each row times `evaluate_routing` on the benchmark's chat body (what the engine runs per request),
after one warm-up call that compiles the expression. Prints the median per call over 5 rounds, in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.state import chat_body  # noqa: E402
from vmx_app.gateway.config import RoutingConfig  # noqa: E402
from vmx_app.gateway.routing import evaluate_routing, routing_input_from_body  # noqa: E402

THEN = {"provider": "openai", "model": "gpt-4o", "connectionId": "c1", "traffic": 100}
RULES = {
    "no routing": None,
    "simple rule (requestTokens > 1e6)": {"enabled": True, "conditions": [{
        "if": [{"field": "requestTokens", "operator": "greaterThan", "value": 1_000_000}], "then": THEN}]},
    "advanced rule (requestTokens > 1000000)": {"enabled": True, "mode": "advanced", "conditions": [{
        "expression": "requestTokens > 1000000", "then": THEN}]},
    "advanced rule (errorRate + content)": {"enabled": True, "mode": "advanced", "conditions": [{
        "expression": "errorRate(5, 'any') > 0.5 || lastMessage.contains('urgent')", "then": THEN}]},
}


def per_call_ms(routing: RoutingConfig | None, n: int) -> float:
    body = chat_body()
    rate = lambda _w, _s: 0.0  # noqa: E731
    evaluate_routing(routing, routing_input_from_body(body, "chat"), rate)  # compile once
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            evaluate_routing(routing, routing_input_from_body(body, "chat"), rate)
        rounds.append((time.perf_counter() - start) / n * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="calls per round")
    args = parser.parse_args()
    floor = None
    for name, raw in RULES.items():
        ms = per_call_ms(RoutingConfig.model_validate(raw) if raw else None, args.n)
        floor = ms if floor is None else floor
        print(f"{name:<45} {ms:8.4f} ms/request   (+{ms - floor:.4f} ms over no routing)")


if __name__ == "__main__":
    main()
