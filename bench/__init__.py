"""Benchmarks of opencams against same-run baselines; run by hand or with `make bench`, never by pytest."""
