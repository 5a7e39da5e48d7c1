"""MasterTrade: a terminal-first crypto trading workstation."""

__version__ = "0.1.0"
