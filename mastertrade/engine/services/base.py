"""Moved to ``mastertrade.engine.kernel.context`` (the engine's kernel).

This name stays for code written before the move (branches merged later); new code imports the
kernel module."""

from mastertrade.engine.kernel.context import (
    DaemonState,
    EngineContext,
    LastCandle,
    Service,
    ServiceStatus,
    ServiceStopping,
)

__all__ = ["DaemonState", "EngineContext", "LastCandle", "Service", "ServiceStatus", "ServiceStopping"]
