"""Where the real-world fixtures (Discord's spec, GitHub's payloads) are found.

They live in the project's `shared/` folder beside the repository; TIMETRACK_FIXTURES
points elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[1]


def _fixtures_dir() -> Path:
    candidates = [
        Path(os.environ["TIMETRACK_FIXTURES"]) if os.environ.get("TIMETRACK_FIXTURES") else None,
        _REPOSITORY.parent / "shared" / "fixtures",
    ]
    for folder in candidates:
        if folder is not None and folder.is_dir():
            return folder
    raise FileNotFoundError(
        f"no fixtures at {_REPOSITORY.parent / 'shared' / 'fixtures'}; "
        "set TIMETRACK_FIXTURES to the folder holding discord/ and github/"
    )


FIXTURES_DIR = _fixtures_dir()
GITHUB_FIXTURES = FIXTURES_DIR / "github"
DISCORD_SPEC = FIXTURES_DIR / "discord" / "openapi.json"
