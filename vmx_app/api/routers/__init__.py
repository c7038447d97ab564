"""Every router of the API, in one list so the app factory and the authz matrix test see the same set."""

from __future__ import annotations

from fastapi import APIRouter

from vmx_app.api.routers import (
    ai_connections,
    ai_providers,
    ai_resources,
    api_keys,
    auth,
    budget_status,
    completion,
    completion_audit,
    completion_batch,
    completion_usage,
    environments,
    health,
    model_pricing,
    pool_definition,
    roles,
    users,
    workspaces,
)


def all_routers() -> list[APIRouter]:
    return [
        completion.router,  # the completion routes' OpenAPI entries (requests take CompletionFastPath)
        completion_batch.router,
        health.router,
        auth.router,
        users.router,
        roles.router,
        workspaces.router,
        environments.router,
        api_keys.router,
        ai_providers.router,
        ai_connections.router,
        ai_resources.router,
        ai_resources.internal_router,
        model_pricing.router,
        budget_status.router,
        pool_definition.router,
        completion_audit.router,
        completion_usage.router,
        completion_usage.metric_router,
    ]
