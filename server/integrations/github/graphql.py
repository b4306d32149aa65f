"""One GraphQL query that resolves a Projects v2 item: its issue, assignees and status.

A projects_v2_item webhook names the item only by node id, so the issue, its assignees
and the item's current "Status" come from GitHub's GraphQL API with GITHUB_TOKEN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

import app as package
from app.errors import InvalidInput
from app.issues import ISSUE_NUMBER_MAX, IssueRef, issue_link
from app.text import storable
from server import outbound

logger = logging.getLogger(__name__)

# GitHub gives a webhook 10 seconds; the look-up must leave room for the rest.
TIMEOUT = httpx.Timeout(6.0, connect=3.0)
STATUS_FIELD = "Status"

ITEM_QUERY = """
query ProjectItem($id: ID!, $field: String!) {
  node(id: $id) {
    ... on ProjectV2Item {
      id
      content {
        __typename
        ... on Issue {
          number
          title
          url
          repository { nameWithOwner }
          assignees(first: 50) { nodes { login } }
        }
      }
      status: fieldValueByName(name: $field) {
        ... on ProjectV2ItemFieldSingleSelectValue {
          name
          field { ... on ProjectV2FieldCommon { id name } }
        }
      }
    }
  }
}
""".strip()


class LookupFailed(Exception):
    """GitHub could not tell us what the item is; the message is one line for the answer."""


@dataclass(frozen=True)
class ProjectItem:
    """What the query found. `issue` is None unless the content is an Issue."""

    content_type: str | None
    issue: IssueRef | None
    assignees: tuple[str, ...]
    status: str | None
    status_field_id: str | None


def _parse_item(node: dict[str, Any]) -> ProjectItem:
    content = node.get("content")
    content = content if isinstance(content, dict) else {}
    typename = content.get("__typename")
    status = node.get("status") if isinstance(node.get("status"), dict) else {}
    assert isinstance(status, dict)
    field = status.get("field") if isinstance(status.get("field"), dict) else {}
    assert isinstance(field, dict)
    issue = None
    assignees: tuple[str, ...] = ()
    if typename == "Issue":
        repository = content.get("repository") or {}
        nodes = (content.get("assignees") or {}).get("nodes") or []
        try:
            repo, number = str(repository["nameWithOwner"]), int(content["number"])
            issue = IssueRef(
                repo=repo,
                number=number,
                url=issue_link(str(content["url"]), repo, number),
                title=str(content.get("title") or ""),
            )
        except (KeyError, TypeError, ValueError):
            raise LookupFailed("GitHub's answer lacked the item's issue fields.") from None
        if not 1 <= number <= ISSUE_NUMBER_MAX:
            raise LookupFailed("GitHub's answer gave an issue number out of range.")
        assignees = tuple(str(n["login"]) for n in nodes if isinstance(n, dict) and n.get("login"))
    name = status.get("name")
    field_id = field.get("id")
    item = ProjectItem(
        content_type=str(typename) if typename else None,
        issue=issue,
        assignees=assignees,
        status=str(name) if isinstance(name, str) else None,
        status_field_id=str(field_id) if isinstance(field_id, str) else None,
    )
    # What is read here is stored or echoed in a stored answer, as a payload's fields are.
    read = (item.status or "", *assignees, *((issue.repo, issue.title) if issue else ()))
    try:
        for text in read:
            storable(text, "text")
    except InvalidInput:
        raise LookupFailed("GitHub's answer holds text that cannot be stored.") from None
    return item


class GithubGraphql:
    def __init__(self, *, api_base: str, token: str, timeout: httpx.Timeout = TIMEOUT) -> None:
        self.url = f"{api_base.rstrip('/')}/graphql"
        self.token = token
        self.timeout = timeout

    async def project_item(self, node_id: str) -> ProjectItem:
        """The item behind `node_id`; LookupFailed when GitHub cannot or will not say."""
        body = {"query": ITEM_QUERY, "variables": {"id": node_id, "field": STATUS_FIELD}}
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": f"timetrack/{package.__version__}",
        }
        try:
            response = await outbound.client().post(
                self.url, json=body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise LookupFailed(
                f"GitHub's GraphQL API was unreachable ({type(error).__name__})."
            ) from None
        if not response.is_success:
            raise LookupFailed(f"GitHub's GraphQL API answered HTTP {response.status_code}.")
        try:
            payload = response.json()
        except ValueError:
            raise LookupFailed(
                "GitHub's GraphQL API answered something that is not JSON."
            ) from None
        data = payload.get("data") if isinstance(payload, dict) else None
        node = data.get("node") if isinstance(data, dict) else None
        if not isinstance(node, dict) or "content" not in node:
            errors = payload.get("errors") if isinstance(payload, dict) else None
            first = errors[0] if isinstance(errors, list) and errors else {}
            message = first.get("message") if isinstance(first, dict) else None
            logger.warning("github graphql: item %s not readable: %s", node_id, message)
            raise LookupFailed(
                "GITHUB_TOKEN cannot read this project item"
                + (f" ({message})" if message else "")
                + "."
            )
        return _parse_item(node)
