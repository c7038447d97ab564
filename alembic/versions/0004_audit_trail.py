"""audit trail: rows cannot be updated; keyset index on (created_at, id); monthly partitions on Postgres

Revision ID: 0004_audit_trail
Revises: 0003_capacity_budgets
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004_audit_trail'
down_revision: str | None = '0003_capacity_budgets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = 'request_audit rows are immutable'
INDEXES = {  # name -> columns, as the model declares them
    'ix_request_audit_correlation': ['environment_id', 'correlation_id'],
    'ix_request_audit_env_apikey_time': ['environment_id', 'api_key_id', 'created_at'],
    'ix_request_audit_env_resource_time': ['environment_id', 'resource_id', 'created_at'],
    'ix_request_audit_env_time': ['environment_id', 'created_at', 'id'],
    'ix_request_audit_ws_time': ['workspace_id', 'created_at'],
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _partitioned_postgres() -> None:
    """request_audit becomes a table partitioned by month of created_at (the primary key must hold the
    partition key: (id, created_at)). Existing rows are copied into their months; a default partition
    catches rows outside the months created (the application creates months ahead, see
    services/audit_partitions.py)."""
    op.execute("ALTER TABLE request_audit RENAME TO request_audit_unpartitioned")
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("ALTER TABLE request_audit_unpartitioned DROP CONSTRAINT request_audit_pkey")
    op.execute("CREATE TABLE request_audit (LIKE request_audit_unpartitioned INCLUDING DEFAULTS "
               "INCLUDING CONSTRAINTS) PARTITION BY RANGE (created_at)")
    op.execute("ALTER TABLE request_audit ADD CONSTRAINT request_audit_pkey PRIMARY KEY (id, created_at)")
    for name, columns in INDEXES.items():
        op.create_index(name, 'request_audit', columns)
    op.execute("""
        DO $$
        DECLARE m date;
        BEGIN
            FOR m IN SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date
                     FROM request_audit_unpartitioned
                     UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date
            LOOP
                EXECUTE format('CREATE TABLE request_audit_p%s PARTITION OF request_audit '
                               'FOR VALUES FROM (%L) TO (%L)', to_char(m, 'YYYYMM'),
                               m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            END LOOP;
        END $$""")
    op.execute("CREATE TABLE request_audit_default PARTITION OF request_audit DEFAULT")
    op.execute("INSERT INTO request_audit SELECT * FROM request_audit_unpartitioned")
    op.execute("DROP TABLE request_audit_unpartitioned")


def upgrade() -> None:
    if _postgres():
        _partitioned_postgres()
        # The application never updates an audit row (DESIGN §7); the database refuses it too, so a bug or
        # a hand-written statement cannot rewrite history. DELETE stays allowed: retention needs it.
        op.execute(f"""
            CREATE FUNCTION request_audit_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("""
            CREATE TRIGGER request_audit_immutable BEFORE UPDATE ON request_audit
            FOR EACH ROW EXECUTE FUNCTION request_audit_refuse_update()""")
        return
    op.drop_index('ix_request_audit_env_time', table_name='request_audit')
    with op.batch_alter_table('request_audit', recreate='always') as batch:  # SQLite: the same key as Postgres
        batch.create_primary_key('pk_request_audit', ['id', 'created_at'])
    op.create_index('ix_request_audit_env_time', 'request_audit', INDEXES['ix_request_audit_env_time'])
    op.execute(f"""
        CREATE TRIGGER request_audit_immutable BEFORE UPDATE ON request_audit
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS request_audit_immutable ON request_audit")
        op.execute("DROP FUNCTION IF EXISTS request_audit_refuse_update()")
        op.execute("CREATE TABLE request_audit_flat (LIKE request_audit INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        op.execute("INSERT INTO request_audit_flat SELECT * FROM request_audit")
        op.execute("DROP TABLE request_audit CASCADE")  # with its partitions
        op.execute("ALTER TABLE request_audit_flat RENAME TO request_audit")
        op.execute("ALTER TABLE request_audit ADD CONSTRAINT request_audit_pkey PRIMARY KEY (id)")
        for name, columns in INDEXES.items():
            op.create_index(name, 'request_audit', columns[:2] if name == 'ix_request_audit_env_time' else columns)
        return
    op.execute("DROP TRIGGER IF EXISTS request_audit_immutable")
    op.drop_index('ix_request_audit_env_time', table_name='request_audit')
    with op.batch_alter_table('request_audit', recreate='always') as batch:
        batch.create_primary_key('pk_request_audit', ['id'])
    op.create_index('ix_request_audit_env_time', 'request_audit', ['environment_id', 'created_at'])
