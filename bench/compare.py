"""Before and after: the same benchmarks over several source trees, taking turns.

Each tree is a copy of the project (for instance one without an optimisation and one with
it) that contains this bench/ folder. For each round, `python -m bench --only ... --output`
runs in every tree in turn, so background load on the machine falls on all of them alike;
then the median of each figure over the rounds is printed, one column per tree.

    python -m bench.compare TREE [TREE ...] [--rounds 2] [--only app_cpu,load] [-- bench args]

For example, with a copy of the project before a change in /tmp/before:

    python -m bench.compare /tmp/before . --only statements,app_cpu,load -- --rounds 2 --sweep ''
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

Figure = Callable[[dict[str, Any]], float | None]


def _get(*keys: str) -> Figure:
    def read(results: dict[str, Any]) -> float | None:
        value: Any = results
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return float(value) if isinstance(value, int | float) else None

    return read


def _most_statements(results: dict[str, Any]) -> float | None:
    found = results.get("statements")
    if not found:
        return None
    return float(max(v["statements"] for v in found.values() if v["mutating"]))


FIGURES: list[tuple[str, Figure]] = [
    ("SQL statements, most per mutating interaction", _most_statements),
    ("app CPU ms / status (in process)", _get("app_cpu", "status", "cpu_ms_best_median")),
    ("app CPU ms / click (in process)", _get("app_cpu", "clicks", "cpu_ms_best_median")),
    ("app CPU ms / REST call (in process)", _get("app_cpu", "rest", "cpu_ms_best_median")),
]
for _server in ("timetrack", "lean"):
    for _name in ("status", "clicks", "rest"):
        FIGURES += [
            (
                f"load {_server} {_name}: {label}",
                _get("load", "servers", _server, _name, key),
            )
            for label, key in (
                ("req/s", "throughput_rps"),
                ("p99 ms", "p99_ms"),
                ("server CPU ms/req", "server_cpu_ms_per_request"),
                ("PostgreSQL CPU ms/req", "database_cpu_ms_per_request"),
            )
        ]
FIGURES += [
    ("cold start: first PING s (median)", _get("cold_start", "first_ping_s", "median")),
    ("week report ms (median)", _get("week_report", "median_ms")),
]


def run_once(tree: Path, only: str, extra: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "results.json"
        subprocess.run(
            [sys.executable, "-m", "bench", "--only", only, "--output", str(output), *extra],
            cwd=tree,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        document: dict[str, Any] = json.loads(output.read_text())
        return document


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="statements,app_cpu,load")
    args = parser.parse_args(argv)
    trees = [tree.resolve() for tree in args.trees]

    runs: dict[Path, list[dict[str, Any]]] = {tree: [] for tree in trees}
    loads: list[Any] = []
    for round_number in range(args.rounds):
        for tree in trees:
            print(f"round {round_number + 1}/{args.rounds}: {tree}", flush=True)
            document = run_once(tree, args.only, extra)
            runs[tree].append(document["results"])
            loads.append(document["meta"]["load_average_before"])

    table: dict[str, dict[str, float | None]] = {}
    for label, figure in FIGURES:
        row: dict[str, float | None] = {}
        for tree in trees:
            values = [v for v in (figure(r) for r in runs[tree]) if v is not None]
            row[str(tree)] = round(statistics.median(values), 3) if values else None
        if any(v is not None for v in row.values()):
            table[label] = row

    width = max(len(label) for label in table) if table else 10
    print("\n" + " " * width + "  " + "  ".join(f"{t.name[-14:]:>14}" for t in trees))
    for label, row in table.items():
        cells = "  ".join(f"{'-' if row[str(t)] is None else row[str(t)]:>14}" for t in trees)
        print(f"{label:<{width}}  {cells}")
    print(f"\nload averages at the start of each run: {loads}")
    return {"trees": [str(t) for t in trees], "table": table, "load_averages": loads}


if __name__ == "__main__":
    main()
