"""The tables. Alembic owns the schema; these typed models must match it (a test checks)."""

from __future__ import annotations

import enum
from datetime import date, datetime
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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
ENDED_STATUSES = (SessionStatus.ENDED_UNCONFIRMED, SessionStatus.ENDED_CONFIRMED)


class SessionSource(enum.StrEnum):
    DISCORD = "discord"
    WEB = "web"
    API = "api"
    GITHUB = "github"


class StopReason(enum.StrEnum):
    USER = "user"
    STALE = "stale"
    ISSUE_CLOSED = "issue_closed"
    UNASSIGNED = "unassigned"
    PROJECT_DONE = "project_done"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text)
    github_login: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # GitHub logins are case-insensitive, so uniqueness is too.
        Index("uq_users_github_login", text("lower(github_login)"), unique=True),
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
            "ix_sessions_active_github_issue",
            "github_repo",
            "github_issue_number",
            postgresql_where=text("ended_at IS NULL"),
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
    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ProcessedEvent(TimestampMixin, Base):
    """An interaction or delivery already handled: its answer is replayed on a repeat."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)

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
    github_issue_url: Mapped[str] = mapped_column(Text)
    issue_title: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index(None, "created_at"),)
