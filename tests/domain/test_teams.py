"""Teams under races on real PostgreSQL, and what `/team share` reads."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import teams
from app.errors import Conflict, InvalidInput, NotFound
from app.models import TeamRole
from tests.domain.conftest import fresh_user_id
from tests.domain.test_concurrency import Sessions, in_transaction, race

GUILD = "1200000000000000099"


async def test_two_creates_for_one_server_make_one_team(committed: Sessions) -> None:
    first, second = fresh_user_id(), fresh_user_id()

    outcomes = await race(
        committed,
        [
            lambda db: teams.create(db, first, "One", guild_id=GUILD),
            lambda db: teams.create(db, second, "Two", guild_id=GUILD),
        ],
    )

    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict)


async def test_one_invitation_lets_one_person_in_whoever_races(committed: Sessions) -> None:
    owner = fresh_user_id()
    created = await in_transaction(committed, lambda db: teams.create(db, owner, "Hall"))
    url, _ = await in_transaction(
        committed, lambda db: teams.create_invite(db, owner, created.team.id)
    )
    token = url.rsplit("/", 1)[1]
    guests = [fresh_user_id() for _ in range(5)]

    outcomes = await race(
        committed,
        [lambda db, guest=guest: teams.join_by_invite(db, guest, token) for guest in guests],
    )

    assert sum(isinstance(o, teams.Membership) for o in outcomes) == 1
    assert all(isinstance(o, NotFound) for o in outcomes if not isinstance(o, teams.Membership))


async def test_the_owner_leaving_while_someone_joins_leaves_the_team_owned(
    committed: Sessions,
) -> None:
    owner, member, newcomer = fresh_user_id(), fresh_user_id(), fresh_user_id()
    created = await in_transaction(
        committed, lambda db: teams.create(db, owner, "Hall", guild_id=GUILD)
    )
    await in_transaction(committed, lambda db: teams.join_guild(db, member, GUILD))

    await race(
        committed,
        [
            lambda db: teams.remove(db, owner, created.team.id, owner),
            lambda db: teams.join_guild(db, newcomer, GUILD),
        ],
    )

    async def roles(db: AsyncSession) -> dict[str, TeamRole]:
        return {m.user_id: m.role for m in await teams.members(db, created.team.id)}

    assert await in_transaction(committed, roles) == {
        member: TeamRole.OWNER,
        newcomer: TeamRole.MEMBER,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", None),
        (" ALL ", None),
        ("thesis", ["thesis"]),
        ("Thesis, maths,, thesis , Maths", ["Thesis", "maths"]),
    ],
)
def test_shared_subjects_are_read_as_typed(text: str, expected: list[str] | None) -> None:
    assert teams.parse_subjects(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "x" * 65, ",".join(f"s{n}" for n in range(51))])
def test_what_cannot_be_shared_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        teams.parse_subjects(text)
