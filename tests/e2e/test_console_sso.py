"""SSO in a real browser: "SSO Login" on the console, the provider's own login and consent forms, and
back in the console as a new user with the default role."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, shot

pytestmark = pytest.mark.browser

SSO_EMAIL = "sso-person@vmx.test"


def test_sso_login_through_the_provider_creates_a_power_user(page: Page, console_url: str, oidc_issuer: str,
                                                             console_api: httpx.Client, screens_dir: Path) -> None:
    page.goto(f"{console_url}/login")
    page.get_by_role("link", name="SSO Login").click()

    # The provider's pages (devInteractions): any login name, the password is not checked.
    page.wait_for_url(f"{oidc_issuer}/interaction/**")
    page.locator("input[name=login]").fill(SSO_EMAIL)
    page.locator("input[name=password]").fill("anything")
    shot(page, screens_dir, "30-provider-login")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(lambda url: url.startswith(console_url) or "/interaction/" in url)
    if "/interaction/" in page.url:  # first login of this user: the consent page
        page.get_by_role("button", name="Continue").click()

    at(page, "/workspaces")
    expect(page.get_by_test_id("user-email")).to_have_text(SSO_EMAIL)
    # The default role (power-user) may create workspaces but not manage users.
    expect(page.get_by_role("button", name="New workspace")).to_be_visible()
    expect(page.locator('[data-nav="/users"]')).to_have_count(0)
    shot(page, screens_dir, "31-sso-signed-in")

    users = {u["email"]: u for u in console_api.get("/v1/user").json()["data"]}
    assert users[SSO_EMAIL]["sso"] is True
    assert users[SSO_EMAIL]["roles"] == ["power-user"]
    assert users[SSO_EMAIL]["name"] == "SSO sso-person"

    # The SSO session is an ordinary session: it works for the API too, and logout ends it.
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "vmx_session")
    me = httpx.get(f"{console_url}/v1/auth/me", cookies={"vmx_session": cookie})
    assert me.status_code == 200 and me.json()["email"] == SSO_EMAIL
    page.get_by_role("button", name="Log out").click()
    at(page, "/login")
    assert httpx.get(f"{console_url}/v1/auth/me", cookies={"vmx_session": cookie}).status_code == 401
