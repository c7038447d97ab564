"""Pure helpers behind the console's way in: the snippets (valid Python and JavaScript, filled with the
ids, the resource and the key), validation messages in plain words, the playground's reading of the
gateway's x-vmx-* headers and its numeric fields."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from vmx_app.models.api_key import ApiKeyCreate, ApiKeyUpdate
from vmx_app.models.user import UserCreate
from vmx_app.services.connect_snippets import endpoint_urls, gateway_base, snippets
from vmx_app.state.field_errors import NAME_RULE, field_errors, refusal_field
from vmx_app.state.playground import decisions_from_headers, parse_number

BASE = gateway_base("http://gw.example:3000/", "ws-1", "env-2")


def test_gateway_base_and_urls() -> None:
    assert BASE == "http://gw.example:3000/v1/completion/ws-1/env-2"
    urls = {u.label: u.url for u in endpoint_urls(BASE)}
    assert urls["Chat Completions"] == BASE + "/chat/completions"
    assert urls["Responses"] == BASE + "/responses"
    assert urls["Anthropic Messages"] == BASE + "/anthropic/v1/messages"
    assert urls["Anthropic SDK base URL"] == BASE + "/anthropic"


@pytest.mark.parametrize("key", [None, "vmx-abc"])
def test_python_snippets_compile_and_carry_ids_resource_and_key(key: str | None) -> None:
    by_id = {s.id: s for s in snippets(BASE, 'chat "v2"', key)}
    assert set(by_id) == {"python-openai", "python-anthropic", "node-openai", "curl", "claude-code"}
    for sid in ("python-openai", "python-anthropic"):
        code = by_id[sid].code
        compile(code, sid, "exec")  # raises on a syntax error (a quote in the name included)
        assert BASE in code and '"chat \\"v2\\""' in code
        assert ('"vmx-abc"' in code) if key else ('os.environ["VMX_API_KEY"]' in code)
    assert (key or "$VMX_API_KEY") in by_id["curl"].code
    assert f'ANTHROPIC_BASE_URL="{BASE}/anthropic"' in by_id["claude-code"].code


def test_node_snippet_is_valid_javascript(tmp_path: Path) -> None:
    code = next(s for s in snippets(BASE, "chat", "vmx-abc") if s.id == "node-openai").code
    module = tmp_path / "snippet.mjs"
    module.write_text(code)
    done = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_validation_errors_in_plain_words() -> None:
    with pytest.raises(ValidationError) as bad:
        ApiKeyCreate(name="a:b", labels=["x" * 101])
    assert field_errors(bad.value) == {"name": NAME_RULE, "labels": "Use at most 100 characters."}
    with pytest.raises(ValidationError) as empty:
        ApiKeyUpdate(name="  ")
    assert field_errors(empty.value) == {"name": "Name is required."}
    with pytest.raises(ValidationError) as email:
        UserCreate(email="not an email", password="Lifecycle-pass-123")
    assert field_errors(email.value) == {"email": "Enter an email address like name@example.com."}
    assert refusal_field([{"field": "expiresAt", "message": "must be in the future"}]) == \
        {"expires_at": "Must be in the future."}
    assert refusal_field([{"field": "resources.0", "message": "unknown AI resource"}]) == \
        {"resources": "Unknown AI resource."}


def test_decisions_name_the_routed_model_and_each_event() -> None:
    rows = decisions_from_headers({
        "x-vmx-request-id": "r1", "x-vmx-model": "gpt-4o-mini", "x-vmx-provider": "openai",
        "x-vmx-event-count": "2",
        "x-vmx-event-0-type": "routing", "x-vmx-event-0-routing-original-model": "gpt-4o",
        "x-vmx-event-0-routing-routed-model": "gpt-4o-mini",
        "x-vmx-event-1-type": "fallback", "x-vmx-event-1-fallback-failed-model": "gpt-4o-mini",
        "x-vmx-event-1-fallback-failure-reason": "server_error", "x-vmx-event-1-fallback-status-code": "503",
        "x-vmx-gate-duration-ms": "0.1", "x-vmx-routing-duration-ms": "0.2"})
    text = {r.label: r.value for r in rows}
    assert text["Routed to"] == "gpt-4o-mini (openai)"
    assert text["Routing 1"] == "gpt-4o → gpt-4o-mini"
    assert text["Fallback leg 2"] == "gpt-4o-mini failed (server_error, 503)"


def test_playground_numbers() -> None:
    assert parse_number("", low=0, high=2, integer=False) == (None, "")
    assert parse_number("0.7", low=0, high=2, integer=False) == (0.7, "")
    assert parse_number("3", low=0, high=2, integer=False)[1] == "Use a value from 0 to 2."
    assert parse_number("1.5", low=1, high=10, integer=True)[1] == "Enter a whole number."
    assert parse_number("abc", low=0, high=2, integer=False)[1] == "Enter a number, e.g. 0.7."
