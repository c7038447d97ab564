"""Alembic environment: the database URL comes from Settings (or the caller's config)."""

from __future__ import annotations

import re

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import vmx_app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from vmx_app.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


# request_audit's monthly partitions on Postgres (made by migration 0004_audit_trail and the application, not by
# the models): the drift check compares the partitioned parent table only. request_audit_rollup (PostgreSQL only,
# migration 0008, kept by a trigger, read by services/usage_rollup.py) has no model either.
_PARTITION = re.compile(r"^request_audit_(p\d{6}|default|rollup)$")


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    table = obj.name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return not _PARTITION.match(table or "")


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().sync_database_url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _url()
    connectable = config.attributes.get("connection") or create_engine(url, poolclass=pool.NullPool)
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection, url)
    else:
        _run(connectable, url)


def _run(connection, url: str) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=url.startswith("sqlite"), compare_type=True, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
