from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from app.models import WebhookScope, WebhookSecret
from app.repositories.base import Repository


class WebhookSecretRepository(Repository):
    async def add(self, scope: WebhookScope, name: str, seed: str) -> WebhookSecret:
        secret = WebhookSecret(scope=scope, name=name, seed=seed)
        self.db.add(secret)
        await self.db.flush()
        return secret

    async def all(self) -> Sequence[WebhookSecret]:
        statement = select(WebhookSecret).order_by(WebhookSecret.id)
        return (await self.db.execute(statement)).scalars().all()

    async def remove(self, secret_id: int) -> bool:
        statement = (
            delete(WebhookSecret).where(WebhookSecret.id == secret_id).returning(WebhookSecret.id)
        )
        return (await self.db.execute(statement)).scalar_one_or_none() is not None
