"""Domain objects -> Discord messages: the session card, notices, links, modals, and the
pieces (buttons, rows, escaping) every message is built from; messages about a period of
time (weeks, reports, summaries) are in `period_views`.

Every builder returns a message payload (content, embeds, components, allowed_mentions);
`reply`, `update`, `modal` and `choices` wrap one into an interaction callback body.
Lines are kept short so cards read well on a phone.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app.durations import format_duration
from app.limits import DURATION_MAX_LENGTH, GOAL_MAX_LENGTH
from app.models import Session, SessionSource, SessionStatus, StopReason
from app.text import clip
from app.timing import session_times

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


def timestamp(at: datetime, style: str) -> str:
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
        f"Started {timestamp(session.started_at, 't')} ({timestamp(session.started_at, 'R')})"
    )
    if status in (SessionStatus.RUNNING, SessionStatus.PAUSED):
        lines.append(f"Worked so far: **{format_duration(times.effective)}**")
        if times.paused:
            lines.append(f"Paused: {format_duration(times.paused)}")
        return lines
    if session.ended_at is not None:
        lines.append(f"Ended {timestamp(session.ended_at, 't')}")
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


# --- Scheduled messages and what their buttons answer ------------------------------------

SNOOZE = "snooze"


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
