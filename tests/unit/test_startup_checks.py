"""Start-up refusals: one line per problem naming the variable and the fix, exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.servers import ROOT, free_port
from vmx_app.settings import Settings
from vmx_app.startup_checks import schema_problems, settings_problems


def test_each_problem_names_its_variable_and_fix() -> None:
    settings = Settings(database_url="mysql://x", redis_url="localhost:6379", encryption_provider="aws-kms",
                        oidc_federated_client_id="vmx", otel_exporter_otlp_endpoint="collector:4318",
                        cors_allowed_origins="https://ok.example.com,not an origin")
    problems = settings_problems(settings, workers=1)
    starts = sorted(p.split(":", 1)[0] for p in problems)
    assert starts == ["AWS_KMS_KEY_ID", "CORS_ALLOWED_ORIGINS", "DATABASE_URL", "OIDC_FEDERATED_ISSUER",
                      "OTEL_EXPORTER_OTLP_ENDPOINT", "REDIS_URL"]
    assert any("redis://host:6379/0" in p for p in problems)
    assert settings_problems(Settings(redis_url=None), workers=2) == [
        "REDIS_URL: 2 workers need shared counters; set REDIS_URL (redis://host:6379/0) or run one worker in the "
        "embedded profile"]
    assert settings_problems(Settings(redis_url="redis://r:6379/0", database_url="postgresql://u:p@db/vmx"),
                             workers=4) == []


def test_schema_older_than_code_is_refused_newer_is_served() -> None:
    known = {"0001", "0002"}
    assert schema_problems("0002", "0002", known) == []
    assert "run `vmx migrate`" in schema_problems("0001", "0002", known)[0]
    assert "vmx migrate" in schema_problems(None, "0002", known)[0]
    assert schema_problems("0003_from_a_newer_release", "0002", known) == []


def _vmx(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS", "OIDC", "LOG_"))}
    return subprocess.run([sys.executable, "-m", "vmx_app.cli", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("env", "variable"), [
    ({"DATABASE_URL": "postgres//nohost"}, "DATABASE_URL"),
    ({"ENCRYPTION_PROVIDER": "aws-kms"}, "AWS_KMS_KEY_ID"),
    ({"OIDC_FEDERATED_ISSUER": "https://login.example.com"}, "OIDC_FEDERATED_CLIENT_ID"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
])
def test_cli_refuses_with_one_line_and_no_traceback(env: dict[str, str], variable: str, tmp_path: object) -> None:
    result = _vmx("gateway", "--port", "1", **env, VMX_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vmx: {variable}: ")
    assert "Traceback" not in result.stderr


def test_gateway_workers_without_redis(tmp_path: object) -> None:
    result = _vmx("gateway", "--workers", "2", VMX_DATA_DIR=str(tmp_path))
    assert result.returncode == 2 and result.stderr.startswith("vmx: REDIS_URL: 2 workers")


def test_no_migrate_refuses_an_unmigrated_database(tmp_path: object) -> None:
    result = _vmx("gateway", "--no-migrate", "--port", "1", VMX_DATA_DIR=str(tmp_path))
    assert result.returncode == 2 and "run `vmx migrate`" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_and_redis_are_one_line_each(tmp_path: object) -> None:
    closed = free_port()
    result = _vmx("gateway", "--port", "1", VMX_DATA_DIR=str(tmp_path),
                  DATABASE_URL=f"postgresql://u:p@127.0.0.1:{closed}/vmx", REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(":", 2)[1].strip() for line in lines] == ["DATABASE_URL", "REDIS_URL"], lines
    assert all("cannot reach" in line for line in lines)
