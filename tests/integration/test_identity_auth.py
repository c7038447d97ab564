"""Login, sessions, throttling, password changes: through HTTP against a running VM-X."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import login
from tests.support import profile
from tests.support.servers import free_port, gateway_command, running
from vmx_app.db import dispose_engines, session_scope
from vmx_app.models import AuthSession, LoginAttempt
from vmx_app.services.login_throttle import IP_MAX_FAILURES

PASSWORD = "Identity-pass-123"


def make_user(admin: httpx.Client, *, role: str = "power-user", state: str = "ACTIVE",
              password: str = PASSWORD) -> tuple[str, str]:
    email = f"u-{uuid.uuid4().hex[:10]}@identity.test"
    r = admin.post("/v1/user", json={"email": email, "name": "Test User", "password": password, "roles": [role],
                                     "state": state})
    assert r.status_code == 201, r.text
    return email, str(r.json()["id"])


def fresh_ip() -> dict[str, str]:
    """Failed logins from a client IP of their own, so they never throttle other tests' logins."""
    return {"X-Forwarded-For": f"192.0.2.{uuid.uuid4().int % 250 + 1}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_bearer_token_and_session_cookie(app_url: str) -> None:
    r = httpx.post(f"{app_url}/v1/auth/login", json={"email": profile.ADMIN_EMAIL.upper(),
                                                     "password": profile.ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 12 * 3600 and len(body["accessToken"]) >= 40
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"vmx_session={body['accessToken']};")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    # The cookie alone authenticates the console.
    me = httpx.get(f"{app_url}/v1/auth/me", cookies={"vmx_session": body["accessToken"]})
    assert me.status_code == 200 and me.json()["email"] == profile.ADMIN_EMAIL
    assert me.json()["isAdmin"] is True and me.json()["roles"] == ["admin"]
    assert me.json()["permissions"]["user:create"] == "all"


def test_wrong_password_unknown_email_and_garbage_answer_the_same(app_url: str, admin_client: httpx.Client) -> None:
    email, _ = make_user(admin_client)
    answers = []
    for creds in ({"email": email, "password": "wrong-password"},
                  {"email": f"nobody-{uuid.uuid4().hex[:6]}@identity.test", "password": PASSWORD},
                  {"email": "not an email", "password": PASSWORD}):
        r = httpx.post(f"{app_url}/v1/auth/login", json=creds, headers=fresh_ip())
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401 and answers[0][1]["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("path", ["/v1/auth/me", "/v1/user", "/v1/workspace"])
@pytest.mark.parametrize("auth", [None, "Bearer not-a-session", "Basic YWRtaW46YWRtaW4=",
                                  "Bearer vmx-" + "a" * 48])
def test_missing_or_invalid_credentials_get_401(app_url: str, path: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = httpx.get(f"{app_url}{path}", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"


async def test_repeated_failures_from_one_ip_are_throttled(app_url: str) -> None:
    ip = f"198.51.100.{uuid.uuid4().int % 250 + 1}"  # uvicorn trusts X-Forwarded-For from localhost
    # All but one of the failures are written directly (each real one costs an argon2 run); the last
    # goes through HTTP, which shows the server records failures by client IP.
    try:
        async with session_scope() as session:
            for i in range(IP_MAX_FAILURES - 1):
                session.add(LoginAttempt(email=f"spray-{i}@identity.test", source_ip=ip))
    finally:
        await dispose_engines()
    r = httpx.post(f"{app_url}/v1/auth/login", headers={"X-Forwarded-For": ip},
                   json={"email": f"spray-{uuid.uuid4().hex[:6]}@identity.test", "password": "x"})
    assert r.status_code == 401
    r = httpx.post(f"{app_url}/v1/auth/login", headers={"X-Forwarded-For": ip},
                   json={"email": profile.ADMIN_EMAIL, "password": profile.ADMIN_PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    other = httpx.post(f"{app_url}/v1/auth/login", headers={"X-Forwarded-For": "203.0.113.9"},
                       json={"email": profile.ADMIN_EMAIL, "password": profile.ADMIN_PASSWORD})
    assert other.status_code == 200


def test_logout_revokes_the_session_and_clears_the_cookie(app_url: str) -> None:
    token = login(app_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    assert httpx.get(f"{app_url}/v1/auth/me", headers=bearer(token)).status_code == 200
    r = httpx.post(f"{app_url}/v1/auth/logout", headers=bearer(token))
    assert r.status_code == 204
    assert 'vmx_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert httpx.get(f"{app_url}/v1/auth/me", headers=bearer(token)).status_code == 401
    assert httpx.get(f"{app_url}/v1/auth/me", cookies={"vmx_session": token}).status_code == 401


async def test_expired_sessions_are_refused(app_url: str) -> None:
    token = login(app_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    me = httpx.get(f"{app_url}/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200
    from vmx_app.auth.tokens import hash_session_token

    try:
        async with session_scope() as session:
            await session.exec(update(AuthSession).where(  # type: ignore[call-overload]
                AuthSession.token_hash == hash_session_token(token)).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    finally:
        await dispose_engines()
    r = httpx.get(f"{app_url}/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_forced_password_change(app_url: str, admin_client: httpx.Client) -> None:
    email, _ = make_user(admin_client, state="CHANGE_PASSWORD")
    token = login(app_url, email, PASSWORD)
    second = login(app_url, email, PASSWORD)
    with httpx.Client(base_url=app_url, headers=bearer(token)) as c:
        r = c.get("/v1/workspace")
        assert r.status_code == 403 and r.json()["error"]["code"] == "password_change_required"
        assert c.get("/v1/auth/me").json()["state"] == "CHANGE_PASSWORD"
        r = c.post("/v1/auth/change-password", json={"currentPassword": "wrong", "newPassword": "Another-pass-1"})
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "currentPassword"
        r = c.post("/v1/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": PASSWORD})
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "newPassword"
        r = c.post("/v1/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": "short"})
        assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "newPassword"
        r = c.post("/v1/auth/change-password", json={"currentPassword": PASSWORD, "newPassword": "Another-pass-1"})
        assert r.status_code == 204
        assert c.get("/v1/workspace").status_code == 200
        assert c.get("/v1/auth/me").json()["state"] == "ACTIVE"
    # The other session ended with the password change; the old password no longer works.
    assert httpx.get(f"{app_url}/v1/auth/me", headers=bearer(second)).status_code == 401
    assert httpx.post(f"{app_url}/v1/auth/login", json={"email": email, "password": PASSWORD},
                      headers=fresh_ip()).status_code == 401
    assert login(app_url, email, "Another-pass-1")


def test_deactivated_user_loses_sessions_and_cannot_log_in(app_url: str, admin_client: httpx.Client) -> None:
    email, user_id = make_user(admin_client)
    token = login(app_url, email, PASSWORD)
    r = admin_client.put(f"/v1/user/{user_id}", json={"state": "INACTIVE"})
    assert r.status_code == 200 and r.json()["state"] == "INACTIVE"
    assert httpx.get(f"{app_url}/v1/auth/me", headers=bearer(token)).status_code == 401
    r = httpx.post(f"{app_url}/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=fresh_ip())
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_auth_config_without_oidc(app_url: str) -> None:
    r = httpx.get(f"{app_url}/v1/auth/config")
    assert r.status_code == 200 and r.json() == {"oidcEnabled": False, "ssoLoginUrl": None}
    assert httpx.get(f"{app_url}/v1/auth/oidc/login", follow_redirects=False).status_code == 404


def test_no_password_or_secret_in_responses_or_logs(app_url: str, admin_client: httpx.Client,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = f"Secret-{uuid.uuid4().hex}"
    email, user_id = make_user(admin_client, password=secret)
    created = admin_client.get(f"/v1/user/{user_id}").text
    login(app_url, email, secret)
    httpx.post(f"{app_url}/v1/auth/login", json={"email": email, "password": secret + "x"}, headers=fresh_ip())
    for text in (created, admin_client.get("/v1/user", params={"pageSize": 1000}).text):
        assert secret not in text and "passwordHash" not in text and "argon2" not in text
    logs = list(Path(tmp_path_factory.getbasetemp()).glob("logs*/*.log"))
    assert logs, "the gateway log file was not found"
    for log in logs:
        assert secret not in log.read_text(errors="replace")


@pytest.fixture
def fresh_install(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a VM-X that starts on an empty database (a new Postgres DB in production)."""
    env = {k: v for k, v in os.environ.items() if k != "VMX_ADMIN_PASSWORD"}
    env |= {"VMX_DATA_DIR": str(tmp_path), "VMX_ADMIN_EMAIL": "first@vmx.test"}
    db = None
    if env.get("DATABASE_URL"):
        db = f"vmx_test_{env['VMX_TEST_RUN_ID']}_first"
        profile._pg(f"CREATE DATABASE {db}")
        env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{db}"
    try:
        yield env
    finally:
        if db:
            profile._pg(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def test_first_start_prints_a_generated_password_and_forces_a_change(fresh_install: dict[str, str],
                                                                      tmp_path: Path) -> None:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", tmp_path / "first.log"
    command = [a for a in gateway_command(port) if a != "--no-migrate"]
    with running(command, ready_url=f"{url}/readyz", env=fresh_install, log=log):
        lines = [line for line in log.read_text().splitlines() if "first admin" in line]
        assert len(lines) == 1, log.read_text()
        password = re.search(r"first@vmx\.test / (\S+) ", lines[0])
        assert password and len(password.group(1)) >= 16
        # Gateway-only mode says where it serves (no console) and what happened to the admin.
        assert f"VM-X gateway: serving {url}/v1 (no console in this mode; admin first@vmx.test created with " \
               "the password printed above)" in log.read_text()
        token = login(url, "first@vmx.test", password.group(1))
        with httpx.Client(base_url=url, headers=bearer(token)) as c:
            assert c.get("/v1/auth/me").json()["state"] == "CHANGE_PASSWORD"
            assert c.get("/v1/user").json()["error"]["code"] == "password_change_required"
            assert c.post("/v1/auth/change-password", json={"currentPassword": password.group(1),
                                                            "newPassword": "Chosen-pass-123"}).status_code == 204
            assert c.get("/v1/user").status_code == 200
    # A restart creates nothing and prints no password again.
    with running(command, ready_url=f"{url}/readyz", env=fresh_install, log=tmp_path / "second.log"):
        assert "first admin" not in (tmp_path / "second.log").read_text()
        assert "(no console in this mode; admin first@vmx.test already exists)" in \
            (tmp_path / "second.log").read_text()
        assert login(url, "first@vmx.test", "Chosen-pass-123")
