"""Benchmarks of the helpdesk as its data grows: ``make bench`` / ``python -m bench``."""
