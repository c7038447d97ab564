"""Every router of the API, in one list so the app factory and the authz matrix test see the same set."""

from __future__ import annotations

from fastapi import APIRouter

from vmx_app.api.routers import health


def all_routers() -> list[APIRouter]:
    return [
        health.router,
    ]
