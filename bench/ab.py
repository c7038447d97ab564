"""Interleaved A/B throughput: two VM-X servers up at once, loaded in turns (A, B, A, B, ...), so both
see the same background load of this shared machine; prints each round and the median ratio B/A.

    .venv/bin/python bench/ab.py metrics   # gateway, metrics off (A) vs METRICS_PROMETHEUS=true (B)
    .venv/bin/python bench/ab.py modes     # `vmx gateway` (A) vs `vmx run`, Reflex-hosted (B)
    .venv/bin/python bench/ab.py workers   # gateway with 1 worker (A) vs 2 workers (B), Redis counters
    .venv/bin/python bench/ab.py same      # two identical gateways: the harness's own spread
    options: --rounds 5 --seconds 5 --connections 32
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import cpu_seconds, log  # noqa: E402
from bench.procs import children, free_port, spawn, stop_all, wait_http  # noqa: E402
from bench.run import REFLEX_START_TIMEOUT_S, start_upstream, vmx_endpoint  # noqa: E402
from bench.state import VMX, check_completion, embedded_env, fresh_data_dir, migrate, provision  # noqa: E402
from bench.wrk import post_script, run_wrk  # noqa: E402

Server = tuple[str, dict[str, str], list[str]]  # `vmx` command, environment, extra arguments
REDIS = {"REDIS_URL": "redis://127.0.0.1:6379/15", "REDIS_KEY_PREFIX": "vmx-ab:"}
CONFIGS: dict[str, tuple[Server, Server]] = {
    "metrics": (("gateway", {"METRICS_PROMETHEUS": "false"}, []), ("gateway", {"METRICS_PROMETHEUS": "true"}, [])),
    "modes": (("gateway", {}, []), ("run", {}, [])),
    "workers": (("gateway", REDIS, ["--workers", "1"]), ("gateway", REDIS, ["--workers", "2"])),
    "same": (("gateway", {}, []), ("gateway", {}, [])),  # calibration: how far apart two identical servers measure
}


def _server(kind: str, env: dict[str, str], extra: list[str], workdir: Path, name: str) -> tuple[str, int]:
    port = free_port()
    command = [str(VMX), kind, "--host", "127.0.0.1", "--port", str(port), *extra]
    if kind == "gateway":
        command.append("--no-migrate")
    else:
        env = {**env, "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{env.get('PATH', '')}"}
    proc = spawn(command, env=env, log=workdir / f"{name}.log", cwd=ROOT)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, REFLEX_START_TIMEOUT_S, workdir / f"{name}.log")
    return f"http://127.0.0.1:{port}", proc.pid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("compare", choices=sorted(CONFIGS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    data_dir, password = fresh_data_dir()
    workdir = data_dir / "logs"
    workdir.mkdir()
    try:
        _, upstream, _ = start_upstream(workdir)
        base_env = embedded_env(data_dir, password)
        migrate(base_env, workdir / "migrate.log")
        (kind_a, env_a, extra_a), (kind_b, env_b, extra_b) = CONFIGS[args.compare]
        url_a, pid_a = _server(kind_a, {**base_env, **env_a}, extra_a, workdir, "a")
        target = provision(url_a, password, upstream)
        url_b, pid_b = _server(kind_b, {**base_env, **env_b}, extra_b, workdir, "b")
        pids = {"a": pid_a, "b": pid_b}
        script = workdir / "post.lua"
        rounds: list[dict[str, Any]] = []
        for url in (url_a, url_b):
            check_completion(url, target)
            endpoint = vmx_endpoint(url, target)
            script.write_text(post_script(endpoint.body, endpoint.headers))
            run_wrk(endpoint.url, script, threads=2, connections=args.connections, duration_s=2)  # warm-up
        for i in range(args.rounds):
            row: dict[str, Any] = {}
            for name, url in (("a", url_a), ("b", url_b)) if i % 2 == 0 else (("b", url_b), ("a", url_a)):
                endpoint = vmx_endpoint(url, target)
                tree = [pids[name], *children(pids[name])]
                cpu_before = cpu_seconds(tree)
                result = run_wrk(endpoint.url, script, threads=2, connections=args.connections,
                                 duration_s=args.seconds)
                if result.errors:
                    raise RuntimeError(f"{name}: {result.errors} errors")
                row[name] = result.rps
                # CPU per request barely depends on how much CPU the busy machine left us, unlike req/s.
                row[name + "_us"] = (cpu_seconds(tree) - cpu_before) / result.requests * 1e6
            rounds.append(row)
            log(f"round {i + 1}: A {row['a']:,.0f} req/s {row['a_us']:.0f} us CPU/req, "
                f"B {row['b']:,.0f} req/s {row['b_us']:.0f} us CPU/req, B/A {row['b'] / row['a']:.3f}")
        ratios = [r["b"] / r["a"] for r in rounds]
        print(f"{args.compare}: A = {kind_a} {' '.join(extra_a)} {env_a or ''}, "
              f"B = {kind_b} {' '.join(extra_b)} {env_b or ''}")
        print(f"median A {statistics.median(r['a'] for r in rounds):,.0f} req/s, "
              f"median B {statistics.median(r['b'] for r in rounds):,.0f} req/s, "
              f"median B/A {statistics.median(ratios):.3f} (rounds: {', '.join(f'{x:.3f}' for x in ratios)})")
        cpu_a, cpu_b = (statistics.median(r[k] for r in rounds) for k in ("a_us", "b_us"))
        print(f"CPU per request (server process tree): median A {cpu_a:.0f} us, B {cpu_b:.0f} us, "
              f"B/A {cpu_b / cpu_a:.3f}")
    finally:
        stop_all()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
