"""Benchmarks of the project: ``make bench`` runs them all (``benchmarks/run.py``)."""
