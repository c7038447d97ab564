"""Shared fixtures: the storage profile, a running app, an admin client, the fake upstream."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import profile
from tests.support.servers import free_port, gateway_command, running

_ENV: dict[str, str] = {}
BATCH_CALLBACK_SECRET = "callback-secret-for-tests"


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module imports vmx_app: Settings must see this run's environment.
    try:
        _ENV.update(profile.configure())
    except profile.ProfileError as exc:
        raise pytest.UsageError(str(exc)) from exc  # a failure, never a skip
    from vmx_app.migrations import upgrade_to_head
    from vmx_app.settings import reset_settings

    reset_settings()
    upgrade_to_head()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests are not collected in the embedded profile (the production profile, which
    the test command always runs too, runs them): deselected and counted, never reported as skipped."""
    if profile.PROFILE != "embedded":
        return
    left = [item for item in items if item.get_closest_marker("production_only")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("production_only")]


def pytest_unconfigure(config: pytest.Config) -> None:
    if _ENV:
        profile.teardown(_ENV)


@pytest.fixture(scope="session")
def test_env() -> dict[str, str]:
    return dict(_ENV)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway-only VM-X process (API + completion) on a free port, on this run's database."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "gateway.log"
    url = f"http://127.0.0.1:{port}"
    # As behind a proxy on the same host: tests give failed logins an X-Forwarded-For of their own, so
    # they never throttle 127.0.0.1 (the other tests' address). Batch callbacks may reach the tests' local
    # receivers, signed with a known secret.
    env = {**os.environ, "TRUSTED_PROXIES": "127.0.0.1/32", "VMX_BATCH_CALLBACK_ALLOW_PRIVATE": "true",
           "VMX_BATCH_CALLBACK_SECRET": BATCH_CALLBACK_SECRET}
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=env, log=log):
        yield url


def login(app_url: str, email: str, password: str) -> str:
    response = httpx.post(f"{app_url}/v1/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    return str(response.json()["accessToken"])


@pytest.fixture(scope="session")
def admin_token(app_url: str) -> str:
    return login(app_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def admin_client(app_url: str, admin_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {admin_token}"},
                      timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[object]:
    from tests.fakes.upstream import FakeUpstream

    fake = FakeUpstream()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def data_dir() -> Path:
    return Path(os.environ["VMX_DATA_DIR"])
