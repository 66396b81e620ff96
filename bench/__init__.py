"""Benchmarks: each scenario measures its yardstick in the same run and reports the ratio."""
