"""How much a person may type into each field: one set of limits, used by the domain's
checks, the REST schema and the page's `maxlength` attributes, so all three agree."""

from __future__ import annotations

SUBJECT_MAX_LENGTH = 64
TEAM_NAME_MAX_LENGTH = 64
GOAL_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
# A duration as typed ("1h 20m", "1:20:30", "4800s"); anything longer is not one.
DURATION_MAX_LENGTH = 32
# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia).
TIMEZONE_MAX_LENGTH = 64
# https://github.com/ + a 39-character owner + a 100-character repository + /issues/N, and
# room for a pasted `#issuecomment-…` anchor.
ISSUE_URL_MAX_LENGTH = 300
# Hours planned for one subject in one week: every hour of it, at most.
MAX_WEEKLY_HOURS = 168
# A page of sessions, whatever size was asked for.
MAX_PAGE_SIZE = 100
# "Remind me after N minutes": at least a minute, at most a day (stale sessions end then).
REMIND_AFTER_MAX_MINUTES = 1440


def as_dict() -> dict[str, int]:
    """The limits by short name, for the page's template."""
    return {
        "subject": SUBJECT_MAX_LENGTH,
        "team_name": TEAM_NAME_MAX_LENGTH,
        "goal": GOAL_MAX_LENGTH,
        "note": NOTE_MAX_LENGTH,
        "duration": DURATION_MAX_LENGTH,
        "issue_url": ISSUE_URL_MAX_LENGTH,
        "timezone": TIMEZONE_MAX_LENGTH,
        "hours": MAX_WEEKLY_HOURS,
        "remind_after": REMIND_AFTER_MAX_MINUTES,
    }
