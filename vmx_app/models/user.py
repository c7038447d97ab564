"""Users, their login sessions and login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from vmx_app.models.base import IdMixin, TimestampsMixin, UTCDateTime, utcnow


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
