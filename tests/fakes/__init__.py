"""Fakes at the suite's boundaries: servers on 127.0.0.1 that real clients talk to in tests."""
