"""Slash commands: each handler turns one command into a domain call and a reply.

Session cards and a team's week are posted to the channel; everything about the caller
alone (errors, plans, settings, links, team membership) is ephemeral. `COMMANDS_BY_PATH`
also says which answers are private, so a deferred answer can be private from the start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, allocation, entries, reminders, reports, summaries, teams
from app import session as sessions
from app.clock import clock
from app.config import get_settings
from app.durations import format_duration
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Session, SessionSource
from app.reports import GroupBy, Period
from app.weeks import parse_week
from server.integrations.discord import period_views, views
from server.integrations.discord.payloads import CommandInteraction, OptionValue


class SessionAction(Protocol):
    """Acts on the caller's active session under their lock; None when nothing is active."""

    def __call__(
        self, db: AsyncSession, user_id: str, *, username: str | None = None
    ) -> Awaitable[sessions.Outcome | None]: ...


NOTHING_TRACKED = "You are not tracking anything right now. Start with `/session in`."
GITHUB_NOT_CONFIGURED = "GitHub linking is not configured on this server."

CommandHandler = Callable[[AsyncSession, CommandInteraction], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Command:
    """A slash command's handler, whether its answer is private, and, for an answer that
    carries a one-time link, what a repeat of the interaction is told instead: a stored
    answer must never hold a link that signs someone in."""

    run: CommandHandler
    private: bool
    repeat_answer: str | None = None


def _text(options: dict[str, OptionValue], name: str) -> str | None:
    value = options.get(name)
    return None if value is None else str(value)


def _card(session: Session, notice: str | None = None) -> dict[str, Any]:
    return views.reply(views.session_card(session, clock.now(), notice=notice))


async def session_in(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    options = interaction.options()
    session = await sessions.clock_in(
        db,
        interaction.user_id,
        _text(options, "subject") or "",
        _text(options, "purpose"),
        source=SessionSource.DISCORD,
        username=interaction.username,
    )
    return _card(session)


async def session_out(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    # One lock, one read, one write: clock_out_active finds the active session under the lock.
    try:
        ended = await sessions.clock_out_active(
            db,
            interaction.user_id,
            _text(interaction.options(), "purpose"),  # Discord's word for the goal
            username=interaction.username,
        )
    except Conflict:  # nothing is active
        return views.reply(views.notice_message(NOTHING_TRACKED))
    return _card(ended)


async def _on_current(
    db: AsyncSession, interaction: CommandInteraction, action: SessionAction
) -> dict[str, Any]:
    # One lock, one read, one write: the domain finds the active session under the lock.
    outcome = await action(db, interaction.user_id, username=interaction.username)
    if outcome is None:
        return views.reply(views.notice_message(NOTHING_TRACKED))
    return _card(outcome.session, outcome.notice)


async def session_add(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    """Time worked but not tracked: its card, privately, to adjust or describe it further."""
    options = interaction.options()
    timezone = await accounts.timezone_of(db, interaction.user_id)
    started_at, ended_at = entries.described_span(
        _text(options, "duration") or "",
        _text(options, "day"),
        _text(options, "start"),
        timezone,
        clock.now(),
    )
    added = await entries.add(
        db,
        interaction.user_id,
        _text(options, "subject") or "",
        started_at,
        ended_at,
        goal=_text(options, "goal"),
        username=interaction.username,
    )
    card = views.session_card(added, clock.now(), notice="Added to your time.")
    card["flags"] = views.EPHEMERAL
    return views.reply(card)


async def session_pause(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    return await _on_current(db, interaction, sessions.pause_active)


async def session_resume(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    return await _on_current(db, interaction, sessions.resume_active)


async def session_status(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    active = await sessions.current(db, interaction.user_id)
    if active is None:
        return views.reply(views.notice_message(NOTHING_TRACKED))
    return _card(active)


def _hours(options: dict[str, OptionValue]) -> float:
    value = options.get("hours")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("Give the hours as a number between 0 and 168.")
    return float(value)


async def alloc_set(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    options = interaction.options()
    subject = _text(options, "subject") or ""
    hours = _hours(options)
    report = await allocation.set_allocation(
        db, interaction.user_id, subject, hours, username=interaction.username
    )
    typed = accounts.normalise_subject(subject)
    # Show the subject as first spelled, which the report carries.
    name = next((row.subject for row in report.rows if row.subject.lower() == typed.lower()), typed)
    message = period_views.week_report_message(report)
    if hours:
        planned = format_duration(round(hours * 3600))
        message["content"] = f"Planned {planned} for **{views.escape(name)}** this week."
    else:
        message["content"] = f"Removed **{views.escape(name)}** from this week's plan."
    return views.reply(message)


async def alloc_show(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    report = await allocation.week_report(db, interaction.user_id)
    return views.reply(period_views.week_report_message(report))


async def report(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    period = Period(_text(interaction.options(), "period") or Period.THIS_WEEK)
    timezone = await accounts.timezone_of(db, interaction.user_id)
    first, last = reports.period_range(period, timezone, clock.now())
    by_subject = await reports.summary(db, interaction.user_id, first=first, last=last)
    by_day = None
    if period in (Period.THIS_WEEK, Period.LAST_WEEK):
        by_day = await reports.summary(
            db, interaction.user_id, first=first, last=last, group_by=GroupBy.DAY
        )
    title = str(period).capitalize()
    return views.reply(period_views.summary_message(title, by_subject, by_day))


async def settings_timezone(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    zone = _text(interaction.options(), "zone") or ""
    user = await accounts.set_timezone(db, interaction.user_id, zone)
    return views.reply(
        views.notice_message(
            f"Your timezone is now **{user.timezone}**. Your weeks start on Monday there."
        )
    )


async def settings_reminders(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    minutes = reminders.parse_minutes(_text(interaction.options(), "minutes") or "")
    user = await reminders.set_remind_after(
        db, interaction.user_id, minutes, username=interaction.username
    )
    if user.remind_after_minutes is None:
        text = "Reminders are off. Turn them on with `/settings reminders minutes:120`."
    else:
        after = format_duration(user.remind_after_minutes * 60)
        text = (
            f"When a session has run for **{after}**, I'll DM you to ask whether you're "
            "still on it."
        )
    return views.reply(views.notice_message(text))


async def settings_summary(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    choice = _text(interaction.options(), "weekly")
    if choice not in ("on", "off"):
        raise InvalidInput("Choose on or off.")
    on = choice == "on"
    user = await summaries.set_weekly_summary(
        db, interaction.user_id, on, username=interaction.username
    )
    if on:
        text = (
            "Every Monday at 08:00 in "
            f"{user.timezone} I'll DM you last week's plan against what you tracked."
        )
    else:
        text = "Weekly summaries are off."
    return views.reply(views.notice_message(text))


async def web(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    url = await accounts.create_login_link(db, interaction.user_id, interaction.username)
    return views.reply(views.login_link_message(url))


async def github_link(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    """A button that starts GitHub's OAuth flow for the caller (served under /github/)."""
    if not get_settings().github_oauth_configured:
        return views.reply(views.notice_message(GITHUB_NOT_CONFIGURED))
    url = await accounts.create_github_link_start(db, interaction.user_id)
    return views.reply(views.github_link_message(url))


async def github_unlink(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    user = await accounts.ensure_user(db, interaction.user_id, interaction.username)
    login = user.github_login
    if login is None:
        return views.reply(views.notice_message("No GitHub account is linked to you."))
    await accounts.unlink_github(db, interaction.user_id)
    return views.reply(views.notice_message(f"Unlinked GitHub account **{views.escape(login)}**."))


MANAGE_GUILD = 0x20
NOT_IN_A_SERVER = "Teams belong to a server: use /team in one."


def _guild(interaction: CommandInteraction) -> str:
    if interaction.guild_id is None:
        raise InvalidInput(NOT_IN_A_SERVER)
    return interaction.guild_id


async def _my_team(db: AsyncSession, interaction: CommandInteraction) -> teams.Membership:
    team = await teams.team_for_guild(db, _guild(interaction))
    try:
        return await teams.membership(db, interaction.user_id, team.id)
    except NotFound:
        raise NotFound(f"You are not in {team.name} yet: /team join first.") from None


async def team_create(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    guild_id = _guild(interaction)
    if not interaction.has_permission(MANAGE_GUILD):
        raise Forbidden("Only someone with the Manage Server permission can create its team.")
    created = await teams.create(
        db,
        interaction.user_id,
        _text(interaction.options(), "name") or "",
        username=interaction.username,
        guild_id=guild_id,
    )
    name = views.escape(created.team.name)
    return views.reply(
        views.notice_message(
            f"Created **{name}**; you are its owner. Members join with `/team join`, and "
            "`/team channel` picks where the week is posted on Mondays."
        )
    )


async def team_join(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    joined, new = await teams.join_guild(
        db, interaction.user_id, _guild(interaction), interaction.username
    )
    name = views.escape(joined.team.name)
    if not new:
        return views.reply(views.notice_message(f"You are in **{name}** already."))
    return views.reply(
        views.notice_message(
            f"You joined **{name}**. It sees your tracked time per subject and day, never "
            "your goals or notes. Choose what it sees with `/team share`; `/team leave` "
            "takes it all back."
        )
    )


async def team_leave(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    found = await _my_team(db, interaction)
    await teams.remove(db, interaction.user_id, found.team.id, interaction.user_id)
    name = views.escape(found.team.name)
    return views.reply(views.notice_message(f"You left **{name}**; it no longer sees your time."))


async def team_share(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    subjects = teams.parse_subjects(_text(interaction.options(), "subjects") or "")
    found = await _my_team(db, interaction)
    await teams.share(db, interaction.user_id, found.team.id, subjects)
    shared = (
        "all your subjects"
        if subjects is None
        else ", ".join(f"**{views.escape(name)}**" for name in subjects)
    )
    return views.reply(
        views.notice_message(
            f"**{views.escape(found.team.name)}** now sees {shared}, and your time on issues "
            "of its GitHub owner, if it has one."
        )
    )


async def team_week(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    week_of = parse_week(_text(interaction.options(), "week"))
    found = await _my_team(db, interaction)
    summary = await teams.week(db, found.team, week_of)
    return views.reply(period_views.team_week_message(found.team.name, summary))


async def team_channel(db: AsyncSession, interaction: CommandInteraction) -> dict[str, Any]:
    channel_id = _text(interaction.options(), "channel")
    if channel_id is None or not channel_id.isdecimal():
        raise InvalidInput("Pick a channel of this server.")
    found = await _my_team(db, interaction)
    await teams.set_channel(db, interaction.user_id, found.team.id, channel_id)
    return views.reply(
        views.notice_message(
            f"Every Monday from 08:00 ({found.team.timezone}), **"
            f"{views.escape(found.team.name)}**'s week goes to <#{channel_id}>."
        )
    )


COMMANDS_BY_PATH: dict[tuple[str, ...], Command] = {
    ("session", "in"): Command(session_in, private=False),
    ("session", "out"): Command(session_out, private=False),
    ("session", "add"): Command(session_add, private=True),
    ("session", "pause"): Command(session_pause, private=False),
    ("session", "resume"): Command(session_resume, private=False),
    ("session", "status"): Command(session_status, private=False),
    ("alloc", "set"): Command(alloc_set, private=True),
    ("alloc", "show"): Command(alloc_show, private=True),
    ("report",): Command(report, private=True),
    ("settings", "timezone"): Command(settings_timezone, private=True),
    ("settings", "reminders"): Command(settings_reminders, private=True),
    ("settings", "summary"): Command(settings_summary, private=True),
    ("web",): Command(
        web,
        private=True,
        repeat_answer="Your sign-in link was in the first answer. Run /web for a new one.",
    ),
    ("github", "link"): Command(
        github_link,
        private=True,
        repeat_answer="Your GitHub link was in the first answer. Run /github link for a new one.",
    ),
    ("github", "unlink"): Command(github_unlink, private=True),
    ("team", "create"): Command(team_create, private=True),
    ("team", "join"): Command(team_join, private=True),
    ("team", "leave"): Command(team_leave, private=True),
    ("team", "share"): Command(team_share, private=True),
    ("team", "week"): Command(team_week, private=False),
    ("team", "channel"): Command(team_channel, private=True),
}
