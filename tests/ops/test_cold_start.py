"""A cold start imports what a Discord PING needs; the other front doors come on first use."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from server import router as assembly

ROOT = Path(__file__).resolve().parents[2]
# Libraries and modules no PING needs: outbound HTTP, the page's templates, the command
# line's, and the GitHub and web front doors.
NOT_AT_START = (
    "httpx",
    "jinja2",
    "typer",
    "click",
    "rich",
    "server.integrations.github",
    "server.web",
)


def _paths(router: Any) -> list[str]:
    found: list[str] = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        found += _paths(inner) if inner is not None else [getattr(route, "path", "")]
    return [re.sub(r"\{[^}]+\}", "x", path) for path in found]


def test_importing_the_app_imports_nothing_a_ping_does_not_need() -> None:
    program = (
        "import sys, server.router\n"
        f"print(sorted({{m for m in sys.modules if m.startswith({NOT_AT_START!r})}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", sorted(assembly.ON_FIRST_USE))
def test_each_front_door_on_first_use_claims_exactly_its_own_paths(module: str) -> None:
    own = _paths(importlib.import_module(module).router)
    assert own
    assert all(assembly.serves(assembly.ON_FIRST_USE[module], path) for path in own)
    others = [
        path
        for name, paths in assembly.ON_FIRST_USE.items()
        if name != module
        for path in _paths(importlib.import_module(name).router)
    ]
    eager = [path for path in _paths(assembly.create_app().router) if path]
    assert not [p for p in others + eager if assembly.serves(assembly.ON_FIRST_USE[module], p)]


async def test_the_schema_lists_the_routes_imported_on_first_use() -> None:
    fresh = assembly.create_app()
    async with AsyncClient(transport=ASGITransport(app=fresh), base_url="http://t") as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    assert {"/api/github/webhook", "/api/github-timer-webhook/", "/api/discord"} <= set(paths)


async def test_a_first_request_includes_its_front_door_once(committed: object) -> None:
    # `committed`: the webhook's throttle reads (and may count a failure in) the database.
    fresh = assembly.create_app()
    async with AsyncClient(transport=ASGITransport(app=fresh), base_url="http://t") as http:
        first = await http.get("/static/nothing-here")
        again = await http.get("/static/nothing-here")
        unsigned = await http.post("/api/github/webhook", content=b"{}")
    assert first.status_code == again.status_code == 404
    assert unsigned.status_code in (401, 503)  # the webhook's own answer, not "no such route"
    included = [r for r in fresh.router.routes if getattr(r, "original_router", None) is not None]
    web = importlib.import_module("server.web.router").router
    assert len([r for r in included if r.original_router is web]) == 1
