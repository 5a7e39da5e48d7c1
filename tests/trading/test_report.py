"""`mt report`, the morning report: it printed no account figures at all (services, last prices and an
alert count) and the prices at full float precision (31247.199999999997). It now gives equity and its
change since the last report sent, realised and unrealised P&L, the open positions with their value, the
fills since the last report, drawdown and the day's loss against the risk limits, and prices as the
market quotes them (its tick when the exchange says, else six significant digits); against a daemon in a
background thread."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from mastertrade.engine.candle import Candle
from mastertrade.engine.market.venue import CandleUpdate
from mastertrade.locations import locations
from tests.conftest import MT
from tests.trading.conftest import HOUR, T0, ThreadedTrading, trading_settings

BTC = "BTC/USDT"
NOISY = 31247.199999999997  # 31247.2 as a float sum leaves it


def push(daemon: ThreadedTrading, i: int, price: float) -> None:
    venue = daemon.venue
    ts = T0 + i * HOUR
    daemon.call(
        lambda: venue.push(CandleUpdate(BTC, "1h", Candle(ts, price, price, price, price, 1.0), False))
    )
    daemon.call(
        lambda: venue.push(CandleUpdate(BTC, "1h", Candle(ts, price, price, price, price, 9.0), True))
    )


def until(mt: MT, check: Any, *args: str) -> Any:
    for _ in range(400):
        result = mt(*args, "--json")
        if result.exit_code == 0 and check(data := json.loads(result.stdout)):
            return data
        time.sleep(0.02)
    raise AssertionError(f"mt {' '.join(args)} never satisfied the check")


@pytest.fixture
def reporting(db_url: str) -> Any:
    """A paper daemon with an alert target (the fake notifier records what it is asked to send)."""
    threaded = ThreadedTrading(trading_settings(alerts={"urls": ["json://localhost:9/report"]})).start()
    try:
        yield threaded
    finally:
        threaded.stop()


def test_the_morning_report_gives_the_account_and_rounds_prices(mt: MT, reporting: ThreadedTrading) -> None:
    push(reporting, 0, NOISY)
    until(mt, lambda data: data["equity"] == 100_000.0, "balance")
    mt.json("trade", "buy", BTC, "0.5", "--wait", "0")
    push(reporting, 1, NOISY)
    until(mt, lambda data: len(data) == 1, "positions")

    printed = mt("report")
    assert printed.exit_code == 0, printed.output
    text = printed.stdout
    assert "31247.199999999997" not in text and "31,247.20" in text  # the last price, and the fill's
    balance = mt.json("balance")
    assert f"Equity {balance['equity']:,.2f} USDT: no earlier report to compare with" in text
    assert "P&L realised 0.00, unrealised " in text  # nothing sold yet
    (position,) = mt.json("positions")
    assert f"BTC/USDT 0.5 at {position['average_price']:,.2f}, now 31,247.20" in text
    assert f"value {position['value']:,.2f} USDT" in text
    assert "buy 0.5 BTC/USDT at 31,247.20" in text  # the day's fill
    assert "Fills since" in text and ": 1\n" in text
    risk = mt.json("risk", "status")
    assert (
        f"Drawdown {risk['drawdown'] * 100:.2f}% of {risk['limits']['max_drawdown'] * 100:.2f}% allowed"
        in text
    )
    assert "Today's loss" in text and "open positions 1 of" in text
    assert not locations().data_dir.joinpath("last-report.json").exists()  # printed, not sent: no mark

    sent = mt.json("report", "--send")
    assert sent["sent"]["status"] == "delivered" and sent["sent"]["title"] == "MasterTrade daily report"
    assert sent["sent"]["body"] == sent["text"]
    history = mt.json("alerts", "history")
    assert history[0]["rule"] == "report" and "Equity" in history[0]["body"]

    push(reporting, 2, 32_000.0)  # the position gains (0.5 x 752.80) before the next morning
    until(mt, lambda data: data[0]["mark"] == 32_000.0, "positions")
    later = mt("report").stdout
    equity = mt.json("balance")["equity"]
    change = equity - balance["equity"]
    share = change / balance["equity"] * 100
    assert f"Equity {equity:,.2f} USDT: {change:+,.2f}, {share:+.2f}% since the last report" in later
    assert "Fills since" in later and ": 0\n" in later  # the buy was before the last report
    assert "Alerts since" in later


def test_a_report_that_did_not_reach_its_targets_exits_1_and_is_not_remembered(
    mt: MT, daemon: ThreadedTrading
) -> None:
    push(daemon, 0, 100.0)
    until(mt, lambda data: data["equity"] == 100_000.0, "balance")
    failed = mt("report", "--send")  # the daemon fixture has no alert target
    assert failed.exit_code == 2 and "no alert targets" in failed.stderr, failed.output
    assert not locations().data_dir.joinpath("last-report.json").exists()


def test_a_report_says_when_the_daemon_runs_with_older_settings(mt: MT, daemon: ThreadedTrading) -> None:
    """A target just added to config.toml, and `mt report --send` answered "no alert targets: set [alerts]
    urls in the config" with nothing to say that they were set, only not read by the running daemon (as
    `mt status` and `mt alerts test` say)."""
    push(daemon, 0, 100.0)
    until(mt, lambda data: data["equity"] == 100_000.0, "balance")
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[alerts]\nurls = ["json://127.0.0.1:9/new-target"]\n')
    warning = f"mt: warning: {config} or {locations().secrets_file} changed since the daemon started"
    failed = mt("report", "--send")
    assert failed.exit_code == 2 and "no alert targets" in failed.stderr, failed.output
    assert warning in failed.stderr and "`mt daemon restart` applies the change" in failed.stderr
    printed = mt("report")  # the limits it shows are the daemon's too
    assert printed.exit_code == 0 and warning in printed.stderr, printed.output


@pytest.mark.parametrize(
    ("value", "said"),
    [("yesterday", "invalid --since 'yesterday'"), ("2999-01-01T00:00:00Z", "in the future")],
)
def test_a_bad_since_is_refused_before_asking_the_daemon(mt: MT, value: str, said: str) -> None:
    refused = mt("report", "--since", value)
    assert refused.exit_code == 2 and refused.stderr.startswith("mt: error: ") and said in refused.stderr
