"""`mt risk status` says what its VaR/CVaR figures are: losses in the account's quote currency. The table
showed "hist. VaR 3.57" with no unit, easily read as 3.57%."""

from __future__ import annotations

import pytest

from mastertrade.cli.risk import _show
from mastertrade.engine.api.schemas_trading import RiskStatus
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_the_risk_metrics_carry_their_currency(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    assert (await trading.risk_metrics())["quote"] == "USDT"


def test_the_var_table_names_its_currency(capsys: pytest.CaptureFixture[str]) -> None:
    figure = {
        "level": 0.95,
        "historical_var": 3.57,
        "historical_cvar": 4.59,
        "parametric_var": 3.19,
        "parametric_cvar": 3.96,
    }
    status = RiskStatus(
        mode="paper",
        halted=False,
        reduce_only=False,
        equity=12_000.0,
        cash=11_944.0,
        exposure=56.0,
        open_positions=1,
        drawdown=0.0,
        daily_loss=0.0,
        limits={},
        breakers=[],
        var={"source": "positions", "horizon": "1d", "returns": 108, "quote": "USDT", "figures": [figure]},
    )
    _show(status)
    assert "VaR/CVaR (loss in USDT) over 1d" in capsys.readouterr().out
