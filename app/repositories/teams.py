from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    any_,
    cast,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import Insert, insert

from app.models import (
    Session,
    Team,
    TeamInvite,
    TeamMember,
    TeamPost,
    TeamRole,
    User,
    post_due_column,
)
from app.repositories.base import Repository
from app.timing import effective_seconds_sql


class TeamRepository(Repository):
    async def _inserted(self, statement: Insert) -> bool:
        """Whether the row was inserted (False: the same key was there already)."""
        done = await self.db.execute(statement.on_conflict_do_nothing().returning(literal(1)))
        return done.first() is not None

    async def add(self, team: Team) -> Team:
        self.db.add(team)
        await self.db.flush()
        return team

    async def get(self, team_id: int, *, lock: bool = False) -> Team | None:
        statement = select(Team).where(Team.id == team_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def by_guild(self, guild_id: str) -> Team | None:
        statement = select(Team).where(Team.discord_guild_id == guild_id)
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def delete(self, team: Team) -> None:
        await self.db.execute(delete(Team).where(Team.id == team.id))

    async def membership(self, team_id: int, user_id: str) -> TeamMember | None:
        statement = select(TeamMember).where(
            TeamMember.team_id == team_id, TeamMember.user_id == user_id
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def teams_of(self, user_id: str) -> Sequence[tuple[Team, TeamMember]]:
        statement = (
            select(Team, TeamMember)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user_id)
            .order_by(Team.name, Team.id)
        )
        return [(team, member) for team, member in (await self.db.execute(statement)).all()]

    async def members(self, team_id: int) -> Sequence[tuple[TeamMember, User]]:
        """The members, the longest-standing first."""
        statement = (
            select(TeamMember, User)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id == team_id)
            .order_by(TeamMember.joined_at, TeamMember.user_id)
        )
        return [(member, user) for member, user in (await self.db.execute(statement)).all()]

    async def add_member(self, team_id: int, user_id: str, role: TeamRole) -> bool:
        """Whether the user was added (False: already a member)."""
        return await self._inserted(
            insert(TeamMember).values(team_id=team_id, user_id=user_id, role=role)
        )

    async def remove_member(self, team_id: int, user_id: str) -> None:
        await self.db.execute(
            delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
        )

    async def add_invite(self, team_id: int, token_hash: str, expires_at: datetime) -> None:
        self.db.add(TeamInvite(team_id=team_id, token_hash=token_hash, expires_at=expires_at))
        await self.db.flush()

    async def spend_invite(self, token_hash: str, now: datetime) -> int | None:
        """The team of a live invite, spending it in the same statement."""
        statement = (
            update(TeamInvite)
            .where(
                TeamInvite.token_hash == token_hash,
                TeamInvite.used_at.is_(None),
                TeamInvite.expires_at > now,
            )
            .values(used_at=now)
            .returning(TeamInvite.team_id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none()

    async def prune_invites(self, now: datetime) -> None:
        await self.db.execute(delete(TeamInvite).where(TeamInvite.expires_at <= now))

    async def lock_posts_due(self, now: datetime, limit: int) -> Sequence[Team]:
        """Teams with a channel whose weekly post is due (or not worked out yet), locked;
        a team another tick holds is skipped, as that tick is deciding it."""
        due = post_due_column()
        statement = (
            select(Team)
            .where(Team.discord_channel_id.is_not(None), due <= now)
            .order_by(due)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return (await self.db.execute(statement)).scalars().all()

    async def record_post(self, team_id: int, week_start: date) -> bool:
        """Whether this is the first post of that week (False: it was posted already)."""
        return await self._inserted(insert(TeamPost).values(team_id=team_id, week_start=week_start))

    async def issue_contributors(
        self, repo: str, number: int, now: datetime
    ) -> tuple[bool, list[tuple[str, int]]]:
        """Whether a team is connected to the issue's repository, and each linked member of
        such a team with their effective seconds on the issue, all time, most first."""
        owner, _, name = repo.lower().partition("/")
        connected = (Team.github_owner == owner) & (
            (func.cardinality(Team.github_repositories) == 0)
            | (literal(name) == any_(Team.github_repositories))
        )
        teams = select(Team.id).where(connected).limit(1)
        if (await self.db.execute(teams)).first() is None:
            return False, []
        members = select(TeamMember.user_id).join(Team, Team.id == TeamMember.team_id)
        seconds = cast(func.sum(effective_seconds_sql(now)), BigInteger)
        statement = (
            select(User.github_login, seconds)
            .join(User, User.id == Session.user_id)
            .where(
                func.lower(Session.github_repo) == repo.lower(),
                Session.github_issue_number == number,
                User.github_login.is_not(None),
                Session.user_id.in_(members.where(connected)),
            )
            .group_by(User.github_login)
            .order_by(seconds.desc(), User.github_login)
        )
        rows = (await self.db.execute(statement)).all()
        return True, [(str(login), int(total)) for login, total in rows if total]
