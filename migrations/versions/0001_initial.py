"""The initial schema: users, subjects, weekly allocations, sessions, tokens, links, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('RUNNING', 'PAUSED')"


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _updated_at() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("github_login", sa.Text(), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_github_login", "users", [sa.text("lower(github_login)")], unique=True)

    op.create_table(
        "subjects",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_subjects_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_subjects_user_id_name")),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 64 AND name = btrim(name)",
            name=op.f("ck_subjects_name"),
        ),
    )
    op.create_index(
        "uq_subjects_user_id_lower_name",
        "subjects",
        ["user_id", sa.text("lower(name)")],
        unique=True,
    )

    op.create_table(
        "weekly_allocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("week_start_date", sa.Date(), nullable=False),
        sa.Column("minutes_allocated", sa.Integer(), nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_allocations")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_weekly_allocations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_weekly_allocations_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "user_id",
            "subject_id",
            "week_start_date",
            name=op.f("uq_weekly_allocations_user_id_subject_id_week_start_date"),
        ),
        sa.CheckConstraint(
            "minutes_allocated >= 0",
            name=op.f("ck_weekly_allocations_minutes_allocated_non_negative"),
        ),
        sa.CheckConstraint(
            "extract(isodow FROM week_start_date) = 1",
            name=op.f("ck_weekly_allocations_week_starts_monday"),
        ),
    )
    op.create_index(
        "ix_weekly_allocations_user_id_week_start_date",
        "weekly_allocations",
        ["user_id", "week_start_date"],
    )
    op.create_index(
        "ix_weekly_allocations_subject_id_week_start_date",
        "weekly_allocations",
        ["subject_id", "week_start_date"],
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("total_paused_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pause_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_override_seconds", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("github_repo", sa.Text(), nullable=True),
        sa.Column("github_issue_number", sa.Integer(), nullable=True),
        sa.Column("github_issue_url", sa.Text(), nullable=True),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_sessions_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "total_paused_seconds >= 0", name=op.f("ck_sessions_total_paused_seconds_non_negative")
        ),
        sa.CheckConstraint(
            "effective_override_seconds IS NULL OR effective_override_seconds >= 0",
            name=op.f("ck_sessions_effective_override_seconds_non_negative"),
        ),
        sa.CheckConstraint(
            "status IN ('RUNNING', 'PAUSED', 'ENDED_UNCONFIRMED', 'ENDED_CONFIRMED')",
            name=op.f("ck_sessions_status"),
        ),
        sa.CheckConstraint(
            "source IN ('discord', 'web', 'api', 'github')", name=op.f("ck_sessions_source")
        ),
        sa.CheckConstraint(
            "stop_reason IS NULL OR stop_reason IN "
            "('user', 'stale', 'issue_closed', 'unassigned', 'project_done')",
            name=op.f("ck_sessions_stop_reason"),
        ),
        sa.CheckConstraint(
            "(status IN ('RUNNING', 'PAUSED')) = (ended_at IS NULL)",
            name=op.f("ck_sessions_ended_at_iff_ended"),
        ),
        sa.CheckConstraint(
            "(status = 'PAUSED') = (pause_started_at IS NOT NULL)",
            name=op.f("ck_sessions_pause_started_at_iff_paused"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_sessions_ends_after_start")
        ),
    )
    op.create_index("ix_sessions_user_id_status", "sessions", ["user_id", "status"])
    # The week report and the recent list read a user's sessions by start time.
    op.create_index(
        "ix_sessions_user_id_started_at", "sessions", ["user_id", sa.text("started_at DESC")]
    )
    # The backstop behind the per-user lock: one active session per user, whatever races.
    op.create_index(
        "uq_sessions_one_active_per_user",
        "sessions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
    )
    op.create_index(
        "ix_sessions_active_github_issue",
        "sessions",
        ["github_repo", "github_issue_number"],
        postgresql_where=sa.text(ACTIVE),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "login_links",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_links_token_hash")),
    )
    op.create_index("ix_login_links_user_id", "login_links", ["user_id"])

    op.create_table(
        "processed_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("response", postgresql.JSONB(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint("kind", "event_id", name=op.f("uq_processed_events_kind_event_id")),
    )
    op.create_index("ix_processed_events_created_at", "processed_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("processed_events")
    op.drop_table("login_links")
    op.drop_table("api_tokens")
    op.drop_table("sessions")
    op.drop_table("weekly_allocations")
    op.drop_table("subjects")
    op.drop_index("uq_users_github_login", table_name=op.f("users"))
    op.drop_table("users")
