"""What the OpenAPI document says about the completion routes (DESIGN §4): their `{ws}`/`{env}` path
parameters and their error answers, in each route family's own shape. Documentation only: requests
are served by the fast path, which runs none of this."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel

ERROR_STATUSES = {
    400: "Invalid request (body, `vmx` envelope, overrides), or blocked by a routing condition",
    401: "Missing, unknown, disabled or expired API key",
    403: "The API key may not use this AI resource",
    404: "No AI resource of that name in this environment",
    409: "Conflict",
    413: "Request body over VMX_MAX_BODY_BYTES",
    429: "Capacity or the provider's rate limit exhausted (see Retry-After)",
}


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """OpenAI routes (chat completions, responses, models)."""

    error: OpenAIErrorDetail


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicError(BaseModel):
    """Anthropic routes (messages, count_tokens, models)."""

    type: Literal["error"] = "error"
    error: AnthropicErrorDetail


def error_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": model, "description": text} for status, text in ERROR_STATUSES.items()}


OPENAI_ERRORS = error_responses(OpenAIError)
ANTHROPIC_ERRORS = error_responses(AnthropicError)


async def completion_path(
    ws: Annotated[uuid.UUID, Path(description="Workspace id")],
    env: Annotated[uuid.UUID, Path(description="Environment id")],
) -> None:
    """Declares the prefix's path parameters (a router dependency: never run by the fast path)."""
