"""Run Alembic from code (`vmx migrate`, start-up, tests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from vmx_app.data_dir import ensure_private_sqlite
from vmx_app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(settings: Settings | None = None) -> Config:
    settings = settings or get_settings()
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", settings.sync_database_url.replace("%", "%%"))
    return cfg


def upgrade_to_head(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    if settings.is_embedded:
        ensure_private_sqlite(settings.sqlite_path)
    command.upgrade(alembic_config(settings), "head")


def current_revision(settings: Settings | None = None) -> str | None:
    """The database's Alembic revision (None: no schema yet). Raises the driver's error when unreachable."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    settings = settings or get_settings()
    if settings.is_embedded and not settings.sqlite_path.exists():
        return None
    engine = create_engine(settings.sync_database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
