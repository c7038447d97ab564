"""The fast token estimate stays close to a real tokenizer (o200k_base, shipped offline by bpe-openai)
on prose, code, JSON, CJK, accented text and numbers: the numbers bench/token_estimate.py prints."""

from __future__ import annotations

import statistics

import bpe_openai

from bench.token_estimate import relative_errors


def test_estimate_error_against_o200k_base() -> None:
    samples = relative_errors(bpe_openai.get_encoding("o200k_base"))
    errors = [e for kind in samples.values() for _, _, e in kind]
    assert statistics.mean(abs(e) for e in errors) < 0.15
    assert max(abs(e) for e in errors) < 0.30
    for kind, rows in samples.items():  # no kind of text is systematically off by half
        assert abs(statistics.mean(e for _, _, e in rows)) < 0.25, kind
