"""The alternative-data sources as ``GET /v1/status`` reports them (``sources``).

Imports only pydantic, like ``schemas.py``, so the client and the CLI can use it cheaply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class SourceInfo(BaseModel):
    """One source's health: state ok/stale/disabled/error, why, when it last succeeded, its schedule."""

    model_config = ConfigDict(extra="ignore")

    source: str
    state: Literal["ok", "stale", "disabled", "error"]
    reason: str | None = None
    since: datetime | None = None
    last_success: datetime | None = None
    next_poll: datetime | None = None
    failures: int = 0
    interval_s: float = 0.0
    needs_key: bool = False
    key_configured: bool = False
    last_values: list[dict[str, Any]] = []
