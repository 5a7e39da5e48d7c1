"""`mt risk status` (table form) shows the live positions the daemon protects, and says when that
protection is degraded."""

from __future__ import annotations

import pytest

from mastertrade.cli.risk import _show
from mastertrade.engine.api.schemas_trading import ProtectionInfo, ProtectionStatus, RiskStatus


def status(degraded: bool) -> RiskStatus:
    return RiskStatus(
        mode="live",
        halted=False,
        reduce_only=False,
        equity=10_000.0,
        cash=8_000.0,
        exposure=2_000.0,
        open_positions=1,
        drawdown=0.0,
        daily_loss=0.0,
        limits={"max_position": 0.2},
        breakers=[],
        protection=ProtectionStatus(
            by="daemon",
            note="kept by the daemon: keep it running while live positions are open",
            protected_positions=1,
            pending=0,
            degraded=degraded,
            degraded_reason="no price for BTC/USDT since 12:00" if degraded else None,
            protections=[
                ProtectionInfo(
                    id=1,
                    symbol="BTC/USDT",
                    strategy_id="abcd1234",
                    state="active",
                    amount=0.05,
                    entry_price=40_000.0,
                    stop_price=38_000.0,
                    stop_role="stop_loss",
                    take_price=44_000.0,
                    entry_client_order_id="mt-1",
                )
            ],
        ),
    )


@pytest.mark.parametrize("degraded", [False, True])
def test_protections_are_listed(degraded: bool, capsys: pytest.CaptureFixture[str]) -> None:
    _show(status(degraded))
    out, err = capsys.readouterr()
    assert "Protected live positions: 1" in out
    assert "38,000 (stop_loss)" in out and "44,000" in out and "abcd1234" in out
    assert "keep it running" in out
    assert ("PROTECTION DEGRADED: no price for BTC/USDT" in err) is degraded


def test_a_take_profit_kept_by_the_daemon_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    from mastertrade.engine.api.schemas_trading import HeldTakeProfit

    shown = status(False)
    assert shown.protection is not None
    held = HeldTakeProfit(order_id=7, symbol="BTC/USDT", price=44_000.0, amount=0.1, note="...")
    shown.protection.held_take_profits = [held]
    _show(shown)
    out, _ = capsys.readouterr()
    assert "take-profit 7 (BTC/USDT at 44,000) is kept by the daemon" in out
    assert "it holds only while the daemon runs" in out
