"""VM-X benchmarks (run bench/run.py); they print numbers and never assert timings."""
