"""OIDC federated login with authlib: discovery, authorization code + PKCE (S256), state and nonce,
ID token signature checked against the issuer's JWKS; first login creates the user."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import StarletteOAuth2App
from authlib.integrations.starlette_client.integration import StarletteIntegration
from joserfc.errors import JoseError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable
from vmx_app.models import Role, RoleAssignment, User, UserState
from vmx_app.settings import Settings, get_settings

log = logging.getLogger("vmx.oidc")

# authlib talks through httpx2 when it is installed (it is, via the provider SDKs), else httpx.
try:
    import httpx2

    _HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - depends on the environment
    _HTTP_ERRORS = (httpx.HTTPError,)

TRANSACTION_COOKIE = "vmx_oidc"
TRANSACTION_TTL_SECONDS = 600
CALLBACK_PATH = "/v1/auth/oidc/callback"


@dataclass(frozen=True, slots=True)
class FederatedIdentity:
    subject: str
    email: str
    name: str
    email_verified: bool | None


def is_enabled(settings: Settings | None = None) -> bool:
    return (settings or get_settings()).oidc_enabled


@lru_cache(maxsize=4)
def _client(issuer: str, client_id: str, client_secret: str | None, scope: str) -> StarletteOAuth2App:
    # One client per configuration: it caches the discovery document and the JWKS.
    client_kwargs: dict[str, Any] = {"scope": scope, "code_challenge_method": "S256", "timeout": 10}
    if not client_secret:
        client_kwargs["token_endpoint_auth_method"] = "none"  # public client: PKCE alone
    return StarletteOAuth2App(
        StarletteIntegration("vmx-oidc"), name="vmx-oidc", client_id=client_id, client_secret=client_secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration", client_kwargs=client_kwargs,
    )


def client(settings: Settings | None = None) -> StarletteOAuth2App:
    settings = settings or get_settings()
    if not settings.oidc_enabled:
        raise NotFound("SSO is not configured", code="oidc_disabled")
    assert settings.oidc_federated_issuer and settings.oidc_federated_client_id
    return _client(settings.oidc_federated_issuer, settings.oidc_federated_client_id,
                   settings.oidc_federated_client_secret, settings.oidc_federated_scope)


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(value: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def begin_login(*, redirect_uri: str) -> tuple[str, str]:
    """(authorization URL, transaction cookie value). The cookie holds state, nonce and the PKCE
    verifier; it is HttpOnly, so only the browser that started the login can finish it."""
    try:
        rv = await client().create_authorization_url(redirect_uri)
    except (*_HTTP_ERRORS, AuthlibBaseError, KeyError, ValueError) as exc:
        log.warning("OIDC discovery failed: %s", type(exc).__name__)
        raise Unavailable("The identity provider is unreachable", code="sso_unavailable") from None
    txn = {"state": rv["state"], "nonce": rv["nonce"], "verifier": rv["code_verifier"],
           "redirect_uri": redirect_uri, "exp": int(time.time()) + TRANSACTION_TTL_SECONDS}
    return str(rv["url"]), _encode(txn)


# SSO refusals keep the statuses the API has always answered with; the class carries the status.
_FAILURES: dict[int, type[DomainError]] = {400: Invalid, 401: Unauthenticated, 403: Forbidden, 409: Conflict}


def _failed(message: str, code: str = "sso_failed", status: int = 401) -> DomainError:
    return _FAILURES[status](message, code=code)


async def complete_login(*, params: dict[str, str], cookie: str | None) -> FederatedIdentity:
    """Check state against the transaction cookie, exchange the code (with the PKCE verifier), and
    validate the ID token (signature via JWKS, issuer, audience, expiry, nonce)."""
    if params.get("error"):
        raise _failed(f"The identity provider refused the login: {params['error'][:100]}", "sso_error", 400)
    txn = _decode(cookie or "")
    if not txn or not isinstance(txn.get("state"), str) or int(txn.get("exp", 0)) < time.time():
        raise _failed("The SSO login expired or was not started here; start again", "sso_state_missing", 400)
    if not hmac.compare_digest(str(params.get("state", "")), txn["state"]):
        raise _failed("SSO state mismatch", "sso_state_mismatch", 400)
    code = params.get("code")
    if not code:
        raise _failed("Missing authorization code", "sso_error", 400)
    oauth = client()
    try:
        token = await oauth.fetch_access_token(redirect_uri=txn["redirect_uri"], code=code,
                                               code_verifier=txn["verifier"])
        claims = await oauth.parse_id_token(token, nonce=txn["nonce"])
        if claims is None:
            raise _failed("The identity provider returned no ID token")
        data: dict[str, Any] = dict(claims)
        if not data.get("email") and "access_token" in token:
            data.update({k: v for k, v in dict(await oauth.userinfo(token=token)).items() if k != "sub"})
    except DomainError:
        raise
    except (*_HTTP_ERRORS, AuthlibBaseError, JoseError, KeyError, ValueError) as exc:
        # Never log the exception text: it can carry codes or tokens.
        log.warning("OIDC login failed: %s", type(exc).__name__)
        raise _failed("SSO login failed") from None
    email = str(data.get("email") or "").strip().lower()
    if not email or "@" not in email or any(c in email for c in ":*?"):
        raise _failed("The identity provider did not return a usable email address")
    name = str(data.get("name") or data.get("preferred_username") or email.split("@")[0])[:200]
    verified = data.get("email_verified")
    return FederatedIdentity(subject=str(data["sub"]), email=email[:320], name=name,
                             email_verified=verified if isinstance(verified, bool) else None)


async def provision_user(session: AsyncSession, identity: FederatedIdentity) -> User:
    """The local user for a federated identity: by subject, else by email (linked unless the provider
    says the email is unverified), else a new user with the default role."""
    user = (await session.exec(select(User).where(User.oidc_subject == identity.subject))).first()
    if user is None:
        user = (await session.exec(select(User).where(User.email == identity.email))).first()
        if user is not None:
            if user.oidc_subject is not None or identity.email_verified is False:
                raise _failed("This email belongs to another account", "sso_account_conflict", 409)
            user.oidc_subject = identity.subject
    if user is None:
        user = User(email=identity.email, name=identity.name, oidc_subject=identity.subject,
                    state=UserState.ACTIVE.value)
        session.add(user)
        await session.flush()
        role_name = get_settings().oidc_federated_default_role
        role = (await session.exec(select(Role).where(Role.name == role_name))).first()
        if role is None:
            log.warning("OIDC default role %r does not exist; %s gets no role", role_name, identity.email)
        else:
            session.add(RoleAssignment(role_id=role.id, user_id=user.id))
    if user.state == UserState.INACTIVE.value:
        raise _failed("This account is disabled", "account_disabled", 403)
    session.add(user)
    await session.flush()
    return user
