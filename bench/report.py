"""Targets, the verdict per number, the printed table and the JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON_PATH = Path("/tmp/vmx-bench-latest.json")

# Issue 5 ("Speed"): 2-core machine, one worker, embedded profile.
TARGET_ADDED_P50_MS = 0.6
TARGET_RPS_32 = 3000.0
TARGET_TTFT_ADDED_MS = 1.0
TARGET_RSS_MB = 250.0
RSS_REQUESTS = 100_000


@dataclass
class Row:
    label: str
    value: str
    target: str = ""
    verdict: str = ""


def fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def verdict(ok: bool | None, errors: int = 0) -> str:
    """A number measured with errors is not a result: it says so instead of PASS."""
    if errors:
        return f"INVALID ({errors:,} errors)"
    if ok is None:
        return ""
    return "PASS" if ok else "MISS"


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _errors(*runs: dict[str, Any] | None) -> int:
    return sum(int(run.get("errors", 0)) for run in runs if run)


def mode_rows(mode: dict[str, Any], direct: dict[str, Any], rss_requests_goal: int) -> list[Row]:
    """Rows for one VM-X mode measured against the direct upstream numbers."""
    c1, c32, d1, d32 = mode.get("c1"), mode.get("c32"), direct.get("c1"), direct.get("c32")
    rows: list[Row] = []
    if c1 and d1:
        p = c1["percentiles_ms"]
        dp = d1["percentiles_ms"]
        added = p["50"] - dp["50"]
        rows.append(Row("1 conn latency p50/p90/p99 (VM-X)", f"{fmt(p.get('50'))} / {fmt(p.get('90'))} / "
                        f"{fmt(p.get('99'))} ms", "", verdict(None, _errors(c1))))
        rows.append(Row("1 conn latency p50/p90/p99 (direct)", f"{fmt(dp.get('50'))} / {fmt(dp.get('90'))} / "
                        f"{fmt(dp.get('99'))} ms", "", verdict(None, _errors(d1))))
        rows.append(Row("added median latency (VM-X p50 - direct p50)", fmt(added, " ms", 3),
                        f"<= {TARGET_ADDED_P50_MS} ms", verdict(added <= TARGET_ADDED_P50_MS, _errors(c1, d1))))
    if c32 and d32:
        ratio = c32["rps"] / d32["rps"] if d32["rps"] else None
        rows.append(Row("32 conn req/s (VM-X)", fmt(c32["rps"], "", 0), f">= {TARGET_RPS_32:,.0f}",
                        verdict(c32["rps"] >= TARGET_RPS_32, _errors(c32))))
        rows.append(Row("32 conn req/s (direct)", fmt(d32["rps"], "", 0), "", verdict(None, _errors(d32))))
        rows.append(Row("32 conn ratio VM-X / direct", fmt(ratio, "", 3)))
        rows.append(Row("32 conn p99 VM-X / direct", f"{fmt(c32['percentiles_ms'].get('99'))} / "
                        f"{fmt(d32['percentiles_ms'].get('99'))} ms"))
    cpu = mode.get("cpu_32")
    if cpu:
        rows.append(Row("32 conn CPU: VM-X / upstream (% of one core)",
                        f"{fmt(cpu.get('vmx'), '', 0)} / {fmt(cpu.get('upstream'), '', 0)} %"))
    ttft, dttft = mode.get("ttft"), direct.get("ttft")
    if ttft and dttft:
        t_med, d_med = ttft.get("median_ms"), dttft.get("median_ms")
        added = t_med - d_med if t_med is not None and d_med is not None else None
        rows.append(Row("stream TTFT median/p90 (VM-X)", f"{fmt(t_med)} / {fmt(ttft.get('p90_ms'))} ms",
                        "", verdict(None, int(ttft.get("errors", 0)))))
        rows.append(Row("stream TTFT median/p90 (direct)", f"{fmt(d_med)} / {fmt(dttft.get('p90_ms'))} ms",
                        "", verdict(None, int(dttft.get("errors", 0)))))
        rows.append(Row("TTFT added (VM-X median - direct median)", fmt(added, " ms", 3),
                        f"<= {TARGET_TTFT_ADDED_MS} ms",
                        verdict(None if added is None else added <= TARGET_TTFT_ADDED_MS,
                                int(ttft.get("errors", 0)) + int(dttft.get("errors", 0)))))
    if mode.get("loadavg_before"):
        rows.append(Row("load average before the runs (1/5/15 min)", " / ".join(f"{x:.2f}" for x in
                                                                             mode["loadavg_before"])))
    rss = mode.get("rss")
    if rss:
        served = int(rss.get("requests", 0))
        ok = rss["mb"] <= TARGET_RSS_MB if rss.get("mb") is not None else None
        note = verdict(ok, int(rss.get("errors", 0)))
        if served < rss_requests_goal and note in ("PASS", "MISS"):
            note += f" (only {served:,} requests)"
        rows.append(Row(f"RSS after {served:,} requests (pid {rss.get('pid')})", fmt(rss.get("mb"), " MB", 1),
                        f"<= {TARGET_RSS_MB:.0f} MB @ {rss_requests_goal:,}", note))
        if rss.get("tree_mb") is not None and rss.get("tree_mb") != rss.get("mb"):
            rows.append(Row("RSS of the whole process tree", fmt(rss["tree_mb"], " MB", 1)))
    return rows


def render(title: str, rows: list[Row]) -> str:
    widths = [max(len(getattr(r, col)) for r in rows + [Row("metric", "value", "target", "verdict")])
              for col in ("label", "value", "target", "verdict")]
    header = Row("metric", "value", "target", "verdict")
    line = "-+-".join("-" * w for w in widths)
    out = [f"== {title}", _row(header, widths), line]
    out += [_row(r, widths) for r in rows]
    return "\n".join(out)


def _row(row: Row, widths: list[int]) -> str:
    return " | ".join(v.ljust(w) for v, w in zip((row.label, row.value, row.target, row.verdict), widths,
                                                   strict=True)).rstrip()


def upstream_rows(direct: dict[str, Any]) -> list[Row]:
    rows = []
    for key, label in (("c1", "1 conn"), ("c32", "32 conn")):
        run = direct.get(key)
        if run:
            rows.append(Row(f"upstream alone, {label}: req/s, p50, p99",
                            f"{fmt(run['rps'], '', 0)} req/s, {fmt(run['percentiles_ms'].get('50'), ' ms', 3)}, "
                            f"{fmt(run['percentiles_ms'].get('99'), ' ms', 3)}", "", verdict(None, _errors(run))))
    return rows


def write_json(results: dict[str, Any], path: Path = JSON_PATH) -> Path:
    path.write_text(json.dumps(results, indent=2, sort_keys=True, default=str))
    return path


def summary_lines(results: dict[str, Any]) -> list[str]:
    """Per-mode verdicts for the final lines of output."""
    lines = []
    for name, mode in (results.get("modes") or {}).items():
        if mode.get("skipped"):
            lines.append(f"{name}: skipped ({mode['skipped']})")
            continue
        if mode.get("error"):
            lines.append(f"{name}: FAILED ({mode['error'].splitlines()[0][:200]})")
            continue
        rows = mode_rows(mode, results.get("direct") or {}, int(_get(results, "meta", "rss_goal") or 0))
        verdicts = [r.verdict for r in rows if r.target]
        lines.append(f"{name}: " + ", ".join(f"{r.label.split(' (')[0]}={r.verdict}" for r in rows if r.target)
                     if verdicts else f"{name}: no targets measured")
    return lines
