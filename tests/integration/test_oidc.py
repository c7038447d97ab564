"""OIDC SSO end to end against a real OpenID provider (npm `oidc-provider`, run with Node).

The provider requires PKCE; its dev login form accepts any login name, which becomes the email."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import login
from tests.support import profile
from tests.support.servers import free_port, gateway_command, running

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "fakes" / "oidc_provider"
CLIENT_ID = "vmx-console"
CLIENT_SECRET = "test-client-secret"


def _install_provider() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed to install the test OpenID provider (oidc-provider)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True, timeout=300,
                   capture_output=True)


@dataclass(frozen=True)
class Sso:
    app: str
    issuer: str


@pytest.fixture(scope="module")
def sso(app_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sso]:
    """The provider, and a second VM-X process (same database) with SSO configured."""
    _install_provider()
    provider_port, app_port = free_port(), free_port()
    issuer, app = f"http://127.0.0.1:{provider_port}", f"http://127.0.0.1:{app_port}"
    logs = tmp_path_factory.mktemp("logs")
    provider_env = dict(os.environ, PORT=str(provider_port), CLIENT_ID=CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET,
                        REDIRECT_URI=f"{app}/v1/auth/oidc/callback")
    app_env = dict(os.environ, OIDC_FEDERATED_ISSUER=issuer, OIDC_FEDERATED_CLIENT_ID=CLIENT_ID,
                   OIDC_FEDERATED_CLIENT_SECRET=CLIENT_SECRET, VMX_BASE_URL=app)
    with running([shutil.which("node") or "node", str(PROVIDER_DIR / "index.js")],
                 ready_url=f"{issuer}/.well-known/openid-configuration", env=provider_env, log=logs / "oidc.log"), \
            running(gateway_command(app_port), ready_url=f"{app}/readyz", env=app_env, log=logs / "sso-gateway.log"):
        yield Sso(app, issuer)


def _absolute(response: httpx.Response) -> str:
    return str(response.url.join(response.headers["location"]))


def start(client: httpx.Client, sso: Sso) -> httpx.Response:
    r = client.get(f"{sso.app}/v1/auth/oidc/login")
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(f"{sso.issuer}/auth?")
    return r


def through_provider(client: httpx.Client, sso: Sso, start_response: httpx.Response, login_name: str) -> str:
    """Walk the provider's login and consent forms; answer the callback URL it redirects to."""
    url = _absolute(start_response)
    for _ in range(12):
        if url.startswith(sso.app):
            return url
        r = client.get(url)
        if r.status_code in (302, 303):
            url = _absolute(r)
            continue
        assert r.status_code == 200, r.text[:500]
        action = re.search(r'<form[^>]*action="([^"]+)"', r.text)
        prompt = re.search(r'name="prompt" value="([^"]+)"', r.text)
        assert action and prompt, r.text[:500]
        form = {"prompt": prompt.group(1)}
        if form["prompt"] == "login":
            form |= {"login": login_name, "password": "ignored"}
        posted = client.post(str(r.url.join(action.group(1))), data=form)
        assert posted.status_code in (302, 303), posted.text[:500]
        url = _absolute(posted)
    raise AssertionError("the provider never redirected back")


def sso_login(sso: Sso, login_name: str) -> tuple[httpx.Response, httpx.Client]:
    client = httpx.Client(timeout=30)
    callback = through_provider(client, sso, start(client, sso), login_name)
    return client.get(callback), client


def test_auth_config_offers_sso(sso: Sso) -> None:
    r = httpx.get(f"{sso.app}/v1/auth/config")
    assert r.json() == {"oidcEnabled": True, "ssoLoginUrl": "/v1/auth/oidc/login"}


def test_authorization_request_uses_pkce_state_and_nonce(sso: Sso) -> None:
    with httpx.Client() as client:
        r = start(client, sso)
    query = dict(httpx.URL(r.headers["location"]).params)
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert query["state"] and query["nonce"] and query["response_type"] == "code"
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("vmx_oidc=") and "HttpOnly" in cookie and "Path=/v1/auth/oidc" in cookie


def test_first_sso_login_creates_the_user_with_the_default_role(sso: Sso) -> None:
    email = f"alice-{uuid.uuid4().hex[:6]}@sso.test"
    r, client = sso_login(sso, email)
    assert r.status_code == 302 and r.headers["location"] == "/", r.text
    set_cookie = r.headers["set-cookie"]
    assert "vmx_session=" in set_cookie and "HttpOnly" in set_cookie and "samesite=lax" in set_cookie.lower()
    token = client.cookies.get("vmx_session")
    assert token
    # The session works for the console (cookie) and the API (bearer).
    me = httpx.get(f"{sso.app}/v1/auth/me", cookies={"vmx_session": token}).json()
    assert me["email"] == email and me["sso"] is True and me["roles"] == ["power-user"]
    assert me["name"].startswith("SSO ")
    api = httpx.post(f"{sso.app}/v1/workspace", headers={"Authorization": f"Bearer {token}"},
                     json={"name": f"sso-{uuid.uuid4().hex[:6]}"})
    assert api.status_code == 201
    # A second login finds the same user.
    again, client2 = sso_login(sso, email)
    me2 = httpx.get(f"{sso.app}/v1/auth/me", cookies={"vmx_session": client2.cookies.get("vmx_session")}).json()
    assert me2["id"] == me["id"] and me2["roles"] == ["power-user"]
    client.close()
    client2.close()


def test_sso_links_an_existing_local_account(sso: Sso, admin_client: httpx.Client) -> None:
    email = f"bob-{uuid.uuid4().hex[:6]}@sso.test"
    created = admin_client.post("/v1/user", json={"email": email, "password": "Local-pass-123",
                                                  "roles": ["read-only"]}).json()
    r, client = sso_login(sso, email)
    me = httpx.get(f"{sso.app}/v1/auth/me", cookies={"vmx_session": client.cookies.get("vmx_session")}).json()
    assert r.status_code == 302 and me["id"] == created["id"] and me["roles"] == ["read-only"] and me["sso"]
    client.close()


def test_disabled_user_cannot_sign_in_with_sso(sso: Sso, admin_client: httpx.Client) -> None:
    email = f"carol-{uuid.uuid4().hex[:6]}@sso.test"
    user = admin_client.post("/v1/user", json={"email": email, "password": "Local-pass-123",
                                               "state": "INACTIVE"}).json()
    r, client = sso_login(sso, email)
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_disabled"
    assert client.cookies.get("vmx_session") is None
    assert admin_client.get(f"/v1/user/{user['id']}").json()["state"] == "INACTIVE"
    client.close()


def _rewrite_transaction(client: httpx.Client, **changes: str) -> None:
    raw = client.cookies.get("vmx_oidc", path="/v1/auth/oidc")
    assert raw
    txn = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    txn |= changes
    client.cookies.delete("vmx_oidc", path="/v1/auth/oidc")
    value = base64.urlsafe_b64encode(json.dumps(txn).encode()).decode().rstrip("=")
    client.cookies.set("vmx_oidc", value, domain="127.0.0.1", path="/v1/auth/oidc")


@pytest.mark.parametrize(("tamper", "status", "code"), [
    ("state", 400, "sso_state_mismatch"),
    ("cookie", 400, "sso_state_missing"),
    ("nonce", 401, "sso_failed"),  # the ID token's nonce no longer matches
    ("verifier", 401, "sso_failed"),  # PKCE: the provider refuses the code exchange
])
def test_tampered_callbacks_are_refused(sso: Sso, tamper: str, status: int, code: str) -> None:
    with httpx.Client(timeout=30) as client:
        callback = through_provider(client, sso, start(client, sso), f"mallory-{uuid.uuid4().hex[:6]}@sso.test")
        if tamper == "state":
            callback = re.sub(r"state=[^&]+", "state=forged", callback)
        elif tamper == "cookie":
            client.cookies.clear()
        else:
            _rewrite_transaction(client, **{tamper: "x" * 43})
        r = client.get(callback)
        assert r.status_code == status and r.json()["error"]["code"] == code, r.text
        assert client.cookies.get("vmx_session") is None


def test_password_login_still_works_beside_sso(sso: Sso) -> None:
    assert login(sso.app, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
