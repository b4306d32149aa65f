"""The GitHub Action: action.yml runs action/forward.py, which re-sends the event signed
exactly as GitHub signs webhooks. Proven against the real app on a real port."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import accounts
from tests.action.conftest import ROOT, SECRET, Forwarded, run_forward, serving
from tests.github.conftest import payload, retarget

pytestmark = pytest.mark.usefixtures("action_env")


async def linked_user_with_token(
    committed: async_sessionmaker[AsyncSession], login: str = "Codertocat"
) -> tuple[str, str]:
    user_id = "action-user-1"
    async with committed() as db, db.begin():
        await accounts.link_github(db, user_id, login)
        _, token = await accounts.create_api_token(db, user_id, "action test")
    return user_id, token


def current(base: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{base}/api/timelogs/current/", headers={"Authorization": f"Token {token}"}, timeout=10
    )


def assert_ok(result: Forwarded, status: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"timetrack: 200 {status}: "), result.stdout
    assert len(result.stdout.strip().splitlines()) == 1


async def test_assigned_then_closed_through_the_action_is_visible_in_the_rest_api(
    committed: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    user_id, token = await linked_user_with_token(committed)

    with serving(database_url) as base:
        started = run_forward(
            "issues",
            retarget(payload("issues.assigned"), "Codertocat"),
            tmp_path,
            TIMETRACK_ENDPOINT=f"{base}/api/github/webhook",
        )
        tracking = current(base, token)
        closed = run_forward(
            "issues",
            payload("issues.closed"),
            tmp_path,
            TIMETRACK_ENDPOINT=base,  # a bare base URL gets the webhook path
        )
        after = current(base, token)
        repeat_alias = run_forward(
            "issues",
            payload("issues.closed"),
            tmp_path,
            TIMETRACK_ENDPOINT=f"{base}/api/github-timer-webhook/",
        )

    assert_ok(started, "started")
    assert tracking.status_code == 200
    session = tracking.json()
    assert session["status"] == "RUNNING"
    assert session["source"] == "github"
    assert session["subject"] == "Codertocat/Hello-World"
    assert session["goal"] == "#1 Spelling error in the README file"
    assert (session["github_repo"], session["github_issue_number"]) == ("Codertocat/Hello-World", 1)
    assert session["github_issue_url"] == "https://github.com/Codertocat/Hello-World/issues/1"

    assert_ok(closed, "stopped")
    assert after.status_code == 204
    assert_ok(repeat_alias, "noop")  # a fresh delivery id: judged again, nothing to stop

    async with committed() as db:
        deliveries = (
            await db.execute(
                text("SELECT event_id FROM processed_events WHERE kind = 'github_delivery'")
            )
        ).scalars()
        ids = list(deliveries)
        row = (
            await db.execute(
                text("SELECT status, stop_reason FROM sessions WHERE id = :id"),
                {"id": session["id"]},
            )
        ).one()
    assert len(ids) == 3 and all(uuid.UUID(i).version == 4 for i in ids)
    assert tuple(row) == ("ENDED_UNCONFIRMED", "issue_closed")
    assert user_id


async def test_every_fixture_payload_is_accepted_through_the_action(
    committed: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    await linked_user_with_token(committed)
    cases = [
        ("ping", "ping", "pong"),
        ("issues", "issues.opened", "ignored"),
        ("issues", "issues.reopened", "ignored"),
        ("issue_comment", "issue_comment.created", "ignored"),
        ("issues", "issues.assigned.with-organization", "started"),
        ("issues", "issues.unassigned", "stopped"),
        ("projects_v2_item", "projects_v2_item.edited", "ignored"),
    ]
    with serving(database_url) as base:
        results = [
            (expected, run_forward(event, payload(name), tmp_path, TIMETRACK_ENDPOINT=base))
            for event, name, expected in cases
        ]
    for expected, result in results:
        assert_ok(result, expected)


async def test_the_exact_bytes_are_signed_so_formatting_survives(
    committed: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    await linked_user_with_token(committed)
    # As on a runner: pretty-printed, non-ASCII kept, a trailing newline.
    body = retarget(payload("issues.assigned"), "Codertocat")
    body["issue"]["title"] = "Rechtschreibfehler — «README» 🙂"
    raw = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()

    with serving(database_url) as base:
        result = run_forward("issues", raw, tmp_path, TIMETRACK_ENDPOINT=base)

    assert_ok(result, "started")


async def test_a_wrong_secret_fails_the_step_with_one_line_and_no_secret(
    committed: async_sessionmaker[AsyncSession], database_url: str, tmp_path: Path
) -> None:
    with serving(database_url) as base:
        result = run_forward(
            "issues",
            payload("issues.assigned"),
            tmp_path,
            TIMETRACK_ENDPOINT=base,
            TIMETRACK_SECRET="a-guessed-secret",
        )

    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "::error title=timetrack::timetrack answered 401: unauthorized: "
        "Invalid X-Hub-Signature-256 signature."
    ]
    assert "a-guessed-secret" not in result.stdout + result.stderr


async def test_a_server_without_a_secret_fails_the_step(
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    action_env: pytest.MonkeyPatch,
) -> None:
    action_env.delenv("GITHUB_WEBHOOK_SECRET")
    from app.config import get_settings

    get_settings.cache_clear()
    with serving(database_url) as base:
        result = run_forward("ping", payload("ping"), tmp_path, TIMETRACK_ENDPOINT=base)

    assert result.returncode == 1
    assert "timetrack answered 503: not_configured" in result.stdout


# --- Without the app: what exactly is sent, and how failures read -------------------------


class _Capture(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[dict[str, str], bytes, str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        # Header names are case-insensitive in HTTP (urllib sends `X-github-event`).
        headers = {name.lower(): value for name, value in self.headers.items()}
        type(self).seen.append((headers, self.rfile.read(length), self.path))
        answer = b'{"status": "ignored", "detail": "captured"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def capture() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes, str]]]]:
    _Capture.seen = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Capture.seen
    finally:
        server.shutdown()
        thread.join()


def test_the_request_carries_githubs_webhook_headers(
    capture: tuple[str, list[tuple[dict[str, str], bytes, str]]], tmp_path: Path
) -> None:
    base, seen = capture
    raw = b'{"action": "assigned",\n "issue": {}}'

    first = run_forward("issues", raw, tmp_path, TIMETRACK_ENDPOINT=base)
    second = run_forward("issues", raw, tmp_path, TIMETRACK_ENDPOINT=f"{base}/custom/path")

    assert first.returncode == 0 and second.returncode == 0
    assert first.stdout.strip() == "timetrack: 200 ignored: captured"
    (headers, body, path), (headers2, _, path2) = seen
    assert (path, path2) == ("/api/github/webhook", "/custom/path")
    assert body == raw
    assert headers["content-type"] == "application/json"
    assert headers["x-github-event"] == "issues"
    expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == f"sha256={expected}"
    assert headers["user-agent"].startswith("timetrack-action/")
    deliveries = {headers["x-github-delivery"], headers2["x-github-delivery"]}
    assert len(deliveries) == 2
    assert all(uuid.UUID(d).version == 4 for d in deliveries)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TIMETRACK_ENDPOINT": ""}, "TIMETRACK_ENDPOINT is not set"),
        ({"TIMETRACK_ENDPOINT": "ftp://example.com"}, "must be an http(s) URL"),
        ({"TIMETRACK_SECRET": ""}, "TIMETRACK_SECRET is not set"),
        ({"GITHUB_EVENT_PATH": "/nonexistent/event.json"}, "cannot read the event payload"),
    ],
)
def test_missing_inputs_fail_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    settings = {"TIMETRACK_ENDPOINT": "http://127.0.0.1:9"} | env
    result = run_forward("issues", b"{}", tmp_path, **settings)
    assert result.returncode == 1
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("::error title=timetrack::") and message in line


def test_an_unreachable_server_fails_with_one_line(tmp_path: Path) -> None:
    from tests.action.conftest import free_port

    result = run_forward(
        "issues", b"{}", tmp_path, TIMETRACK_ENDPOINT=f"http://127.0.0.1:{free_port()}"
    )
    assert result.returncode == 1
    (line,) = result.stdout.strip().splitlines()
    assert "could not reach timetrack" in line


def test_action_yml_is_a_python_composite_action_with_its_inputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {name for name, spec in inputs.items() if spec["required"]} == {"endpoint", "secret"}
    assert inputs["comment"]["default"] == "false"
    assert inputs["token"]["default"] == "${{ github.token }}"
    (step,) = action["runs"]["steps"]
    assert step["shell"] == "bash"
    assert "action/forward.py" in step["run"]
    # Inputs travel as environment variables, never spliced into the script.
    assert "${{" not in step["run"]
    assert step["env"] == {
        "TIMETRACK_ENDPOINT": "${{ inputs.endpoint }}",
        "TIMETRACK_SECRET": "${{ inputs.secret }}",
        "TIMETRACK_COMMENT": "${{ inputs.comment }}",
        "GITHUB_TOKEN": "${{ inputs.token }}",
    }
    assert "node" not in json.dumps(action).lower()
