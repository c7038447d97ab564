"""The SSO callback accepts only ID tokens signed by a key from the issuer's JWKS, for this client,
from this issuer, with the nonce of this login. The provider's token endpoint is an httpx mock."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client._compat import httpx2 as authlib_http
from authlib.integrations.starlette_client import StarletteOAuth2App
from authlib.integrations.starlette_client.integration import StarletteIntegration
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from vmx_app.api.errors import domain_status
from vmx_app.errors import DomainError
from vmx_app.services import oidc

ISSUER = "https://idp.test"
CLIENT_ID = "vmx"
NONCE = "nonce-123"
TRUSTED = RSAKey.generate_key(2048, parameters={"kid": "trusted"})
FORGED = RSAKey.generate_key(2048, parameters={"kid": "trusted"})  # same kid, other key


def _id_token(key: RSAKey = TRUSTED, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-1", "email": "Dana@Corp.test", "email_verified": True,
              "name": "Dana", "nonce": NONCE, "iat": now, "exp": now + 300} | overrides
    return jwt.encode({"alg": "RS256", "kid": "trusted"}, claims, key)


def _app(id_token: str, seen: list[dict[str, str]]) -> StarletteOAuth2App:
    def handler(request: Any) -> Any:
        assert request.url.path == "/token"
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        return authlib_http.Response(200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 60,
                                         "id_token": id_token})

    return StarletteOAuth2App(
        StarletteIntegration("t"), name="t", client_id=CLIENT_ID, client_secret="s",
        authorize_url=f"{ISSUER}/auth", access_token_url=f"{ISSUER}/token",
        client_kwargs={"scope": "openid email", "code_challenge_method": "S256",
                       "transport": authlib_http.MockTransport(handler)},
        issuer=ISSUER, jwks=KeySet([TRUSTED]).as_dict(private=False),
        id_token_signing_alg_values_supported=["RS256"],
    )


def _cookie(state: str = "st", nonce: str = NONCE) -> str:
    return oidc._encode({"state": state, "nonce": nonce, "verifier": "v" * 43, "exp": int(time.time()) + 60,
                         "redirect_uri": "http://vmx.test/v1/auth/oidc/callback"})


@pytest.fixture
def use_app(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[dict[str, str]]]:
    def install(id_token: str) -> list[dict[str, str]]:
        seen: list[dict[str, str]] = []
        app = _app(id_token, seen)
        monkeypatch.setattr(oidc, "client", lambda settings=None: app)
        return seen

    return install


async def test_a_token_signed_by_the_issuer_is_accepted(use_app: Callable[[str], list[dict[str, str]]]) -> None:
    seen = use_app(_id_token())
    identity = await oidc.complete_login(params={"state": "st", "code": "c0de"}, cookie=_cookie())
    assert identity == oidc.FederatedIdentity(subject="u-1", email="dana@corp.test", name="Dana",
                                              email_verified=True)
    # The code exchange carried the PKCE verifier and the registered redirect URI.
    assert seen[0]["code_verifier"] == "v" * 43 and seen[0]["code"] == "c0de"
    assert seen[0]["redirect_uri"] == "http://vmx.test/v1/auth/oidc/callback"


@pytest.mark.parametrize("token", [
    pytest.param(lambda: _id_token(FORGED), id="forged-signature"),
    pytest.param(lambda: _id_token(nonce="other"), id="wrong-nonce"),
    pytest.param(lambda: _id_token(aud="someone-else"), id="wrong-audience"),
    pytest.param(lambda: _id_token(iss="https://evil.test"), id="wrong-issuer"),
    pytest.param(lambda: _id_token(exp=int(time.time()) - 3600), id="expired"),
    pytest.param(lambda: _id_token()[:-8] + "AAAAAAAA", id="tampered"),
    pytest.param(lambda: "not.a.jwt", id="garbage"),
])
async def test_bad_id_tokens_are_refused(use_app: Callable[[str], list[dict[str, str]]],
                                         token: Callable[[], str]) -> None:
    use_app(token())
    with pytest.raises(DomainError) as err:
        await oidc.complete_login(params={"state": "st", "code": "c0de"}, cookie=_cookie())
    assert domain_status(err.value) == 401 and err.value.code == "sso_failed"


FRESH = "fresh"  # a valid transaction cookie, made when the test runs (it expires 60 s after it is made)


@pytest.mark.parametrize(("params", "cookie", "code"), [
    ({"state": "st", "error": "access_denied"}, FRESH, "sso_error"),
    ({"state": "st", "code": "c"}, None, "sso_state_missing"),
    ({"state": "st", "code": "c"}, "%%%not-base64", "sso_state_missing"),
    ({"state": "st", "code": "c"}, oidc._encode({"state": "st", "exp": 1}), "sso_state_missing"),
    ({"state": "other", "code": "c"}, FRESH, "sso_state_mismatch"),
    ({"state": "st"}, FRESH, "sso_error"),
])
async def test_callback_preconditions(use_app: Callable[[str], list[dict[str, str]]], params: dict[str, str],
                                      cookie: str | None, code: str) -> None:
    seen = use_app(_id_token())
    with pytest.raises(DomainError) as err:
        await oidc.complete_login(params=params, cookie=_cookie() if cookie == FRESH else cookie)
    assert err.value.code == code and domain_status(err.value) == 400
    assert seen == []  # refused before any code exchange


def test_transaction_cookie_round_trip() -> None:
    data = {"state": "s", "nonce": "n", "exp": 5}
    assert oidc._decode(oidc._encode(data)) == data
    assert oidc._decode(json.dumps(data)) is None and oidc._decode("") is None
