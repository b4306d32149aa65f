from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Text,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
    true,
)

from app.models import Session, Subject
from app.repositories.base import Repository
from app.repositories.sessions import spans_meeting
from app.timing import effective_seconds_sql


@dataclass(frozen=True)
class Part:
    """Effective seconds that sessions of one subject (and issue) put into one bucket."""

    bucket: int  # 0-based: between bounds[bucket] and bounds[bucket + 1]
    subject: str
    issue_url: str | None
    issue_label: str | None
    seconds: int
    session_ids: tuple[int, ...]


def _epoch(instant: Any) -> Any:
    return cast(func.floor(extract("epoch", instant)), BigInteger)


@cache
def _summary_statement() -> Any:
    """Each session's effective time, spread over the buckets it meets in proportion to its
    wall-clock time in each, summed per bucket, subject and issue: one query.

    The share of a session up to an instant x is floor(effective * elapsed(x) / measured),
    elapsed being the time from its start to x, clipped to its span; a bucket gets the
    share at its end minus the share at its start. That keeps whole seconds, and the shares
    of adjacent buckets add up to exactly the share of their union, so a range's total is
    the sum of its parts however it is cut. A session of no length (an overridden instant)
    keeps all its time in the bucket where it starts.

    Sessions are found as `spans_meeting` finds them, through the indexes, and
    `width_bucket` places each in O(log buckets).
    """
    moment = DateTime(timezone=True)
    owner = bindparam("user_id", type_=Text)
    now = bindparam("now", type_=moment)
    range_start = bindparam("range_start", type_=moment)
    range_end = bindparam("range_end", type_=moment)
    # A one-row CTE: an array parameter can't be subscripted where it is bound.
    edges = select(bindparam("bounds", type_=ARRAY(moment)).label("bounds")).cte("edges")
    bounds = edges.c.bounds
    ended = func.coalesce(Session.ended_at, now)
    spans = (
        select(
            Session.id,
            Session.subject_id,
            Session.github_repo,
            Session.github_issue_number,
            Session.github_issue_url,
            Session.started_at,
            _epoch(Session.started_at).label("t0"),
            func.greatest(0, _epoch(ended) - _epoch(Session.started_at)).label("measured"),
            cast(effective_seconds_sql(now), BigInteger).label("effective"),
            func.least(ended, range_end).label("clipped_end"),
        )
        .where(*spans_meeting(owner, range_start, range_end, now))
        .cte("spans")
    )
    first = func.width_bucket(func.greatest(spans.c.started_at, range_start), bounds)
    last = func.greatest(
        first,
        func.width_bucket(spans.c.clipped_end - literal_column("interval '1 microsecond'"), bounds),
    )
    buckets = (
        func.generate_series(first, last).table_valued("bucket").render_derived().lateral("buckets")
    )
    bucket = buckets.c.bucket

    def share(bound: Any) -> Any:
        elapsed = func.least(func.greatest(_epoch(bound) - spans.c.t0, 0), spans.c.measured)
        return spans.c.effective * elapsed // spans.c.measured

    seconds = case(
        (spans.c.measured == 0, spans.c.effective),
        else_=share(bounds[bucket + 1]) - share(bounds[bucket]),
    )
    issue_label = case(
        (spans.c.github_repo.is_(None), None),
        else_=spans.c.github_repo + literal("#") + cast(spans.c.github_issue_number, Text),
    )
    return (
        select(
            (bucket - 1).label("bucket"),
            Subject.name,
            spans.c.github_issue_url,
            issue_label,
            cast(func.sum(seconds), BigInteger),
            func.array_agg(spans.c.id),
        )
        .select_from(spans)
        .join(edges, true())
        .join(buckets, true())
        .join(Subject, Subject.id == spans.c.subject_id)
        .group_by(bucket, Subject.name, spans.c.github_issue_url, issue_label)
    )


class ReportRepository(Repository):
    async def parts(self, user_id: str, bounds: Sequence[datetime], now: datetime) -> list[Part]:
        """The effective seconds per bucket, subject and issue; buckets lie between
        consecutive `bounds` (ascending instants), and no empty one is returned."""
        parameters = {
            "user_id": user_id,
            "now": now,
            "range_start": bounds[0],
            "range_end": bounds[-1],
            "bounds": list(bounds),
        }
        rows = (await self.db.execute(_summary_statement(), parameters)).all()
        return [
            Part(
                bucket=int(bucket),
                subject=name,
                issue_url=url,
                issue_label=label,
                seconds=int(seconds),
                session_ids=tuple(sorted(int(i) for i in ids)),
            )
            for bucket, name, url, label, seconds, ids in rows
        ]
