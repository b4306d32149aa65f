"""Webhook secrets of one repository or organisation (`timetrack github secret add`): a
delivery signed with one may act only on issues in its scope, so a leaked repository secret
starts and stops timers on that repository alone. The global secret still covers all."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import session as sessions
from app import throttle, webhook_secrets
from app.clock import Clock
from app.models import WebhookSecret
from tests.github.conftest import (
    ISSUE,
    Hook,
    assigned,
    count_sessions,
    delivery_rows,
    link,
    on_issue,
)
from tests.ops.conftest import run_timetrack

OTHER_REPO = "someone-else/Hello-World"


async def secret_for(db: AsyncSession, *, repo: str | None = None, org: str | None = None) -> str:
    _, plain = await webhook_secrets.add(db, repo=repo, org=org)
    return plain


async def test_a_repository_secret_signs_for_its_repository_only(
    hook: Hook, db: AsyncSession
) -> None:
    user_id = await link(db, "Codertocat")
    secret = await secret_for(db, repo="codertocat/hello-world")  # names ignore case

    elsewhere = await hook.send(
        "issues", on_issue(assigned(), repo=OTHER_REPO), secret=secret, delivery="elsewhere"
    )
    own = await hook.send("issues", assigned(), secret=secret)

    assert elsewhere.status_code == 403
    assert elsewhere.json() == {
        "error": "forbidden",
        "detail": (
            "This delivery is signed with the secret of repository codertocat/hello-world, "
            f"which does not cover {OTHER_REPO}. Nothing changed."
        ),
    }
    assert own.json()["status"] == "started"
    current = await sessions.current(db, user_id)
    assert current is not None and current.github_repo == ISSUE.repo
    assert await count_sessions(db) == 1
    failed = [
        (r["event_id"], r["status_code"]) for r in await delivery_rows(db) if not r["succeeded"]
    ]
    assert failed == [("elsewhere", 403)]


async def test_the_global_secret_still_signs_for_every_repository(
    hook: Hook, db: AsyncSession
) -> None:
    await link(db, "Codertocat")
    await secret_for(db, repo=ISSUE.repo)

    response = await hook.send("issues", on_issue(assigned(), repo=OTHER_REPO))

    assert response.json()["status"] == "started"


@pytest.mark.parametrize(
    ("repo", "allowed"),
    [
        ("Codertocat/Hello-World", True),
        ("codertocat/another-repository", True),
        ("Codertocat-fork/Hello-World", False),
        ("someone-else/Codertocat", False),
    ],
)
async def test_an_organisation_secret_signs_for_the_repositories_it_owns(
    hook: Hook, db: AsyncSession, repo: str, allowed: bool
) -> None:
    await link(db, "Codertocat")
    secret = await secret_for(db, org="Codertocat")

    response = await hook.send("issues", on_issue(assigned(), repo=repo), secret=secret)

    assert response.status_code == (200 if allowed else 403)
    assert await count_sessions(db) == (1 if allowed else 0)


async def test_stored_secrets_work_without_a_global_one(
    hook: Hook, db: AsyncSession, github_env: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    github_env.delenv("GITHUB_WEBHOOK_SECRET")
    get_settings.cache_clear()
    await link(db, "Codertocat")
    secret = await secret_for(db, repo=ISSUE.repo)

    signed = await hook.send("issues", assigned(), secret=secret)
    unsigned = await hook.send("issues", assigned(), secret="not-one-we-know")

    assert signed.json()["status"] == "started"
    assert unsigned.status_code == 401


async def test_a_removed_secret_signs_nothing(hook: Hook, db: AsyncSession) -> None:
    stored, plain = await webhook_secrets.add(db, repo=ISSUE.repo)
    await webhook_secrets.remove(db, stored.id)

    response = await hook.send("issues", assigned(), secret=plain)

    assert response.status_code == 401


async def test_a_secret_used_outside_its_scope_counts_as_a_failed_sign_in(
    hook: Hook, db: AsyncSession, frozen: Clock
) -> None:
    secret = await secret_for(db, repo=ISSUE.repo)
    body = on_issue(assigned(), repo=OTHER_REPO)
    for _ in range(throttle.LIMIT):
        assert (await hook.send("issues", body, secret=secret)).status_code == 403

    response = await hook.send("issues", assigned(), secret=secret)

    assert response.status_code == 429


async def test_the_secret_itself_is_never_stored(db: AsyncSession) -> None:
    stored, plain = await webhook_secrets.add(db, org="Codertocat")

    row = await db.scalar(select(WebhookSecret).where(WebhookSecret.id == stored.id))

    assert row is not None
    assert plain not in (row.name, row.seed, row.scope)


@pytest.mark.parametrize(
    ("repo", "org"),
    [("no-slash", None), ("a/b/c", None), (None, "with/slash"), (None, "-dash"), (None, None)],
)
async def test_names_that_github_would_not_give_are_refused(
    db: AsyncSession, repo: str | None, org: str | None
) -> None:
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await webhook_secrets.add(db, repo=repo, org=org)


async def test_the_command_line_adds_lists_and_removes_secrets(
    live_client: AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    env = {"DATABASE_URL": database_url}
    async with committed() as db, db.begin():
        await link(db, "Codertocat")

    added = run_timetrack("github", "secret", "add", "--repo", ISSUE.repo, env=env)
    listed = run_timetrack("github", "secret", "list", env=env)
    plain = added.stdout.splitlines()[-1]
    hook = Hook(live_client)
    signed = await hook.send("issues", assigned(), secret=plain)
    secret_id = added.stdout.split()[3]
    removed = run_timetrack("github", "secret", "remove", secret_id, env=env)
    after = await hook.send("issues", assigned(), secret=plain)

    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"Created webhook secret {secret_id} for repository ")
    assert listed.stdout.split("\t")[:2] == [secret_id, "repository codertocat/hello-world"]
    assert plain not in listed.stdout
    assert signed.json()["status"] == "started"
    assert (
        removed.returncode == 0 and removed.stdout.strip() == f"Removed webhook secret {secret_id}."
    )
    assert after.status_code == 401


@pytest.mark.parametrize(
    "args",
    [[], ["--repo", "a/b", "--org", "a"]],
    ids=["neither", "both"],
)
def test_the_command_line_wants_a_repository_or_an_organisation(args: list[str]) -> None:
    result = run_timetrack("github", "secret", "add", *args)

    assert result.returncode == 2
    assert result.stderr.strip() == "timetrack: Give --repo owner/name or --org owner."
