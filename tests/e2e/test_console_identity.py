"""The console in a real browser: sign-in, workspaces, environments, API keys shown once, logout, and a
read-only member who sees everything but is offered (and allowed) no change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import at, login, shot
from tests.support import profile

pytestmark = pytest.mark.browser

KEY_PATTERN = re.compile(r"^vmx-[A-Za-z0-9]{48}$")


def _dialog(page: Page) -> Any:
    return page.get_by_role("dialog")


def _create_in_dialog(page: Page, open_button: str, fields: dict[str, str], submit: str) -> None:
    page.get_by_role("button", name=open_button).click()
    dialog = _dialog(page)
    for label, value in fields.items():
        dialog.get_by_label(label, exact=True).fill(value)
    dialog.get_by_role("button", name=submit, exact=True).click()


def _nav(page: Page, route: str) -> None:
    page.locator(f'[data-nav="{route}"]').click()
    at(page, route)


def test_admin_creates_workspace_environment_and_key_then_logs_out(
        page: Page, console_url: str, console_api: httpx.Client, screens_dir: Path) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_url)
    page.goto(f"{console_url}/workspaces")
    at(page, "/login")  # not signed in yet
    shot(page, screens_dir, "01-login")
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    at(page, "/workspaces")
    expect(page.get_by_test_id("user-email")).to_have_text(profile.ADMIN_EMAIL)

    _create_in_dialog(page, "New workspace", {"Name": "acme", "Description": "The e2e workspace"}, "Create")
    expect(_dialog(page)).to_be_hidden()
    expect(page.locator('[data-row="acme"]')).to_contain_text("The e2e workspace")
    expect(page.get_by_label("Workspace", exact=True)).to_have_text("acme")  # the new one is selected
    shot(page, screens_dir, "02-workspaces")

    _nav(page, "/environments")
    _create_in_dialog(page, "New environment", {"Name": "production"}, "Create")
    expect(page.locator('[data-row="production"]')).to_be_visible()
    expect(page.get_by_label("Environment", exact=True)).to_have_text("production")
    shot(page, screens_dir, "03-environments")

    _nav(page, "/api-keys")
    _create_in_dialog(page, "New API key", {"Name": "ci-key", "Labels": "ci, e2e"}, "Create key")
    shown = page.get_by_test_id("new-api-key")
    expect(shown).to_be_visible()
    key = shown.inner_text().strip()
    assert KEY_PATTERN.match(key), key
    shot(page, screens_dir, "04-api-key-created")
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_text("Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.get_by_role("button", name="Done").click()
    expect(_dialog(page)).to_be_hidden()

    # From now on only the masked form exists, in the page and in the API.
    row = page.locator('[data-row="ci-key"]')
    expect(row).to_contain_text(f"{key[:8]}{'*' * 20}{key[-4:]}")
    expect(row).to_contain_text("ci, e2e")
    assert key not in page.content()
    page.reload()
    expect(page.locator('[data-row="ci-key"]')).to_be_visible()
    assert key not in page.content()
    shot(page, screens_dir, "05-api-keys")
    ws = next(w for w in console_api.get("/v1/workspace").json()["data"] if w["name"] == "acme")
    env = console_api.get(f"/v1/environment/{ws['id']}").json()["data"][0]
    listed = console_api.get(f"/v1/api-key/{ws['id']}/{env['id']}")
    assert listed.status_code == 200 and key not in listed.text
    assert listed.json()["data"][0]["maskedKey"] == f"{key[:8]}{'*' * 20}{key[-4:]}"

    # Disable from the list: the API sees it.
    page.get_by_label("Enabled ci-key").click()
    expect(row).to_contain_text("disabled")
    assert console_api.get(f"/v1/api-key/{ws['id']}/{env['id']}").json()["data"][0]["enabled"] is False

    session_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "vmx_session")
    page.get_by_role("button", name="Log out").click()
    at(page, "/login")
    page.goto(f"{console_url}/api-keys")
    at(page, "/login")
    # Logout revoked the session itself, not only the browser's cookie.
    me = httpx.get(f"{console_url}/v1/auth/me", cookies={"vmx_session": session_cookie})
    assert me.status_code == 401


@pytest.fixture
def shared_setup(console_api: httpx.Client) -> dict[str, str]:
    """A workspace with an environment and a key, and a read-only member who must change their password."""
    ws = console_api.post("/v1/workspace", json={"name": "shared"}).json()
    env = console_api.post(f"/v1/environment/{ws['id']}", json={"name": "staging"}).json()
    key = console_api.post(f"/v1/api-key/{ws['id']}/{env['id']}", json={"name": "visible-key"}).json()
    user = console_api.post("/v1/user", json={"email": "viewer@vmx.test", "password": "Viewer-first-1",
                                              "roles": ["read-only"], "state": "CHANGE_PASSWORD"})
    assert user.status_code == 201, user.text
    assigned = console_api.post(f"/v1/workspace/{ws['id']}/assign",
                                json={"userIds": [user.json()["id"]], "role": "MEMBER"})
    assert assigned.status_code == 204, assigned.text
    return {"ws": ws["id"], "env": env["id"], "key": key["id"], "masked": key["maskedKey"]}


def test_read_only_member_sees_but_is_offered_no_change(page: Page, console_url: str, shared_setup: dict[str, str],
                                                         screens_dir: Path) -> None:
    login(page, console_url, "viewer@vmx.test", "Viewer-first-1")
    at(page, "/change-password")  # a password set by an admin must be replaced first
    for label, value in (("Current password", "Viewer-first-1"), ("New password", "Viewer-own-pass-2"),
                         ("Repeat the new password", "Viewer-own-pass-2")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Change password").click()
    at(page, "/workspaces")

    expect(page.locator('[data-row="shared"]')).to_be_visible()
    expect(page.locator('[data-row="acme"]')).to_have_count(0)  # not a member there
    expect(page.get_by_role("button", name="New workspace")).to_have_count(0)
    expect(page.get_by_label("Rename shared")).to_have_count(0)
    expect(page.get_by_label("Delete shared")).to_have_count(0)
    expect(page.locator('[data-nav="/users"]')).to_have_count(0)  # admin only
    shot(page, screens_dir, "10-read-only-workspaces")

    _nav(page, "/environments")
    expect(page.locator('[data-row="staging"]')).to_be_visible()
    expect(page.get_by_role("button", name="New environment")).to_have_count(0)
    expect(page.get_by_label("Edit staging")).to_have_count(0)
    expect(page.get_by_label("Delete staging")).to_have_count(0)

    _nav(page, "/api-keys")
    row = page.locator('[data-row="visible-key"]')
    expect(row).to_contain_text(shared_setup["masked"])
    expect(page.get_by_role("button", name="New API key")).to_have_count(0)
    expect(page.get_by_label("Delete visible-key")).to_have_count(0)
    expect(page.get_by_label("Enabled visible-key")).to_have_count(0)
    shot(page, screens_dir, "11-read-only-api-keys")

    _nav(page, "/members")  # read-only grants every read verb (`*:get-*`): the list, but no change
    expect(page.locator('[data-row="viewer@vmx.test"]')).to_be_visible()
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_label("Remove viewer@vmx.test")).to_have_count(0)

    # The server refuses the same changes when asked directly.
    token = httpx.post(f"{console_url}/v1/auth/login",
                       json={"email": "viewer@vmx.test", "password": "Viewer-own-pass-2"}).json()["accessToken"]
    with httpx.Client(base_url=console_url, headers={"Authorization": f"Bearer {token}"}) as viewer:
        ws, env, key = shared_setup["ws"], shared_setup["env"], shared_setup["key"]
        assert viewer.get(f"/v1/api-key/{ws}/{env}").status_code == 200
        assert viewer.post("/v1/workspace", json={"name": "mine"}).status_code == 403
        assert viewer.post(f"/v1/environment/{ws}", json={"name": "qa"}).status_code == 403
        assert viewer.post(f"/v1/api-key/{ws}/{env}", json={"name": "sneaky"}).status_code == 403
        assert viewer.delete(f"/v1/api-key/{ws}/{env}/{key}").status_code == 403


def test_role_editor_rejects_invalid_policies(page: Page, console_url: str, console_api: httpx.Client,
                                              screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _nav(page, "/roles")
    expect(page.locator('[data-row="read-only"]')).to_contain_text("system")
    page.get_by_role("button", name="New role").click()
    dialog = _dialog(page)
    dialog.get_by_label("Name", exact=True).fill("auditor")
    dialog.locator("#policy-tab-json").click()  # the JSON view beside the statement editor
    policy = dialog.get_by_label("Policy (JSON)")
    save = dialog.get_by_role("button", name="Save role")

    policy.fill('{"statements": [')
    save.click()
    expect(dialog.get_by_role("alert")).to_contain_text("not valid JSON")
    policy.fill('{"statements": [{"effect": "maybe", "actions": ["*:list"], "resources": ["*"]}]}')
    save.click()
    expect(dialog.get_by_role("alert")).to_contain_text("effect")
    shot(page, screens_dir, "20-role-editor-error")
    assert "auditor" not in console_api.get("/v1/role").text

    policy.fill('{"statements": [{"effect": "allow", "actions": ["completion-usage:query", "*:list"], '
                '"resources": ["*"]}]}')
    save.click()
    expect(dialog).to_be_hidden()
    expect(page.locator('[data-row="auditor"]')).to_contain_text("1")
    roles = {r["name"]: r for r in console_api.get("/v1/role").json()["data"]}
    assert roles["auditor"]["policy"]["statements"][0]["actions"] == ["completion-usage:query", "*:list"]
    shot(page, screens_dir, "21-roles")
    _nav(page, "/users")
    expect(page.locator('[data-row="admin@vmx.test"]')).to_contain_text("admin")
    shot(page, screens_dir, "22-users")


def test_owner_adds_changes_and_removes_a_member_in_the_remembered_workspace(
        page: Page, console_url: str, console_api: httpx.Client, screens_dir: Path) -> None:
    team = console_api.post("/v1/workspace", json={"name": "team"}).json()
    person = console_api.post("/v1/user", json={"email": "member@vmx.test", "password": "Member-pass-1",
                                                "roles": ["power-user"]}).json()
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _nav(page, "/members")
    page.get_by_label("Workspace", exact=True).click()
    page.get_by_role("option", name="team").click()
    expect(page.get_by_label("Workspace", exact=True)).to_have_text("team")
    page.reload()  # the choice is remembered by the browser
    expect(page.get_by_label("Workspace", exact=True)).to_have_text("team")
    expect(page.locator(f'[data-row="{profile.ADMIN_EMAIL}"]')).to_be_visible()

    _create_in_dialog(page, "Add member", {"User": "nobody@vmx.test"}, "Add")
    expect(_dialog(page).get_by_role("alert")).to_contain_text("No user with the email nobody@vmx.test")
    # The searchable list offers the users who are not members yet (the admin is one already).
    options = _dialog(page).locator("#member-candidates option").evaluate_all("os => os.map(o => o.value)")
    assert "member@vmx.test" in options and profile.ADMIN_EMAIL not in options
    _dialog(page).get_by_label("User", exact=True).fill("member@vmx.test")
    _dialog(page).get_by_role("button", name="Add", exact=True).click()
    expect(_dialog(page)).to_be_hidden()
    expect(page.get_by_label("Role of member@vmx.test")).to_have_text("Member")
    shot(page, screens_dir, "06-members")

    page.get_by_label("Role of member@vmx.test").click()
    page.get_by_role("option", name="Owner").click()
    expect(page.get_by_text("Role changed")).to_be_visible()
    members = {m["email"]: m for m in console_api.get(f"/v1/workspace/{team['id']}/members").json()["data"]}
    assert members["member@vmx.test"]["role"] == "OWNER"

    page.get_by_label("Remove member@vmx.test").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove member").click()
    expect(page.locator('[data-row="member@vmx.test"]')).to_have_count(0)
    members = console_api.get(f"/v1/workspace/{team['id']}/members").json()["data"]
    assert [m["email"] for m in members] == [profile.ADMIN_EMAIL]
    assert person["email"] == "member@vmx.test"


def test_admin_creates_edits_and_deletes_a_user(page: Page, console_url: str, console_api: httpx.Client,
                                                 screens_dir: Path) -> None:
    login(page, console_url, profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
    _nav(page, "/users")
    page.get_by_role("button", name="New user").click()
    dialog = _dialog(page)
    dialog.get_by_label("Email", exact=True).fill("carol@vmx.test")
    dialog.get_by_label("Name", exact=True).fill("Carol")
    dialog.get_by_label("Password", exact=True).fill("short")
    dialog.get_by_role("button", name="Create user").click()
    # Said next to the field, in words, and only there.
    expect(dialog.locator("#user-password-error")).to_contain_text("at least 12 characters")
    expect(dialog.get_by_role("alert")).to_have_count(1)
    dialog.get_by_label("Password", exact=True).fill("Carol-pass-1")
    shot(page, screens_dir, "23-user-create")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    row = page.locator('[data-row="carol@vmx.test"]')
    expect(row).to_contain_text("Change password")
    expect(row).to_contain_text("read-only")

    page.get_by_label("Edit carol@vmx.test").click()
    dialog = _dialog(page)
    dialog.get_by_label("State", exact=True).click()
    page.get_by_role("option", name="Inactive").click()
    dialog.get_by_label("power-user", exact=True).click()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Inactive")
    carol = next(u for u in console_api.get("/v1/user").json()["data"] if u["email"] == "carol@vmx.test")
    assert carol["state"] == "INACTIVE" and carol["roles"] == ["power-user", "read-only"]

    page.get_by_label("Delete carol@vmx.test").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete user").click()
    expect(row).to_have_count(0)
    assert console_api.get(f"/v1/user/{carol['id']}").status_code == 404
