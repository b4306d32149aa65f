"""Parameter types the REST routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Bounded to PostgreSQL's bigint, so an absurd id is a 422 rather than a database error.
SessionId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The session's id.", examples=[42])]
