"""A GitHub issue as sessions know it: the one type every front door uses for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import InvalidInput
from app.limits import GOAL_MAX_LENGTH, SUBJECT_MAX_LENGTH
from app.text import clip, one_line

if TYPE_CHECKING:
    from app.models import Session

# The largest issue number the integer column holds.
ISSUE_NUMBER_MAX = 2**31 - 1

# GitHub's names: an owner (user or organisation) and a repository.
OWNER = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}"
REPOSITORY = r"[A-Za-z0-9._-]{1,100}"

# The one form of an issue's link that is stored and shown. Both Python and PostgreSQL read
# this pattern: the database refuses any other link (app/models.py).
CANONICAL_ISSUE_URL = rf"^https://github\.com/{OWNER}/{REPOSITORY}/issues/[1-9][0-9]{{0,8}}$"

# An issue's address as people paste it (a trailing `#issuecomment-…` is fine). Nine digits
# at most keeps the number inside the integer column.
_ISSUE_URL = re.compile(
    rf"https://(?:www\.)?github\.com/({OWNER})/({REPOSITORY})"
    r"/issues/([0-9]{1,9})/?(?:[?#][^\s]*)?",
    re.ASCII,
)


@dataclass(frozen=True)
class IssueRef:
    """The issue a session is on: enough to start a session on it and to find one.

    `url` is None when the issue's address was not the canonical one (`issue_link`): the
    issue is then shown as plain text, never as a link.
    """

    repo: str
    number: int
    url: str | None
    title: str = ""

    @property
    def label(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def subject(self) -> str:
        """The subject of a session started on the issue: its repository."""
        # Repository names may exceed a subject's length; the owner and start are kept.
        return clip(self.repo, SUBJECT_MAX_LENGTH)

    @property
    def goal(self) -> str:
        return clip(one_line(f"#{self.number} {self.title}"), GOAL_MAX_LENGTH)

    def columns(self) -> dict[str, str | int | None]:
        """The session columns that say a session is on this issue."""
        return {
            "github_repo": self.repo,
            "github_issue_number": self.number,
            "github_issue_url": self.url,
        }

    def is_tracked_by(self, session: Session) -> bool:
        return session.github_repo == self.repo and session.github_issue_number == self.number


def parse_issue_url(url: str) -> IssueRef:
    """The issue that `https://github.com/owner/repo/issues/12` points at, in canonical form."""
    match = _ISSUE_URL.fullmatch(url.strip())
    if match is None or int(match[3]) == 0:
        raise InvalidInput(
            "That is not a GitHub issue URL; it looks like https://github.com/owner/repo/issues/12."
        )
    owner, repo, number = match[1], match[2], int(match[3])
    return IssueRef(
        repo=f"{owner}/{repo}",
        number=number,
        url=f"https://github.com/{owner}/{repo}/issues/{number}",
    )


def issue_link(url: str | None, repo: str, number: int) -> str | None:
    """The canonical link of issue `repo#number` when `url` is that issue's address by the
    REST rule; None for anything else (another host, another issue, a `javascript:` URL)."""
    if not url:
        return None
    try:
        found = parse_issue_url(url)
    except InvalidInput:
        return None
    if found.repo.casefold() != repo.casefold() or found.number != number:
        return None
    return found.url
