"""The tables. Alembic owns the schema; these typed models must match it (a test checks)."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement, TextClause

from app.issues import CANONICAL_ISSUE_URL
from app.limits import REMIND_AFTER_MAX_MINUTES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class SessionStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    ENDED_UNCONFIRMED = "ENDED_UNCONFIRMED"
    ENDED_CONFIRMED = "ENDED_CONFIRMED"


ACTIVE_STATUSES = (SessionStatus.RUNNING, SessionStatus.PAUSED)
# Active sessions as index predicates spell them: `ended_at IS NULL` is the same rows (the
# `ended_at_iff_ended` check), and no index mentions `status`, so pause and resume are HOT.
_ACTIVE_SQL = "ended_at IS NULL"
ENDED_STATUSES = (SessionStatus.ENDED_UNCONFIRMED, SessionStatus.ENDED_CONFIRMED)


class SessionSource(enum.StrEnum):
    DISCORD = "discord"
    WEB = "web"
    API = "api"
    GITHUB = "github"
    MANUAL = "manual"


class StopReason(enum.StrEnum):
    USER = "user"
    STALE = "stale"
    ISSUE_CLOSED = "issue_closed"
    UNASSIGNED = "unassigned"
    PROJECT_DONE = "project_done"


class LinkPurpose(enum.StrEnum):
    """What a one-time link opens: the page, or a step of linking a GitHub account."""

    SIGN_IN = "sign_in"
    GITHUB_LINK = "github_link"
    GITHUB_STATE = "github_state"


class WebhookScope(enum.StrEnum):
    REPOSITORY = "repository"
    ORGANIZATION = "organization"


DEFAULT_REMIND_AFTER_MINUTES = 120


# When a user's summary is due, NULL ("work it out now") first. Queries spell it as the
# index does (`summary_due_column`), so the planner uses the index.
_SUMMARY_DUE_SQL = "coalesce(next_summary_at, '-infinity'::timestamptz)"


def summary_due_column() -> ColumnElement[datetime]:
    return literal_column(_SUMMARY_DUE_SQL, DateTime(timezone=True))


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


# Only the canonical address of an issue is ever stored as its link (`app.issues`), so no
# other URL can reach a card or the page, whatever a payload carried.
ISSUE_URL_IS_CANONICAL = f"github_issue_url IS NULL OR github_issue_url ~ '{CANONICAL_ISSUE_URL}'"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    github_login: Mapped[str | None] = mapped_column(Text)
    # NULL turns reminders off.
    remind_after_minutes: Mapped[int | None] = mapped_column(
        Integer, server_default=text(str(DEFAULT_REMIND_AFTER_MINUTES))
    )
    weekly_summary: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # When the next weekly summary is due: a Monday 08:00 in the user's timezone. NULL means
    # "work it out at the next tick" (a new user, a new timezone, summaries turned back on),
    # so the hot path that creates users never computes it.
    next_summary_at: Mapped[datetime | None]

    __table_args__ = (
        # GitHub logins are case-insensitive, so uniqueness is too.
        Index("uq_users_github_login", text("lower(github_login)"), unique=True),
        CheckConstraint(
            f"remind_after_minutes BETWEEN 1 AND {REMIND_AFTER_MAX_MINUTES}",
            "remind_after_minutes_range",
        ),
        # The tick's search for due summaries: a range scan over the users who want them.
        Index(
            "ix_users_summary_due",
            text(_SUMMARY_DUE_SQL),
            postgresql_where=text("weekly_summary"),
        ),
    )


class Subject(TimestampMixin, Base):
    __tablename__ = "subjects"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        Index("uq_subjects_user_id_lower_name", "user_id", text("lower(name)"), unique=True),
        CheckConstraint("char_length(name) BETWEEN 1 AND 64 AND name = btrim(name)", "name"),
    )


class WeeklyAllocation(TimestampMixin, Base):
    __tablename__ = "weekly_allocations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    week_start_date: Mapped[date] = mapped_column(Date)
    minutes_allocated: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    subject: Mapped[Subject] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("user_id", "subject_id", "week_start_date"),
        CheckConstraint("minutes_allocated >= 0", "minutes_allocated_non_negative"),
        CheckConstraint("extract(isodow FROM week_start_date) = 1", "week_starts_monday"),
        Index(None, "user_id", "week_start_date"),
        Index(None, "subject_id", "week_start_date"),
    )


# Sessions whose span is longer than this, and active ones, are "long": few, and indexed on
# their own, so finding every session that meets a range never scans the whole history.
LONG_SPAN = timedelta(days=2)
_LONG_SPAN_SQL = f"{_ACTIVE_SQL} OR ended_at - started_at > interval '2 days'"


def long_span_predicate() -> TextClause:
    """The partial index's predicate, spelled as the index spells it so the planner uses it."""
    return text(f"({_LONG_SPAN_SQL})")


class Session(TimestampMixin, Base):
    """A focus session. `total_paused_seconds` excludes a pause that is still open."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    goal: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(Text)
    total_paused_seconds: Mapped[int] = mapped_column(Integer, server_default="0")
    pause_started_at: Mapped[datetime | None]
    effective_override_seconds: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[SessionSource] = mapped_column(Text)
    stop_reason: Mapped[StopReason | None] = mapped_column(Text)
    github_repo: Mapped[str | None] = mapped_column(Text)
    github_issue_number: Mapped[int | None] = mapped_column(Integer)
    github_issue_url: Mapped[str | None] = mapped_column(Text)
    # When the owner is next asked "Still working on …?"; NULL once asked, or when
    # reminders are off. Only active sessions are ever reminded.
    remind_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())

    subject: Mapped[Subject] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint("total_paused_seconds >= 0", "total_paused_seconds_non_negative"),
        CheckConstraint(
            "effective_override_seconds IS NULL OR effective_override_seconds >= 0",
            "effective_override_seconds_non_negative",
        ),
        CheckConstraint(_in("status", SessionStatus), "status"),
        CheckConstraint(_in("source", SessionSource), "source"),
        CheckConstraint(f"stop_reason IS NULL OR {_in('stop_reason', StopReason)}", "stop_reason"),
        CheckConstraint(
            "(status IN ('RUNNING', 'PAUSED')) = (ended_at IS NULL)", "ended_at_iff_ended"
        ),
        CheckConstraint(
            "(status = 'PAUSED') = (pause_started_at IS NOT NULL)", "pause_started_at_iff_paused"
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", "ends_after_start"),
        CheckConstraint(ISSUE_URL_IS_CANONICAL, "github_issue_url"),
        # No index mentions `status`, not even in a predicate (`ended_at IS NULL` is the same
        # rows, by the check above), and pages keep room: pausing and resuming are HOT updates.
        Index("ix_sessions_user_id_started_at", "user_id", text("started_at DESC")),
        Index(
            "uq_sessions_one_active_per_user",
            "user_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index(
            "ix_sessions_long_spans",
            "user_id",
            "started_at",
            postgresql_where=text(_LONG_SPAN_SQL),
        ),
        Index(
            "ix_sessions_active_github_issue",
            "github_repo",
            "github_issue_number",
            postgresql_where=text("ended_at IS NULL"),
        ),
        # The tick's search for due reminders: only active sessions still to be reminded.
        Index(
            "ix_sessions_remind_at",
            "remind_at",
            postgresql_where=text(f"{_ACTIVE_SQL} AND remind_at IS NOT NULL"),
        ),
        {"postgresql_with": {"fillfactor": 90}},
    )


class ApiToken(TimestampMixin, Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginLink(TimestampMixin, Base):
    """A one-time link: it works once, for its purpose only, until it expires."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    purpose: Mapped[LinkPurpose] = mapped_column(Text, server_default=LinkPurpose.SIGN_IN.value)

    __table_args__ = (CheckConstraint(_in("purpose", LinkPurpose), "purpose"),)


class SignIn(TimestampMixin, Base):
    """A browser signed in to the page. Its cookie holds a random token; only the hash is
    kept, and deleting the row signs that browser out."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuthFailure(Base):
    """A credential refused to a client address, kept for a minute to throttle guessing."""

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    address: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime]

    __table_args__ = (Index(None, "address", "failed_at"),)


class WebhookSecret(TimestampMixin, Base):
    """A GitHub webhook secret that signs deliveries of one repository or organisation only.

    The secret itself is never stored: it is derived from the signing key and `seed`.
    """

    __tablename__ = "webhook_secrets"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    scope: Mapped[WebhookScope] = mapped_column(Text)
    # Lower case: GitHub's owner and repository names ignore case.
    name: Mapped[str] = mapped_column(Text)
    seed: Mapped[str] = mapped_column(Text, unique=True)

    __table_args__ = (
        CheckConstraint(_in("scope", WebhookScope), "scope"),
        CheckConstraint("name = lower(name)", "name_lower_case"),
    )


class ProcessedEvent(TimestampMixin, Base):
    """An interaction or delivery already handled: its answer is replayed on a repeat."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Who sent a Discord interaction: a repeat from anyone else never gets this answer.
    user_id: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("kind", "event_id"),
        Index(None, "created_at"),
    )


class SwitchOffer(TimestampMixin, Base):
    """An issue assigned to someone while they tracked something else: their Switch button.

    The button's `custom_id` is `switch:<id>`, a short integer that names nothing private.
    """

    __tablename__ = "switch_offers"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    github_repo: Mapped[str] = mapped_column(Text)
    github_issue_number: Mapped[int] = mapped_column(Integer)
    github_issue_url: Mapped[str | None] = mapped_column(Text)
    issue_title: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index(None, "created_at"),
        CheckConstraint(ISSUE_URL_IS_CANONICAL, "github_issue_url"),
    )


class NotificationKind(enum.StrEnum):
    REMINDER = "reminder"
    WEEKLY_SUMMARY = "weekly_summary"


class NotificationStatus(enum.StrEnum):
    SENDING = "sending"  # claimed by a tick, which is sending it now
    PENDING = "pending"  # a failed attempt; the next tick tries again
    SENT = "sent"
    FAILED = "failed"  # given up


_RETRYABLE_SQL = "status IN ('sending', 'pending')"


class Notification(TimestampMixin, Base):
    """A message the scheduler decided to send: recorded once per (user, kind, key) in the
    transaction that decided it, so no tick, however many run at once, sends it twice.

    The message is stored as rendered, so a retry sends what was decided.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The session a reminder is about: a retry is dropped once the session has ended.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    message: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[NotificationStatus] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        CheckConstraint(_in("kind", NotificationKind), "kind"),
        CheckConstraint(_in("status", NotificationStatus), "status"),
        CheckConstraint("attempts >= 0", "attempts_non_negative"),
        # Health and pruning read by the last change.
        Index(None, "updated_at"),
        # What a tick retries: few rows, whatever the history.
        Index("ix_notifications_retryable", "updated_at", postgresql_where=text(_RETRYABLE_SQL)),
        # Deleting a session deletes its reminders; without this, each delete scans the table.
        Index(
            "ix_notifications_session_id",
            "session_id",
            postgresql_where=text("session_id IS NOT NULL"),
        ),
    )


# When a team's weekly post is due, NULL ("work it out now") first; spelled as the index is.
_POST_DUE_SQL = "coalesce(next_post_at, '-infinity'::timestamptz)"


def post_due_column() -> ColumnElement[datetime]:
    return literal_column(_POST_DUE_SQL, DateTime(timezone=True))


class TeamRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Team(TimestampMixin, Base):
    """People who share some of their tracked time with each other (`app/teams.py`)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    discord_guild_id: Mapped[str | None] = mapped_column(Text, unique=True)
    discord_channel_id: Mapped[str | None] = mapped_column(Text)
    # Lower case, as GitHub's names ignore case. No repositories: all of the owner's.
    github_owner: Mapped[str | None] = mapped_column(Text)
    github_repositories: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    # When the weekly post to the channel is next due; NULL: work it out at the next tick.
    next_post_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("char_length(name) BETWEEN 1 AND 64 AND name = btrim(name)", "name"),
        CheckConstraint("github_owner = lower(github_owner)", "github_owner_lower_case"),
        Index(
            "ix_teams_post_due",
            text(_POST_DUE_SQL),
            postgresql_where=text("discord_channel_id IS NOT NULL"),
        ),
    )


class TeamMember(Base):
    """Consent: a row exists only while the user is in the team, and says what they share."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[TeamRole] = mapped_column(Text)
    # NULL: every subject. Names as the member typed them; matched ignoring case.
    shared_subjects: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    joined_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint(_in("role", TeamRole), "role"),)


class TeamInvite(TimestampMixin, Base):
    """A one-time invitation to a team; only its hash is stored."""

    __tablename__ = "team_invites"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TeamPost(TimestampMixin, Base):
    """A weekly summary posted to a team's channel: once per team and week."""

    __tablename__ = "team_posts"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
