"""Teams: people who share some of their tracked time with each other, with consent.

A member shares with a team only their effective seconds per subject, day and GitHub
issue, never goals, notes or timestamps, and only:
- sessions whose subject is one they share with that team (all subjects until they say
  otherwise; `/team share`), or
- sessions on an issue of the team's GitHub owner (and its listed repositories, if any).

Membership is the consent: the row exists while the member is in the team, and leaving
deletes it, so from that moment nothing of theirs is in any of the team's reports.

Roles: `owner` and `admin` manage the team (settings, invites, removing members); a
`member` sees its reports. Anyone not in the team is told it does not exist (NotFound).
A team always has an owner: when the last owner leaves, the longest-standing admin (else
member) becomes owner, and a team nobody is left in is deleted.

Every change of membership locks the team's row first, so two owners leaving at once, or
a join racing a leave, are decided one after the other.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import accounts, timezones
from app.clock import clock
from app.config import get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.issues import IssueRef
from app.limits import TEAM_NAME_MAX_LENGTH
from app.models import Team, TeamMember, TeamRole, User
from app.reports import Summary, TeamGroupBy, team_summary
from app.repositories.teams import TeamRepository
from app.text import one_line, storable
from app.weeks import monday_of, summary_time, week_start_for

INVITE_LIFETIME = timedelta(days=7)
# What one member may list in `/team share`: enough for anyone, bounded for the query.
MAX_SHARED_SUBJECTS = 50
MAX_REPOSITORIES = 100
NO_SUCH_TEAM = "No such team."
GUILD_TAKEN = "This server has a team already: join it with /team join."
INVITE_SPENT = "This invite has been used or has expired. Ask for a new one."
# GitHub's owner and repository names.
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", re.ASCII)
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}", re.ASCII)
MANAGERS = (TeamRole.OWNER, TeamRole.ADMIN)


@dataclass(frozen=True)
class Membership:
    team: Team
    member: TeamMember

    @property
    def is_admin(self) -> bool:
        return self.member.role in MANAGERS


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    role: TeamRole


@dataclass(frozen=True)
class IssueSummary:
    """Time on a closed issue of a connected repository, by the members who share it."""

    contributors: tuple[tuple[str, int], ...]  # (GitHub login, seconds), most first

    @property
    def total_seconds(self) -> int:
        return sum(seconds for _, seconds in self.contributors)


def display_name(user: User) -> str:
    """How a team shows a member: never their id or any other account detail."""
    return user.username or "A member"


def _name(name: str) -> str:
    name = one_line(storable(name, "team name"))
    if not name:
        raise InvalidInput("A team needs a name.")
    if len(name) > TEAM_NAME_MAX_LENGTH:
        raise InvalidInput(f"A team name is at most {TEAM_NAME_MAX_LENGTH} characters.")
    return name


async def create(
    db: AsyncSession,
    user_id: str,
    name: str,
    *,
    username: str | None = None,
    guild_id: str | None = None,
) -> Membership:
    """A new team with its creator as owner, in the creator's timezone; at most one team
    per Discord server."""
    user = await accounts.ensure_user(db, user_id, username)
    repository = TeamRepository(db)
    if guild_id is not None and await repository.by_guild(guild_id) is not None:
        raise Conflict(GUILD_TAKEN)
    team = Team(name=_name(name), timezone=user.timezone, discord_guild_id=guild_id)
    try:
        # A savepoint: losing a race for the server's one team leaves the transaction usable.
        async with db.begin_nested():
            await repository.add(team)
    except IntegrityError:
        raise Conflict(GUILD_TAKEN) from None
    await repository.add_member(team.id, user.id, TeamRole.OWNER)
    return await membership(db, user.id, team.id)


async def membership(db: AsyncSession, user_id: str, team_id: int) -> Membership:
    """The caller's membership; NotFound for anyone outside the team, as if it did not
    exist."""
    repository = TeamRepository(db)
    member = await repository.membership(team_id, user_id)
    team = await repository.get(team_id) if member is not None else None
    if member is None or team is None:
        raise NotFound(NO_SUCH_TEAM)
    return Membership(team, member)


async def _managed(db: AsyncSession, user_id: str, team_id: int) -> Membership:
    found = await membership(db, user_id, team_id)
    if not found.is_admin:
        raise Forbidden("Only the team's owners and admins can do that.")
    return found


async def teams_of(db: AsyncSession, user_id: str) -> list[Membership]:
    return [Membership(team, member) for team, member in await TeamRepository(db).teams_of(user_id)]


async def members(db: AsyncSession, team_id: int) -> list[Member]:
    return [
        Member(user.id, display_name(user), TeamRole(member.role))
        for member, user in await TeamRepository(db).members(team_id)
    ]


async def team_for_guild(db: AsyncSession, guild_id: str) -> Team:
    team = await TeamRepository(db).by_guild(guild_id)
    if team is None:
        raise NotFound("This server has no team yet: someone who manages it can /team create one.")
    return team


def _github_owner(owner: str) -> str | None:
    if not owner.strip():
        return None
    owner = owner.strip()
    if not _GITHUB_OWNER.fullmatch(owner):
        raise InvalidInput(f"{owner[:40]!r} is not a GitHub user or organisation name.")
    return owner.lower()


def _repositories(owner: str | None, names: Sequence[str]) -> list[str]:
    """Repository names, lower case, without the owner (`owner/name` is accepted)."""
    if len(names) > MAX_REPOSITORIES:
        raise InvalidInput(f"A team lists at most {MAX_REPOSITORIES} repositories.")
    found: list[str] = []
    for given in names:
        prefix, slash, name = given.strip().rpartition("/")
        if slash and prefix.lower() != owner:
            raise InvalidInput(f"{given[:140]!r} is not a repository of the team's GitHub owner.")
        if not _GITHUB_REPOSITORY.fullmatch(name):
            raise InvalidInput(f"{given[:140]!r} is not a repository name.")
        if name.lower() not in found:
            found.append(name.lower())
    return found


async def update(
    db: AsyncSession,
    user_id: str,
    team_id: int,
    *,
    name: str | None = None,
    timezone: str | None = None,
    github_owner: str | None = None,
    github_repositories: Sequence[str] | None = None,
) -> Membership:
    """Change the team's settings (owners and admins); None leaves a setting as it is, and
    an empty GitHub owner disconnects it. Repositories need an owner; a new owner without
    repositories means all of theirs."""
    found = await _managed(db, user_id, team_id)
    team = found.team
    if name is not None:
        team.name = _name(name)
    if timezone is not None:
        zone = timezones.validate(timezone)
        if zone != team.timezone:
            team.timezone = zone
            team.next_post_at = None  # Monday 08:00 is somewhere else now
    if github_owner is not None:
        owner = _github_owner(github_owner)
        if owner != team.github_owner:
            team.github_owner = owner
            team.github_repositories = []
    if github_repositories is not None:
        if team.github_owner is None and github_repositories:
            raise InvalidInput("Set the team's GitHub owner before its repositories.")
        team.github_repositories = _repositories(team.github_owner, github_repositories)
    await db.flush()
    return found


async def create_invite(db: AsyncSession, user_id: str, team_id: int) -> tuple[str, datetime]:
    """A one-time invitation URL (owners and admins), valid for a week, and its expiry.
    Only its hash is stored."""
    await _managed(db, user_id, team_id)
    plain = secrets.token_urlsafe(32)
    expires_at = clock.now() + INVITE_LIFETIME
    await TeamRepository(db).add_invite(team_id, accounts.token_hash(plain), expires_at)
    return f"{get_settings().base_url}/teams/join/{plain}", expires_at


async def _join(db: AsyncSession, user_id: str, team_id: int, username: str | None) -> Membership:
    await accounts.ensure_user(db, user_id, username)
    repository = TeamRepository(db)
    if await repository.get(team_id, lock=True) is None:
        raise NotFound(NO_SUCH_TEAM)
    await repository.add_member(team_id, user_id, TeamRole.MEMBER)
    return await membership(db, user_id, team_id)


async def join_by_invite(
    db: AsyncSession, user_id: str, plain: str, username: str | None = None
) -> Membership:
    """Join the team of a live invite, spending it. A member who opens it again is answered
    with their membership, and the invite stays for someone else."""
    repository = TeamRepository(db)
    team_id = await repository.spend_invite(accounts.token_hash(plain), clock.now())
    if team_id is None:
        raise NotFound(INVITE_SPENT)
    if await repository.membership(team_id, user_id) is not None:
        # The rollback leaves the invite unspent, for the person it was meant for.
        raise Conflict("You are in this team already.")
    return await _join(db, user_id, team_id, username)


async def join_guild(
    db: AsyncSession, user_id: str, guild_id: str, username: str | None = None
) -> tuple[Membership, bool]:
    """Join this Discord server's team: anyone in the server may. Whether they were new."""
    team = await team_for_guild(db, guild_id)
    before = await TeamRepository(db).membership(team.id, user_id)
    return await _join(db, user_id, team.id, username), before is None


async def remove(db: AsyncSession, actor_id: str, team_id: int, user_id: str) -> None:
    """Take a member out of the team: themself, or anyone but an owner for owners and admins
    (an owner only leaves by themself). Their membership row is deleted, and with it
    everything the team could see of them."""
    repository = TeamRepository(db)
    await repository.get(team_id, lock=True)
    # Read under the team's lock: a concurrent change of membership is seen as it is.
    found = await membership(db, actor_id, team_id)
    if actor_id != user_id:
        if not found.is_admin:
            raise Forbidden("Only the team's owners and admins can remove someone else.")
        target = await repository.membership(team_id, user_id)
        if target is None:
            raise NotFound("That person is not in this team.")
        if target.role == TeamRole.OWNER:
            raise Forbidden("An owner can only leave by themself.")
    await repository.remove_member(team_id, user_id)
    left = await repository.members(team_id)
    if not left:
        await repository.delete(found.team)
    elif not any(member.role == TeamRole.OWNER for member, _ in left):
        # The longest-standing admin, else member, keeps the team owned.
        heir = min(left, key=lambda row: (row[0].role != TeamRole.ADMIN, row[0].joined_at))[0]
        heir.role = TeamRole.OWNER
        await db.flush()


def parse_subjects(text: str) -> list[str] | None:
    """`all`, or subject names separated by commas (None: every subject)."""
    if text.strip().casefold() in ("all", "*"):
        return None
    return checked_subjects(text.split(","))


def checked_subjects(given: Sequence[str]) -> list[str]:
    """Subject names as a member chooses to share them: each checked, each once."""
    names: list[str] = []
    for piece in given:
        if not piece.strip():
            continue
        name = accounts.normalise_subject(piece)
        if name.casefold() not in (known.casefold() for known in names):
            names.append(name)
    if not names:
        raise InvalidInput("Name the subjects to share, separated by commas, or say all.")
    if len(names) > MAX_SHARED_SUBJECTS:
        raise InvalidInput(f"Share at most {MAX_SHARED_SUBJECTS} subjects, or all of them.")
    return names


async def share(
    db: AsyncSession, user_id: str, team_id: int, subjects: list[str] | None
) -> Membership:
    """What the member shares with this team from now on, looking back too: the team's
    reports always count what is shared at the time they are asked for."""
    found = await membership(db, user_id, team_id)
    found.member.shared_subjects = subjects
    await db.flush()
    return found


async def set_role(
    db: AsyncSession, actor_id: str, team_id: int, user_id: str, role: TeamRole
) -> Member:
    """Make a member an owner, admin or member (owners only). A team keeps an owner: the
    last one cannot step down until another is made owner."""
    repository = TeamRepository(db)
    await repository.get(team_id, lock=True)
    # Read under the team's lock, so two owners stepping down at once leave one of them.
    found = await membership(db, actor_id, team_id)
    if found.member.role != TeamRole.OWNER:
        raise Forbidden("Only the team's owners can change roles.")
    rows = await repository.members(team_id)
    target = next((row for row in rows if row[0].user_id == user_id), None)
    if target is None:
        raise NotFound("That person is not in this team.")
    member, user = target
    owners = sum(row[0].role == TeamRole.OWNER for row in rows)
    if member.role == TeamRole.OWNER and role != TeamRole.OWNER and owners == 1:
        raise Conflict("A team needs an owner: make someone else owner first.")
    member.role = role
    await db.flush()
    return Member(user.id, display_name(user), role)


async def set_channel(db: AsyncSession, user_id: str, team_id: int, channel_id: str) -> Team:
    """Where the weekly summary is posted (owners and admins); due from the next Monday."""
    team = (await _managed(db, user_id, team_id)).team
    if team.discord_channel_id != channel_id:
        team.discord_channel_id = channel_id
        team.next_post_at = None
    await db.flush()
    return team


async def report(
    db: AsyncSession,
    user_id: str,
    team_id: int,
    *,
    first: date | None = None,
    last: date | None = None,
    group_by: TeamGroupBy = TeamGroupBy.MEMBER,
) -> Summary:
    """The team's shared time between two days (default: this week), for a member."""
    team = (await membership(db, user_id, team_id)).team
    return await _summary(db, team, first=first, last=last, group_by=group_by)


async def _summary(
    db: AsyncSession,
    team: Team,
    *,
    first: date | None = None,
    last: date | None = None,
    group_by: TeamGroupBy = TeamGroupBy.MEMBER,
) -> Summary:
    names = {member.user_id: member.name for member in await members(db, team.id)}
    return await team_summary(
        db, team.id, names, team.timezone, first=first, last=last, group_by=group_by
    )


async def week(db: AsyncSession, team: Team, week_of: date | None = None) -> Summary:
    """A week of the team (default: this week in its timezone), by member."""
    monday = monday_of(week_of or clock.now().astimezone(timezones.zone(team.timezone)).date())
    return await _summary(db, team, first=monday, last=monday + timedelta(days=6))


async def last_week(db: AsyncSession, team_id: int) -> tuple[Team, Summary]:
    """What `timetrack team post` posts: the week that ended, by member."""
    team = await TeamRepository(db).get(team_id)
    if team is None:
        raise NotFound(f"No team {team_id}.")
    this_week = week_start_for(team.timezone, clock.now())
    return team, await week(db, team, this_week - timedelta(days=7))


@dataclass(frozen=True)
class TeamWeek:
    """A team's week, as its channel is sent it."""

    team: Team
    summary: Summary


async def take_due_posts(db: AsyncSession, now: datetime, limit: int) -> list[TeamWeek]:
    """The weekly posts due at `now`, at the first tick on or after Monday 08:00 in each
    team's timezone: each team's next one is set, and this week's is recorded, in this
    transaction, so no tick posts a week twice. A week with nothing shared posts nothing."""
    repository = TeamRepository(db)
    posts = []
    for team in await repository.lock_posts_due(now, limit):
        this_week = week_start_for(team.timezone, now)
        due = summary_time(team.timezone, this_week)
        if now < due:
            team.next_post_at = due
            continue
        team.next_post_at = summary_time(team.timezone, this_week + timedelta(days=7))
        previous = this_week - timedelta(days=7)
        if not await repository.record_post(team.id, previous):
            continue
        summary = await week(db, team, previous)
        if summary.total_seconds:
            posts.append(TeamWeek(team, summary))
    await db.flush()
    return posts


async def issue_summary(db: AsyncSession, issue: IssueRef) -> IssueSummary | None:
    """The time members of teams connected to the issue's repository spent on it; None when
    no team is connected to it."""
    connected, contributors = await TeamRepository(db).issue_contributors(
        issue.repo, issue.number, clock.now()
    )
    return IssueSummary(tuple(contributors)) if connected else None


async def prune_invites(db: AsyncSession) -> None:
    await TeamRepository(db).prune_invites(clock.now())
