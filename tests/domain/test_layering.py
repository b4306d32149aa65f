"""Imports run one way: front doors -> domain, never back, and never across integrations.

- The domain (app/) imports no front door (server/). `app/__main__.py`, the launcher of
  `python -m app`, is the one exception: nothing imports it.
- An integration (server/integrations/<name>/) imports no other integration.
- The REST API, the page, auth and scheduled work reach an integration only through the
  outbound interface (`server.notify`); only the modules that assemble the service
  (`server.router`, `server.cli`, `server.notify`) import integrations by name.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
SERVER = ROOT / "server"
INTEGRATIONS = SERVER / "integrations"
LAUNCHER = APP / "__main__.py"
ASSEMBLERS = {SERVER / "router.py", SERVER / "cli.py", SERVER / "notify.py"}

DOMAIN_MODULES = sorted(p for p in APP.rglob("*.py") if p != LAUNCHER)
SERVER_MODULES = sorted(SERVER.rglob("*.py"))


def imported(source: str) -> list[str]:
    """Every absolute module an import statement names (relative imports are not used)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            # `from server.integrations import discord` names the package in the alias.
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def integration_of(path: Path) -> str | None:
    if INTEGRATIONS not in path.parents:
        return None
    return path.relative_to(INTEGRATIONS).parts[0]


def integrations_named(names: list[str]) -> set[str]:
    return {
        name.split(".")[2]
        for name in names
        if under(name, "server.integrations") and len(name.split(".")) > 2
    }


def label(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_checks_see_every_spelling() -> None:
    source = (
        "import server\nimport os, server.router as r\nfrom server.api import x\nfrom . import y\n"
        "from server.integrations import github\n"
    )
    names = imported(source)
    assert [n for n in names if under(n, "server")] == [
        "server",
        "server.router",
        "server.api",
        "server.api.x",
        "server.integrations",
        "server.integrations.github",
    ]
    assert integrations_named(names) == {"github"}
    assert not any(under(n, "server") for n in imported("import serverless\nfrom servers import z"))


def test_the_walk_finds_the_layout() -> None:
    domain = {label(path) for path in DOMAIN_MODULES}
    assert {"app/session.py", "app/github.py", "app/timing.py"} <= domain
    assert {integration_of(path) for path in SERVER_MODULES} >= {"discord", "github", None}


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=label)
def test_the_domain_imports_no_front_door(path: Path) -> None:
    names = imported(path.read_text(encoding="utf-8"))
    assert [name for name in names if under(name, "server")] == []


@pytest.mark.parametrize("path", SERVER_MODULES, ids=label)
def test_integrations_stay_out_of_each_other(path: Path) -> None:
    names = integrations_named(imported(path.read_text(encoding="utf-8")))
    own = integration_of(path)
    if own is not None:
        assert names <= {own}, f"{label(path)} imports another integration"
    elif path not in ASSEMBLERS:
        assert names == set(), f"{label(path)} should reach integrations through server.notify"


def test_importing_the_whole_domain_loads_nothing_from_server() -> None:
    """Also catches an indirect import (a domain module importing one that imports server)."""
    names = [
        "app." + path.relative_to(APP).with_suffix("").as_posix().replace("/", ".")
        for path in DOMAIN_MODULES
    ]
    names = [name.removesuffix(".__init__") for name in names]
    program = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'server' or m.startswith('server.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
