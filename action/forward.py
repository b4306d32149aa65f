"""Forward the workflow's triggering event to timetrack, exactly as a GitHub webhook.

Run by action.yml on the runner's own Python (standard library only). GitHub Actions
writes the event's webhook payload to $GITHUB_EVENT_PATH; these exact bytes are POSTed
with the headers GitHub's webhooks carry: X-GitHub-Event, a fresh X-GitHub-Delivery, and
X-Hub-Signature-256 (HMAC-SHA256 of the body with the shared secret). So the server has
one contract, whichever way an event arrives.

Environment: TIMETRACK_ENDPOINT, TIMETRACK_SECRET (inputs), GITHUB_EVENT_NAME and
GITHUB_EVENT_PATH (set by the runner). Exit status 0 on a 2xx answer; otherwise one line
on stdout as a workflow error annotation, and status 1. The secret is never printed.
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


def forward() -> str:
    """POST the event; the server's one-line answer, or ForwardError."""
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
            return f"{response.status} {_summary(response.read())}"
    except urllib.error.HTTPError as error:
        raise ForwardError(f"timetrack answered {error.code}: {_summary(error.read())}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ForwardError(f"could not reach timetrack ({reason})") from None


def _one_line(text: str) -> str:
    # Workflow commands end at a newline and decode %XX: escape so nothing the server says
    # can start a command of its own.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def main() -> int:
    try:
        outcome = forward()
    except ForwardError as error:
        print(f"::error title=timetrack::{_one_line(str(error))}")
        return 1
    print(f"timetrack: {' '.join(outcome.split())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
