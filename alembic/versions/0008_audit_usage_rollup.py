"""audit speed (issue 11): fewer index entries per audit row, and a usage rollup.

Indexes: ix_request_audit_ws_time goes (every query filters on the environment, whose indexes serve it) and
ix_request_audit_batch only holds batch items' rows (NULL for every other request), on both databases.

Usage rollup: request_audit pre-aggregated per environment, UTC hour, resource, connection, provider,
model, endpoint and error (status >= 400) (PostgreSQL only), kept by a statement-level trigger in the inserting
transaction, so COPY, the spool's idempotent replays (only rows actually inserted reach the transition
table) and any other insert all count exactly once. The usage API answers what it holds from it
(services/usage_rollup.py); percentiles, minute buckets and other dimensions still read raw rows.
SQLite keeps reading raw rows: nothing is created there.

Revision ID: 0008_audit_usage_rollup
Revises: 0007_model_capabilities
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision: str = "0008_audit_usage_rollup"
down_revision: str | None = "0007_model_capabilities"
branch_labels = None
depends_on = None

KEYS = ("environment_id", "workspace_id", "hour", "resource_id", "connection_id", "provider", "model", "endpoint",
        "error")
# Few columns on purpose: each batch upserts about one rollup row per two audit rows it inserts, and a wide
# row doubled the writer's cost. What is not here (token min/max, cost parts, gate/routing durations,
# status codes) is answered from raw rows.
INTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens", "total_tokens")
LATENCIES = ("duration_ms", "provider_duration_ms", "time_to_first_token_ms", "tokens_per_second")
# Only JSON numbers: a malformed cost must never make the audit insert (and its batch) fail.
COST = "CASE WHEN jsonb_typeof(cost -> 'total') = 'number' THEN (cost ->> 'total')::float8 END"


def _columns() -> list[tuple[str, str, str, str]]:
    """(column, type, aggregate over the inserted rows, merge with the stored value)."""
    out = [("resource_name", "varchar(100)", "max(resource_name)", "greatest(r.{c}, excluded.{c})"),
           ("connection_name", "varchar(100)", "max(connection_name)", "greatest(r.{c}, excluded.{c})"),
           ("n", "bigint NOT NULL", "count(*)", "r.{c} + excluded.{c}")]
    out += [(f"sum_{name}", "bigint NOT NULL", f"sum({name})", "r.{c} + excluded.{c}") for name in INTS]
    out += [("sum_cost_total", "float8 NOT NULL", f"coalesce(sum({COST}), 0)", "r.{c} + excluded.{c}"),
            ("cnt_cost_total", "bigint NOT NULL", f"count({COST})", "r.{c} + excluded.{c}")]
    for name in LATENCIES:
        out += [(f"sum_{name}", "float8 NOT NULL", f"coalesce(sum({name}), 0)", "r.{c} + excluded.{c}"),
                (f"cnt_{name}", "bigint NOT NULL", f"count({name})", "r.{c} + excluded.{c}"),
                (f"min_{name}", "float8", f"min({name})", "least(r.{c}, excluded.{c})"),
                (f"max_{name}", "float8", f"max({name})", "greatest(r.{c}, excluded.{c})")]
    return out


def upgrade() -> None:
    op.drop_index("ix_request_audit_ws_time", table_name="request_audit")
    op.drop_index("ix_request_audit_batch", table_name="request_audit")
    where = sa.text("batch_id IS NOT NULL")
    op.create_index("ix_request_audit_batch", "request_audit", ["batch_id"], postgresql_where=where,
                    sqlite_where=where)
    if op.get_bind().dialect.name != "postgresql":
        return
    cols = _columns()
    op.execute(f"""
        CREATE TABLE request_audit_rollup (
            environment_id uuid NOT NULL, workspace_id uuid NOT NULL, hour timestamptz NOT NULL,
            resource_id uuid, connection_id uuid, provider varchar(40), model varchar(200),
            endpoint varchar(40) NOT NULL, error boolean NOT NULL,
            {", ".join(f"{c} {t}" for c, t, _, _ in cols)})""")
    # NULLS NOT DISTINCT (PostgreSQL 15+): a row without a resource still merges with its group.
    op.execute(f"CREATE UNIQUE INDEX ux_request_audit_rollup_key ON request_audit_rollup ({', '.join(KEYS)}) "
               "NULLS NOT DISTINCT")
    keys = ", ".join(KEYS)
    select = (f"SELECT environment_id, workspace_id, date_trunc('hour', created_at, 'UTC'), resource_id, "
              f"connection_id, provider, model, endpoint, status_code >= 400, {', '.join(a for _, _, a, _ in cols)} "
              f"FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9")
    updates = ", ".join(f"{c} = " + m.format(c=c) for c, _, _, m in cols)
    # ORDER BY the key: concurrent writers lock rollup rows in the same order (no deadlock).
    op.execute(f"""
        CREATE FUNCTION request_audit_rollup_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO request_audit_rollup AS r ({keys}, {", ".join(c for c, _, _, _ in cols)})
            {select} ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
            ON CONFLICT ({keys}) DO UPDATE SET {updates};
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER request_audit_rollup AFTER INSERT ON request_audit REFERENCING NEW TABLE AS "
               "new_rows FOR EACH STATEMENT EXECUTE FUNCTION request_audit_rollup_add()")
    op.execute(f"INSERT INTO request_audit_rollup ({keys}, {', '.join(c for c, _, _, _ in cols)}) "
               f"{select.replace('FROM new_rows', 'FROM request_audit')}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS request_audit_rollup ON request_audit")
        op.execute("DROP FUNCTION IF EXISTS request_audit_rollup_add()")
        op.execute("DROP TABLE IF EXISTS request_audit_rollup")
    op.drop_index("ix_request_audit_batch", table_name="request_audit")
    op.create_index("ix_request_audit_batch", "request_audit", ["batch_id"])
    op.create_index("ix_request_audit_ws_time", "request_audit", ["workspace_id", "created_at"])
