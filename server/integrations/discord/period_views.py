"""Discord messages about time over a period: the week's plan against what was tracked,
reports and weekly summaries, the review list, and a team's week.

Built from the same pieces as the session card (`views`); every builder returns a
message payload, which `views.reply` or `views.update` wraps.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.allocation import CopiedPlan, WeekReport, remaining_seconds
from app.durations import format_duration
from app.history import ReviewPage
from app.models import SessionStatus
from app.reports import Summary
from app.repositories.allocations import WeekRow
from app.summaries import WeeklySummary
from app.text import clip
from app.timing import session_times
from app.weeks import week_start_for
from server.integrations.discord.views import (
    BAR_CELLS,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    EPHEMERAL,
    NO_MENTIONS,
    PRIMARY,
    STATUS_COLOURS,
    action_row,
    button,
    escape,
    timestamp,
)

# --- What the buttons of scheduled messages answer ---------------------------------------

PLAN = "plan"
PLAN_COPY = "plan_copy"
REVIEW = "review"
CARD = "card"
REVIEW_PAGE = 5


def progress_bar(done: int, planned: int, cells: int = BAR_CELLS) -> str:
    if planned <= 0:
        return "░" * cells
    filled = min(cells, cells * max(done, 0) // planned)  # floor: never shows more than done
    return "▓" * filled + "░" * (cells - filled)


def _week_row_lines(row: WeekRow) -> list[str]:
    name = f"**{escape(row.subject)}**"
    tracked = format_duration(row.tracked_seconds)
    if row.unplanned:
        return [f"{name} · unplanned", f"{tracked} tracked"]
    planned = format_duration(row.allocated_seconds)
    left = remaining_seconds(row)
    over = row.tracked_seconds - row.allocated_seconds
    tail = f"{format_duration(left)} left" if left else "done ✅"
    if over > 0:
        tail = f"{format_duration(over)} over"
    bar = progress_bar(row.tracked_seconds, row.allocated_seconds)
    return [name, f"`{bar}` {tracked} / {planned} · {tail}"]


def _week_embed(report: WeekReport, title: str, footnote: str | None = None) -> dict[str, Any]:
    """Plan against tracked, one short block per subject, then the total (and a footnote).
    Many subjects are cut short; the total and the footnote always show."""
    blocks = ["\n".join(_week_row_lines(row)) for row in report.rows]
    if not blocks:
        blocks = ["Nothing planned or tracked in this week.\nPlan with `/alloc set`."]
    total_planned = report.total_allocated_seconds
    total_tracked = report.total_tracked_seconds
    tail = f"**Total** {format_duration(total_tracked)} / {format_duration(total_planned)}"
    planned_left = sum(remaining_seconds(row) for row in report.rows if not row.unplanned)
    if planned_left:
        tail += f" · {format_duration(planned_left)} left"
    if footnote:
        tail += f"\n\n{footnote}"
    description = "\n\n".join(blocks)
    room = EMBED_DESCRIPTION_LIMIT - len(tail) - 4
    if len(description) > room:
        description = description[: room - 1].rsplit("\n\n", 1)[0] + "\n\n…"
    return {
        "title": title,
        "description": f"{description}\n\n{tail}",
        "color": 0x5865F2,
        "footer": {"text": f"Weeks start on Monday in {report.timezone}"},
    }


def week_report_message(report: WeekReport) -> dict[str, Any]:
    """This week's plan against what was tracked, one short block per subject (ephemeral)."""
    return {
        "content": "",
        "embeds": [_week_embed(report, f"Week of {report.week_start:%a %d %b %Y}")],
        "components": [week_navigation(report)],
        "flags": EPHEMERAL,
        "allowed_mentions": NO_MENTIONS,
    }


WEEK = "week"


def week_navigation(report: WeekReport) -> dict[str, Any]:
    """◀ ▶ buttons (`week:<Monday>`) that show the week before or after, in place."""
    shown = report.week_start
    before, after = shown - timedelta(days=7), shown + timedelta(days=7)
    buttons = [button("◀ Previous week", WEEK, before.isoformat())]
    current = week_start_for(report.timezone, report.generated_at)
    # Custom ids must differ within a message: offer "This week" only when it is neither.
    if current not in (before, shown, after):
        buttons.append(button("This week", WEEK, current.isoformat()))
    buttons.append(button("Next week ▶", WEEK, after.isoformat()))
    return action_row(*buttons)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def weekly_summary_message(summary: WeeklySummary) -> dict[str, Any]:
    """Last week's plan against what was tracked (the `/alloc show` layout), the sessions
    still waiting for review, and buttons to plan this week and to review them."""
    report = summary.report
    waiting = summary.awaiting_review
    footnote = None
    if waiting:
        verb = "waits" if waiting == 1 else "wait"
        footnote = f"⏳ {_count(waiting, 'session')} {verb} for your review."
    embed = _week_embed(report, f"Your week of {report.week_start:%a %d %b %Y}", footnote)
    buttons = [button("Plan this week", PLAN, report.week_start.isoformat(), PRIMARY)]
    if waiting:
        buttons.append(button(f"Review {_count(waiting, 'session')}", REVIEW, 0))
    return {
        "content": "📊 Your week in review: last week's plan against what you tracked.",
        "embeds": [embed],
        "components": [action_row(*buttons)],
        "allowed_mentions": NO_MENTIONS,
    }


def plan_message(report: WeekReport, source: date, source_planned: bool) -> dict[str, Any]:
    """This week's plan, ready to fill in: one click copies the plan of the week of
    `source` (`plan_copy:<Monday>`), or `/alloc set` plans one subject."""
    message = week_report_message(report)
    week = f"{source.day} {source:%b}"
    if not source_planned:
        message["content"] = f"Nothing was planned in the week of {week}. Plan with `/alloc set`."
        return message
    message["content"] = f"Copy the plan of the week of {week}, or plan with `/alloc set`."
    copy = button(f"Copy the plan of the week of {week}", PLAN_COPY, source.isoformat(), PRIMARY)
    message["components"].append(action_row(copy))
    return message


def copied_plan_message(copied: CopiedPlan) -> dict[str, Any]:
    message = week_report_message(copied.report)
    week = f"{copied.source.day} {copied.source:%b}"
    if copied.copied:
        done = f"Copied {_count(copied.copied, 'subject')} from the week of {week}."
    elif copied.kept:
        done = f"This week already has every subject of the week of {week}."
    else:
        done = f"Nothing was planned in the week of {week}."
    if copied.copied and copied.kept:
        done += f" {copied.kept} already planned this week kept their hours."
    message["content"] = done
    return message


def review_list_message(page: ReviewPage, now: datetime) -> dict[str, Any]:
    """Sessions waiting for review, a few at a time: a button opens each one's card, and
    More (`review:<last id>`) shows the next few."""
    if not page.sessions:
        # Embeds and buttons emptied too: as an update, this replaces a list gone stale.
        return {
            "content": "✅ Nothing waits for your review.",
            "embeds": [],
            "components": [],
            "flags": EPHEMERAL,
            "allowed_mentions": NO_MENTIONS,
        }
    lines = []
    buttons = []
    for number, session in enumerate(page.sessions, start=1):
        effective = format_duration(session_times(session, now).effective)
        lines.append(
            f"**{number}.** {escape(session.subject.name)} · "
            f"{timestamp(session.started_at, 'f')} · {effective}"
        )
        buttons.append(button(clip(f"{number}. {session.subject.name}", 80), CARD, session.id))
    rows = [action_row(*buttons)]
    if page.more:
        rows.append(action_row(button("More ▶", REVIEW, page.sessions[-1].id)))
    embed = {
        "title": f"Waiting for your review: {page.total}",
        "description": clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT),
        "color": STATUS_COLOURS[SessionStatus.ENDED_UNCONFIRMED],
        "footer": {"text": "Open one to confirm it, adjust its time or reopen it"},
    }
    return {
        "content": "",
        "embeds": [embed],
        "components": rows,
        "flags": EPHEMERAL,
        "allowed_mentions": NO_MENTIONS,
    }


def summary_message(
    title: str, by_subject: Summary, by_day: Summary | None = None
) -> dict[str, Any]:
    """Tracked time per subject with bars, the total, and (for a week) each day's total."""
    groups = [group for group in by_subject.groups if group.seconds > 0]
    most = max((group.seconds for group in groups), default=0)
    lines = [
        f"**{escape(group.label)}**\n`{progress_bar(group.seconds, most)}` "
        f"{format_duration(group.seconds)}"
        for group in groups
    ] or ["Nothing tracked in this period. Start with `/session in`, or `/session add`."]
    tail = f"**Total** {format_duration(by_subject.total_seconds)}"
    if by_day is not None:
        days = " · ".join(
            f"{group.label.split()[0]} {format_duration(group.seconds)}" for group in by_day.groups
        )
        tail = f"{days}\n\n{tail}"
    # Many subjects are cut short; the days and the total always show.
    body = clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT - len(tail) - 2)
    description = f"{body}\n\n{tail}"
    period = f"{by_subject.first:%a %d %b} – {by_subject.last:%a %d %b %Y}"
    embed = {
        "title": clip(f"{title} · {period}", 256),
        "description": description,
        "color": 0x5865F2,
        "footer": {"text": f"Days in {by_subject.timezone}; time split at midnight"},
    }
    return {"content": "", "embeds": [embed], "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS}


def team_week_message(team_name: str, week: Summary) -> dict[str, Any]:
    """A team's week for its channel: members ranked by the time they share, with bars, and
    the total. Display names only, and nobody is pinged."""
    groups = [group for group in week.groups if group.seconds > 0]
    most = max((group.seconds for group in groups), default=0)
    lines = [
        f"{rank}. **{escape(group.label)}**\n`{progress_bar(group.seconds, most)}` "
        f"{format_duration(group.seconds)}"
        for rank, group in enumerate(groups, start=1)
    ] or ["Nothing shared with the team this week yet."]
    tail = f"**Team total** {format_duration(week.total_seconds)}"
    body = clip("\n".join(lines), EMBED_DESCRIPTION_LIMIT - len(tail) - 2)
    embed = {
        "title": clip(f"{team_name} · week of {week.first:%a %d %b %Y}", EMBED_TITLE_LIMIT),
        "description": f"{body}\n\n{tail}",
        "color": 0x5865F2,
        "footer": {"text": f"Days in {week.timezone}; only what members share"},
    }
    return {"content": "", "embeds": [embed], "allowed_mentions": NO_MENTIONS}
