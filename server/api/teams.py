"""`/api/teams/`: teams, their members and invitations, and the time members share.

Anyone outside a team gets 404 on its routes, as if it did not exist; a member gets 403
on the routes for owners and admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from app import teams
from app.errors import Forbidden, NotFound
from app.reports import TeamGroupBy
from app.weeks import parse_day
from server.api.routing import AuthFirstRoute
from server.api.schemas import Text, error_responses, iso_utc
from server.api.team_schemas import (
    InviteOut,
    MemberOut,
    MemberPatchIn,
    TeamDetailOut,
    TeamIn,
    TeamListOut,
    TeamOut,
    TeamPatchIn,
    TeamSummaryOut,
)
from server.auth import throttle
from server.auth.caller import CurrentCaller
from server.transaction import Db

router = APIRouter(prefix="/api/teams", tags=["teams"], route_class=AuthFirstRoute)

First = Annotated[
    str | None,
    Query(alias="from", description="First day, YYYY-MM-DD, in the team's timezone (inclusive)."),
]
Last = Annotated[
    str | None, Query(alias="to", description="Last day, YYYY-MM-DD (inclusive); 366 days at most.")
]
TeamId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The team's id.", examples=[7])]


async def _detail(db: Db, found: teams.Membership) -> TeamDetailOut:
    members = await teams.members(db, found.team.id)
    return TeamDetailOut(
        **TeamOut.of(found).model_dump(),
        members=[MemberOut(user_id=m.user_id, name=m.name, role=m.role) for m in members],
    )


@router.get("/", response_model=TeamListOut, summary="Your teams", responses=error_responses())
async def list_teams(caller: CurrentCaller, db: Db) -> TeamListOut:
    return TeamListOut(results=[TeamOut.of(found) for found in await teams.teams_of(db, caller.id)])


@router.post(
    "/",
    status_code=201,
    response_model=TeamDetailOut,
    summary="Create a team; you are its owner",
    responses=error_responses(409, 422),
)
async def create_team(body: TeamIn, caller: CurrentCaller, db: Db) -> TeamDetailOut:
    return await _detail(db, await teams.create(db, caller.id, body.name))


@router.post(
    "/join/{token}",
    response_model=TeamDetailOut,
    summary="Join a team with an invitation",
    responses=error_responses(404, 409, 422),
)
async def join_team(
    token: Annotated[Text, Path(max_length=100, description="The invitation's token.")],
    caller: CurrentCaller,
    db: Db,
    request: Request,
) -> TeamDetailOut:
    try:
        joined = await teams.join_by_invite(db, caller.id, token)
    except NotFound:
        # An invitation is a credential: one that fails counts against this address.
        throttle.refused(request, db)
        raise
    return await _detail(db, joined)


@router.get(
    "/{team_id}/",
    response_model=TeamDetailOut,
    summary="A team of yours and its members",
    responses=error_responses(404, 422),
)
async def get_team(team_id: TeamId, caller: CurrentCaller, db: Db) -> TeamDetailOut:
    return await _detail(db, await teams.membership(db, caller.id, team_id))


@router.patch(
    "/{team_id}/",
    response_model=TeamDetailOut,
    summary="Change a team's name, timezone or GitHub owner and repositories (admins)",
    responses=error_responses(404, 409, 422),
)
async def patch_team(
    team_id: TeamId, body: TeamPatchIn, caller: CurrentCaller, db: Db
) -> TeamDetailOut:
    found = await teams.update(
        db,
        caller.id,
        team_id,
        name=body.name,
        timezone=body.timezone,
        github_owner=body.github_owner,
        github_repositories=body.github_repositories,
    )
    return await _detail(db, found)


@router.post(
    "/{team_id}/invites/",
    status_code=201,
    response_model=InviteOut,
    summary="A one-time invitation, valid for 7 days (admins)",
    responses=error_responses(404, 409, 422),
)
async def create_invite(team_id: TeamId, caller: CurrentCaller, db: Db) -> InviteOut:
    url, expires_at = await teams.create_invite(db, caller.id, team_id)
    return InviteOut(url=url, expires_at=iso_utc(expires_at))


@router.patch(
    "/{team_id}/members/{user_id}",
    response_model=MemberOut,
    summary="Change a member's role (owners), or what you share with the team (yourself)",
    responses=error_responses(404, 409, 422),
)
async def change_member(
    team_id: TeamId,
    user_id: Annotated[Text, Path(max_length=64, description="The member's user id.")],
    body: MemberPatchIn,
    caller: CurrentCaller,
    db: Db,
) -> MemberOut:
    given = body.model_fields_set
    if "shared_subjects" in given:
        if user_id != caller.id:
            # Someone else's consent is theirs to give; a stranger learns nothing here.
            await teams.membership(db, caller.id, team_id)
            raise Forbidden("Only a member chooses what they share with the team.")
        subjects = body.shared_subjects
        chosen = None if subjects is None else teams.checked_subjects(subjects)
        await teams.share(db, caller.id, team_id, chosen)
    if body.role is not None:
        changed = await teams.set_role(db, caller.id, team_id, user_id, body.role)
        return MemberOut(user_id=changed.user_id, name=changed.name, role=changed.role)
    await teams.membership(db, caller.id, team_id)
    found = next((m for m in await teams.members(db, team_id) if m.user_id == user_id), None)
    if found is None:
        raise NotFound("That person is not in this team.")
    return MemberOut(user_id=found.user_id, name=found.name, role=found.role)


@router.delete(
    "/{team_id}/members/{user_id}",
    status_code=204,
    summary="Leave a team, or remove a member (admins)",
    responses=error_responses(404, 422),
)
async def remove_member(
    team_id: TeamId,
    user_id: Annotated[Text, Path(max_length=64, description="The member's user id.")],
    caller: CurrentCaller,
    db: Db,
) -> None:
    await teams.remove(db, caller.id, team_id, user_id)


@router.get(
    "/{team_id}/report",
    response_model=TeamSummaryOut,
    response_model_by_alias=True,
    summary="The time the team's members share, between two days (default: this week)",
    responses=error_responses(404, 422),
)
async def team_report(
    team_id: TeamId,
    caller: CurrentCaller,
    db: Db,
    first: First = None,
    last: Last = None,
    group_by: Annotated[TeamGroupBy, Query(description="How to group the time.")] = (
        TeamGroupBy.MEMBER
    ),
) -> TeamSummaryOut:
    summary = await teams.report(
        db,
        caller.id,
        team_id,
        first=parse_day(first, "from"),
        last=parse_day(last, "to"),
        group_by=group_by,
    )
    return TeamSummaryOut.of(summary)
