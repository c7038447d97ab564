"""The cost function and the pricing lookup (pure), and the seed catalog's sanity."""

from __future__ import annotations

import pytest

from vmx_app.gateway.config import PROVIDER_TYPES
from vmx_app.gateway.types import Usage
from vmx_app.services.model_pricing import PriceEntry, PricingLookup, TokenCounts, compute_cost, normalize_model
from vmx_app.services.model_pricing_catalog import SEED_PRICES

GPT4O = PriceEntry("openai", "gpt-4o", input=2.50, output=10.00, cached_input=1.25)


def test_cost_of_plain_input_and_output() -> None:
    cost = compute_cost(GPT4O, TokenCounts(prompt=1_000_000, completion=500_000))
    assert cost == {"input": 2.5, "output": 5.0, "cached": 0.0, "reasoning": 0.0, "total": 7.5,
                    "currency": "USD", "priced": True}


def test_cached_tokens_are_billed_once_at_the_cached_rate() -> None:
    cost = compute_cost(GPT4O, TokenCounts(prompt=1000, completion=0, cached=400))
    assert cost["input"] == pytest.approx(600 * 2.50 / 1e6)
    assert cost["cached"] == pytest.approx(400 * 1.25 / 1e6)
    assert cost["total"] == pytest.approx((600 * 2.50 + 400 * 1.25) / 1e6)


def test_cached_rate_defaults_to_input_and_reasoning_to_output() -> None:
    price = PriceEntry("groq", "m", input=1.0, output=2.0)
    cost = compute_cost(price, TokenCounts(prompt=100, completion=50, cached=40, reasoning=20))
    assert cost["input"] == pytest.approx(60e-6) and cost["cached"] == pytest.approx(40e-6)
    assert cost["output"] == pytest.approx(30 * 2e-6) and cost["reasoning"] == pytest.approx(20 * 2e-6)
    assert cost["total"] == pytest.approx((100 * 1.0 + 50 * 2.0) / 1e6)


def test_reasoning_rate_applies_to_reasoning_tokens_only() -> None:
    price = PriceEntry("perplexity", "sonar-deep-research", input=2.0, output=8.0, reasoning=3.0)
    cost = compute_cost(price, TokenCounts(prompt=0, completion=1000, reasoning=600))
    assert cost["output"] == pytest.approx(400 * 8.0 / 1e6)
    assert cost["reasoning"] == pytest.approx(600 * 3.0 / 1e6)


def test_inconsistent_counts_are_clamped_not_negative() -> None:
    cost = compute_cost(GPT4O, TokenCounts(prompt=10, completion=5, cached=50, reasoning=99))
    assert all(cost[k] >= 0 for k in ("input", "output", "cached", "reasoning", "total"))
    assert cost["input"] == 0 and cost["output"] == 0


def test_no_price_costs_nothing_and_says_so() -> None:
    cost = compute_cost(None, TokenCounts(prompt=1000, completion=1000))
    assert cost["total"] == 0 and cost["priced"] is False and cost["currency"] == "USD"


def test_accepts_gateway_usage_and_mappings() -> None:
    usage = Usage(input=1000, output=200, cached_input=100, reasoning=50)
    by_usage = compute_cost(GPT4O, usage)
    by_map = compute_cost(GPT4O, {"prompt": 1000, "completion": 200, "cached": 100, "reasoning": 50})
    assert by_usage == by_map
    assert by_usage["total"] == pytest.approx((900 * 2.5 + 100 * 1.25 + 200 * 10.0) / 1e6)


LOOKUP = PricingLookup([
    GPT4O,
    PriceEntry("openai", "gpt-4o-mini", 0.15, 0.60),
    PriceEntry("openai", "o3", 2.0, 8.0),
    PriceEntry("anthropic", "claude-sonnet-4", 3.0, 15.0),
    PriceEntry("anthropic", "claude-sonnet-4-5", 3.0, 15.0, 0.3),
    PriceEntry("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", 3.0, 15.0),
    PriceEntry("gemini", "gemini-2.5-flash", 0.3, 2.5),
])


@pytest.mark.parametrize(("provider", "model", "expected"), [
    ("openai", "gpt-4o", "gpt-4o"),
    ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
    ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest prefix wins
    ("openai", "o3-2025-04-16", "o3"),
    ("openai", "o3x", None),  # a prefix must end at a boundary
    ("openai", "gpt-4", None),
    ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("groq", "gpt-4o", None),  # another provider's model is not this provider's price
    ("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("bedrock-invoke", "anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("gemini", "models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gemini", "gemini-2.5-flash-preview-05-20", "gemini-2.5-flash"),
    ("openai-compatible", "gpt-4o-mini", "gpt-4o-mini"),
    ("openai-compatible", "llama3:8b", None),
])
def test_lookup(provider: str, model: str, expected: str | None) -> None:
    found = LOOKUP.find(provider, model)
    assert (found.model if found else None) == expected
    assert LOOKUP.find(provider, model) is found  # memoised answers are the same


def test_normalize_model() -> None:
    assert normalize_model(" models/gemini-2.0-flash ") == "gemini-2.0-flash"
    assert normalize_model("eu.amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"
    assert normalize_model("us-gov.anthropic.claude-3-haiku-20240307-v1:0") == \
        "anthropic.claude-3-haiku-20240307-v1:0"
    assert normalize_model("gpt-4.1") == "gpt-4.1"


def test_seed_catalog_is_consistent() -> None:
    pairs = [(p, m) for p, m, *_ in SEED_PRICES]
    assert len(pairs) == len(set(pairs))
    assert {p for p, _ in pairs} == {"openai", "anthropic", "gemini", "groq", "perplexity", "bedrock"}
    assert {p for p, _ in pairs} <= set(PROVIDER_TYPES)
    for provider, model, inp, out, cached, reasoning in SEED_PRICES:
        assert 0 < inp <= out * 5, (provider, model)
        assert cached is None or 0 <= cached <= inp, (provider, model)
        assert reasoning is None or reasoning >= 0
    lookup = PricingLookup(PriceEntry(p, m, i, o, c, r) for p, m, i, o, c, r in SEED_PRICES)
    for provider, model in (("openai", "gpt-4.1-mini"), ("openai", "gpt-5"), ("anthropic", "claude-opus-4"),
                            ("anthropic", "claude-3-7-sonnet"), ("gemini", "gemini-2.5-pro"),
                            ("groq", "llama-3.3-70b-versatile"), ("perplexity", "sonar-pro"),
                            ("bedrock", "amazon.nova-pro-v1:0")):
        assert lookup.find(provider, model) is not None, (provider, model)
    # Dated ids of the seeded families resolve to their family's price.
    assert lookup.find("anthropic", "claude-3-5-haiku-20241022").model == "claude-3-5-haiku"  # type: ignore[union-attr]
    assert lookup.find("openai", "gpt-4.1-nano-2025-04-14").model == "gpt-4.1-nano"  # type: ignore[union-attr]
