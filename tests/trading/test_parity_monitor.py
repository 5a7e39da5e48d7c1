"""The parity monitor on its own (a fake parity check): a book is checked at its first bar, at every bar
with a fill and every ``check_every_bars`` bars; a divergence beyond the tolerance raises one critical
alert and pauses the strategy once; within the tolerance it is only reported."""

from __future__ import annotations

from typing import Any

from mastertrade.config import ParitySettings
from mastertrade.engine import events
from mastertrade.engine.execution.parity_monitor import ParityMonitor
from tests.trading.test_trader_decisions import up_down

SAME = {"identical": True, "same": 2, "different": [], "only_backtest": [], "only_paper": [], "start": "a"}
MISSED = {**SAME, "identical": False, "only_backtest": [{"entry_time": "x"}]}


class Checks:
    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self.calls = 0

    async def __call__(self, item: Any) -> dict[str, Any]:
        self.calls += 1
        return self.reports.pop(0) if self.reports else SAME


async def test_a_divergence_alerts_once_and_pauses_the_strategy() -> None:
    published: list[Any] = []
    paused: list[tuple[str, str]] = []
    saved: list[tuple[str, dict[str, Any]]] = []

    async def pause(strategy_id: str, reason: str) -> None:
        paused.append((strategy_id, reason))

    async def save(book: str, status: dict[str, Any]) -> None:
        saved.append((book, status))

    checks = Checks()
    monitor = ParityMonitor(
        ParitySettings(check_every_bars=3), checks, publish=published.append, pause=pause, save=save
    )
    item = up_down("paper")
    await monitor.on_step(item, 1, False)  # first bar seen: checked
    assert [s.identical for s in await monitor.run_due()] == [True]
    await monitor.on_step(item, 2, False)
    await monitor.on_step(item, 3, False)
    assert await monitor.run_due() == [] and checks.calls == 1  # not due yet
    checks.reports = [MISSED, MISSED]
    await monitor.on_step(item, 4, False)  # third bar since the last check: due
    [status] = await monitor.run_due()
    assert status.diverged and status.paused and status.mismatched == 1
    [alert] = [e for e in published if isinstance(e, events.RiskBreached)]
    assert (
        alert.limit == "parity" and alert.severity == "critical" and "only in the backtest" in alert.message
    )
    assert paused == [("s1", paused[0][1])] and "diverged" in paused[0][1]
    await monitor.on_step(item, 5, True)  # a fill: due at once; still diverged, no second alert
    [again] = await monitor.run_due()
    assert again.diverged and len([e for e in published if isinstance(e, events.RiskBreached)]) == 1
    assert len(paused) == 1
    assert saved[-1][0] == "strategy:s1" and saved[-1][1]["diverged"] is True


async def test_within_the_tolerance_it_is_reported_not_paused() -> None:
    paused: list[str] = []

    async def pause(strategy_id: str, reason: str) -> None:
        paused.append(strategy_id)

    checks = Checks()
    checks.reports = [MISSED]
    monitor = ParityMonitor(ParitySettings(max_mismatched_trades=1), checks, pause=pause)
    await monitor.on_step(up_down("paper"), 1, True)
    [status] = await monitor.run_due()
    assert not status.identical and not status.diverged and paused == []
