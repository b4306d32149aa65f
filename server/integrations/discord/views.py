"""Domain objects -> Discord messages: the session card, the week report, notices, modals.

Every builder returns a message payload (content, embeds, components, allowed_mentions);
`reply`, `update`, `modal` and `choices` wrap one into an interaction callback body.
Lines are kept short so cards read well on a phone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from app.allocation import CopiedPlan, WeekReport, remaining_seconds
from app.durations import format_duration
from app.history import ReviewPage
from app.limits import DURATION_MAX_LENGTH, GOAL_MAX_LENGTH
from app.models import Session, SessionSource, SessionStatus, StopReason
from app.reports import Summary
from app.repositories.allocations import WeekRow
from app.summaries import WeeklySummary
from app.text import clip
from app.timing import session_times
from app.weeks import week_start_for

SUPPRESS_EMBEDS = 4
EPHEMERAL = 64

# Interaction callback types (Discord "Interaction Response Type").
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Component types and styles.
ACTION_ROW = 1
BUTTON = 2
TEXT_INPUT = 4
LABEL = 18
PRIMARY, SECONDARY, SUCCESS, DANGER, LINK = 1, 2, 3, 4, 5
SHORT, PARAGRAPH = 1, 2

# Never ping anyone because of what a user typed as a subject or goal.
NO_MENTIONS: dict[str, Any] = {"parse": []}

STATUS_LABELS = {
    SessionStatus.RUNNING: "🟢 Running",
    SessionStatus.PAUSED: "⏸️ Paused",
    SessionStatus.ENDED_UNCONFIRMED: "🏁 Clocked out · please review",
    SessionStatus.ENDED_CONFIRMED: "✅ Confirmed",
}
STATUS_COLOURS = {
    SessionStatus.RUNNING: 0x2ECC71,
    SessionStatus.PAUSED: 0xF1C40F,
    SessionStatus.ENDED_UNCONFIRMED: 0x3498DB,
    SessionStatus.ENDED_CONFIRMED: 0x95A5A6,
}
STOP_REASONS = {
    StopReason.STALE: "stopped automatically: it ran too long",
    StopReason.ISSUE_CLOSED: "stopped because the issue was closed",
    StopReason.UNASSIGNED: "stopped because you were unassigned",
    StopReason.PROJECT_DONE: "stopped because the item moved to Done",
}

# (action, label, style) per state: what can be done next, and nothing else.
BUTTONS: dict[SessionStatus, tuple[tuple[str, str, int], ...]] = {
    SessionStatus.RUNNING: (
        ("pause", "Pause", SECONDARY),
        ("out", "Clock out", DANGER),
        ("edit_purpose", "Edit purpose", SECONDARY),
    ),
    SessionStatus.PAUSED: (
        ("resume", "Resume", SUCCESS),
        ("out", "Clock out", DANGER),
        ("edit_purpose", "Edit purpose", SECONDARY),
    ),
    SessionStatus.ENDED_UNCONFIRMED: (
        ("confirm", "✅ Confirm", SUCCESS),
        ("reopen", "↩️ Reopen", SECONDARY),
        ("adjust_time", "✏️ Adjust time", PRIMARY),
        ("edit_purpose", "✏️ Edit purpose", SECONDARY),
    ),
    SessionStatus.ENDED_CONFIRMED: (),
}

BAR_CELLS = 10
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
CONTENT_LIMIT = 2000

# Discord unescapes any backslashed punctuation, so escaping more than needed is harmless;
# `<` keeps `<@id>` and `<t:..>` typed by a user from rendering as mentions or times.
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<-])")


def escape(text: str) -> str:
    """User text shown literally: no accidental bold, links, headings or spoilers."""
    return _MARKDOWN.sub(r"\\\1", text)


def custom_id(action: str, ref: int | str) -> str:
    return f"{action}:{ref}"


def button(label: str, action: str, ref: int | str, style: int = SECONDARY) -> dict[str, Any]:
    return {"type": BUTTON, "style": style, "label": label, "custom_id": custom_id(action, ref)}


def link_button(label: str, url: str) -> dict[str, Any]:
    return {"type": BUTTON, "style": LINK, "label": label, "url": url}


def action_row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": ACTION_ROW, "components": list(buttons)}


# Time added by hand is confirmed as it is made, and may still be corrected.
MANUAL_BUTTONS = (
    ("adjust_time", "✏️ Adjust time", PRIMARY),
    ("edit_purpose", "✏️ Edit purpose", SECONDARY),
)


def _buttons(session: Session) -> tuple[tuple[str, str, int], ...]:
    status = SessionStatus(session.status)
    if status == SessionStatus.ENDED_CONFIRMED and session.source == SessionSource.MANUAL:
        return MANUAL_BUTTONS
    return BUTTONS[status]


def actions_for(session: Session) -> tuple[str, ...]:
    """The button actions the session's card offers."""
    return tuple(action for action, _, _ in _buttons(session))


def _timestamp(at: datetime, style: str) -> str:
    return f"<t:{int(at.timestamp())}:{style}>"


def _card_lines(session: Session, now: datetime) -> list[str]:
    status = SessionStatus(session.status)
    times = session_times(session, now)
    lines = [f"**{STATUS_LABELS[status]}**"]
    if session.goal:
        lines.append(f"🎯 {escape(session.goal)}")
    if session.github_repo and session.github_issue_number:
        where = escape(f"{session.github_repo}#{session.github_issue_number}")
        # Only a canonical github.com address is ever stored (app.issues), so this link
        # can neither run script nor hide another destination.
        url = session.github_issue_url
        lines.append(f"🔗 [{where}]({url})" if url else f"🔗 {where}")
    lines.append(
        f"Started {_timestamp(session.started_at, 't')} ({_timestamp(session.started_at, 'R')})"
    )
    if status in (SessionStatus.RUNNING, SessionStatus.PAUSED):
        lines.append(f"Worked so far: **{format_duration(times.effective)}**")
        if times.paused:
            lines.append(f"Paused: {format_duration(times.paused)}")
        return lines
    if session.ended_at is not None:
        lines.append(f"Ended {_timestamp(session.ended_at, 't')}")
    if session.stop_reason is not None and session.stop_reason in STOP_REASONS:
        lines.append(f"_{STOP_REASONS[StopReason(session.stop_reason)]}_")
    lines.append(f"Measured: {format_duration(times.measured)}")
    lines.append(f"Paused: {format_duration(times.paused)}")
    adjusted = " (adjusted)" if session.effective_override_seconds is not None else ""
    lines.append(f"Effective: **{format_duration(times.effective)}**{adjusted}")
    return lines


def session_card(session: Session, now: datetime, *, notice: str | None = None) -> dict[str, Any]:
    """The session card: a live status while active, the summary to review once ended."""
    status = SessionStatus(session.status)
    embed = {
        "title": clip(escape(session.subject.name), EMBED_TITLE_LIMIT),
        "description": clip("\n".join(_card_lines(session, now)), EMBED_DESCRIPTION_LIMIT),
        "color": STATUS_COLOURS[status],
        "footer": {"text": f"Session {session.id}"},
    }
    buttons = [
        button(label, action, session.id, style) for action, label, style in _buttons(session)
    ]
    return {
        # Always set, so an update clears the notice a previous click left behind.
        "content": clip(notice, CONTENT_LIMIT) if notice else "",
        "embeds": [embed],
        "components": [action_row(*buttons)] if buttons else [],
        "allowed_mentions": NO_MENTIONS,
    }


def notice_message(text: str) -> dict[str, Any]:
    """A private note to the person who acted."""
    return {
        "content": clip(text, CONTENT_LIMIT),
        "flags": EPHEMERAL,
        "allowed_mentions": NO_MENTIONS,
    }


def error_message(text: str) -> dict[str, Any]:
    """A private explanation of why nothing happened."""
    return notice_message(f"⚠️ {text}")


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


# --- Scheduled messages and what their buttons answer ------------------------------------

SNOOZE = "snooze"
PLAN = "plan"
PLAN_COPY = "plan_copy"
REVIEW = "review"
CARD = "card"
REVIEW_PAGE = 5


def reminder_card(session: Session, now: datetime) -> dict[str, Any]:
    """An active session's card asking whether it still runs: Pause (or Resume), Clock out,
    and Keep going (`snooze:<id>`), which asks again later."""
    ran = format_duration(session_times(session, now).measured)
    notice = (
        f"⏰ Still working on **{escape(session.subject.name)}**? It started {ran} ago. "
        "Pause or clock out if you stopped; or keep going, and I'll ask again later."
    )
    card = session_card(session, now, notice=notice)
    # The card's first two buttons: Pause (Resume when paused), then Clock out.
    answers = BUTTONS[SessionStatus(session.status)][:2]
    card["components"] = [
        action_row(
            *(button(label, action, session.id, style) for action, label, style in answers),
            button("Keep going", SNOOZE, session.id, SUCCESS),
        )
    ]
    return card


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
            f"{_timestamp(session.started_at, 'f')} · {effective}"
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


def login_link_message(url: str) -> dict[str, Any]:
    message = notice_message(
        "Here is your one-time sign-in link to the timetrack page. "
        f"It works once, for 10 minutes:\n{url}"
    )
    message["components"] = [action_row(link_button("Open timetrack", url))]
    # No link preview: a crawler fetching the URL for one must not spend the link.
    message["flags"] = EPHEMERAL | SUPPRESS_EMBEDS
    return message


def github_link_message(url: str) -> dict[str, Any]:
    """The private answer to `/github link`: a button that starts GitHub's OAuth flow."""
    message = notice_message(
        "Link your GitHub account: open the button below and approve timetrack on GitHub. "
        "Then issues assigned to you start timers. The link works for 10 minutes."
    )
    message["components"] = [action_row(link_button("Link GitHub", url))]
    return message


# Interaction callback bodies.


def reply(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": CHANNEL_MESSAGE, "data": message}


def update(message: dict[str, Any]) -> dict[str, Any]:
    return {"type": UPDATE_MESSAGE, "data": message}


def choices(names: list[str]) -> dict[str, Any]:
    options = [{"name": clip(name, 100), "value": name} for name in names[:25] if name]
    return {"type": AUTOCOMPLETE_RESULT, "data": {"choices": options}}


def _text_input_modal(
    custom: str, title: str, label: str, field: dict[str, Any], description: str | None = None
) -> dict[str, Any]:
    wrapper: dict[str, Any] = {"type": LABEL, "label": label, "component": field}
    if description:
        wrapper["description"] = description
    return {"type": MODAL, "data": {"custom_id": custom, "title": title, "components": [wrapper]}}


def adjust_time_modal(session: Session, now: datetime) -> dict[str, Any]:
    current = format_duration(session_times(session, now).effective)
    field = {
        "type": TEXT_INPUT,
        "custom_id": "duration",
        "style": SHORT,
        "required": True,
        "min_length": 1,
        "max_length": DURATION_MAX_LENGTH,
        "placeholder": "1h 20m",
        "value": current,
    }
    return _text_input_modal(
        custom_id("adjust_time", session.id),
        "Adjust effective time",
        "Effective duration",
        field,
        "For example 1h 20m, 80m, 1:20 or 4800s",
    )


def edit_goal_modal(session: Session) -> dict[str, Any]:
    field: dict[str, Any] = {
        "type": TEXT_INPUT,
        "custom_id": "purpose",
        "style": PARAGRAPH,
        "required": False,
        "max_length": GOAL_MAX_LENGTH,
        "placeholder": "What is this session for?",
    }
    if session.goal:
        field["value"] = session.goal
    return _text_input_modal(
        custom_id("edit_purpose", session.id),
        "Edit purpose",
        "Purpose",
        field,
        "Leave empty to clear it",
    )
