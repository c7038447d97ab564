"""Batch completions as the signed-in principal (console, or the API with a session): scope and policy
(`completion-batch:list|get|create|cancel` on the environment's `completion-batch` resource string),
then the shared operations of `batches` under that scope."""

from __future__ import annotations

from typing import Any

from vmx_app.auth.authorization import Principal
from vmx_app.models.completion_batch import CompletionBatch, CompletionBatchItem
from vmx_app.services import batches
from vmx_app.services.access import env_module_for
from vmx_app.services.batches import BatchScope
from vmx_app.services.unit_of_work import use_session

MODULE = "completion-batch"


async def scope_for(principal: Principal, workspace_id: str, environment_id: str, action: str) -> BatchScope:
    async with use_session(None, readonly=True) as s:
        workspace, env = await env_module_for(s, principal, workspace_id, environment_id, action, MODULE)
    return BatchScope(workspace.id, env.id, user_id=principal.user_id)


async def create_batch_as(principal: Principal, workspace_id: str, environment_id: str,
                          body: Any) -> CompletionBatch:
    scope = await scope_for(principal, workspace_id, environment_id, "completion-batch:create")
    return await batches.create_batch(scope, body)


async def list_batches_as(principal: Principal, workspace_id: str, environment_id: str, *, offset: int = 0,
                          limit: int = 100) -> tuple[list[CompletionBatch], int]:
    scope = await scope_for(principal, workspace_id, environment_id, "completion-batch:list")
    return await batches.list_batches(scope, offset=offset, limit=limit)


async def get_batch_as(principal: Principal, workspace_id: str, environment_id: str, batch_id: str, *,
                       include_items: bool = False) -> tuple[CompletionBatch, list[CompletionBatchItem] | None]:
    scope = await scope_for(principal, workspace_id, environment_id, "completion-batch:get")
    batch = await batches.get_batch(scope, batch_id)
    return batch, (await batches.list_items(batch) if include_items else None)


async def cancel_batch_as(principal: Principal, workspace_id: str, environment_id: str,
                          batch_id: str) -> CompletionBatch:
    scope = await scope_for(principal, workspace_id, environment_id, "completion-batch:cancel")
    return await batches.cancel_batch(scope, batch_id)
