"""Data flows one way: the domain core (app/) never imports the HTTP layer (server/).

`app/cli.py` is the exception by design: it is a front door of its own (the `timetrack`
command), living in app/ as DESIGN's layout says, and it reaches into server/ only inside
the commands that serve or talk to Discord, never at import time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
FRONT_DOORS = {"cli.py", "__main__.py"}
MODULES = sorted(p for p in APP.rglob("*.py") if p.relative_to(APP).as_posix() not in FRONT_DOORS)


def server_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "server"]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "server"
        ):
            found.append(node.module or "")
    return found


def test_the_walk_finds_the_domain() -> None:
    names = {path.relative_to(APP).as_posix() for path in MODULES}
    assert {"session.py", "allocation.py", "accounts.py", "timing.py"} <= names
    assert any(name.startswith("repositories/") for name in names)


def test_the_check_itself_sees_every_spelling() -> None:
    source = (
        "import server\nimport os, server.router as r\nfrom server.api import x\nfrom . import y"
    )
    assert server_imports(source) == ["server", "server.router", "server.api"]
    assert server_imports("import serverless\nfrom servers import z") == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(APP).as_posix())
def test_domain_module_does_not_import_server(path: Path) -> None:
    assert server_imports(path.read_text(encoding="utf-8")) == []


def test_importing_the_whole_domain_loads_nothing_from_server() -> None:
    """Also catches an indirect import (a domain module importing one that imports server)."""
    names = [
        "app." + path.relative_to(APP).with_suffix("").as_posix().replace("/", ".")
        for path in MODULES
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
