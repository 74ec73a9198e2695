"""Benchmarks of gaussrelbo: ``python -m benchmarks.run [--quick] [--json PATH]``."""
