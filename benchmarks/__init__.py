"""Benchmarks: each module prints its figures and its ratio to a baseline measured in the same run.

Run them all with ``make bench`` (``python -m benchmarks``) or one with ``python -m benchmarks.startup``.
They are not tests: nothing here asserts a time, so a busy machine cannot make CI flaky.
"""
