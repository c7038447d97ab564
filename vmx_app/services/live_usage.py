"""Live usage beside each limit in the console (issue 10): what the gate's counters hold for the
current window of a capacity entry or a budget, as text and a percentage for a bar."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from vmx_app.gateway.capacity.counters import CountersUnavailable
from vmx_app.gateway.capacity.limits import BUDGET_FIELDS, NANO_PER_USD, budget_key, capacity_key
from vmx_app.gateway.capacity.windows import duration_text, window_of
from vmx_app.services.gateway_runtime import counter_store
from vmx_app.settings import get_settings


@dataclass(frozen=True, slots=True)
class Usage:
    text: str  # "3 / 10 requests · 120 / 1,000 tokens · resets in 42s"
    percent: int  # the fullest of the entry's limits, 0..100


def usd(value: float) -> str:
    """Cents are too coarse for one request's cost: small amounts keep six decimals."""
    return f"${value:,.6f}" if value < 0.01 else f"${value:,.4f}"


def _resets(window_end: float | None, now: float) -> str:
    return "" if window_end is None else f" · resets in {duration_text(max(0.0, window_end - now))}"


async def capacity_usage(env_id: str, level: str, entity_id: str, entries: list[dict[str, Any]]) -> list[Usage]:
    now = time.time()
    prefix = get_settings().redis_key_prefix
    wanted: list[tuple[str, str]] = []
    for e in entries:
        key = capacity_key(prefix, env_id, level, entity_id, e["period"], window_of(e["period"], now).name)
        wanted += [(key, "requests"), (key, "tokens")]
    try:
        values = await counter_store().read(wanted) if wanted else []
    except CountersUnavailable:
        return [Usage("usage unavailable (counters unreachable)", 0) for _ in entries]
    out = []
    for i, e in enumerate(entries):
        if e.get("dimension") == "source-ip":
            out.append(Usage("counted per source IP", 0))
            continue
        parts, fullest = [], 0.0
        for j, metric in enumerate(("requests", "tokens")):
            limit = e.get(metric) or 0
            if limit:
                used = values[2 * i + j]
                parts.append(f"{used:,} / {limit:,} {metric}")
                fullest = max(fullest, used / limit)
        text = " · ".join(parts) + _resets(window_of(e["period"], now).end, now) if parts else "unlimited"
        out.append(Usage(text, min(100, round(fullest * 100))))
    return out


async def budget_usage(env_id: str, level: str, entity_id: str, budgets: list[dict[str, Any]]) -> list[Usage]:
    now = time.time()
    prefix = get_settings().redis_key_prefix
    wanted = [(budget_key(prefix, env_id, level, entity_id, b["period"], window_of(b["period"], now).name), f)
              for b in budgets for f in BUDGET_FIELDS]
    try:
        values = await counter_store().read(wanted) if wanted else []
    except CountersUnavailable:
        return [Usage("usage unavailable (counters unreachable)", 0) for _ in budgets]
    out = []
    for i, b in enumerate(budgets):
        reserved, spent = values[2 * i] / NANO_PER_USD, values[2 * i + 1] / NANO_PER_USD
        amount = float(b.get("amountUsd") or 0)
        text = f"{usd(spent)} spent / ${amount:,.2f}"
        if reserved:
            text += f" (+{usd(reserved)} reserved)"
        out.append(Usage(text + _resets(window_of(b["period"], now).end, now),
                         min(100, round(100 * (spent + reserved) / amount)) if amount else 100))
    return out
