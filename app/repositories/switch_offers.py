from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from app.issues import IssueRef
from app.models import SwitchOffer
from app.repositories.base import Repository


class SwitchOfferRepository(Repository):
    async def add(self, user_id: str, issue: IssueRef, at: datetime) -> SwitchOffer:
        offer = SwitchOffer(
            user_id=user_id,
            github_repo=issue.repo,
            github_issue_number=issue.number,
            github_issue_url=issue.url,
            issue_title=issue.title,
            created_at=at,
        )
        self.db.add(offer)
        await self.db.flush()
        return offer

    async def get(self, offer_id: int) -> SwitchOffer | None:
        return await self.db.get(SwitchOffer, offer_id)

    async def prune(self, before: datetime) -> int:
        statement = (
            delete(SwitchOffer).where(SwitchOffer.created_at < before).returning(SwitchOffer.id)
        )
        return len((await self.db.execute(statement)).all())
