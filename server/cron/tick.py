"""One tick of scheduled work: the stale sweep, reminders, weekly summaries, retries of
messages that failed, and teams' weekly posts to their channels. `GET|POST /api/cron/tick`,
`timetrack tick` and the loop in `timetrack serve` all run `tick`.

Each step is a transaction of its own, so that each locks its users in lock order without
waiting on the others' locks. A step that decides to send messages records them in its
transaction (`app.notifications`); once every step has committed, the messages this tick
recorded or claimed go out as one batch, and a last transaction records how it went.
Without a bot token nothing can be sent, so reminders and summaries stay due until one is
configured, and only the sweep runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app import notifications, reminders, summaries, teams
from app.clock import clock
from app.db import transaction
from app.notifications import Claim
from server import notify
from server.cron.sweep import sweep

logger = logging.getLogger(__name__)

# Per tick and step. A tick then fits a serverless function's time limit; what is left
# waits for the next tick, the longest-waiting first.
BATCH = 200


@dataclass(frozen=True)
class Ticked:
    reminded: int
    summaries: int
    stopped: int
    retried: int = 0
    delivered: int = 0
    team_posts: int = 0

    def counts(self) -> dict[str, int]:
        """What the endpoint answers and `timetrack tick` prints."""
        return {
            "reminded": self.reminded,
            "summaries": self.summaries,
            "stopped": self.stopped,
            "team_posts": self.team_posts,
        }


async def _remind() -> list[Claim]:
    async with transaction() as db:
        due = await reminders.take_due(db, clock.now(), BATCH)
        return await notifications.record(db, [notify.reminder(item) for item in due])


async def _summarise() -> list[Claim]:
    async with transaction() as db:
        due = await summaries.take_due(db, clock.now(), BATCH)
        return await notifications.record(db, [notify.weekly_summary(item) for item in due])


async def _post_team_weeks() -> int:
    # Recorded and posted in the step's own transaction: the posts go out as it commits.
    async with transaction() as db:
        posts = await teams.take_due_posts(db, clock.now(), BATCH)
        for post in posts:
            notify.team_week(db, post)
        return len(posts)


async def _retries() -> list[Claim]:
    async with transaction() as db:
        return await notifications.claim_retries(db, BATCH)


async def _send(claims: list[Claim]) -> int:
    if not claims:
        return 0
    outcomes = await notify.send_scheduled(claims)
    async with transaction() as db:
        await notifications.settle(db, outcomes)
    return sum(outcome is True for outcome in outcomes.values())


async def tick() -> Ticked:
    async with transaction() as db:
        swept = await sweep(db)  # its DMs go out as this transaction commits
    if not notify.enabled():
        ticked = Ticked(reminded=0, summaries=0, stopped=len(swept.stopped))
    else:
        reminded = await _remind()
        summarised = await _summarise()
        retried = await _retries()
        delivered = await _send([*reminded, *summarised, *retried])
        ticked = Ticked(
            reminded=len(reminded),
            summaries=len(summarised),
            stopped=len(swept.stopped),
            retried=len(retried),
            delivered=delivered,
            team_posts=await _post_team_weeks(),
        )
    logger.info(
        "tick: %d reminders, %d summaries, %d retries, %d DMs delivered; %d stale stopped;"
        " %d team posts",
        ticked.reminded,
        ticked.summaries,
        ticked.retried,
        ticked.delivered,
        ticked.stopped,
        ticked.team_posts,
    )
    return ticked
