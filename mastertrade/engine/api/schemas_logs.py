"""The body of ``GET /v1/logs`` (the daemon's own log), shared with ``mastertrade.client``. Imports only
pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LogRecord(BaseModel):
    """One record of the daemon's log, as ``mt daemon logs --json`` prints it: ``time`` ISO-8601 UTC
    (millisecond precision), ``level`` DEBUG..CRITICAL, the ``logger``'s name, and the ``message`` with
    any traceback lines that followed it."""

    model_config = ConfigDict(extra="ignore")

    time: str
    level: str
    logger: str
    message: str
