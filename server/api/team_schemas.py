"""REST bodies of `/api/teams/`: teams, their members and invitations, and team reports.

The reports keep the personal summary's shape (`schemas.SummaryOut`), with members.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.limits import TEAM_NAME_MAX_LENGTH, TIMEZONE_MAX_LENGTH
from app.models import TeamRole
from app.reports import GroupBy, Summary
from app.teams import MAX_REPOSITORIES, Membership
from server.api.schemas import (
    Body,
    MemberShareOut,
    ReportGroupOut,
    SummaryOut,
    Text,
    Timestamp,
)


class TeamOut(BaseModel):
    id: int
    name: str
    role: TeamRole = Field(description="Your role in the team.")
    timezone: str = Field(description="Its reports' days and weekly post follow this timezone.")
    github_owner: str | None
    github_repositories: list[str] = Field(
        description="Repositories of the GitHub owner whose issues count; empty: all of them."
    )
    shared_subjects: list[str] | None = Field(
        description="The subjects you share with the team; null: all of them."
    )
    discord_channel_id: str | None

    @classmethod
    def of(cls, found: Membership) -> TeamOut:
        team, member = found.team, found.member
        return cls(
            id=team.id,
            name=team.name,
            role=TeamRole(member.role),
            timezone=team.timezone,
            github_owner=team.github_owner,
            github_repositories=list(team.github_repositories),
            shared_subjects=member.shared_subjects,
            discord_channel_id=team.discord_channel_id,
        )


class TeamListOut(BaseModel):
    results: list[TeamOut]


class MemberOut(BaseModel):
    user_id: str
    name: str = Field(description="The member's display name.")
    role: TeamRole


class MemberPatchIn(Body):
    """Only the fields sent change. An owner sets anyone's role; a member alone chooses
    what they share."""

    role: TeamRole | None = Field(default=None, description="owner, admin or member.")
    shared_subjects: list[Text] | None = Field(
        default=None,
        max_length=50,
        description="The subjects you share with this team; null shares all of them.",
    )


class TeamDetailOut(TeamOut):
    members: list[MemberOut] = Field(description="The longest-standing first.")


class TeamIn(Body):
    name: Text = Field(min_length=1, max_length=TEAM_NAME_MAX_LENGTH, examples=["Study group"])


class TeamPatchIn(Body):
    """Only the fields sent change; null leaves a field as it is."""

    name: Text | None = Field(default=None, min_length=1, max_length=TEAM_NAME_MAX_LENGTH)
    timezone: Text | None = Field(
        default=None, max_length=TIMEZONE_MAX_LENGTH, examples=["Europe/Berlin"]
    )
    github_owner: Text | None = Field(
        default=None,
        max_length=39,
        description="A GitHub user or organisation; an empty string disconnects it.",
        examples=["OWASP-BLT"],
    )
    github_repositories: list[Annotated[Text, Field(max_length=140)]] | None = Field(
        default=None,
        max_length=MAX_REPOSITORIES,
        description="Repository names of the owner; empty: all of them.",
        examples=[["BLT"]],
    )


class TeamReportGroupOut(ReportGroupOut):
    members: list[MemberShareOut] | None = Field(
        default=None, description="For days: the time by member, most first."
    )


class TeamSummaryOut(SummaryOut):
    groups: list[TeamReportGroupOut]  # type: ignore[assignment]

    @classmethod
    def of(cls, summary: Summary) -> TeamSummaryOut:
        plain = SummaryOut.of(summary)
        dated = summary.group_by == GroupBy.DAY
        groups = [
            TeamReportGroupOut(
                **out.model_dump(),
                members=[
                    MemberShareOut(user_id=m.user_id, name=m.name, seconds=m.seconds)
                    for m in group.members
                ]
                if dated
                else None,
            )
            for out, group in zip(plain.groups, summary.groups, strict=True)
        ]
        return cls(**{**plain.model_dump(exclude={"groups"}), "groups": groups})


class InviteOut(BaseModel):
    url: str = Field(description="Works once, for anyone signed in, until it expires.")
    expires_at: Timestamp
