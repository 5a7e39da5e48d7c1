"""The health of each source, as ``mt data sources``, ``mt status`` and the alerts see it.

States:

- ``ok``: the last poll succeeded.
- ``stale``: the source is failing or silent (network down, 5xx, timeouts, rate limits, a malformed
  payload, or no successful poll for three intervals, e.g. while the daemon was stopped). Its stored
  series simply stop growing; strategies see the last values until they pass their maximum age.
- ``disabled``: switched off in config, or a keyed source without its key. Not a failure.
- ``error``: retrying cannot help until someone acts (the key was refused).

Every change of state is a ``SourceStateChanged`` event (``events.py``), published on the daemon's bus.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

STALE_AFTER_INTERVALS = 3
"""An ``ok`` source with no success for this many intervals (plus a minute) is shown as stale."""

MAX_LAST_VALUES = 12


class SourceState(StrEnum):
    OK = "ok"
    STALE = "stale"
    DISABLED = "disabled"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What is known about one source. Times are epoch milliseconds, UTC."""

    source: str
    state: SourceState
    reason: str | None = None
    since: int | None = None
    """When the source entered its current state."""
    last_success: int | None = None
    last_attempt: int | None = None
    next_poll: int | None = None
    failures: int = 0
    """Consecutive failed polls."""
    last_values: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    """The newest value of each series the last successful poll touched: name, symbol, value, ts."""
    description: str = ""
    interval_s: float = 0.0
    needs_key: bool = False
    key_configured: bool = False

    def effective(self, now: int) -> SourceHealth:
        """The state as of ``now``: an ``ok`` source that has been silent too long is stale."""
        if self.state is not SourceState.OK or self.last_success is None or self.interval_s <= 0:
            return self
        limit = self.last_success + int((STALE_AFTER_INTERVALS * self.interval_s + 60) * 1000)
        if now <= limit:
            return self
        from mastertrade.engine.market.timeframes import to_iso

        return replace(
            self,
            state=SourceState.STALE,
            reason=f"no update since {to_iso(self.last_success)} (is the daemon running?)",
            since=limit,
        )

    def as_dict(self) -> dict[str, Any]:
        from mastertrade.engine.market.timeframes import to_iso

        data = asdict(self)
        data["state"] = str(self.state)
        for key in ("since", "last_success", "last_attempt", "next_poll"):
            value = data[key]
            data[key] = to_iso(value) if value is not None else None
        data["last_values"] = [
            {**item, "ts": to_iso(int(item["ts"]))} if "ts" in item else dict(item)
            for item in self.last_values
        ]
        return data
