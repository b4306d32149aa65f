"""GitHub webhook secrets of one repository or organisation.

A delivery signed with such a secret may only act on issues of its repository, or of its
organisation's repositories: a leaked repository secret can start and stop timers on that
repository alone. GITHUB_WEBHOOK_SECRET, when set, still signs deliveries of any repository.

The secret is never stored. It is an HMAC of a random seed under the signing key
(TIMETRACK_SECRET_KEY), so the database alone does not reveal it; rotating the signing key
therefore changes every one of these secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.errors import InvalidInput, NotFound
from app.issues import OWNER, REPOSITORY
from app.models import WebhookScope, WebhookSecret
from app.repositories.webhook_secrets import WebhookSecretRepository

_REPOSITORY_NAME = re.compile(f"{OWNER}/{REPOSITORY}", re.ASCII)
_OWNER_NAME = re.compile(OWNER, re.ASCII)


@dataclass(frozen=True)
class Scope:
    """What a secret may sign for: one repository, or every repository of one owner."""

    kind: WebhookScope
    name: str

    def allows(self, repo: str) -> bool:
        repo = repo.casefold()
        if self.kind == WebhookScope.REPOSITORY:
            return repo == self.name
        return repo.partition("/")[0] == self.name

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def scope_of(secret: WebhookSecret) -> Scope:
    return Scope(WebhookScope(secret.scope), secret.name)


def _secret_of(seed: str) -> str:
    key = get_settings().signing_key().encode()
    digest = hmac.new(key, f"github webhook secret:{seed}".encode(), hashlib.sha256)
    return digest.hexdigest()


def _scope(repo: str | None, org: str | None) -> Scope:
    if (repo is None) == (org is None):
        raise InvalidInput("Give either a repository (owner/name) or an organisation.")
    if repo is not None:
        if not _REPOSITORY_NAME.fullmatch(repo):
            raise InvalidInput(f"{repo[:150]!r} is not a repository name like owner/name.")
        return Scope(WebhookScope.REPOSITORY, repo.casefold())
    assert org is not None
    if not _OWNER_NAME.fullmatch(org):
        raise InvalidInput(f"{org[:150]!r} is not an organisation name.")
    return Scope(WebhookScope.ORGANIZATION, org.casefold())


async def add(
    db: AsyncSession, *, repo: str | None = None, org: str | None = None
) -> tuple[WebhookSecret, str]:
    """A new secret for the repository or the organisation; shown once, here."""
    scope = _scope(repo, org)
    seed = secrets.token_urlsafe(32)
    secret = await WebhookSecretRepository(db).add(scope.kind, scope.name, seed)
    return secret, _secret_of(seed)


async def listing(db: AsyncSession) -> Sequence[WebhookSecret]:
    return await WebhookSecretRepository(db).all()


async def remove(db: AsyncSession, secret_id: int) -> None:
    if not await WebhookSecretRepository(db).remove(secret_id):
        raise NotFound(f"No webhook secret with id {secret_id}.")


async def signers(db: AsyncSession) -> list[tuple[Scope, str]]:
    """Every stored secret with what it may sign for."""
    return [(scope_of(s), _secret_of(s.seed)) for s in await WebhookSecretRepository(db).all()]
