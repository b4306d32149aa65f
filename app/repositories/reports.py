from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
)

from app.models import Session, Subject
from app.repositories.base import Repository
from app.repositories.sessions import spans_meeting
from app.timing import effective_seconds_sql


class Part(NamedTuple):
    """Effective seconds that sessions of one subject (and issue) put into one bucket.

    A tuple rather than a dataclass: a year by day is thousands of them, made per request.
    """

    bucket: int  # 0-based: between bounds[bucket] and bounds[bucket + 1]
    user_id: str
    subject: str
    issue_url: str | None
    issue_label: str | None
    seconds: int
    # A session has one subject and one issue, so it is in one part per bucket: the
    # sessions of any group of parts of a bucket add up without counting any twice.
    sessions: int


def _epoch(instant: Any) -> Any:
    # date_part is a double, which holds whole seconds exactly; EXTRACT's numeric is slower.
    return cast(func.date_part("epoch", instant), BigInteger)


# What a team sees of a member's session (`app/teams.py`): while they are a member, a
# subject they share (all when NULL, matched ignoring case), or an issue of the team's
# GitHub owner (and listed repositories, when any).
_SHARED_WITH_TEAM = text(
    """EXISTS (
    SELECT 1 FROM team_members AS m JOIN teams AS t ON t.id = m.team_id
    WHERE m.team_id = :team_id AND m.user_id = sessions.user_id AND (
        m.shared_subjects IS NULL
        OR EXISTS (
            SELECT 1 FROM subjects AS s
            WHERE s.id = sessions.subject_id
              AND lower(s.name) IN (SELECT lower(shared) FROM unnest(m.shared_subjects) AS shared)
        )
        OR (
            sessions.github_repo IS NOT NULL
            AND lower(split_part(sessions.github_repo, '/', 1)) = t.github_owner
            AND (
                cardinality(t.github_repositories) = 0
                OR lower(split_part(sessions.github_repo, '/', 2)) = ANY (t.github_repositories)
            )
        )
    )
)"""
).bindparams(bindparam("team_id", type_=BigInteger))


@cache
def _summary_statement(team: bool) -> Any:
    """Each session's effective time, spread over the buckets it meets in proportion to its
    wall-clock time in each, summed per bucket, user, subject and issue: one query, over one
    user's sessions, or over a team's members' sessions that they share with it.

    The share of a session up to an instant x is floor(effective * elapsed(x) / measured),
    elapsed being the time from its start to x, clipped to its span; a bucket gets the
    share at its end minus the share at its start. That keeps whole seconds, and the shares
    of adjacent buckets add up to exactly the share of their union, so a range's total is
    the sum of its parts however it is cut. A session of no length (an overridden instant)
    keeps all its time in the bucket where it starts.

    Sessions are found as `spans_meeting` finds them, through the indexes; `width_bucket`
    places each in O(log buckets), and the arithmetic per part is on whole seconds.
    """
    moment = DateTime(timezone=True)
    # Several users are one range scan each of the same index (`= ANY`).
    owner = any_(bindparam("user_ids", type_=ARRAY(Text)))
    now = bindparam("now", type_=moment)
    range_start = bindparam("range_start", type_=moment)
    range_end = bindparam("range_end", type_=moment)
    # A one-row CTE: an array parameter can't be subscripted where it is bound. `marks` are
    # the same instants as `bounds`, in seconds since the epoch.
    edges = select(
        bindparam("bounds", type_=ARRAY(moment)).label("bounds"),
        bindparam("marks", type_=ARRAY(BigInteger)).label("marks"),
    ).cte("edges")
    ended = func.coalesce(Session.ended_at, now)
    first = func.width_bucket(func.greatest(Session.started_at, range_start), edges.c.bounds)
    last = func.width_bucket(
        func.least(ended, range_end) - literal_column("interval '1 microsecond'"), edges.c.bounds
    )
    spans = (
        select(
            Session.user_id,
            Session.subject_id,
            Session.github_repo,
            Session.github_issue_number,
            Session.github_issue_url,
            _epoch(Session.started_at).label("t0"),
            func.greatest(0, _epoch(ended) - _epoch(Session.started_at)).label("measured"),
            cast(effective_seconds_sql(now), BigInteger).label("effective"),
            first.label("first"),
            func.greatest(first, last).label("last"),
            and_(Session.started_at >= range_start, ended <= range_end).label("inside"),
        )
        .join(edges, true())
        .where(*spans_meeting(owner, range_start, range_end, now))
        .where(_SHARED_WITH_TEAM if team else true())
        .cte("spans")
    )
    issue = (
        spans.c.user_id,
        spans.c.subject_id,
        spans.c.github_repo,
        spans.c.github_issue_number,
        spans.c.github_issue_url,
    )
    # Nearly every session lies within one bucket: all its time is that bucket's.
    within = and_(spans.c.first == spans.c.last, spans.c.inside)
    whole = select(spans.c.first.label("bucket"), *issue, spans.c.effective.label("seconds"))
    whole = whole.where(within)

    buckets = (
        func.generate_series(spans.c.first, spans.c.last)
        .table_valued("bucket")
        .render_derived()
        .lateral("buckets")
    )
    bucket = buckets.c.bucket

    def share(mark: Any) -> Any:
        elapsed = func.least(func.greatest(mark - spans.c.t0, 0), spans.c.measured)
        # Integer division in PostgreSQL (bigint / bigint) is the floor wanted here.
        return (spans.c.effective * elapsed).op("/")(spans.c.measured)

    seconds = case(
        (spans.c.measured == 0, spans.c.effective),
        else_=share(edges.c.marks[bucket + 1]) - share(edges.c.marks[bucket]),
    )
    split = (
        select(bucket.label("bucket"), *issue, seconds.label("seconds"))
        .select_from(spans)
        .join(edges, true())
        .join(buckets, true())
        .where(~within)
    )
    pieces = union_all(whole, split).subquery("pieces")
    parts = (
        select(
            (pieces.c.bucket - 1).label("bucket"),
            pieces.c.user_id,
            pieces.c.subject_id,
            pieces.c.github_repo,
            pieces.c.github_issue_number,
            pieces.c.github_issue_url,
            cast(func.sum(pieces.c.seconds), BigInteger).label("seconds"),
            func.count().label("sessions"),
        )
        .group_by(
            pieces.c.bucket,
            pieces.c.user_id,
            pieces.c.subject_id,
            pieces.c.github_repo,
            pieces.c.github_issue_number,
            pieces.c.github_issue_url,
        )
        .subquery("parts")
    )
    issue_label = case(
        (parts.c.github_repo.is_(None), None),
        else_=parts.c.github_repo + literal("#") + cast(parts.c.github_issue_number, Text),
    )
    return select(
        parts.c.bucket,
        parts.c.user_id,
        Subject.name,
        parts.c.github_issue_url,
        issue_label,
        parts.c.seconds,
        parts.c.sessions,
    ).join_from(parts, Subject, Subject.id == parts.c.subject_id)


class ReportRepository(Repository):
    async def parts(
        self,
        user_ids: Sequence[str],
        bounds: Sequence[datetime],
        now: datetime,
        *,
        team_id: int | None = None,
    ) -> list[Part]:
        """The effective seconds per bucket, user, subject and issue; buckets lie between
        consecutive `bounds` (ascending instants), and no empty one is returned. With a
        team, only what each user shares with it counts."""
        parameters: dict[str, Any] = {
            "user_ids": list(user_ids),
            "now": now,
            "range_start": bounds[0],
            "range_end": bounds[-1],
            "bounds": list(bounds),
            "marks": [int(bound.timestamp()) for bound in bounds],
        }
        if team_id is not None:
            parameters["team_id"] = team_id
        statement = _summary_statement(team_id is not None)
        rows = (await self.db.execute(statement, parameters)).all()
        return [
            Part(int(bucket), user_id, name, url, label, int(seconds), int(count))
            for bucket, user_id, name, url, label, seconds, count in rows
        ]
