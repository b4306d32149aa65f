"""Where the time went over any run of days: totals per subject, day, week or issue.

A range is whole days in the user's timezone, both ends included, at most MAX_DAYS long.
A session counts its effective time: ended sessions of every kind, and active ones up to
now. One that crosses a local midnight (or a week's start, or the range's edge) is split
in proportion to the wall-clock time on each side, following the real instants, so a DST
day has 23 or 25 hours. The split is in whole seconds and adds up: a range's total is the
sum of its days' totals, whichever way it is cut (`app/repositories/reports.py`).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, spreadsheet, timezones
from app.clock import clock
from app.durations import format_duration
from app.errors import InvalidInput
from app.repositories.reports import Part, ReportRepository
from app.spreadsheet import CsvExport, text_cell
from app.weeks import check_day, local_midnight, monday_of

MAX_DAYS = 366


class GroupBy(enum.StrEnum):
    SUBJECT = "subject"
    DAY = "day"
    WEEK = "week"
    ISSUE = "issue"


class TeamGroupBy(enum.StrEnum):
    """A team report's groups: a personal report's, or its members."""

    MEMBER = "member"
    SUBJECT = "subject"
    DAY = "day"
    ISSUE = "issue"


class Period(enum.StrEnum):
    """The periods `/report` offers, relative to today in the user's timezone."""

    THIS_WEEK = "this week"
    LAST_WEEK = "last week"
    THIS_MONTH = "this month"
    LAST_MONTH = "last month"


@dataclass(frozen=True)
class SubjectShare:
    subject: str
    seconds: int


@dataclass(frozen=True)
class MemberShare:
    user_id: str
    name: str
    seconds: int


@dataclass(frozen=True)
class Group:
    """One line of a report. `subjects` splits a day's or a week's time by subject, and in
    a team's report `members` splits it by member."""

    key: str | None
    label: str
    seconds: int
    sessions: int
    subjects: tuple[SubjectShare, ...] = ()
    members: tuple[MemberShare, ...] = ()


@dataclass(frozen=True)
class Summary:
    first: date
    last: date
    timezone: str
    group_by: GroupBy | TeamGroupBy
    groups: list[Group]
    generated_at: datetime

    @property
    def total_seconds(self) -> int:
        return sum(group.seconds for group in self.groups)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period_range(period: Period, timezone: str, now: datetime) -> tuple[date, date]:
    """The first and last day of a period, in the user's timezone."""
    today = now.astimezone(timezones.zone(timezone)).date()
    if period is Period.THIS_WEEK:
        monday = monday_of(today)
        return monday, monday + timedelta(days=6)
    if period is Period.LAST_WEEK:
        monday = monday_of(today) - timedelta(days=7)
        return monday, monday + timedelta(days=6)
    first_of_month = today.replace(day=1)
    if period is Period.THIS_MONTH:
        following = (first_of_month + timedelta(days=32)).replace(day=1)
        return first_of_month, following - timedelta(days=1)
    last_of_previous = first_of_month - timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous


def _checked_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    # No range is this week; one end alone is the week (seven days) from or to it.
    if first is None and last is None:
        first = monday_of(today)
    if last is None:
        assert first is not None
        last = first + timedelta(days=6)
    elif first is None:
        first = last - timedelta(days=6)
    check_day(first, "from")
    check_day(last, "to")
    if last < first:
        raise InvalidInput("The 'to' day is before the 'from' day.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"A report covers at most {MAX_DAYS} days; ask for a shorter range.")
    return first, last


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _bucket_starts(first: date, last: date, group_by: GroupBy | TeamGroupBy) -> list[date]:
    """The first day of each bucket: every day, every week (from its Monday, or from the
    range's first day), or the whole range."""
    if group_by is GroupBy.DAY:
        return _days(first, last)
    if group_by is GroupBy.WEEK:
        return [day for day in _days(first, last) if day == first or day.weekday() == 0]
    return [first]


def _week_label(monday: date) -> str:
    return f"Week of {monday.day} {monday:%b %Y}"


def _day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _ranked(parts: Iterable[Part], *, by_user: bool = False) -> list[tuple[str, int]]:
    """Seconds per subject (or per member), most first."""
    totals: dict[str, int] = {}
    for part in parts:
        name = part.user_id if by_user else part.subject
        totals[name] = totals.get(name, 0) + part.seconds
    if len(totals) < 2:
        return list(totals.items())
    return sorted(totals.items(), key=lambda item: (-item[1], item[0].lower()))


def _group(
    key: str | None,
    label: str,
    parts: list[Part],
    *,
    by_subject: bool,
    names: dict[str, str] | None = None,
) -> Group:
    return Group(
        key=key,
        label=label,
        seconds=sum(part.seconds for part in parts),
        sessions=sum(part.sessions for part in parts),
        subjects=tuple(
            SubjectShare(subject, seconds)
            for subject, seconds in (_ranked(parts) if by_subject else ())
        ),
        members=tuple(
            MemberShare(user_id, (names or {}).get(user_id, user_id), seconds)
            for user_id, seconds in (_ranked(parts, by_user=True) if by_subject and names else ())
        ),
    )


def _groups(
    group_by: GroupBy | TeamGroupBy,
    starts: list[date],
    parts: list[Part],
    names: dict[str, str],
) -> list[Group]:
    if group_by in (GroupBy.DAY, GroupBy.WEEK):
        by_bucket: dict[int, list[Part]] = defaultdict(list)
        for part in parts:
            by_bucket[part.bucket].append(part)
        empty: list[Part] = []
        groups = []
        for index, start in enumerate(starts):
            if group_by is GroupBy.DAY:
                key, label = start.isoformat(), _day_label(start)
            else:
                monday = monday_of(start)
                key, label = monday.isoformat(), _week_label(monday)
            found = by_bucket.get(index, empty)
            groups.append(_group(key, label, found, by_subject=True, names=names))
        return groups
    by_key: dict[str | None, list[Part]] = defaultdict(list)
    labels: dict[str | None, str] = {}
    for part in parts:
        found_key: str | None
        if group_by is TeamGroupBy.MEMBER:
            found_key, label = part.user_id, names.get(part.user_id, part.user_id)
        elif group_by is GroupBy.SUBJECT:
            found_key, label = part.subject, part.subject
        else:
            # An issue known without a link (not on github.com) is keyed by its label.
            found_key, label = part.issue_url or part.issue_label, part.issue_label or "No issue"
        labels[found_key] = label
        by_key[found_key].append(part)
    groups = [_group(k, labels[k], found, by_subject=False) for k, found in by_key.items()]
    groups.sort(key=lambda group: (-group.seconds, group.label.lower(), group.key or ""))
    return groups


async def summary(
    db: AsyncSession,
    user_id: str,
    *,
    first: date | None = None,
    last: date | None = None,
    group_by: GroupBy = GroupBy.SUBJECT,
) -> Summary:
    """The user's tracked time between two days (default: this week), grouped."""
    timezone = await accounts.timezone_of(db, user_id)
    return await _summarise(
        db, [user_id], timezone, first=first, last=last, group_by=GroupBy(group_by)
    )


async def team_summary(
    db: AsyncSession,
    team_id: int,
    members: dict[str, str],
    timezone: str,
    *,
    first: date | None = None,
    last: date | None = None,
    group_by: TeamGroupBy = TeamGroupBy.MEMBER,
) -> Summary:
    """What the members (user id -> display name) share with the team, by the same rules
    and in the team's timezone: each member's part is their personal report's, restricted
    to what they share (`app/teams.py`)."""
    return await _summarise(
        db,
        list(members),
        timezone,
        first=first,
        last=last,
        group_by=TeamGroupBy(group_by),
        team_id=team_id,
        names=members,
    )


async def _summarise(
    db: AsyncSession,
    user_ids: list[str],
    timezone: str,
    *,
    first: date | None,
    last: date | None,
    group_by: GroupBy | TeamGroupBy,
    team_id: int | None = None,
    names: dict[str, str] | None = None,
) -> Summary:
    tz = timezones.zone(timezone)
    now = clock.now()
    first, last = _checked_range(first, last, now.astimezone(tz).date())
    # A team's subjects, days and issues are grouped as a personal report's; its members,
    # like subjects, over the whole range.
    grouping = group_by if group_by is TeamGroupBy.MEMBER else GroupBy(group_by)
    starts = _bucket_starts(first, last, grouping)
    bounds = [local_midnight(day, tz) for day in [*starts, last + timedelta(days=1)]]
    parts = await ReportRepository(db).parts(user_ids, bounds, now, team_id=team_id)
    return Summary(
        first=first,
        last=last,
        timezone=timezone,
        group_by=group_by,
        groups=_groups(grouping, starts, parts, names or {}),
        generated_at=now,
    )


CSV_COLUMNS = ("key", "label", "seconds", "hours", "duration", "sessions")


def as_csv(report: Summary) -> CsvExport:
    rows: list[list[str | int]] = [
        [
            text_cell(group.key),
            text_cell(group.label),
            group.seconds,
            f"{group.seconds / 3600:.2f}",
            format_duration(group.seconds),
            group.sessions,
        ]
        for group in report.groups
    ]
    filename = (
        f"timetrack-{report.group_by}-{report.first.isoformat()}-to-{report.last.isoformat()}.csv"
    )
    return CsvExport(filename=filename, text=spreadsheet.write(CSV_COLUMNS, rows))
