"""From a verified delivery to the domain call it asks for.

`handler(event, payload, scope)` reads GitHub's JSON (400 for what a delivery must carry
and does not) and returns the work to run in the delivery's transaction. Only what can
change a timer gets past here; everything else is answered "ignored" without touching the
database. A delivery signed with a repository's or an organisation's own secret may act
on that scope's issues only (`OutOfScope` otherwise, checked once the issue is known).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import github
from app.config import get_settings
from app.errors import BadRequest, Forbidden
from app.issues import IssueRef
from app.webhook_secrets import Scope
from server.integrations.github.graphql import STATUS_FIELD, GithubGraphql
from server.integrations.github.payloads import IssuesEvent, ProjectsV2ItemEvent

Handler = Callable[[AsyncSession], Awaitable[github.Result]]


class OutOfScope(Forbidden):
    """The delivery's secret belongs to a repository or organisation the issue is not in."""


def _within(scope: Scope | None, issue: IssueRef) -> IssueRef:
    if scope is not None and not scope.allows(issue.repo):
        raise OutOfScope(
            f"This delivery is signed with the secret of {scope}, "
            f"which does not cover {issue.repo}. Nothing changed."
        )
    return issue


def fixed(result: github.Result) -> Handler:
    async def handle(db: AsyncSession) -> github.Result:
        return result

    return handle


def _issues(payload: dict[str, Any], scope: Scope | None) -> Handler:
    event = IssuesEvent.model_validate(payload)
    issue = _within(scope, event.issue_ref())
    action = event.action or ""
    if event.is_draft_or_pull_request:
        return fixed(github.ignored("Drafts and pull requests are not tracked."))
    if action == "assigned":
        login = event.assignee_login()
        return lambda db: github.issue_assigned(db, issue, login)
    if action == "unassigned":
        login = event.assignee_login()
        return lambda db: github.issue_unassigned(db, issue, login)
    if action == "closed":
        return lambda db: github.issue_closed(db, issue)
    return fixed(github.ignored(f"issues.{action or '?'} does not change any timer."))


def _projects_v2_item(payload: dict[str, Any], scope: Scope | None) -> Handler:
    event = ProjectsV2ItemEvent.model_validate(payload)
    if event.action != "edited":
        return fixed(github.ignored(f"projects_v2_item.{event.action} does not change timers."))
    change = event.changes.field_value if event.changes is not None else None
    if change is None:
        return fixed(github.ignored("Only a change of the item's status changes timers."))
    if change.field_type and change.field_type != "single_select":
        return fixed(github.ignored("The changed field is not the status."))
    if change.field_name and change.field_name.casefold() != STATUS_FIELD.casefold():
        return fixed(github.ignored(f"The changed field is {change.field_name}, not the status."))
    item = event.projects_v2_item
    if item is None or not item.node_id:
        raise BadRequest("The projects_v2_item event lacks projects_v2_item.node_id.")
    if item.content_type and item.content_type != "Issue":
        return fixed(github.ignored("Draft issues and pull requests are not tracked."))
    settings = get_settings()
    if settings.github_token is None:
        return fixed(
            github.skipped("GITHUB_TOKEN is not set, so project board moves are not looked up.")
        )
    start, done = settings.github_project_start_status, settings.github_project_done_status
    moved_to = change.to_name
    if moved_to is not None and github.board_column(moved_to, start=start, done=done) is None:
        return fixed(
            github.ignored(f"Moved to {moved_to}, which is neither {start!r} nor {done!r}.")
        )
    lookup = GithubGraphql(
        api_base=settings.github_api_base, token=settings.github_token.get_secret_value()
    )
    node_id = item.node_id

    async def handle(db: AsyncSession) -> github.Result:
        found = await lookup.project_item(node_id)
        if found.issue is None:
            kind = found.content_type or "hidden item"
            return github.ignored(f"The item is a {kind}, not an issue; it is not tracked.")
        # Older payloads name the changed field only by node id.
        field_id = change.field_node_id
        if change.field_name is None and field_id and field_id != found.status_field_id:
            return github.ignored("The changed field is not the status.")
        return await github.project_item_moved(
            db,
            _within(scope, found.issue),
            found.assignees,
            moved_to if moved_to is not None else found.status,
            start_status=start,
            done_status=done,
        )

    return handle


def handler(event: str, payload: dict[str, Any], scope: Scope | None) -> Handler | None:
    """The work for a delivery; None for a ping. Raises BadRequest, OutOfScope or
    ValidationError; the work itself may raise OutOfScope."""
    if event == "ping":
        return None
    if event == "issues":
        return _issues(payload, scope)
    if event == "projects_v2_item":
        return _projects_v2_item(payload, scope)
    if not event:
        return fixed(github.ignored("No X-GitHub-Event header, so there is nothing to do."))
    return fixed(github.ignored(f"The {event} event does not change any timer."))
