"""Scheduled work: reminder and weekly-summary settings, when each is next due, and a
record of every scheduled message.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Active sessions, spelled as 0004 spells them: no index on `sessions` mentions `status`.
ACTIVE = "ended_at IS NULL"


def _next_monday_at_eight(zone: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(zone)
    monday = local.date() + timedelta(days=7 - local.weekday())
    return datetime.combine(monday, time(8), tzinfo=zone).astimezone(UTC)


def _first_summaries() -> None:
    # Existing users get their first summary next Monday morning, rather than last week's
    # all at once at the first tick after the upgrade. (NULL would mean "due now".)
    bind = op.get_bind()
    now = datetime.now(UTC)
    zones = bind.execute(sa.text("SELECT DISTINCT timezone FROM users")).scalars().all()
    for name in zones:
        try:
            due = _next_monday_at_eight(ZoneInfo(name), now)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # left NULL: the first tick works it out
        bind.execute(
            sa.text("UPDATE users SET next_summary_at = :due WHERE timezone = :zone"),
            {"due": due, "zone": name},
        )


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("remind_after_minutes", sa.Integer(), server_default="120", nullable=True),
    )
    op.create_check_constraint(
        op.f("ck_users_remind_after_minutes_range"),
        "users",
        "remind_after_minutes BETWEEN 1 AND 1440",
    )
    op.add_column(
        "users",
        sa.Column("weekly_summary", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("users", sa.Column("next_summary_at", sa.DateTime(timezone=True)))
    _first_summaries()
    op.create_index(
        "ix_users_summary_due",
        "users",
        [sa.text("coalesce(next_summary_at, '-infinity'::timestamptz)")],
        postgresql_where=sa.text("weekly_summary"),
    )

    # Sessions already running are not reminded: their owners set nothing up for it yet.
    op.add_column("sessions", sa.Column("remind_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_sessions_remind_at",
        "sessions",
        ["remind_at"],
        postgresql_where=sa.text(f"{ACTIVE} AND remind_at IS NOT NULL"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("message", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_notifications_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "user_id", "kind", "key", name=op.f("uq_notifications_user_id_kind_key")
        ),
        sa.CheckConstraint(
            "kind IN ('reminder', 'weekly_summary')", name=op.f("ck_notifications_kind")
        ),
        sa.CheckConstraint(
            "status IN ('sending', 'pending', 'sent', 'failed')",
            name=op.f("ck_notifications_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notifications_attempts_non_negative")),
    )
    op.create_index("ix_notifications_updated_at", "notifications", ["updated_at"])
    op.create_index(
        "ix_notifications_retryable",
        "notifications",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('sending', 'pending')"),
    )
    op.create_index(
        "ix_notifications_session_id",
        "notifications",
        ["session_id"],
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_index("ix_sessions_remind_at", table_name="sessions")
    op.drop_column("sessions", "remind_at")
    op.drop_index("ix_users_summary_due", table_name="users")
    op.drop_column("users", "next_summary_at")
    op.drop_column("users", "weekly_summary")
    op.drop_constraint(op.f("ck_users_remind_after_minutes_range"), "users", type_="check")
    op.drop_column("users", "remind_after_minutes")
