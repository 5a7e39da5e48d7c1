"""The risk screen says how live positions are protected: by stops resting at the exchange, or only while
the daemon runs."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import HeldTakeProfit, ProtectionStatus, RiskStatus
from mastertrade.tui.screens.risk import LimitsPanel
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


class ProtectedBackend(FakeBackend):
    def __init__(self, by: str) -> None:
        super().__init__()
        self.by = by

    async def risk_status(self) -> RiskStatus:
        status = await super().risk_status()
        protection = ProtectionStatus(
            by=self.by,
            note="...",
            protected_positions=2,
            pending=0,
            degraded=False,
            degraded_reason=None,
            protections=[],
        )
        return status.model_copy(update={"protection": protection})


@pytest.mark.parametrize(
    ("by", "shown"), [("daemon", "only while the daemon runs"), ("exchange", "stops at the exchange")]
)
async def test_the_risk_screen_says_how_positions_are_protected(by: str, shown: str) -> None:
    app = make_app(ProtectedBackend(by))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("5")
        await pilot.pause()
        text = app.screen.query_one(LimitsPanel).draw(app.state, 60).plain
        assert f"2 positions, {shown}" in text


class HeldBackend(ProtectedBackend):
    async def risk_status(self) -> RiskStatus:
        status = await super().risk_status()
        assert status.protection is not None
        held = HeldTakeProfit(order_id=7, symbol="BTC/USDT", price=44_000.0, amount=0.1, note="...")
        protection = status.protection.model_copy(update={"held_take_profits": [held]})
        return status.model_copy(update={"protection": protection})


async def test_the_risk_screen_says_a_take_profit_holds_only_while_the_daemon_runs() -> None:
    app = make_app(HeldBackend("exchange"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("5")
        await pilot.pause()
        text = app.screen.query_one(LimitsPanel).draw(app.state, 80).plain
        assert "1 kept by the daemon: only while it runs (no OCO at this venue)" in text
