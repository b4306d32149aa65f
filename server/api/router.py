"""The REST API under `/api`, shaped like BLT's timer API: tokens for scripts, the cookie
for the page."""

from __future__ import annotations

from fastapi import APIRouter

from server.api import allocations, me, reports, teams, timelogs

router = APIRouter()
router.include_router(me.router)
router.include_router(timelogs.router)
router.include_router(allocations.router)
router.include_router(reports.router)
router.include_router(teams.router)
