"""Message builders on their own: limits Discord enforces, and the week report's edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.allocation import WeekReport
from app.models import Session, SessionStatus, StopReason, Subject
from app.repositories.allocations import WeekRow
from server.integrations.discord import period_views, views
from tests.discord.support import assert_callback

NOW = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


def _report(*rows: WeekRow) -> WeekReport:
    return WeekReport(date(2026, 11, 16), "Australia/Sydney", list(rows), NOW)


def _session(**fields: object) -> Session:
    values: dict[str, object] = {
        "id": 7,
        "user_id": "1",
        "started_at": NOW - timedelta(hours=2),
        "ended_at": None,
        "goal": None,
        "status": SessionStatus.RUNNING,
        "total_paused_seconds": 0,
        "pause_started_at": None,
        "effective_override_seconds": None,
        "stop_reason": None,
        "github_repo": None,
        "github_issue_number": None,
        "github_issue_url": None,
    } | fields
    session = Session(**values)
    session.subject = Subject(name="gym")
    return session


def test_progress_bar() -> None:
    assert period_views.progress_bar(0, 3600) == "░" * 10
    assert period_views.progress_bar(1800, 3600) == "▓" * 5 + "░" * 5
    assert period_views.progress_bar(1799, 3600) == "▓" * 4 + "░" * 6  # never shows more than done
    assert period_views.progress_bar(7200, 3600) == "▓" * 10
    assert period_views.progress_bar(60, 0) == "░" * 10


def test_week_report_marks_done_and_over_plan() -> None:
    message = period_views.week_report_message(
        _report(
            WeekRow("thesis", 3600, 3600, False),
            WeekRow("gym", 3600, 5400, False),
            WeekRow("reading", 0, 600, True),
        )
    )
    text = message["embeds"][0]["description"]
    assert "`▓▓▓▓▓▓▓▓▓▓` 1h / 1h · done ✅" in text
    assert "`▓▓▓▓▓▓▓▓▓▓` 1h 30m / 1h · 30m over" in text
    assert "**reading** · unplanned\n10m tracked" in text
    assert text.endswith("**Total** 2h 40m / 2h")
    assert message["flags"] == 64
    assert_callback(views.reply(message))


def test_a_huge_week_report_stays_within_discord_limits() -> None:
    rows = [WeekRow(f"subject number {n:03d} " + "x" * 40, 3600, 60, False) for n in range(200)]
    message = period_views.week_report_message(_report(*rows))
    description = message["embeds"][0]["description"]
    assert len(description) <= 4096
    assert "…" in description
    assert "**Total**" in description
    assert_callback(views.reply(message))


def test_long_text_is_clipped_to_discord_limits() -> None:
    notice = views.notice_message("n" * 5000)
    assert len(notice["content"]) == 2000
    card = views.session_card(_session(goal="g" * 200), NOW, notice="x" * 3000)
    assert len(card["content"]) == 2000
    assert_callback(views.update(card))


def test_cards_for_sessions_stopped_by_someone_else_say_why() -> None:
    for reason, words in [
        (StopReason.STALE, "ran too long"),
        (StopReason.ISSUE_CLOSED, "issue was closed"),
        (StopReason.UNASSIGNED, "unassigned"),
        (StopReason.PROJECT_DONE, "moved to Done"),
    ]:
        session = _session(status=SessionStatus.ENDED_UNCONFIRMED, ended_at=NOW, stop_reason=reason)
        text = views.session_card(session, NOW)["embeds"][0]["description"]
        assert words in text
    ended = _session(status=SessionStatus.ENDED_UNCONFIRMED, ended_at=NOW, stop_reason="user")
    assert "_" not in views.session_card(ended, NOW)["embeds"][0]["description"]


def test_a_github_session_links_its_issue() -> None:
    session = _session(
        github_repo="octo-org/hello-world",
        github_issue_number=12,
        github_issue_url="https://github.com/octo-org/hello-world/issues/12",
    )
    text = views.session_card(session, NOW)["embeds"][0]["description"]
    assert "(https://github.com/octo-org/hello-world/issues/12)" in text


def test_modals_validate_against_the_spec() -> None:
    ended = _session(status=SessionStatus.ENDED_UNCONFIRMED, ended_at=NOW, goal="x" * 200)
    assert_callback(views.adjust_time_modal(ended, NOW))
    assert_callback(views.edit_goal_modal(ended))
    assert_callback(views.choices(["a" * 150, "", "b"]))
    assert len(views.choices([str(n) for n in range(40)])["data"]["choices"]) == 25
