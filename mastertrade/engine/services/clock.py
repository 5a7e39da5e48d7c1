"""Moved to ``mastertrade.engine.kernel.clock`` (the engine's kernel).

This name stays for code written before the move (branches merged later); new code imports the
kernel module."""

from mastertrade.engine.kernel.clock import Clock, FakeClock, SystemClock

__all__ = ["Clock", "FakeClock", "SystemClock"]
