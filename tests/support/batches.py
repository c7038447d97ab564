"""Helpers for batch-completion tests: submit, wait for the end, read the audit rows of a batch."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import sqlalchemy as sa

FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


def chat_items(resource: str, n: int, *, start: int = 0, model_text: str = "item") -> list[dict[str, Any]]:
    return [{"resourceName": resource, "customId": f"c-{i}",
             "request": {"messages": [{"role": "user", "content": f"{model_text} {i}"}]}}
            for i in range(start, start + n)]


def wait_finished(client: httpx.Client, path: str, timeout_s: float = 45.0, **params: Any) -> dict[str, Any]:
    """The batch once every item has finished, read with `params` (the polls read only the summary)."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(path)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] in FINISHED and body["remainingItems"] == 0:
            return client.get(path, params=params).json() if params else body
        if time.monotonic() > deadline:
            raise AssertionError(f"batch not finished after {timeout_s}s: {json.dumps(body)[:500]}")
        time.sleep(0.2)


def audit_rows_of(engine: sa.Engine, batch_id: str, expected: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """The batch's audit rows once `expected` of them are written (the writer flushes in batches)."""
    deadline = time.monotonic() + timeout_s
    query = sa.text("SELECT request_id, status_code, batch_id, total_tokens FROM request_audit "
                    "WHERE batch_id = :bid")
    while True:
        bid = batch_id if engine.dialect.name == "postgresql" else batch_id.replace("-", "")
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query, {"bid": bid}).mappings()]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)
