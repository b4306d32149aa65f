"""Hardening: revocable page sign-ins, one-time links for every purpose, throttled sign-in
failures, per-repository webhook secrets, answers tied to who asked, canonical issue links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app/issues.py has it at this revision: the only issue link stored from now on.
CANONICAL_ISSUE_URL = (
    r"^https://github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}"
    r"/issues/[1-9][0-9]{0,8}$"
)
ISSUE_URL_IS_CANONICAL = f"github_issue_url IS NULL OR github_issue_url ~ '{CANONICAL_ISSUE_URL}'"


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ins")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sign_ins_user_id_users"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_ins_token_hash")),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])

    op.create_table(
        "auth_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_failures")),
    )
    op.create_index("ix_auth_failures_address_failed_at", "auth_failures", ["address", "failed_at"])

    op.create_table(
        "webhook_secrets",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("seed", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secrets")),
        sa.UniqueConstraint("seed", name=op.f("uq_webhook_secrets_seed")),
        sa.CheckConstraint(
            "scope IN ('repository', 'organization')", name=op.f("ck_webhook_secrets_scope")
        ),
        sa.CheckConstraint("name = lower(name)", name=op.f("ck_webhook_secrets_name_lower_case")),
    )

    op.add_column(
        "login_links",
        sa.Column("purpose", sa.Text(), server_default="sign_in", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_login_links_purpose"),
        "login_links",
        "purpose IN ('sign_in', 'github_link', 'github_state')",
    )

    op.add_column("processed_events", sa.Column("user_id", sa.Text(), nullable=True))

    # Links stored before only the canonical form was accepted lose the link and keep the
    # issue, which is then shown as plain text.
    op.alter_column("switch_offers", "github_issue_url", nullable=True)
    for table in ("sessions", "switch_offers"):
        op.execute(
            f"UPDATE {table} SET github_issue_url = NULL "  # noqa: S608 - fixed names
            f"WHERE NOT ({ISSUE_URL_IS_CANONICAL})"
        )
    op.create_check_constraint(
        op.f("ck_sessions_github_issue_url"), "sessions", ISSUE_URL_IS_CANONICAL
    )
    op.create_check_constraint(
        op.f("ck_switch_offers_github_issue_url"), "switch_offers", ISSUE_URL_IS_CANONICAL
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_switch_offers_github_issue_url"), "switch_offers", type_="check")
    op.drop_constraint(op.f("ck_sessions_github_issue_url"), "sessions", type_="check")
    # Offers live a day; one without a link cannot go back to a column that needs one.
    op.execute("DELETE FROM switch_offers WHERE github_issue_url IS NULL")
    op.alter_column("switch_offers", "github_issue_url", nullable=False)
    op.drop_column("processed_events", "user_id")
    # Only sign-in links existed before; the others are useless to the older code.
    op.execute("DELETE FROM login_links WHERE purpose <> 'sign_in'")
    op.drop_constraint(op.f("ck_login_links_purpose"), "login_links", type_="check")
    op.drop_column("login_links", "purpose")
    op.drop_table("webhook_secrets")
    op.drop_table("auth_failures")
    op.drop_table("sign_ins")
