"""The morning report's wording (`mastertrade/cli/report_text.py`) from documents as the daemon sends
them: alerts counted as "at least N" when the history's limit may hide more (a breaker tripping all night
had the old report say "200" as if that were all), a position with no price yet at cost and its
unrealised P&L unknown, many fills summed per symbol and side, prices on the market's tick, and the
equity's change only against a report of the same account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mastertrade.cli.report_text import LastReport, ReportInputs, report_text
from mastertrade.engine.api.schemas import AlertInfo, StatusReport
from mastertrade.engine.api.schemas_trading import BalanceInfo, FillInfo, PositionInfo, RiskStatus

NOW = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)
SINCE = NOW - timedelta(hours=24)


def status(**changes: Any) -> StatusReport:
    document: dict[str, Any] = {
        "version": "0",
        "pid": 1,
        "started_at": NOW - timedelta(hours=50),
        "uptime_s": 50 * 3600.0,
        "mode": "live",
        "stopping": False,
        "recovered": False,
        "venue": {"id": "binance", "kind": "ccxt", "simulated": False},
        "timeframe": "1h",
        "services": [{"name": "trading", "state": "running", "restarts": 0}],
        "symbols": [
            {
                "symbol": "BTC/USDT",
                "timeframe": "1h",
                "price": 31247.199999999997,
                "price_at": NOW,
                "tick": 0.1,
            },
            {"symbol": "ETH/USDT", "timeframe": "1h", "price": 1834.5600000000002, "price_at": NOW},
        ],
        "events": {
            "published": 0,
            "dropped": 0,
            "coalesced": 0,
            "overflows": 0,
            "subscribers": 0,
            "max_queue_depth": 0,
            "lag": {},
        },
        "work": {},
        "jobs": [],
        "socket": "/tmp/mt.sock",
    }
    return StatusReport.model_validate(document | changes)


def balance(**changes: Any) -> BalanceInfo:
    document: dict[str, Any] = {
        "book": "live",
        "mode": "live",
        "quote": "USDT",
        "balances": {"USDT": 5000.0},
        "cash": 5000.0,
        "reserved": 0.0,
        "free_cash": 5000.0,
        "positions_value": 3124.72,
        "equity": 8124.72,
        "realised_pnl": 12.5,
        "unrealised_pnl": 24.72,
    }
    return BalanceInfo.model_validate(document | changes)


def risk() -> RiskStatus:
    return RiskStatus.model_validate(
        {
            "mode": "live",
            "halted": False,
            "reduce_only": False,
            "equity": 8124.72,
            "cash": 5000.0,
            "exposure": 3124.72,
            "exposure_pct": 0.3846,
            "open_positions": 1,
            "drawdown": 0.0123,
            "daily_loss": 0.004,
            "peak_equity": 8226.0,
            "limits": {
                "max_drawdown": 0.15,
                "daily_loss_limit": 0.05,
                "max_exposure": 0.8,
                "max_open_positions": 5,
            },
            "breakers": [],
        }
    )


def position(**changes: Any) -> PositionInfo:
    document: dict[str, Any] = {
        "book": "live",
        "symbol": "BTC/USDT",
        "amount": 0.1,
        "average_price": 31000.049999999996,
        "cost": 3100.005,
        "mark": 31247.199999999997,
        "value": 3124.72,
        "unrealised_pnl": 24.72,
        "realised_pnl": 0.0,
        "fees": 3.1,
    }
    return PositionInfo.model_validate(document | changes)


def fill(i: int, symbol: str = "BTC/USDT", side: str = "buy") -> FillInfo:
    return FillInfo.model_validate(
        {
            "order_id": i,
            "symbol": symbol,
            "side": side,
            "amount": 0.01,
            "price": 31000.000000000004 + i,
            "fee": 0.31,
            "fee_asset": "USDT",
            "role": "entry",
            "strategy_id": "abcdef0123456789",
            "ts": 0,
            "recorded_at": NOW - timedelta(hours=1),
        }
    )


def alerts(count: int, in_period: int) -> list[AlertInfo]:
    return [
        AlertInfo.model_validate(
            {
                "id": i,
                "created_at": NOW - timedelta(hours=1 if i < in_period else 30),
                "rule": "drawdown",
                "severity": "critical" if i == 0 else "info",
                "dedupe_key": str(i),
                "title": "drawdown over 10%" if i == 0 else "x",
                "body": "",
                "status": "delivered",
                "attempts": 1,
                "repeats": 0,
                "last_seen_at": NOW,
                "targets": [],
            }
        )
        for i in range(count)
    ]


def inputs(**changes: Any) -> ReportInputs:
    values: dict[str, Any] = {
        "now": NOW,
        "since": SINCE,
        "last": LastReport(SINCE, 8000.0, "live", "USDT"),
        "status": status(),
        "balance": balance(),
        "positions": [position()],
        "risk": risk(),
        "fills": [fill(1)],
        "fills_limit": 1000,
        "alerts": alerts(3, 3),
        "alerts_limit": 1000,
    }
    return ReportInputs(**(values | changes))


def test_the_report_gives_the_account_positions_fills_and_risk() -> None:
    text = report_text(inputs())
    assert text.startswith(
        "MasterTrade daily report, 2026-12-05 06:30 UTC (binance, live mode, up 2d 2h 00m)"
    )
    assert "Equity 8,124.72 USDT: +124.72, +1.56% since the last report (2026-12-04 06:30 UTC)" in text
    assert "P&L realised +12.50, unrealised +24.72" in text
    # on BTC's tick (0.1): 31,000.0 and 31,247.2; ETH has no tick known: six significant digits
    assert "BTC/USDT 0.1 at 31,000.0, now 31,247.2: value 3,124.72 USDT, unrealised +24.72 (+0.80%)" in text
    assert "ETH/USDT: 1,834.56 (2026-12-05 06:30 UTC)" in text
    assert "Fills since 2026-12-04 06:30 UTC: 1\n" in text
    assert (
        "2026-12-05 05:30 UTC buy 0.01 BTC/USDT at 31,001.0, fee 0.31 USDT, entry, strategy abcdef01" in text
    )
    assert "Drawdown 1.23% of 15.00% allowed (peak 8,226.00)" in text
    assert "Today's loss 0.40% of 5.00% allowed" in text
    assert "open positions 1 of 5" in text and "Breakers: none tripped" in text
    assert "Alerts since 2026-12-04 06:30 UTC: 3\n" in text and "CRITICAL: drawdown over 10%" in text
    assert "999999" not in text and "00000" not in text.replace("0.0000", "")  # no float noise anywhere


def test_a_position_without_a_price_is_at_cost_and_its_pnl_unknown() -> None:
    unpriced = position(mark=None, value=3100.005, value_at_cost=True, unrealised_pnl=None)
    text = report_text(
        inputs(positions=[unpriced], balance=balance(unrealised_pnl=None, at_cost=["BTC/USDT"]))
    )
    assert "unrealised unknown (no price yet for BTC/USDT: counted at cost)" in text
    assert "BTC/USDT 0.1 at 31,000.0: value 3,100.01 at cost, no price yet; unrealised unknown" in text


def test_many_fills_are_summed_by_symbol_and_side() -> None:
    many = [fill(i) for i in range(8)] + [fill(i, "ETH/USDT", "sell") for i in range(8, 20)]
    text = report_text(inputs(fills=many))
    assert "Fills since 2026-12-04 06:30 UTC: 20\n" in text
    assert "BTC/USDT buy 0.08 in 8 fills, average 31,003.5, 2,480.28 USDT, fees 2.48 USDT" in text
    assert "ETH/USDT sell 0.12 in 12 fills" in text
    assert "  (`mt orders` lists them)" in text
    limited = report_text(inputs(fills=many, fills_limit=20))
    assert "Fills since 2026-12-04 06:30 UTC: at least 20\n" in limited


def test_more_alerts_than_listed_are_counted_as_at_least() -> None:
    assert "Alerts since 2026-12-04 06:30 UTC: at least 1000\n" in report_text(
        inputs(alerts=alerts(1000, 1000))
    )
    assert "Alerts since 2026-12-04 06:30 UTC: 250\n" in report_text(inputs(alerts=alerts(1000, 250)))


def test_the_equity_change_is_only_against_a_report_of_the_same_account() -> None:
    assert "no earlier report to compare with" in report_text(inputs(last=None))
    paper = report_text(inputs(last=LastReport(SINCE, 100_000.0, "paper", "USDT")))
    assert "the last report was of another account (paper, USDT)" in paper
    assert "-91,875.28" not in paper
