"""Reports: effective time per subject, day, week or issue, split at local midnights in
proportion to wall-clock time, across DST changes, and adding up however a range is cut."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from app import entries, reports
from app import session as sessions
from app.clock import Clock
from app.errors import InvalidInput
from app.issues import IssueRef
from app.models import SessionSource
from app.reports import GroupBy, Period
from tests.conftest import FROZEN_AT
from tests.domain.conftest import fresh_user_id

SYDNEY = ZoneInfo("Australia/Sydney")  # the default timezone of new users
HOUR = 3600
ISSUE = IssueRef("octo/repo", 7, "https://github.com/octo/repo/issues/7")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SYDNEY)


MON, TUE, WED = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)


def seconds_by_key(summary: reports.Summary) -> dict[str | None, int]:
    return {group.key: group.seconds for group in summary.groups}


async def test_a_session_across_midnight_gives_each_day_its_hour(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    await entries.add(db, user, "Maths", local(MON, 23), local(TUE, 1))

    by_day = await reports.summary(db, user, first=MON, last=TUE, group_by=GroupBy.DAY)

    assert seconds_by_key(by_day) == {"2026-11-16": HOUR, "2026-11-17": HOUR}
    assert by_day.total_seconds == 2 * HOUR
    assert [group.sessions for group in by_day.groups] == [1, 1]
    assert by_day.groups[0].label == "Mon 16 Nov"
    assert by_day.groups[0].subjects == (reports.SubjectShare("Maths", HOUR),)
    only_tuesday = await reports.summary(db, user, first=TUE, last=TUE, group_by=GroupBy.DAY)
    assert only_tuesday.total_seconds == HOUR


async def test_the_split_is_of_effective_time(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    added = await entries.add(db, user, "Maths", local(MON, 23), local(TUE, 1), paused_seconds=1200)
    by_day = await reports.summary(db, user, first=MON, last=TUE, group_by=GroupBy.DAY)
    assert seconds_by_key(by_day) == {"2026-11-16": 3000, "2026-11-17": 3000}

    await sessions.adjust_time(db, user, added.id, "1h")
    by_day = await reports.summary(db, user, first=MON, last=TUE, group_by=GroupBy.DAY)
    assert seconds_by_key(by_day) == {"2026-11-16": 1800, "2026-11-17": 1800}


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 4, 5), 25),  # Sydney's clocks go back an hour: a 25-hour day
        (date(2026, 10, 4), 23),  # and forward: a 23-hour day
    ],
)
async def test_dst_days_have_their_real_length(
    db: AsyncSession, frozen: Clock, day: date, hours: int
) -> None:
    user = fresh_user_id()
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    frozen.freeze(local(before, 23))
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    frozen.freeze(local(after, 1))
    await sessions.clock_out(db, user, started.id)
    frozen.freeze(FROZEN_AT)

    by_day = await reports.summary(db, user, first=before, last=after, group_by=GroupBy.DAY)

    assert [group.seconds for group in by_day.groups] == [HOUR, hours * HOUR, HOUR]


async def test_every_day_and_week_is_present_in_order(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await entries.add(db, user, "Maths", local(MON, 9), local(MON, 10))
    first, last = date(2026, 11, 4), WED

    by_day = await reports.summary(db, user, first=first, last=last, group_by=GroupBy.DAY)
    assert [group.key for group in by_day.groups] == [
        (first + timedelta(days=n)).isoformat() for n in range(15)
    ]
    assert [g.seconds for g in by_day.groups if g.seconds] == [HOUR]

    by_week = await reports.summary(db, user, first=first, last=last, group_by=GroupBy.WEEK)
    # The range starts on a Wednesday: its first week is keyed by that week's Monday.
    assert [(g.key, g.seconds) for g in by_week.groups] == [
        ("2026-11-02", 0),
        ("2026-11-09", 0),
        ("2026-11-16", HOUR),
    ]
    assert by_week.groups[0].label == "Week of 2 Nov 2026"


async def test_subjects_and_issues_rank_by_time(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await entries.add(db, user, "Maths", local(MON, 9), local(MON, 10))
    await entries.add(db, user, "Physics", local(MON, 11), local(MON, 14), issue=ISSUE)
    await entries.add(db, user, "physics", local(TUE, 9), local(TUE, 9, 30))

    by_subject = await reports.summary(db, user, first=MON, last=TUE)
    assert by_subject.group_by is GroupBy.SUBJECT
    assert [(g.key, g.label, g.seconds, g.sessions) for g in by_subject.groups] == [
        ("Physics", "Physics", 3 * HOUR + 1800, 2),
        ("Maths", "Maths", HOUR, 1),
    ]

    by_issue = await reports.summary(db, user, first=MON, last=TUE, group_by=GroupBy.ISSUE)
    assert [(g.key, g.label, g.seconds) for g in by_issue.groups] == [
        (ISSUE.url, "octo/repo#7", 3 * HOUR),
        (None, "No issue", HOUR + 1800),
    ]


async def test_an_issue_without_a_link_is_its_own_group(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    unlinked = IssueRef("ghe/tools", 3, None)  # known, but not a github.com address
    await entries.add(db, user, "Tools", local(MON, 9), local(MON, 11), issue=unlinked)
    await entries.add(db, user, "Maths", local(MON, 12), local(MON, 13))

    by_issue = await reports.summary(db, user, first=MON, last=MON, group_by=GroupBy.ISSUE)

    assert [(g.key, g.label, g.seconds) for g in by_issue.groups] == [
        ("ghe/tools#3", "ghe/tools#3", 2 * HOUR),
        (None, "No issue", HOUR),
    ]


async def test_an_active_session_counts_up_to_now_without_its_open_pause(
    db: AsyncSession, frozen: Clock
) -> None:
    user = fresh_user_id()
    frozen.freeze(local(WED, 9))
    started = await sessions.clock_in(db, user, "Maths", source=SessionSource.API)
    frozen.freeze(local(WED, 10))
    await sessions.pause(db, user, started.id)
    frozen.freeze(local(WED, 11))

    today = await reports.summary(db, user, first=WED, last=WED)

    assert today.total_seconds == HOUR


async def test_the_default_is_this_week(db: AsyncSession, frozen: Clock) -> None:
    summary = await reports.summary(db, fresh_user_id())
    assert (summary.first, summary.last) == (MON, date(2026, 11, 22))
    assert summary.timezone == "Australia/Sydney"
    assert summary.groups == []


async def test_others_time_is_not_yours(db: AsyncSession, frozen: Clock) -> None:
    await entries.add(db, fresh_user_id(), "Maths", local(MON, 9), local(MON, 10))
    assert (await reports.summary(db, fresh_user_id(), first=MON, last=TUE)).total_seconds == 0


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (TUE, MON, "before"),
        (date(2025, 1, 1), date(2026, 1, 2), "at most 366"),
    ],
)
async def test_impossible_ranges_are_invalid(
    db: AsyncSession, frozen: Clock, first: date, last: date, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await reports.summary(db, fresh_user_id(), first=first, last=last)


async def test_a_year_is_allowed(db: AsyncSession, frozen: Clock) -> None:
    summary = await reports.summary(
        db, fresh_user_id(), first=date(2025, 11, 18), last=date(2026, 11, 18), group_by="day"
    )
    assert len(summary.groups) == 366


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        (Period.THIS_WEEK, MON, date(2026, 11, 22)),
        (Period.LAST_WEEK, date(2026, 11, 9), date(2026, 11, 15)),
        (Period.THIS_MONTH, date(2026, 11, 1), date(2026, 11, 30)),
        (Period.LAST_MONTH, date(2026, 10, 1), date(2026, 10, 31)),
    ],
)
def test_periods_are_read_in_the_users_timezone(period: Period, first: date, last: date) -> None:
    assert reports.period_range(period, "Australia/Sydney", FROZEN_AT) == (first, last)


def test_a_month_boundary_depends_on_the_timezone() -> None:
    # 1 Dec 05:00 in Sydney is still 30 Nov in Honolulu.
    instant = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    assert reports.period_range(Period.THIS_MONTH, "Australia/Sydney", instant)[0] == date(
        2026, 12, 1
    )
    assert reports.period_range(Period.THIS_MONTH, "Pacific/Honolulu", instant)[0] == date(
        2026, 11, 1
    )


async def test_csv_follows_the_export_conventions(db: AsyncSession, frozen: Clock) -> None:
    user = fresh_user_id()
    await entries.add(db, user, "=SUM(A1)", local(MON, 9), local(MON, 10, 30))
    export = reports.as_csv(await reports.summary(db, user, first=MON, last=TUE))
    assert export.filename == "timetrack-subject-2026-11-16-to-2026-11-17.csv"
    assert export.text.split("\r\n") == [
        "key,label,seconds,hours,duration,sessions",
        "'=SUM(A1),'=SUM(A1),5400,1.50,1h 30m,1",
        "",
    ]


# --- Properties: the groups add up to the total, and ranges add up over any cut -------

WINDOW_START = datetime(2026, 10, 26, tzinfo=SYDNEY)  # DST began on 4 October; ends in April
WINDOW_DAYS = 21

spans = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=WINDOW_DAYS * 24 * 60 - 1),  # start, minutes in
        st.integers(min_value=1, max_value=20 * 60),  # length, minutes
        st.integers(min_value=0, max_value=100),  # paused, percent of the length (< 100)
        st.sampled_from(["Maths", "Physics", "Art"]),
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=spans, cut=st.integers(min_value=1, max_value=WINDOW_DAYS - 1))
async def test_reports_add_up(
    db: AsyncSession, frozen: Clock, drawn: list[tuple[int, int, int, str]], cut: int
) -> None:
    frozen.freeze(FROZEN_AT)
    user = fresh_user_id("prop")
    savepoint = await db.begin_nested()
    try:
        for start_minute, length, paused_percent, subject in drawn:
            start = WINDOW_START + timedelta(minutes=start_minute)
            end = start + timedelta(minutes=length)
            paused = min(length * 60 - 1, length * 60 * paused_percent // 100)
            try:
                await entries.add(db, user, subject, start, end, paused_seconds=paused)
            except Exception as refused:  # overlaps are refused; the rest must not be
                assert "overlaps" in str(refused)
        first = WINDOW_START.date()
        last = first + timedelta(days=WINDOW_DAYS - 1)
        middle = first + timedelta(days=cut)
        totals = {}
        for group_by in GroupBy:
            whole = await reports.summary(db, user, first=first, last=last, group_by=group_by)
            assert sum(group.seconds for group in whole.groups) == whole.total_seconds
            totals[group_by] = whole.total_seconds
        assert len(set(totals.values())) == 1
        left = await reports.summary(db, user, first=first, last=middle - timedelta(days=1))
        right = await reports.summary(db, user, first=middle, last=last)
        assert left.total_seconds + right.total_seconds == totals[GroupBy.SUBJECT]
    finally:
        await savepoint.rollback()
