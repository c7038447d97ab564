"""List prices seeded into the model pricing catalog at first start (USD per million tokens).

Columns: provider, model, input, output, cached input (None = billed as input), reasoning (None =
billed as output; reasoning tokens are part of the completion count). Sources: the providers' public
price pages (standard tier, on-demand, prompts up to 200k tokens, us-east-1 for Bedrock), late 2025.
Admins edit the catalog through /v1/model-pricing; this list only fills an empty table.
"""

from __future__ import annotations

SeedRow = tuple[str, str, float, float, float | None, float | None]

SEED_PRICES: tuple[SeedRow, ...] = (
    # OpenAI
    ("openai", "gpt-5", 1.25, 10.00, 0.125, None),
    ("openai", "gpt-5-mini", 0.25, 2.00, 0.025, None),
    ("openai", "gpt-5-nano", 0.05, 0.40, 0.005, None),
    ("openai", "gpt-4.1", 2.00, 8.00, 0.50, None),
    ("openai", "gpt-4.1-mini", 0.40, 1.60, 0.10, None),
    ("openai", "gpt-4.1-nano", 0.10, 0.40, 0.025, None),
    ("openai", "gpt-4o", 2.50, 10.00, 1.25, None),
    ("openai", "gpt-4o-mini", 0.15, 0.60, 0.075, None),
    ("openai", "o1", 15.00, 60.00, 7.50, None),
    ("openai", "o1-mini", 1.10, 4.40, 0.55, None),
    ("openai", "o3", 2.00, 8.00, 0.50, None),
    ("openai", "o3-mini", 1.10, 4.40, 0.55, None),
    ("openai", "o3-pro", 20.00, 80.00, None, None),
    ("openai", "o4-mini", 1.10, 4.40, 0.275, None),
    ("openai", "gpt-4-turbo", 10.00, 30.00, None, None),
    ("openai", "gpt-3.5-turbo", 0.50, 1.50, None, None),
    # Anthropic (cached = cache read)
    ("anthropic", "claude-opus-4-5", 5.00, 25.00, 0.50, None),
    ("anthropic", "claude-opus-4-1", 15.00, 75.00, 1.50, None),
    ("anthropic", "claude-opus-4", 15.00, 75.00, 1.50, None),
    ("anthropic", "claude-sonnet-4-5", 3.00, 15.00, 0.30, None),
    ("anthropic", "claude-sonnet-4", 3.00, 15.00, 0.30, None),
    ("anthropic", "claude-3-7-sonnet", 3.00, 15.00, 0.30, None),
    ("anthropic", "claude-3-5-sonnet", 3.00, 15.00, 0.30, None),
    ("anthropic", "claude-haiku-4-5", 1.00, 5.00, 0.10, None),
    ("anthropic", "claude-3-5-haiku", 0.80, 4.00, 0.08, None),
    ("anthropic", "claude-3-haiku", 0.25, 1.25, 0.03, None),
    ("anthropic", "claude-3-opus", 15.00, 75.00, 1.50, None),
    # Google Gemini (thinking tokens are billed as output)
    ("gemini", "gemini-2.5-pro", 1.25, 10.00, 0.125, None),
    ("gemini", "gemini-2.5-flash", 0.30, 2.50, 0.03, None),
    ("gemini", "gemini-2.5-flash-lite", 0.10, 0.40, 0.01, None),
    ("gemini", "gemini-2.0-flash", 0.10, 0.40, 0.025, None),
    ("gemini", "gemini-2.0-flash-lite", 0.075, 0.30, None, None),
    ("gemini", "gemini-1.5-pro", 1.25, 5.00, 0.3125, None),
    ("gemini", "gemini-1.5-flash", 0.075, 0.30, 0.01875, None),
    # Groq
    ("groq", "llama-3.1-8b-instant", 0.05, 0.08, None, None),
    ("groq", "llama-3.3-70b-versatile", 0.59, 0.79, None, None),
    ("groq", "meta-llama/llama-4-scout-17b-16e-instruct", 0.11, 0.34, None, None),
    ("groq", "meta-llama/llama-4-maverick-17b-128e-instruct", 0.20, 0.60, None, None),
    ("groq", "openai/gpt-oss-120b", 0.15, 0.75, None, None),
    ("groq", "openai/gpt-oss-20b", 0.10, 0.50, None, None),
    ("groq", "qwen/qwen3-32b", 0.29, 0.59, None, None),
    # Perplexity (token prices only; per-request search fees are not included)
    ("perplexity", "sonar", 1.00, 1.00, None, None),
    ("perplexity", "sonar-pro", 3.00, 15.00, None, None),
    ("perplexity", "sonar-reasoning", 1.00, 5.00, None, None),
    ("perplexity", "sonar-reasoning-pro", 2.00, 8.00, None, None),
    ("perplexity", "sonar-deep-research", 2.00, 8.00, None, 3.00),
    # Amazon Bedrock (also used for bedrock-invoke connections; region prefixes such as `us.` are ignored)
    ("bedrock", "anthropic.claude-opus-4-1-20250805-v1:0", 15.00, 75.00, 1.50, None),
    ("bedrock", "anthropic.claude-opus-4-20250514-v1:0", 15.00, 75.00, 1.50, None),
    ("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", 3.00, 15.00, 0.30, None),
    ("bedrock", "anthropic.claude-sonnet-4-20250514-v1:0", 3.00, 15.00, 0.30, None),
    ("bedrock", "anthropic.claude-3-7-sonnet-20250219-v1:0", 3.00, 15.00, 0.30, None),
    ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", 3.00, 15.00, 0.30, None),
    ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", 3.00, 15.00, None, None),
    ("bedrock", "anthropic.claude-haiku-4-5-20251001-v1:0", 1.00, 5.00, 0.10, None),
    ("bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 4.00, 0.08, None),
    ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25, None, None),
    ("bedrock", "amazon.nova-premier-v1:0", 2.50, 12.50, 0.625, None),
    ("bedrock", "amazon.nova-pro-v1:0", 0.80, 3.20, 0.20, None),
    ("bedrock", "amazon.nova-lite-v1:0", 0.06, 0.24, 0.015, None),
    ("bedrock", "amazon.nova-micro-v1:0", 0.035, 0.14, 0.00875, None),
    ("bedrock", "meta.llama3-3-70b-instruct-v1:0", 0.72, 0.72, None, None),
    ("bedrock", "meta.llama3-1-8b-instruct-v1:0", 0.22, 0.22, None, None),
    ("bedrock", "mistral.mistral-large-2407-v1:0", 2.00, 6.00, None, None),
    ("bedrock", "deepseek.r1-v1:0", 1.35, 5.40, None, None),
    ("bedrock", "openai.gpt-oss-120b-1:0", 0.15, 0.60, None, None),
)
