"""The parts of GitHub's webhook payloads the service reads, as pydantic models.

Written from GitHub's webhook documentation and checked against octokit's real examples
(tests/fixtures/github). Everything else in a payload is ignored, and every field is optional
here: the router decides which absences are a 400 and which are merely "ignored".

What is read is also what may be stored or echoed in a stored answer, so every string is
`StorableText` (no NUL, no lone surrogate) and the issue number fits its column: a signed
payload that breaks either is a 400, never a database error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.errors import BadRequest, InvalidInput
from app.issues import ISSUE_NUMBER_MAX, IssueRef, issue_link
from app.text import StorableText, storable


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Model):
    login: StorableText | None = None


class Repository(_Model):
    full_name: StorableText | None = None


class Issue(_Model):
    number: int | None = Field(default=None, strict=True, ge=1, le=ISSUE_NUMBER_MAX)
    html_url: StorableText | None = None
    title: StorableText | None = None
    state: StorableText | None = None
    draft: bool | None = None
    # Present when the "issue" is really a pull request (issue_comment on a PR does this).
    pull_request: dict[str, Any] | None = None


class IssuesEvent(_Model):
    """`X-GitHub-Event: issues`."""

    action: StorableText | None = None
    issue: Issue | None = None
    repository: Repository | None = None
    assignee: Account | None = None
    sender: Account | None = None

    def issue_ref(self) -> IssueRef:
        """The issue the event is about; BadRequest naming what is missing."""
        issue = self.issue or Issue()
        missing = [
            name
            for name, value in (
                ("issue.number", issue.number),
                ("issue.html_url", issue.html_url),
                ("repository.full_name", self.repository and self.repository.full_name),
            )
            if not value
        ]
        if missing:
            raise BadRequest(f"The issues event lacks {', '.join(missing)}.")
        assert issue.number is not None
        assert self.repository is not None and self.repository.full_name is not None
        repo = self.repository.full_name
        return IssueRef(
            repo=repo,
            number=issue.number,
            # Anything but the issue's own github.com address is kept as plain text.
            url=issue_link(issue.html_url, repo, issue.number),
            title=issue.title or "",
        )

    @property
    def is_draft_or_pull_request(self) -> bool:
        return self.issue is not None and (
            bool(self.issue.draft) or self.issue.pull_request is not None
        )

    def assignee_login(self) -> str:
        login = self.assignee.login if self.assignee is not None else None
        if not login:
            raise BadRequest(f"The issues.{self.action} event lacks assignee.login.")
        return login


class FieldValueChange(_Model):
    """`changes.field_value` of a projects_v2_item edit.

    Older payloads carry only the field's node id and type; newer ones add `field_name`
    and the `from`/`to` values (for a single-select field, an option with a `name`).
    """

    field_node_id: StorableText | None = None
    field_type: StorableText | None = None
    field_name: StorableText | None = None
    to: Any = None

    @field_validator("to")
    @classmethod
    def _readable_option_name(cls, value: Any) -> Any:
        # Of `to`, only a single-select option's name is read (`to_name`).
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            try:
                storable(value["name"], "option name")
            except InvalidInput as error:
                raise ValueError(error.detail) from None
        return value

    @property
    def to_name(self) -> str | None:
        if isinstance(self.to, dict) and isinstance(self.to.get("name"), str):
            return str(self.to["name"])
        return None


class ItemChanges(_Model):
    field_value: FieldValueChange | None = None


class ProjectsV2Item(_Model):
    node_id: StorableText | None = None
    content_type: StorableText | None = None


class ProjectsV2ItemEvent(_Model):
    """`X-GitHub-Event: projects_v2_item` (organisation and GitHub App webhooks only)."""

    action: StorableText | None = None
    projects_v2_item: ProjectsV2Item | None = None
    changes: ItemChanges | None = None
