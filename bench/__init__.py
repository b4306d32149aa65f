"""Benchmarks: they print figures and never fail on timing (DESIGN "Testing")."""
