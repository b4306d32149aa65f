"""REST request and response bodies, and domain objects -> JSON.

Every string that reaches PostgreSQL is `Text` (`app.text.StorableText`): checked here for
NUL characters and unpaired surrogates, which JSON can carry but a `text` column cannot
store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from app.allocation import WeekReport, remaining_seconds
from app.limits import (
    DURATION_MAX_LENGTH,
    GOAL_MAX_LENGTH,
    ISSUE_URL_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REMIND_AFTER_MAX_MINUTES,
    SUBJECT_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
)
from app.models import Session, SessionSource, SessionStatus, StopReason, User
from app.reports import GroupBy, Summary
from app.text import StorableText
from app.timing import session_times
from server.body_limit import DEFAULT_MAX_BYTES, describe

Text = StorableText
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def iso_utc(instant: datetime) -> str:
    """`2026-11-21T01:00:00Z`: UTC, whole seconds, with a Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_or_none(instant: datetime | None) -> str | None:
    return None if instant is None else iso_utc(instant)


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Error(BaseModel):
    error: str = Field(examples=["conflict"])
    detail: str = Field(examples=["Already paused."])


class SessionOut(BaseModel):
    id: int
    subject: str
    goal: str | None
    note: str | None
    status: SessionStatus
    is_paused: bool
    source: SessionSource
    started_at: Timestamp
    ended_at: Timestamp | None
    pause_started_at: Timestamp | None
    paused_seconds: int
    measured_seconds: int
    effective_seconds: int
    effective_override_seconds: int | None
    active_duration: float = Field(description="Effective seconds, as BLT clients expect.")
    github_repo: str | None
    github_issue_number: int | None
    github_issue_url: str | None
    stop_reason: StopReason | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, session: Session, now: datetime) -> SessionOut:
        times = session_times(session, now)
        return cls(
            id=session.id,
            subject=session.subject.name,
            goal=session.goal,
            note=session.note,
            status=session.status,
            is_paused=session.status == SessionStatus.PAUSED,
            source=session.source,
            started_at=iso_utc(session.started_at),
            ended_at=iso_utc_or_none(session.ended_at),
            pause_started_at=iso_utc_or_none(session.pause_started_at),
            paused_seconds=times.paused,
            measured_seconds=times.measured,
            effective_seconds=times.effective,
            effective_override_seconds=session.effective_override_seconds,
            active_duration=float(times.effective),
            github_repo=session.github_repo,
            github_issue_number=session.github_issue_number,
            github_issue_url=session.github_issue_url,
            stop_reason=session.stop_reason,
            created_at=iso_utc(session.created_at),
            updated_at=iso_utc(session.updated_at),
        )


class SessionPageOut(BaseModel):
    count: int
    next: str | None = Field(description="Absolute URL of the next page, or null.")
    previous: str | None = Field(description="Absolute URL of the previous page, or null.")
    results: list[SessionOut]


class StartIn(Body):
    subject: Text = Field(max_length=SUBJECT_MAX_LENGTH, examples=["search_engine"])
    goal: Text | None = Field(
        default=None, max_length=GOAL_MAX_LENGTH, examples=["finish web scraper"]
    )
    github_issue_url: Text | None = Field(
        default=None,
        max_length=ISSUE_URL_MAX_LENGTH,
        examples=["https://github.com/octo-org/hello-world/issues/12"],
    )


class EntryIn(StartIn):
    """Time worked earlier, added by hand."""

    started_at: AwareDatetime = Field(examples=["2026-11-17T09:00:00+11:00"])
    ended_at: AwareDatetime = Field(examples=["2026-11-17T10:20:00+11:00"])
    paused_seconds: StrictInt = Field(default=0, description="Breaks within the span.")


class StopIn(Body):
    purpose: Text | None = Field(
        default=None, max_length=GOAL_MAX_LENGTH, description="A goal that replaces the one set."
    )


class SessionPatchIn(Body):
    goal: Text | None = Field(default=None, max_length=GOAL_MAX_LENGTH)
    note: Text | None = Field(default=None, max_length=NOTE_MAX_LENGTH)
    effective_duration: Text | None = Field(
        default=None,
        max_length=DURATION_MAX_LENGTH,
        description="Corrected effective time: `1h 20m`, `80m`, `1:20` or `4800s`.",
        examples=["1:20"],
    )
    effective_seconds: StrictInt | None = Field(default=None, description="Corrected, in seconds.")
    started_at: AwareDatetime | None = Field(
        default=None, description="Corrected start of an ended session, with its UTC offset."
    )
    ended_at: AwareDatetime | None = Field(
        default=None, description="Corrected end of an ended session, with its UTC offset."
    )


class MeOut(BaseModel):
    id: str
    username: str | None
    timezone: str
    github_login: str | None
    remind_after_minutes: int | None = Field(
        description="A DM asks whether you are still working after this long; null: never."
    )
    weekly_summary: bool = Field(description="Last week's summary by DM on Monday morning.")
    created_at: Timestamp

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(
            id=user.id,
            username=user.username,
            timezone=user.timezone,
            github_login=user.github_login,
            remind_after_minutes=user.remind_after_minutes,
            weekly_summary=user.weekly_summary,
            created_at=iso_utc(user.created_at),
        )


class MePatchIn(Body):
    """Only the fields sent change; null leaves a field as it is, except
    `remind_after_minutes`, where null turns reminders off."""

    timezone: Text | None = Field(
        default=None, max_length=TIMEZONE_MAX_LENGTH, examples=["Europe/Berlin"]
    )
    remind_after_minutes: StrictInt | None = Field(
        default=None,
        ge=1,
        le=REMIND_AFTER_MAX_MINUTES,
        description="Minutes before a reminder; null turns reminders off.",
        examples=[120],
    )
    weekly_summary: StrictBool | None = Field(default=None, examples=[True])


class SubjectOut(BaseModel):
    name: str


class SubjectListOut(BaseModel):
    results: list[SubjectOut]


class AllocationIn(Body):
    hours: float = Field(description="Hours planned this week, 0–168; 0 removes the plan.")


class WeekRowOut(BaseModel):
    subject: str
    allocated_seconds: int
    tracked_seconds: int
    remaining_seconds: int
    unplanned: bool


class WeekReportOut(BaseModel):
    week_start: date
    timezone: str
    subjects: list[WeekRowOut]
    total_allocated_seconds: int
    total_tracked_seconds: int

    @classmethod
    def of(cls, report: WeekReport) -> WeekReportOut:
        return cls(
            week_start=report.week_start,
            timezone=report.timezone,
            subjects=[
                WeekRowOut(
                    subject=row.subject,
                    allocated_seconds=row.allocated_seconds,
                    tracked_seconds=row.tracked_seconds,
                    remaining_seconds=remaining_seconds(row),
                    unplanned=row.unplanned,
                )
                for row in report.rows
            ],
            total_allocated_seconds=report.total_allocated_seconds,
            total_tracked_seconds=report.total_tracked_seconds,
        )


_DESCRIPTIONS = {
    400: "Bad request.",
    401: "Missing, unknown or revoked token (or no sign-in cookie).",
    403: "Cookie sign-in without a valid X-CSRF-Token header, or a team route for its owners "
    "and admins only.",
    404: "Not found: no such session (or not yours), no such team (or not yours), or a path "
    "that names nothing.",
    409: "The session is not in a state that allows this, or the change is already made.",
    413: f"The request body is larger than {describe(DEFAULT_MAX_BYTES)}.",
    422: "The input is invalid.",
    429: "Too many failed sign-ins from this address; see Retry-After.",
    503: "The database is temporarily unavailable.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give; 401, 403, 413, 429 and 503
    apply to all."""
    wanted = sorted({401, 403, 413, 429, 503, *codes})
    return {code: {"model": Error, "description": _DESCRIPTIONS[code]} for code in wanted}


class SubjectShareOut(BaseModel):
    subject: str
    seconds: int


class MemberShareOut(BaseModel):
    user_id: str
    name: str
    seconds: int


class ReportGroupOut(BaseModel):
    key: str | None = Field(
        description="The subject, the day or the week's Monday (YYYY-MM-DD), or the issue URL "
        "(null: no issue)."
    )
    label: str
    seconds: int
    sessions: int
    subjects: list[SubjectShareOut] | None = Field(
        default=None, description="For days and weeks: the time by subject, most first."
    )


class SummaryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    timezone: str
    group_by: str
    total_seconds: int
    groups: list[ReportGroupOut]

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        dated = summary.group_by in (GroupBy.DAY, GroupBy.WEEK)
        return cls(
            first=summary.first,
            last=summary.last,
            timezone=summary.timezone,
            group_by=str(summary.group_by),
            total_seconds=summary.total_seconds,
            groups=[
                ReportGroupOut(
                    key=group.key,
                    label=group.label,
                    seconds=group.seconds,
                    sessions=group.sessions,
                    subjects=[
                        SubjectShareOut(subject=s.subject, seconds=s.seconds)
                        for s in group.subjects
                    ]
                    if dated
                    else None,
                )
                for group in summary.groups
            ],
        )
