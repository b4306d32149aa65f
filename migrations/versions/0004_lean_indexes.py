"""Status changes leave the indexes alone, so pausing and resuming are HOT updates.

A row version can stay on its page, with no index touched (a HOT update), only when no
indexed column changes, index predicates included. Pause and resume change `status`, which
every index on `sessions` but two used to mention:

- `ix_sessions_user_id_status` goes: the active session is found by the partial unique
  index, and lists by `(user_id, started_at)`.
- The two partial indexes on active sessions say `ended_at IS NULL` instead of `status IN
  ('RUNNING', 'PAUSED')`; the `ended_at_iff_ended` check makes the two the same rows.
- `sessions` keeps a tenth of each page free, so the new version of a session on a full
  page still fits there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_BY_STATUS = "status IN ('RUNNING', 'PAUSED')"
ACTIVE = "ended_at IS NULL"


def _active_indexes(active: str) -> None:
    op.drop_index("uq_sessions_one_active_per_user", table_name="sessions")
    op.create_index(
        "uq_sessions_one_active_per_user",
        "sessions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text(active),
    )
    op.drop_index("ix_sessions_active_github_issue", table_name="sessions")
    op.create_index(
        "ix_sessions_active_github_issue",
        "sessions",
        ["github_repo", "github_issue_number"],
        postgresql_where=sa.text(active),
    )


def upgrade() -> None:
    op.drop_index("ix_sessions_user_id_status", table_name="sessions")
    _active_indexes(ACTIVE)
    op.execute("ALTER TABLE sessions SET (fillfactor = 90)")


def downgrade() -> None:
    op.execute("ALTER TABLE sessions RESET (fillfactor)")
    _active_indexes(ACTIVE_BY_STATUS)
    op.create_index("ix_sessions_user_id_status", "sessions", ["user_id", "status"])
