"""The Risk screen's "largest pos." counts a position the daemon has no price for yet at its average
price, as the risk check does: after a daemon restart, before the first tick, it read "0.0% / 20%" for a
position the check counted at 4.2% of equity."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import PositionInfo
from mastertrade.tui.screens.risk import LimitsPanel
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


class UnmarkedBackend(FakeBackend):
    """The account's position has no mark yet (the daemon restarted; no price since)."""

    async def positions(self, *, book: str | None = None) -> list[PositionInfo]:
        rows = await super().positions(book=book)
        return [row.model_copy(update={"mark": None, "value": None, "unrealised_pnl": None}) for row in rows]


async def test_a_position_without_a_price_counts_at_its_average_price() -> None:
    backend = UnmarkedBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.query(LimitsPanel).first(LimitsPanel).size.width > 0)
        positions = app.state.positions.value or []
        risk = app.state.risk.value
        assert positions and risk is not None and positions[0].value is None
        share = positions[0].amount * (positions[0].average_price or 0) / risk.equity
        assert share > 0.001
        lines = app.screen.query_one(LimitsPanel).render().plain.split("\n")
        line = next(line for line in lines if line.startswith("largest pos."))
        shown = float(line.split()[-3].rstrip("%"))
        assert shown == pytest.approx(share * 100, abs=0.05), line
