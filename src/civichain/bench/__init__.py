"""Benchmarks: load generation against real networks, and the figures they print (`civichain bench ...`)."""
