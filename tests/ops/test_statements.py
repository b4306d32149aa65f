"""Every mutating interaction stays within four SQL statements and one transaction, as
`python -m bench.statements` counts them (at psycopg, so plain statements count too)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = "import json; from bench.statements import run; print(json.dumps(run()))"


def test_each_mutating_interaction_sends_at_most_four_statements_in_one_transaction() -> None:
    # Its own process: the count patches psycopg and runs its own event loop.
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, check=True
    )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name for name in results if name.startswith("REST")} >= {"REST start", "REST stop"}
    for name, figures in results.items():
        assert figures["stable"], name
        assert figures["transactions"] == 1, name
        if figures["mutating"]:
            assert figures["statements"] <= 4, (name, figures["sql"])
