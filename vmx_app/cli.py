"""`vmx run | gateway | migrate | create-admin | rotate-key`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from vmx_app.migrations import ROOT


def _with_tools_path(env: dict[str, str]) -> dict[str, str]:
    """Reflex needs bun; the README's install puts it (from the npm registry) under .tools/."""
    tools_bin = ROOT / ".tools" / "node_modules" / ".bin"
    if tools_bin.is_dir():
        env["PATH"] = f"{tools_bin}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    return env


def cmd_migrate(_: argparse.Namespace) -> int:
    from vmx_app.migrations import upgrade_to_head

    upgrade_to_head()
    print("database at head")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from vmx_app.services.bootstrap import create_admin

    created, password = asyncio.run(create_admin(email=args.email, password=args.password))
    if not created:
        print(f"user {args.email} already exists")
        return 1
    if password:
        print(f"admin {args.email} created with password: {password} (change it at first login)")
    else:
        print(f"admin {args.email} created")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Console + gateway: migrate, then Reflex in production mode on one port."""
    from vmx_app.startup_checks import check_dependencies, load_settings

    check_dependencies(load_settings(1), migrate=True)
    env = _with_tools_path(dict(os.environ))
    env["VMX_PORT"] = str(args.port)
    env["VMX_HOST"] = args.host  # where the playground reaches this process's gateway
    command = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
               "--frontend-port", str(args.port), "--backend-port", str(args.port),
               "--backend-host", args.host, "--loglevel", "warning"]
    os.chdir(ROOT)
    os.execvpe(command[0], command, env)
    return 0  # not reached


def cmd_gateway(args: argparse.Namespace) -> int:
    """Gateway only: the FastAPI app under uvicorn with uvloop, for scale-out pods."""
    import uvicorn

    from vmx_app.api.slow_clients import HeaderTimeoutProtocol
    from vmx_app.settings import reset_settings
    from vmx_app.startup_checks import check_dependencies, load_settings

    # The start-up line says where this process listens (workers inherit the environment).
    os.environ.update(VMX_HOST=args.host, VMX_PORT=str(args.port))
    reset_settings()
    settings = load_settings(args.workers)
    check_dependencies(settings, migrate=not args.no_migrate)
    # SIGTERM: /readyz 503, stop accepting, in-flight requests and streams drain for up to the grace period.
    uvicorn.run("vmx_app.api.gateway_app:create_gateway_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, loop="uvloop", http=HeaderTimeoutProtocol, log_level="warning",
                access_log=False, timeout_keep_alive=settings.vmx_keepalive_timeout_seconds,
                timeout_graceful_shutdown=settings.vmx_shutdown_grace_seconds,  # type: ignore[arg-type]
                proxy_headers=False)  # X-Forwarded-For is ours to judge (TRUSTED_PROXIES), not uvicorn's
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from vmx_app.services.key_rotation import rotate_key

    count = asyncio.run(rotate_key(new_key_b64=args.new_key, key_file=Path(args.key_file) if args.key_file else None))
    print(f"re-encrypted {count} connection(s) under the new key")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vmx", description="VM-X AI gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="console + gateway on one port (Reflex, production mode)")
    run.add_argument("--host", default=os.environ.get("VMX_HOST", "0.0.0.0"))
    run.add_argument("--port", type=int, default=int(os.environ.get("VMX_PORT", "3000")))
    run.set_defaults(func=cmd_run)

    gw = sub.add_parser("gateway", help="gateway and API only (uvicorn + uvloop)")
    gw.add_argument("--host", default="0.0.0.0")
    gw.add_argument("--port", type=int, default=8000)
    gw.add_argument("--workers", type=int, default=1)
    gw.add_argument("--no-migrate", action="store_true", help="skip the schema upgrade at start")
    gw.set_defaults(func=cmd_gateway)

    mig = sub.add_parser("migrate", help="upgrade the database schema to head")
    mig.set_defaults(func=cmd_migrate)

    admin = sub.add_parser("create-admin", help="create an admin user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", default=None, help="omit to generate one (printed once)")
    admin.set_defaults(func=cmd_create_admin)

    rot = sub.add_parser("rotate-key", help="re-encrypt every secret under a new libsodium key")
    rot.add_argument("--new-key", default=None, help="base64 32-byte key; omit to generate one")
    rot.add_argument("--key-file", default=None, help="where the embedded profile keeps its key")
    rot.set_defaults(func=cmd_rotate_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        from pydantic import ValidationError

        from vmx_app.errors import DomainError
        from vmx_app.startup_checks import StartupRefused, validation_problems

        if isinstance(exc, ValidationError):  # settings read by a command that did not load them first
            exc = StartupRefused(validation_problems(exc))
        if isinstance(exc, StartupRefused):
            for problem in exc.problems:
                print(f"vmx: {problem}", file=sys.stderr)
            return 2
        if isinstance(exc, DomainError):
            print(f"vmx: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
