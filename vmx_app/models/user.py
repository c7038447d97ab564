"""Users, their login sessions and login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints
from pydantic import Field as PydanticField
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from vmx_app.gateway.config import CamelModel
from vmx_app.models.base import IdMixin, TimestampsMixin, UTCDateTime, utcnow
from vmx_app.password_policy import password_problem


class UserState(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    CHANGE_PASSWORD = "CHANGE_PASSWORD"


class User(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "users"

    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    password_hash: str | None = Field(default=None, max_length=255)
    state: str = Field(default=UserState.ACTIVE.value, max_length=20)
    oidc_subject: str | None = Field(default=None, max_length=255, index=True)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A console/API login session. Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)


class LoginAttempt(SQLModel, table=True):
    """Failed logins, for per-account and per-IP slow-down."""

    __tablename__ = "login_attempts"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, index=True)
    source_ip: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)


# --- API schemas (camelCase JSON) -----------------------------------------------------------------

# Loose on purpose: addresses come from IdPs and admins; `:`, `*` and `?` would corrupt `user:<email>`
# resource strings.
EMAIL_PATTERN = r"^[^@\s:*?]+@[^@\s:*?]+$"
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=320,
                                         pattern=EMAIL_PATTERN)]


def _acceptable_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise PydanticCustomError("weak_password", problem)  # the sentence as it is, no "Value error," prefix
    return value


# A new password (create, reset, change): ≥ 12 characters and not a common one.
Password = Annotated[str, AfterValidator(_acceptable_password)]
UserStateName = Literal["ACTIVE", "INACTIVE", "CHANGE_PASSWORD"]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class LoginRequest(CamelModel):
    # No format rules here: a malformed email must get the same 401 as a wrong password.
    email: str = PydanticField(max_length=320)
    password: str = PydanticField(max_length=1024)


class LoginResponse(CamelModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class ChangePasswordRequest(CamelModel):
    current_password: str = PydanticField(max_length=1024)
    new_password: Password


class UserCreate(CamelModel):
    email: Email
    name: PersonName = ""
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    password: Password
    state: UserStateName = "ACTIVE"
    roles: list[str] = PydanticField(default_factory=list, max_length=50)


class UserUpdate(CamelModel):
    email: Email | None = None
    name: PersonName | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    password: Password | None = None
    state: UserStateName | None = None


class UserPublic(CamelModel):
    id: uuid.UUID
    email: str
    name: str
    first_name: str | None = None
    last_name: str | None = None
    state: str
    roles: list[str] = PydanticField(default_factory=list)
    sso: bool = False
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None

    @classmethod
    def of(cls, user: User, roles: list[str]) -> UserPublic:
        return cls(id=user.id, email=user.email, name=user.name, first_name=user.first_name,
                   last_name=user.last_name, state=user.state, roles=sorted(roles),
                   sso=user.oidc_subject is not None, created_at=user.created_at, updated_at=user.updated_at,
                   last_login_at=user.last_login_at)
