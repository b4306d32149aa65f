"""Time added by hand (`source = 'manual'`), and an index of the few long or active
sessions, so that every session meeting a range is found without scanning the history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "'discord', 'web', 'api', 'github'"
# Active sessions spelled `ended_at IS NULL`, as 0004 spells them: no index on `sessions`
# mentions `status`, so pausing and resuming stay HOT updates.
LONG_SPANS = "ended_at IS NULL OR ended_at - started_at > interval '2 days'"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_sessions_source"), "sessions", type_="check")
    op.create_check_constraint(
        op.f("ck_sessions_source"), "sessions", f"source IN ({SOURCES}, 'manual')"
    )
    op.create_index(
        "ix_sessions_long_spans",
        "sessions",
        ["user_id", "started_at"],
        postgresql_where=sa.text(LONG_SPANS),
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_long_spans", table_name="sessions")
    op.execute("DELETE FROM sessions WHERE source = 'manual'")
    op.drop_constraint(op.f("ck_sessions_source"), "sessions", type_="check")
    op.create_check_constraint(op.f("ck_sessions_source"), "sessions", f"source IN ({SOURCES})")
