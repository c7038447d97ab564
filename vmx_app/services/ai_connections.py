"""AI connections: provider credentials (encrypted before they reach the database), capacity, allowed
models; the "test connection" action."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict, Invalid
from vmx_app.gateway.adapters import (
    AdapterConfigError,
    ProviderError,
    ProviderNetworkError,
    ProviderTimeout,
    build_adapter,
)
from vmx_app.gateway.config import ConnectionSnapshot
from vmx_app.models import AIConnection, AIResource
from vmx_app.models.ai_connection import AIConnectionCreate, AIConnectionPublic, AIConnectionUpdate
from vmx_app.models.base import utcnow
from vmx_app.services.ai_resources import iter_slots, slots_using, stored_config
from vmx_app.services.config_events import publish_change
from vmx_app.services.connection_tests import credentials_changed, record_test
from vmx_app.services.providers import clean_config, masked_secret_errors, secret_fields, validate_config
from vmx_app.vault import MASK, VaultError, is_masked, token_provider
from vmx_app.vault.runtime import connection_context, decrypt_secret, encrypt_secret

TEST_TIMEOUT_S = 20.0
UNREADABLE_MESSAGE = ("the stored credentials of this connection cannot be decrypted (wrong key, or the data was "
                      "tampered with or moved from another connection); enter them again")


class CredentialsUnreadable(Exception):
    """A connection's stored secrets cannot be decrypted. The message never holds secret material."""


# ---- secrets -----------------------------------------------------------------------------------------

async def encrypt_config(provider: str, plain: dict[str, Any], connection_id: uuid.UUID | str) -> dict[str, Any]:
    secrets = secret_fields(provider)
    context = connection_context(str(connection_id))
    return {k: (await encrypt_secret(str(v), context) if k in secrets else v) for k, v in plain.items()}


async def decrypt_config(provider: str, stored: dict[str, Any], connection_id: uuid.UUID | str) -> dict[str, Any]:
    """The plaintext config; raises CredentialsUnreadable. Keep the result in memory only."""
    secrets = secret_fields(provider)
    context = connection_context(str(connection_id))
    out: dict[str, Any] = {}
    for key, value in stored.items():
        if key in secrets and value not in (None, ""):
            if token_provider(value) is None:
                raise CredentialsUnreadable(f"config.{key} is not an encrypted value")
            try:
                out[key] = await decrypt_secret(value, context)
            except VaultError as exc:
                raise CredentialsUnreadable(f"config.{key}: {exc}") from None
        else:
            out[key] = value
    return out


async def credentials_status(row: AIConnection) -> str:
    """"ok", or "unreadable" when the stored secrets no longer decrypt (for the API to show)."""
    try:
        await decrypt_config(row.provider, row.config, row.id)
    except CredentialsUnreadable:
        return "unreadable"
    return "ok"


def masked_config(row: AIConnection) -> dict[str, Any]:
    secrets = secret_fields(row.provider)
    return {k: (MASK if k in secrets and v not in (None, "") else v) for k, v in row.config.items()}


async def to_public(row: AIConnection) -> dict[str, Any]:
    public = AIConnectionPublic(
        id=row.id, workspace_id=row.workspace_id, environment_id=row.environment_id, name=row.name,
        description=row.description, provider=row.provider, config=masked_config(row), capacity=row.capacity,
        allowed_models=row.allowed_models, discovered_capacity=row.discovered_capacity or {},
        credentials_status=await credentials_status(row), last_test=row.last_test,
        created_at=row.created_at, updated_at=row.updated_at,
        created_by=row.created_by, updated_by=row.updated_by,
    )
    return public.model_dump(by_alias=True, mode="json")


def _invalid(errors: list[str]) -> Invalid:
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Invalid(errors[0] + more, details=[{"field": e.split(": ", 1)[0], "message": e.split(": ", 1)[-1]}
                                          for e in errors])


async def _stored_config(provider: str, incoming: dict[str, Any], connection_id: uuid.UUID,
                         previous: dict[str, Any] | None) -> dict[str, Any]:
    """Validate ``incoming`` and return what the database keeps: secrets encrypted; a masked secret
    keeps the previous stored token (``previous`` is None when there is nothing to keep), only while the
    endpoint fields are unchanged."""
    errors = validate_config(provider, incoming)
    if previous is not None:
        errors += masked_secret_errors(stored_provider=provider, stored_config=previous, provider=provider,
                                       incoming=incoming)
    secrets = secret_fields(provider)
    for key, value in incoming.items():
        if key in secrets and is_masked(value) and not (previous or {}).get(key):
            errors.append(f"config.{key}: no stored secret to keep; send the value instead of {MASK}")
    if errors:
        raise _invalid(errors)
    config = clean_config(incoming)
    kept = {k: previous[k] for k, v in config.items() if k in secrets and is_masked(v) and previous}
    fresh = await encrypt_config(provider, {k: v for k, v in config.items() if k not in kept}, connection_id)
    return {k: kept.get(k, fresh.get(k)) for k in config}


def _usage_details(rows: list[AIResource], connection_id: uuid.UUID) -> list[dict[str, Any]]:
    return [{"id": str(r.id), "name": r.name, "slots": slots_using(r, connection_id)}
            for r in rows if slots_using(r, connection_id)]


async def _env_resources(session: AsyncSession, environment_id: uuid.UUID) -> list[AIResource]:
    return list((await session.exec(select(AIResource).where(AIResource.environment_id == environment_id))).all())


async def _commit(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"an AI connection named {name!r} already exists in this environment",
                       details={"name": name}) from None


async def _check_name_free(session: AsyncSession, environment_id: uuid.UUID, name: str,
                           exclude: uuid.UUID | None = None) -> None:
    query = select(AIConnection.id).where(AIConnection.environment_id == environment_id, AIConnection.name == name)
    if exclude is not None:
        query = query.where(AIConnection.id != exclude)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"an AI connection named {name!r} already exists in this environment", details={"name": name})


# ---- use cases ---------------------------------------------------------------------------------------

async def list_connections(*, session: AsyncSession, environment_id: uuid.UUID) -> list[AIConnection]:
    query = select(AIConnection).where(AIConnection.environment_id == environment_id).order_by(AIConnection.name)  # type: ignore[arg-type]
    return list((await session.exec(query)).all())


async def create_connection(*, session: AsyncSession, workspace_id: uuid.UUID, environment_id: uuid.UUID,
                            data: AIConnectionCreate, user_id: uuid.UUID | None) -> AIConnection:
    await _check_name_free(session, environment_id, data.name)
    row = AIConnection(workspace_id=workspace_id, environment_id=environment_id, name=data.name,
                       description=data.description, provider=data.provider,
                       capacity=[c.dump() for c in data.capacity],
                       allowed_models=list(dict.fromkeys(data.allowed_models)),
                       created_by=user_id, updated_by=user_id)
    # The id exists before the insert: it is the associated data the secrets are bound to.
    row.config = await _stored_config(data.provider, data.config, row.id, None)
    session.add(row)
    await _commit(session, data.name)
    await publish_change("connection", row.id, environment_id)
    return row


async def update_connection(*, session: AsyncSession, row: AIConnection, data: AIConnectionUpdate,
                            user_id: uuid.UUID | None) -> AIConnection:
    sent = data.model_fields_set
    for key in ("provider", "config", "capacity", "allowed_models"):
        if key in sent and getattr(data, key) is None:
            raise Invalid(f"{key}: must not be null")
    provider = data.provider if data.provider is not None else row.provider
    provider_changed = provider != row.provider
    if provider_changed and "config" not in sent:
        raise Invalid("config: required when the provider changes",
                      details=[{"field": "config", "message": "required when the provider changes"}])
    if "name" in sent and data.name is not None and data.name != row.name:
        await _check_name_free(session, row.environment_id, data.name, exclude=row.id)
        row.name = data.name
    if "description" in sent:
        row.description = data.description
    allowed = list(dict.fromkeys(data.allowed_models)) if data.allowed_models is not None else row.allowed_models
    await _check_users(session, row, provider, allowed)
    if credentials_changed(row.provider, row.config, data.config, provider_changed):
        row.last_test = None  # the last test was of other credentials: not tested any more
    if data.config is not None:
        # Secrets of another provider's form are not kept: a masked value then has nothing to stand for.
        row.config = await _stored_config(provider, data.config, row.id, None if provider_changed else row.config)
    row.provider = provider
    row.allowed_models = allowed
    if data.capacity is not None:
        row.capacity = [c.dump() for c in data.capacity]
    row.updated_at = utcnow()
    row.updated_by = user_id
    session.add(row)
    await _commit(session, row.name)
    await publish_change("connection", row.id, row.environment_id)
    return row


async def _check_users(session: AsyncSession, row: AIConnection, provider: str, allowed: list[str]) -> None:
    """Resources using this connection must stay valid: same provider, models still allowed."""
    problems: list[dict[str, Any]] = []
    for res in await _env_resources(session, row.environment_id):
        for path, slot in iter_slots(stored_config(res)):
            if str(slot.get("connectionId")) != str(row.id):
                continue
            if slot.get("provider") != provider:
                problems.append({"id": str(res.id), "name": res.name, "slot": path,
                                 "message": f"uses provider {slot.get('provider')!r}"})
            elif allowed and slot.get("model") not in allowed:
                problems.append({"id": str(res.id), "name": res.name, "slot": path,
                                 "message": f"uses model {slot.get('model')!r}, not in allowedModels"})
    if problems:
        names = ", ".join(sorted({p["name"] for p in problems}))
        raise Conflict(f"AI resources using this connection would break: {names}", details={"resources": problems})


async def delete_connection(*, session: AsyncSession, row: AIConnection) -> None:
    """Refuses (409, listing them) while resources use the connection: the original deleted them silently."""
    users = _usage_details(await _env_resources(session, row.environment_id), row.id)
    if users:
        names = ", ".join(u["name"] for u in users)
        raise Conflict(f"the connection is used by AI resources: {names}; change or delete them first",
                       details={"resources": users})
    connection_id, environment_id = row.id, row.environment_id
    await session.delete(row)
    await session.commit()
    await publish_change("connection", connection_id, environment_id)


async def check_connection(*, workspace_id: uuid.UUID, environment_id: uuid.UUID, provider: str,
                          stored: dict[str, Any] | None = None, plain: dict[str, Any] | None = None,
                          connection_id: uuid.UUID | None = None, name: str = "test") -> dict[str, Any]:
    """List the provider's models with the given credentials (the cheapest authenticated call).

    ``stored`` is a saved config (secrets encrypted), ``plain`` an unsaved one; answers
    ``{"ok": True, "models": [...]}`` or ``{"ok": False, "error": {"code", "message", "status"?}}``."""
    try:
        if stored is not None:
            config = await decrypt_config(provider, stored, connection_id or "")
        else:
            config = dict(plain or {})
    except CredentialsUnreadable:
        return {"ok": False, "error": {"code": "credentials_unreadable", "message": UNREADABLE_MESSAGE}}
    snapshot = ConnectionSnapshot(id=str(connection_id or "unsaved"), workspace_id=str(workspace_id),
                                  environment_id=str(environment_id), name=name, provider=provider,
                                  config=clean_config(config))
    try:
        adapter = build_adapter(snapshot)  # a fresh client: the test must not disturb live traffic
    except AdapterConfigError as exc:
        return {"ok": False, "error": {"code": "invalid_config", "message": str(exc)}}
    try:
        models = await asyncio.wait_for(adapter.list_models(), TEST_TIMEOUT_S)
    except ProviderError as exc:
        return {"ok": False, "error": {"code": "provider_error", "status": exc.status, "message": exc.message}}
    except (ProviderTimeout, TimeoutError):
        return {"ok": False, "error": {"code": "timeout", "message": f"no answer within {TEST_TIMEOUT_S:.0f}s"}}
    except ProviderNetworkError as exc:
        return {"ok": False, "error": {"code": "network_error", "message": str(exc)}}
    finally:
        await adapter.aclose()
    return {"ok": True, "models": sorted(set(models))}


async def check_unsaved_edit(*, row: AIConnection, provider: str | None,
                             config: dict[str, Any] | None) -> dict[str, Any]:
    """Test a connection's edited (unsaved) config: masked secrets stand for the stored ones."""
    provider = provider or row.provider
    same = provider == row.provider
    if config is None:
        if not same:
            raise Invalid("config: required when the provider changes")
        result = await check_connection(workspace_id=row.workspace_id, environment_id=row.environment_id,
                                        provider=provider, stored=row.config, connection_id=row.id, name=row.name)
        await record_test(row.id, result)  # a test of the stored credentials is the connection's status
        return result
    errors = validate_config(provider, config)
    masked = [k for k, v in config.items() if k in secret_fields(provider) and is_masked(v)]
    if masked:
        errors += masked_secret_errors(stored_provider=row.provider, stored_config=row.config, provider=provider,
                                       incoming=config)
        errors += [f"config.{k}: no stored secret to keep; send the value" for k in masked if not row.config.get(k)]
    if errors:
        raise _invalid(errors)
    plain = clean_config(config)
    if masked:
        try:
            current = await decrypt_config(row.provider, row.config, row.id)
        except CredentialsUnreadable:
            return {"ok": False, "error": {"code": "credentials_unreadable", "message": UNREADABLE_MESSAGE}}
        plain.update({k: current[k] for k in masked})
    result = await check_connection(workspace_id=row.workspace_id, environment_id=row.environment_id,
                                    provider=provider, plain=plain, connection_id=row.id, name=row.name)
    if not credentials_changed(row.provider, row.config, config, not same):
        await record_test(row.id, result)  # the form holds the stored credentials: their status
    return result


async def check_new_config(*, workspace_id: uuid.UUID, environment_id: uuid.UUID, provider: str,
                           config: dict[str, Any]) -> dict[str, Any]:
    errors = validate_config(provider, config)
    errors += [f"config.{k}: send the value, there is no stored secret" for k, v in config.items()
               if k in secret_fields(provider) and is_masked(v)]
    if errors:
        raise _invalid(errors)
    return await check_connection(workspace_id=workspace_id, environment_id=environment_id, provider=provider,
                                  plain=config)
