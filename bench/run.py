"""VM-X benchmark: prints numbers next to the targets of issue 5 and writes /tmp/vmx-bench-latest.json.

    .venv/bin/python bench/run.py [--quick] [--profile] [--skip-reflex] [--upstream-only] [--keep-data]
                                  [--advanced-routing]

See bench/README.md for what each number means. Nothing here asserts: it measures and reports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable as a package
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.measure import Endpoint, Plan, load_runs, log, measure_vmx, ttft_run  # noqa: E402
from bench.procs import free_port, running_reflex, spawn, stop, stop_all, tail, wait_http  # noqa: E402
from bench.state import (  # noqa: E402
    UPSTREAM_MODEL,
    VMX,
    BenchTarget,
    chat_body,
    check_completion,
    embedded_env,
    fresh_data_dir,
    migrate,
    provision,
)
from bench.wrk import WRK, post_script  # noqa: E402

PYTHON = sys.executable
# A mode that fails is reported as failed and the next one still runs.
_MODE_ERRORS = (RuntimeError, OSError, ValueError, httpx.HTTPError, subprocess.SubprocessError)
REFLEX_START_TIMEOUT_S = 240.0


def start_upstream(workdir: Path) -> tuple[int, str, int]:
    port = free_port()
    log_path = workdir / "upstream.log"
    proc = spawn([PYTHON, str(ROOT / "bench" / "fast_upstream.py"), "--port", str(port)], env=dict(os.environ),
                 log=log_path)
    wait_http(f"http://127.0.0.1:{port}/v1/models", proc, 15, log_path)
    return proc.pid, f"http://127.0.0.1:{port}", port


def direct_endpoint(upstream: str) -> Endpoint:
    body, stream_body = chat_body(), chat_body(stream=True)
    body["model"] = stream_body["model"] = UPSTREAM_MODEL
    return Endpoint(f"{upstream}/v1/chat/completions", body, stream_body, {"Authorization": "Bearer sk-bench"})


def vmx_endpoint(base: str, target: BenchTarget) -> Endpoint:
    return Endpoint(base + target.completion_path(), chat_body(), chat_body(stream=True),
                    {"Authorization": f"Bearer {target.api_key}"})


def make_profiler(args: argparse.Namespace, endpoint: Endpoint, plan: Plan, workdir: Path,
                  meta: dict[str, Any]) -> Any:
    if not args.profile:
        return None
    from bench.pyspy import ensure_py_spy, profile_run

    meta["py_spy_installed_now"] = ensure_py_spy()

    def run(pid: int) -> dict[str, Any]:
        log("  profiling: py-spy during an extra 32-connection run (measured runs stay unperturbed)")
        script = workdir / "profile.lua"
        script.write_text(post_script(endpoint.body, endpoint.headers))
        return profile_run(pid, endpoint.url, script, plan.duration_s, workdir)

    return run


def gateway_mode(args: argparse.Namespace, plan: Plan, workdir: Path, env: dict[str, str], password: str,
                 upstream: str, upstream_pid: int, meta: dict[str, Any]) -> tuple[dict[str, Any], BenchTarget | None]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / "gateway.log"
    log(f"starting gateway-only VM-X on {base}")
    proc = spawn([str(VMX), "gateway", "--host", "127.0.0.1", "--port", str(port), "--no-migrate",
                  "--workers", str(args.workers)], env=env, log=log_path, cwd=ROOT)
    try:
        started = wait_http(f"{base}/healthz", proc, 60, log_path)
        log(f"  up in {started:.1f} s; provisioning through the management API")
        target = provision(base, password, upstream, advanced=args.advanced_routing)
        meta["check_headers"] = check_completion(base, target)
        endpoint = vmx_endpoint(base, target)
        result = measure_vmx(endpoint, plan, workdir, root_pid=proc.pid, port=port, upstream_pid=upstream_pid,
                             name="gateway", served_before=1, with_topup=True,
                             profile=make_profiler(args, endpoint, plan, workdir, meta))
        result["start_s"] = started
        return result, target
    finally:
        stop(proc)
        meta["gateway_log_tail"] = tail(log_path, 1500)


def reflex_mode(plan: Plan, workdir: Path, env: dict[str, str], target: BenchTarget,
                upstream_pid: int) -> dict[str, Any]:
    others = running_reflex()
    if others:
        return {"skipped": "another reflex process is running (it would share .web): " + others[0][:150]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = workdir / "reflex.log"
    env = dict(env)
    env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    log(f"starting Reflex-hosted VM-X on {base} (cold start: building the frontend can take a minute)")
    proc = spawn([str(VMX), "run", "--host", "127.0.0.1", "--port", str(port)], env=env, log=log_path, cwd=ROOT)
    try:
        started = wait_http(f"{base}/healthz", proc, REFLEX_START_TIMEOUT_S, log_path)
        log(f"  up in {started:.1f} s")
        check_completion(base, target)
        result = measure_vmx(vmx_endpoint(base, target), plan, workdir, root_pid=proc.pid, port=port,
                             upstream_pid=upstream_pid, name="reflex", served_before=1, with_topup=False)
        result["start_s"] = started
        return result
    finally:
        stop(proc)


def observability_env(args: argparse.Namespace) -> dict[str, str]:
    """What --metrics, --access-log and --redis-url change in the VM-X processes' environment."""
    env = {"METRICS_PROMETHEUS": "true" if args.metrics else "false",
           "LOG_LEVEL": "INFO" if args.access_log else "WARNING"}
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = Plan.for_args(args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="vmx-bench-logs-"))
    meta: dict[str, Any] = {"quick": args.quick, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "cpus": os.cpu_count(), "wrk": WRK, "duration_s": plan.duration_s,
                            "rss_goal": plan.rss_goal, "logs": str(workdir)}
    results: dict[str, Any] = {"meta": meta, "modes": {}}
    log(f"logs in {workdir}")
    upstream_pid, upstream, _ = start_upstream(workdir)
    log(f"fast upstream at {upstream} (pid {upstream_pid}); measuring it alone (= the direct call)")
    direct_ep = direct_endpoint(upstream)
    direct = load_runs(direct_ep, plan, workdir, "direct", cpu_roots={"upstream": upstream_pid})
    direct["ttft"] = ttft_run(direct_ep, plan, "direct")
    results["direct"] = direct
    if args.upstream_only:
        return results

    data_dir, password = fresh_data_dir()
    meta["data_dir"] = str(data_dir)
    try:
        env = embedded_env(data_dir, password)
        env.update(observability_env(args))
        meta["observability"], meta["workers"] = observability_env(args), args.workers
        vmx_modes(args, plan, workdir, env, password, upstream, upstream_pid, results)
    finally:
        stop_all()  # nothing may hold the database when it is removed
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    return results


def vmx_modes(args: argparse.Namespace, plan: Plan, workdir: Path, env: dict[str, str], password: str,
              upstream: str, upstream_pid: int, results: dict[str, Any]) -> None:
    modes, meta = results["modes"], results["meta"]
    log(f"fresh embedded data dir {meta['data_dir']}: migrating")
    migrate(env, workdir / "migrate.log")
    target: BenchTarget | None = None
    try:
        modes["gateway"], target = gateway_mode(args, plan, workdir, env, password, upstream, upstream_pid, meta)
    except _MODE_ERRORS as exc:
        modes["gateway"] = {"error": str(exc)}
        log(f"gateway mode FAILED: {exc}")
    if args.skip_reflex:
        modes["reflex"] = {"skipped": "--skip-reflex"}
    elif target is None:
        modes["reflex"] = {"skipped": "gateway mode did not provision the state"}
    else:
        try:
            modes["reflex"] = reflex_mode(plan, workdir, env, target, upstream_pid)
        except _MODE_ERRORS as exc:
            modes["reflex"] = {"error": str(exc)}
            log(f"reflex mode FAILED: {exc}")


def print_results(results: dict[str, Any]) -> None:
    direct = results.get("direct") or {}
    print()
    print(report.render("upstream alone (it must not be the bottleneck)", report.upstream_rows(direct)))
    for name, mode in results.get("modes", {}).items():
        if mode.get("skipped") or mode.get("error"):
            continue
        workers = results["meta"].get("workers", 1)
        title = {"gateway": f"VM-X gateway-only (uvicorn, {workers} worker{'s' if workers > 1 else ''}, embedded)",
                 "reflex": "VM-X Reflex-hosted (vmx run)"}.get(name, name)
        print()
        print(report.render(title, report.mode_rows(mode, direct, results["meta"]["rss_goal"])))
        if mode.get("profile"):
            from bench.pyspy import print_top

            print_top(mode["profile"])
    print()
    for line in report.summary_lines(results):
        print(line)


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 s wrk runs, RSS after 10,000 requests")
    parser.add_argument("--profile", action="store_true", help="py-spy flamegraph of the gateway under load")
    parser.add_argument("--skip-reflex", action="store_true", help="only the gateway-only mode")
    parser.add_argument("--upstream-only", action="store_true", help="only measure the fake upstream")
    parser.add_argument("--keep-data", action="store_true", help="keep the embedded data dir (audit rows)")
    parser.add_argument("--advanced-routing", action="store_true",
                        help="the resource's never-matching rule as a CEL expression instead of a predicate")
    parser.add_argument("--metrics", action="store_true", help="metrics on (METRICS_PROMETHEUS=true)")
    parser.add_argument("--access-log", action="store_true", help="LOG_LEVEL=INFO: one JSON access line a request")
    parser.add_argument("--workers", type=int, default=1, help="gateway workers (more than one needs --redis-url)")
    parser.add_argument("--redis-url", default=None, help="REDIS_URL for the gateway (shared counters)")
    args = parser.parse_args(argv)
    if not Path(WRK).exists():
        print(f"wrk not found at {WRK}: apt-get install wrk", file=sys.stderr)
        return 2
    # Both signals unwind through `finally: stop_all()`; SIGINT explicitly, since a shell that starts us in
    # the background leaves it ignored.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    started = time.monotonic()
    results: dict[str, Any] = {}
    try:
        results = run(args)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything started", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        stop_all()
    results["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)
    print_results(results)
    path = report.write_json(results)
    print(f"\nresults written to {path} (elapsed {results['meta']['elapsed_s']} s)")
    failed = any(m.get("error") for m in results.get("modes", {}).values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
