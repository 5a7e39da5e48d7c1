"""The parity monitor: each traded strategy's paper book held to its backtest, as bars close.

The bar clock tells the monitor after each bar a book was evaluated on (``on_step``); a book is due for a
check when that bar brought it a fill, or every ``[parity] check_every_bars`` of its bars (a trade the
backtest made and the book missed shows up there). After the bar clock has caught up, ``run_due`` runs the
parity report (``parity_report.strategy_book_parity``, the code ``mt strategy parity`` runs) for each due
book. A book whose mismatched trades exceed ``max_mismatched_trades`` is **diverged**: the monitor raises
a critical ``RiskBreached`` (limit ``parity``, which the ``risk_limit`` alert rule delivers) once per
divergence and, with ``pause_on_divergence``, pauses the strategy through the life-cycle door. The latest
result of each strategy is kept (``statuses``, served by the API) and stored as a ``parity`` snapshot of
its book, so ``mt strategy list`` shows it with or without a daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mastertrade import errors
from mastertrade.engine import events
from mastertrade.engine.execution.bar_clock import book_id

if TYPE_CHECKING:
    from mastertrade.config import ParitySettings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.strategies import TradedStrategy

log = logging.getLogger(__name__)

Check = Callable[["TradedStrategy"], Awaitable[dict[str, Any]]]
"""The parity report of a strategy's book (``parity_report.strategy_book_parity`` bound to a daemon)."""
Pause = Callable[[str, str], Awaitable[None]]
"""Pause a strategy with a reason (``generator.lifecycle.move_strategy`` in the daemon)."""
Save = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Store a book's latest parity status (a ``parity`` snapshot of the book)."""


@dataclass(frozen=True)
class ParityStatus:
    """The latest parity check of one strategy's book."""

    strategy_id: str
    stage: str
    identical: bool
    diverged: bool
    same: int
    mismatched: int
    start: str | None
    end: str | None
    summary: str
    paused: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mismatches(report: dict[str, Any]) -> int:
    return len(report["different"]) + len(report["only_backtest"]) + len(report["only_paper"])


def summary(report: dict[str, Any]) -> str:
    return (
        f"{report['same']} same, {len(report['different'])} different, "
        f"{len(report['only_backtest'])} only in the backtest, {len(report['only_paper'])} only on paper"
    )


class ParityMonitor:
    """See the module docstring."""

    def __init__(
        self,
        settings: ParitySettings,
        check: Check,
        *,
        publish: Callable[[events.Event], None] | None = None,
        pause: Pause | None = None,
        save: Save | None = None,
    ) -> None:
        self.settings = settings
        self.check = check
        self.publish = publish
        self.pause = pause
        self.save = save
        self.statuses: dict[str, ParityStatus] = {}
        self._since: dict[str, int] = {}
        self._due: dict[str, TradedStrategy] = {}

    async def on_step(self, item: TradedStrategy, bar_ts: int, filled: bool) -> None:
        """A book was evaluated on a bar (the bar clock's hook)."""
        if not self.settings.enabled:
            return
        count = self._since.get(item.id, 0) + 1
        if filled or count >= self.settings.check_every_bars or item.id not in self.statuses:
            self._due[item.id] = item
            count = 0
        self._since[item.id] = count

    async def run_due(self) -> list[ParityStatus]:
        """Check every due book (after the bar clock caught up); returns the new statuses."""
        due, self._due = list(self._due.values()), {}
        done = []
        for item in due:
            try:
                report = await self.check(item)
            except errors.NotFound:
                continue  # no book yet, or the strategy stopped trading meanwhile
            done.append(await self._record(item, report))
        return done

    async def _record(self, item: TradedStrategy, report: dict[str, Any]) -> ParityStatus:
        count = mismatches(report)
        diverged = count > self.settings.max_mismatched_trades
        before = self.statuses.get(item.id)
        status = ParityStatus(
            strategy_id=item.id,
            stage=item.stage,
            identical=bool(report["identical"]),
            diverged=diverged,
            same=int(report["same"]),
            mismatched=count,
            start=report.get("start"),
            end=report.get("end"),
            summary=summary(report),
        )
        if diverged and not (before is not None and before.diverged):
            message = (
                f"strategy {item.id} ({item.strategy.name}, {item.stage}): its paper book diverged from its "
                f"backtest over {report.get('start')} .. {report.get('end')}: {status.summary}"
            )
            log.error(message)
            if self.publish is not None:
                self.publish(
                    events.RiskBreached(
                        limit="parity",
                        value=float(count),
                        threshold=float(self.settings.max_mismatched_trades),
                        message=message,
                        severity="critical",
                        symbol=item.strategy.symbol,
                    )
                )
            if self.settings.pause_on_divergence and self.pause is not None:
                try:
                    await self.pause(
                        item.id, f"parity monitor: paper diverged from backtest ({status.summary})"
                    )
                    status = ParityStatus(**{**status.as_dict(), "paused": True})
                except errors.MasterTradeError as exc:
                    log.error("strategy %s: could not pause it: %s", item.id, exc)
        self.statuses[item.id] = status
        if self.save is not None:
            await self.save(book_id(item.id), status.as_dict())
        return status


async def latest_statuses(db: Database, strategy_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The monitor's latest stored status of each strategy's book that has one (``mt strategy list``)."""
    from mastertrade.engine.risk.store import RiskStore

    store = RiskStore(db)
    found = {}
    for strategy_id in strategy_ids:
        snapshot = await store.latest_snapshot("parity", book_id(strategy_id))
        if snapshot is not None:
            found[strategy_id] = dict(snapshot.data)
    return found
