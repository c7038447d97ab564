"""Ids in the URL that name no environment: 404 `environment_not_found` in the endpoint's own shape,
whatever key is sent; a known environment with an unknown key stays 401."""

from __future__ import annotations

from tests.unit.test_engine import ENV, WS, Harness, chat
from vmx_app.gateway.config import EnvironmentSnapshot


async def test_unknown_environment_is_404_in_the_endpoint_shape(h: Harness) -> None:
    """Ids that name no environment say so (a mistyped URL), whatever key is sent; a known environment
    with a key of another one stays 401."""
    h.resource("res", h.slot("openai", "gpt-4o"))
    h.config.environments.clear()
    for key in ("vmx-unknown", None):
        r = await h.call("chat", chat(), key=key)
        assert r.status == 404 and r.json()["error"]["code"] == "environment_not_found", r.json()
        assert "environment not found" in r.json()["error"]["message"] and r.record is None
        r = await h.call("anthropic", chat(), key=key)
        assert r.status == 404 and r.json()["type"] == "error"
        assert r.json()["error"]["type"] == "not_found_error"
    h.config.environments[ENV] = EnvironmentSnapshot(id=ENV, workspace_id=WS, name="prod")
    r = await h.call("chat", chat(), key="vmx-unknown")
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_api_key"
