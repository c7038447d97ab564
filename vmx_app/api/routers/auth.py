"""Login, logout, password change, the current user, and OIDC SSO."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from vmx_app.api.deps import SESSION_COOKIE, DbSession, Principal, authenticated
from vmx_app.api.request_ip import request_source_ip
from vmx_app.db import session_scope
from vmx_app.errors import Unauthenticated
from vmx_app.models.user import ChangePasswordRequest, LoginRequest, LoginResponse
from vmx_app.services import authz, oidc, playground, sessions
from vmx_app.settings import get_settings

router = APIRouter(prefix="/v1/auth", tags=["auth"])

SelfService = Annotated[Principal, Depends(authenticated())]


def client_ip(request: Request) -> str:
    """The login throttle's source IP: X-Forwarded-For only from TRUSTED_PROXIES, else the socket peer."""
    return request_source_ip(request) or "unknown"


def set_session_cookie(response: Response, token: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=get_settings().cookie_secure, path="/")


@router.post("/login", response_model=LoginResponse)
async def login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    issued = await sessions.login(email=body.email, password=body.password, source_ip=client_ip(request),
                                  user_agent=request.headers.get("user-agent"))
    set_session_cookie(response, issued.token, issued.expires_in)
    return LoginResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/logout", status_code=204)
async def logout(principal: SelfService, session: DbSession) -> Response:
    if principal.session_id is not None:
        # Its playground keys end too; first, in their own transaction (SQLite allows one writer at a time).
        await playground.revoke_session_keys(session_id=principal.session_id)
        await sessions.revoke_session(session, principal.session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=get_settings().cookie_secure)
    return response


@router.post("/change-password", status_code=204)
async def change_password(body: ChangePasswordRequest, principal: SelfService) -> Response:
    await sessions.change_password(user_id=principal.user_id, session_id=principal.session_id,
                                   current_password=body.current_password, new_password=body.new_password)
    return Response(status_code=204)


@router.get("/me")
async def me(principal: SelfService, session: DbSession) -> dict[str, Any]:
    data = await authz.me(session, user_id=principal.user_id, is_admin=principal.is_admin,
                          roles=list(principal.roles), policies=principal.policies)
    if not data:
        raise Unauthenticated("Session is invalid or has expired")
    return data


@router.get("/config")
async def auth_config() -> dict[str, Any]:
    """Public: tells the login page whether to offer SSO."""
    enabled = oidc.is_enabled()
    return {"oidcEnabled": enabled, "ssoLoginUrl": "/v1/auth/oidc/login" if enabled else None}


def _callback_url(request: Request) -> str:
    base = get_settings().vmx_base_url or str(request.base_url)
    return base.rstrip("/") + oidc.CALLBACK_PATH


@router.get("/oidc/login", status_code=302, response_class=RedirectResponse)
async def oidc_login(request: Request) -> RedirectResponse:
    url, txn = await oidc.begin_login(redirect_uri=_callback_url(request))
    response = RedirectResponse(url, status_code=302)
    # Lax: the provider's redirect back is a top-level GET navigation, which carries Lax cookies.
    response.set_cookie(oidc.TRANSACTION_COOKIE, txn, max_age=oidc.TRANSACTION_TTL_SECONDS, httponly=True,
                        samesite="lax", secure=get_settings().cookie_secure, path="/v1/auth/oidc")
    return response


@router.get("/oidc/callback", status_code=302, response_class=RedirectResponse)
async def oidc_callback(request: Request) -> RedirectResponse:
    oidc.client()  # 404 when SSO is not configured
    identity = await oidc.complete_login(params=dict(request.query_params),
                                         cookie=request.cookies.get(oidc.TRANSACTION_COOKIE))
    async with session_scope() as session:
        user = await oidc.provision_user(session, identity)
        issued = await sessions.issue_session(session, user=user, source_ip=client_ip(request),
                                              user_agent=request.headers.get("user-agent"))
    response = RedirectResponse("/", status_code=302)
    response.delete_cookie(oidc.TRANSACTION_COOKIE, path="/v1/auth/oidc")
    set_session_cookie(response, issued.token, issued.expires_in)
    return response
