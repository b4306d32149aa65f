"""`python -m bench` (and `make bench`): run the benchmarks and print their figures."""

from bench import week_report

week_report.main([])
