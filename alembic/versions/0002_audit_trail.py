"""audit trail: request_audit rows cannot be updated; the keyset index covers (created_at, id)

Revision ID: 0002_audit_trail
Revises: 0001
Create Date: 2026-12-02 04:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0002_audit_trail'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = 'request_audit rows are immutable'


def upgrade() -> None:
    op.drop_index('ix_request_audit_env_time', table_name='request_audit')
    op.create_index('ix_request_audit_env_time', 'request_audit', ['environment_id', 'created_at', 'id'])
    # The application never updates an audit row (DESIGN §7); the database refuses it too, so a bug or
    # a hand-written statement cannot rewrite history. DELETE stays allowed: retention needs it.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION request_audit_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("""
            CREATE TRIGGER request_audit_immutable BEFORE UPDATE ON request_audit
            FOR EACH ROW EXECUTE FUNCTION request_audit_refuse_update()""")
    else:
        op.execute(f"""
            CREATE TRIGGER request_audit_immutable BEFORE UPDATE ON request_audit
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    op.drop_index('ix_request_audit_env_time', table_name='request_audit')
    op.create_index('ix_request_audit_env_time', 'request_audit', ['environment_id', 'created_at'])
    op.execute("DROP TRIGGER IF EXISTS request_audit_immutable" +
               (" ON request_audit" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS request_audit_refuse_update()")
