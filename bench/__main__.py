"""`python -m bench` (and `make bench`): run every benchmark, print a table, save a JSON.

Benchmarks print figures and never fail on timing; the exit status is non-zero only when a
benchmark could not run at all. Results go to bench/results/bench-<time>.json.

    python -m bench [--only cold_start,statements,app_cpu,load,week_report,tick] [--quick]
                    [--concurrency 32] [--users 32] [--duration 3] [--rounds 3] [--sweep 1,4,8,16]
                    [--workers 1,2] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import cold_start, load, profile, statements, tick, week_report
from bench.common import load_average

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = ("cold_start", "statements", "app_cpu", "load", "week_report", "tick")


def _row(metric: str, target: str, value: str, met: bool | None) -> tuple[str, str, str, str]:
    verdict = "-" if met is None else ("meets" if met else "MISSES")
    return metric, target, value, verdict


def summary(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    if "load" in results:
        figures = results["load"]
        concurrency = figures["concurrency"]
        # (ratio key, label, target, holds when the ratio is ...)
        targets = (
            ("server_cpu_ms_per_request", "server CPU per request", 1.3, "<="),
            ("database_cpu_ms_per_request", "PostgreSQL CPU per request", 1.2, "<="),
            ("throughput_rps", f"throughput at {concurrency} clients", 0.75, ">="),
            ("p99_ms", f"p99 at {concurrency} clients", 1.3, "<="),
        )
        ratios = figures["ratios"].get("timetrack", {})
        for scenario, by_key in ratios.items():
            for key, label, bound, sense in targets:
                ratio = by_key[key]["median"]
                met = ratio <= bound if sense == "<=" else ratio >= bound
                rows.append(
                    _row(f"{scenario}: {label} / lean", f"{sense} {bound}", f"{ratio:.2f}", met)
                )
        servers = figures["servers"]
        for count in figures.get("workers", [1])[1:]:
            one, many = servers["timetrack"], servers[f"timetrack x{count}"]
            for scenario in ratios:
                ratio = many[scenario]["throughput_rps"] / max(one[scenario]["throughput_rps"], 0.1)
                rows.append(
                    _row(
                        f"{scenario}: throughput, {count} workers / 1",
                        ">= 1.6",
                        f"{ratio:.2f}",
                        ratio >= 1.6,
                    )
                )
    if "statements" in results:
        mutating = {k: v for k, v in results["statements"].items() if v["mutating"]}
        worst = max(mutating, key=lambda k: mutating[k]["statements"])
        most = mutating[worst]["statements"]
        rows.append(
            _row("SQL statements per mutating interaction", "<= 4", f"{most} ({worst})", most <= 4)
        )
        transactions = max(v["transactions"] for v in mutating.values())
        rows.append(
            _row("transactions per mutating interaction", "1", str(transactions), transactions == 1)
        )
        trips = max(v["round_trips"] for v in mutating.values())
        rows.append(_row("round trips per mutating interaction (max)", "-", str(trips), None))
    if "app_cpu" in results:
        for name, figures in results["app_cpu"].items():
            best = figures["cpu_ms_best_median"]
            rows.append(
                _row(f"app CPU per {name} request (in process)", "-", f"{best:.2f} ms", None)
            )
    if "cold_start" in results:
        cold = results["cold_start"]
        ping = cold["first_ping_s"]["median"]
        rows.append(
            _row("cold start to first PING (median)", "<= 0.6 s", f"{ping:.3f} s", ping <= 0.6)
        )
        if "first_interaction_s" in cold:
            first = cold["first_interaction_s"]["median"]
            rows.append(
                _row(
                    "cold start to first /session status (median)",
                    "<= 1.0 s",
                    f"{first:.3f} s",
                    first <= 1.0,
                )
            )
    if "week_report" in results:
        report = results["week_report"]
        median = report["median_ms"]
        rows.append(
            _row(
                f"week report, {report['sessions']:,} sessions (median)",
                "<= 5 ms",
                f"{median:.2f} ms",
                median <= 5,
            )
        )
    if "tick" in results:
        figures = results["tick"]
        rows.append(
            _row(
                f"tick, {figures['due']} of {figures['users']:,} users due (median)",
                "-",
                f"{figures['median_ms']:.1f} ms ({figures['idle_median_ms']:.1f} ms idle)",
                None,
            )
        )
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    headers = ("metric", "target", "result", "")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--output", type=Path, default=None, help="where to write the JSON")
    load.add_arguments(parser)
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.quick:
        args.duration, args.rounds, args.sweep = 1.0, 1, ""

    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": load_average(),
        "arguments": {k: str(v) for k, v in vars(args).items()},
    }
    print(f"bench: {', '.join(chosen)}; load average {meta['load_average_before']}", flush=True)
    results: dict[str, Any] = {}
    if "cold_start" in chosen:
        results["cold_start"] = cold_start.run(runs=3 if args.quick else 7)
        cold_start.print_results(results["cold_start"])
    if "statements" in chosen:
        results["statements"] = statements.run()
        statements.print_results(results["statements"])
    if "app_cpu" in chosen:
        print("\napp CPU per request, in process (python -m bench.profile):", flush=True)
        results["app_cpu"] = profile.run(requests=150 if args.quick else 400)
    if "load" in chosen:
        print("\nload (alternating rounds):", flush=True)
        results["load"] = load.run_from_args(args)
        load.print_results(results["load"])
    if "week_report" in chosen:
        print("\nweek report:", flush=True)
        sessions = ["--sessions", "20000", "--runs", "20"] if args.quick else []
        results["week_report"] = week_report.main(sessions)
    if "tick" in chosen:
        print("\ntick:", flush=True)
        results["tick"] = tick.main(["--rounds", "3"] if args.quick else [])
    meta["load_average_after"] = load_average()
    rows = summary(results)
    print_table(rows)
    print(
        f"\nload average before {meta['load_average_before']}, after {meta['load_average_after']}"
    )

    output = args.output or RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "summary": [list(r) for r in rows], "results": results}
    output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
