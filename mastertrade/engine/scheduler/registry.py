"""Moved to ``mastertrade.engine.kernel.context`` (the engine's kernel).

This name stays for code written before the move (branches merged later); new code imports the
kernel module."""

from mastertrade.engine.kernel.context import Availability, Job, JobFunc, JobRegistry, JobRun

__all__ = ["Availability", "Job", "JobFunc", "JobRegistry", "JobRun"]
