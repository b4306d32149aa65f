"""Forward the workflow's triggering event to timetrack, exactly as a GitHub webhook.

Run by action.yml on the runner's own Python (standard library only). GitHub Actions
writes the event's webhook payload to $GITHUB_EVENT_PATH; these exact bytes are POSTed
with the headers GitHub's webhooks carry: X-GitHub-Event, a fresh X-GitHub-Delivery, and
X-Hub-Signature-256 (HMAC-SHA256 of the body with the shared secret). So the server has
one contract, whichever way an event arrives.

With TIMETRACK_COMMENT=true, when the answer to a closed issue carries the time members
of a connected team spent on it, the step posts it on the issue as one comment ("Tracked
3h 20m: @alice 2h, @bob 1h 20m") with the workflow's token (GITHUB_TOKEN, issues: write),
through GITHUB_API_URL and GITHUB_REPOSITORY (set by the runner). A hidden marker finds the
comment it posted before, which is edited instead when the issue is closed again.

Environment: TIMETRACK_ENDPOINT, TIMETRACK_SECRET, TIMETRACK_COMMENT, GITHUB_TOKEN
(inputs), GITHUB_EVENT_NAME and GITHUB_EVENT_PATH (set by the runner). Exit status 0 on a
2xx answer (and a comment posted, when one is due); otherwise one line on stdout as a
workflow error annotation, and status 1. Neither secret is ever printed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

WEBHOOK_PATH = "/api/github/webhook"
TIMEOUT_SECONDS = 30
USER_AGENT = "timetrack-action/1 (GitHub-Hookshot compatible)"


class ForwardError(Exception):
    """A one-line reason the step fails."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ForwardError(f"{name} is not set")
    return value


def webhook_url(endpoint: str) -> str:
    """The endpoint as given, or the webhook path on it when only a base URL was given."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ForwardError("the endpoint input must be an http(s) URL")
    if parts.path in ("", "/"):
        parts = parts._replace(path=WEBHOOK_PATH)
    return urllib.parse.urlunsplit(parts)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_request(
    url: str, secret: str, event: str, body: bytes, delivery: str
) -> urllib.request.Request:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature(secret, body),
    }
    return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310


def _summary(raw: bytes) -> str:
    try:
        answer = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace").strip().replace("\n", " ")[:300]
    if not isinstance(answer, dict):
        return str(answer)[:300]
    status = answer.get("status") or answer.get("error") or "?"
    detail = answer.get("detail") or ""
    return f"{status}: {detail}".strip().rstrip(":")


def _answer(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def forward() -> tuple[str, dict[str, Any], dict[str, Any]]:
    """POST the event: the server's one-line answer, its JSON and the event's payload, or
    ForwardError."""
    url = webhook_url(_required("TIMETRACK_ENDPOINT"))
    secret = _required("TIMETRACK_SECRET")
    event = _required("GITHUB_EVENT_NAME")
    path = _required("GITHUB_EVENT_PATH")
    try:
        with open(path, "rb") as handle:
            body = handle.read()
    except OSError as error:
        raise ForwardError(f"cannot read the event payload ({error.strerror})") from None
    request = build_request(url, secret, event, body, str(uuid.uuid4()))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read()
            return f"{response.status} {_summary(raw)}", _answer(raw), _answer(body)
    except urllib.error.HTTPError as error:
        raise ForwardError(f"timetrack answered {error.code}: {_summary(error.read())}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ForwardError(f"could not reach timetrack ({reason})") from None


# --- The comment on a closed issue --------------------------------------------------------

MARKER = "<!-- timetrack:issue-summary -->"
GITHUB_API = "https://api.github.com"
# Pages of comments read to find our own: an issue with more is not worth the calls.
MAX_PAGES = 10


def duration(seconds: int) -> str:
    """`1h 20m`, `2h`, `45m`, or `<1m`; timetrack's own spelling."""
    hours, minutes = divmod(seconds // 60, 60)
    parts = ([f"{hours}h"] if hours else []) + ([f"{minutes}m"] if minutes else [])
    return " ".join(parts) or "<1m"


def comment_text(summary: dict[str, Any]) -> str | None:
    """The comment for the answer's summary; None when nobody's time is in it."""
    people = [
        f"@{person['login']} {duration(int(person['seconds']))}"
        for person in summary.get("contributors") or []
        if isinstance(person, dict) and person.get("login") and person.get("seconds")
    ]
    if not people:
        return None
    total = duration(int(summary.get("total_seconds") or 0))
    return f"{MARKER}\nTracked {total}: {', '.join(people)}"


def _github(method: str, url: str, token: str, body: Any = None) -> Any:
    headers = {
        "Accept": "application/vnd.github+json",
        "Authorization": f"Bearer {token}",
        "User-Agent": USER_AGENT,
        "X-GitHub-Api-Version": "2022-11-28",
    }
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise ForwardError(f"GitHub answered {error.code} to the issue comment") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ForwardError(f"could not comment on the issue ({reason})") from None


def comment(answer: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Post or edit the issue's one timetrack comment; what was done, None if nothing."""
    summary = answer.get("summary")
    issue = event.get("issue")
    if event.get("action") != "closed" or not isinstance(summary, dict):
        return None
    number = issue.get("number") if isinstance(issue, dict) else None
    text = comment_text(summary)
    if text is None or not isinstance(number, int):
        return None
    token = _required("GITHUB_TOKEN")
    api = os.environ.get("GITHUB_API_URL", "").strip() or GITHUB_API
    repository = _required("GITHUB_REPOSITORY")
    base = f"{api.rstrip('/')}/repos/{repository}/issues"
    for page in range(1, MAX_PAGES + 1):
        found = _github("GET", f"{base}/{number}/comments?per_page=100&page={page}", token)
        if not isinstance(found, list):
            break
        for existing in found:
            if not isinstance(existing, dict) or not isinstance(existing.get("id"), int):
                continue
            if str(existing.get("body", "")).startswith(MARKER):
                _github("PATCH", f"{base}/comments/{existing['id']}", token, {"body": text})
                return "updated the issue's comment"
        if len(found) < 100:
            break
    _github("POST", f"{base}/{number}/comments", token, {"body": text})
    return "commented on the issue"


def _one_line(text: str) -> str:
    # Workflow commands end at a newline and decode %XX: escape so nothing the server says
    # can start a command of its own.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _wants_comment() -> bool:
    return os.environ.get("TIMETRACK_COMMENT", "").strip().lower() == "true"


def main() -> int:
    try:
        outcome, answer, event = forward()
        print(f"timetrack: {' '.join(outcome.split())}")
        done = comment(answer, event) if _wants_comment() else None
    except ForwardError as error:
        print(f"::error title=timetrack::{_one_line(str(error))}")
        return 1
    if done is not None:
        print(f"timetrack: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
