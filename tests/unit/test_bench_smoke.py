"""The benchmark's helpers: wrk output parsing, the Lua script, verdicts, SSE and profile parsing, and the fast
upstream answering real requests. Functional checks only: no timing is asserted anywhere."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from bench import report
from bench.fast_upstream import FastUpstream
from bench.pyspy import top_functions
from bench.ttft import first_content, measure_ttft, percentile
from bench.wrk import parse_wrk_output, post_script

CLEAN = """Running 5s test @ http://127.0.0.1:18901/v1/chat/completions
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.90ms    1.20ms  18.12ms   91.54%
    Req/Sec    24.11k     6.90k   39.10k    62.00%
  Latency Distribution
     50%  506.00us
     75%  822.00us
     90%    1.84ms
     99%    6.48ms
  240105 requests in 5.02s, 158.68MB read
Requests/sec:  47861.03
Transfer/sec:     31.63MB
"""

WITH_ERRORS = """Running 10s test @ http://127.0.0.1:8000/v1/completion/a/b/chat/completions
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.40ms    2.35ms   1.02s    89.87%
    Req/Sec     2.30k   762.00     4.00k    72.50%
  Latency Distribution
     50%  465.00us
     75%    1.29ms
     90%    3.80ms
     99%    1.02s
  89022 requests in 1.00m, 17.66MB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 89000
Requests/sec:   1483.70
Transfer/sec:      8.73MB
"""


def test_parse_clean_run() -> None:
    run = parse_wrk_output(CLEAN)
    assert run.requests == 240105
    assert run.duration_s == pytest.approx(5.02)
    assert run.rps == pytest.approx(47861.03)
    assert run.percentiles_ms == pytest.approx({"50": 0.506, "75": 0.822, "90": 1.84, "99": 6.48})
    assert run.p(90) == pytest.approx(1.84)
    assert run.errors == 0
    assert run.to_json()["errors"] == 0


def test_parse_counts_non_2xx_and_socket_errors() -> None:
    run = parse_wrk_output(WITH_ERRORS)
    assert run.non_2xx == 89000
    assert run.socket_errors == {"connect": 0, "read": 12, "write": 1, "timeout": 3}
    assert run.errors == 89016
    assert run.duration_s == pytest.approx(60.0)
    assert run.p(99) == pytest.approx(1020.0)  # seconds become milliseconds


def test_parse_rejects_output_without_summary() -> None:
    with pytest.raises(ValueError):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_post_script_escapes_body_and_headers() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": 'say "hi"\n'}]}
    script = post_script(body, {"Authorization": "Bearer vmx-abc"})
    lines = script.splitlines()
    assert lines[0] == 'wrk.method = "POST"'
    body_literal = lines[1].removeprefix("wrk.body = ")
    assert json.loads(json.loads(body_literal)) == body  # the Lua string decodes back to the same JSON
    assert 'wrk.headers["Authorization"] = "Bearer vmx-abc"' in lines
    assert "function response" not in script  # a Lua response() hook would slow wrk down


def test_errors_make_a_result_invalid_not_fast() -> None:
    fast_but_failing = parse_wrk_output(WITH_ERRORS).to_json()
    clean = parse_wrk_output(CLEAN).to_json()
    fast_but_failing["rps"] = 9999.0
    rows = report.mode_rows({"c1": clean, "c32": fast_but_failing}, {"c1": clean, "c32": clean}, 100_000)
    by_label = {r.label: r for r in rows}
    assert by_label["32 conn req/s (VM-X)"].verdict == "INVALID (89,016 errors)"
    assert by_label["added median latency (VM-X p50 - direct p50)"].verdict == "PASS"
    assert by_label["added median latency (VM-X p50 - direct p50)"].value == "0.000 ms"


def test_report_misses_and_short_rss_runs() -> None:
    c1 = {"percentiles_ms": {"50": 1.5, "90": 2.0, "99": 3.0}, "rps": 600.0, "errors": 0}
    d1 = {"percentiles_ms": {"50": 0.1, "90": 0.2, "99": 0.3}, "rps": 9000.0, "errors": 0}
    mode = {"c1": c1, "c32": c1, "rss": {"pid": 1, "mb": 120.0, "requests": 50_000, "errors": 0}}
    rows = {r.label: r for r in report.mode_rows(mode, {"c1": d1, "c32": d1}, 100_000)}
    assert rows["added median latency (VM-X p50 - direct p50)"].verdict == "MISS"
    assert rows["added median latency (VM-X p50 - direct p50)"].value == "1.400 ms"
    assert rows["32 conn req/s (VM-X)"].verdict == "MISS"
    assert rows["32 conn ratio VM-X / direct"].value == "0.067"
    assert rows["RSS after 50,000 requests (pid 1)"].verdict == "PASS (only 50,000 requests)"
    table = report.render("t", list(rows.values()))
    assert "<= 0.6 ms" in table and ">= 3,000" in table


def test_sse_first_content_and_percentile() -> None:
    assert first_content(b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}') is False
    assert first_content(b'data: {"choices":[{"delta":{"content":"Hi"}}]}') is True
    assert first_content(b"data: [DONE]") is False
    assert first_content(b'data: {"error":{"message":"cut"}}') is None
    assert first_content(b": keep-alive") is False
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 90) == 90.0
    assert percentile([], 50) is None


def test_top_functions_from_collapsed_stacks() -> None:
    collapsed = (
        "process 1:\"python\";thread (0x1);run (uvloop/loop.py:10);handle (vmx_app/api/x.py:5) 6\n"
        "process 1:\"python\";thread (0x1);run (uvloop/loop.py:10);handle (vmx_app/api/x.py:9);dumps (json.py:1) 4\n"
    )
    top = top_functions(collapsed)
    assert top["samples"] == 10
    assert top["self"][0] == {"function": "handle (vmx_app/api/x.py)", "pct": 60.0}
    assert {"function": "run (uvloop/loop.py)", "pct": 100.0} in top["total"]
    assert top["app_total"] == [{"function": "handle (vmx_app/api/x.py)", "pct": 100.0}]


async def test_fast_upstream_answers_json_and_stream() -> None:
    upstream = FastUpstream(chunk_interval_ms=0)
    server = await upstream.start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"model": "gpt-x", "messages": []}) as resp:
                assert resp.status == 200
                data = await resp.json()
            assert data["model"] == "gpt-x" and data["usage"]["total_tokens"] == 25
            async with session.post(url, data=b"{not json") as resp:
                assert resp.status == 400
            async with session.get(f"http://127.0.0.1:{port}/v1/nope") as resp:
                assert resp.status == 404
        body = {"model": "gpt-x", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
        result = await measure_ttft(url, body, {}, requests=3, warmup=1)
        assert result.errors == 0 and result.count == 3
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)
