"""Benchmarks and offline harnesses."""
