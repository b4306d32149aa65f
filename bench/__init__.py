"""Benchmarks: they print figures and never fail on timing (tests never assert timing)."""
