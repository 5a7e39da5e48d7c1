"""Signal alert rules: a condition in the genome language, evaluated as bars close with the trader's own
window, feature alignment and signal code, alerting once when it becomes true."""

from __future__ import annotations

import pytest

from mastertrade.config import Settings
from mastertrade.engine.alerts.signal_watch import evaluate_bar
from mastertrade.engine.candle import Candle
from mastertrade.engine.collectors.base import FeaturePoint
from mastertrade.engine.collectors.sim import SIM_SOURCE
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.events import CandleClosed
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import to_iso
from mastertrade.errors import InvalidGenome, UserInputError
from tests.conftest import MT
from tests.daemon.conftest import Engine, ThreadedDaemon
from tests.daemon.fakes import HOUR, T0, closed_ts, eventually, wait_for

FEAR = {"<": [{"feature": "fear_greed"}, 20]}


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def closed(engine: Engine, i: int, close: float = 100.0) -> CandleClosed:
    ts = T0 + i * HOUR
    candle = Candle(ts, close, close, close, close, 10.0)
    return CandleClosed(
        venue=engine.venue.id, symbol="BTC/USDT", timeframe="1h", candle=candle, simulated=True
    )


async def test_a_feature_condition_alerts_once_on_the_bar_that_first_sees_it(engine: Engine) -> None:
    # The index reads 50 from before the first bar, then 15 published during bar 2: by the strategies'
    # alignment (a value is seen by bars opening after it was published) bar 3 is the first to see it.
    await FeatureStore(engine.ctx.db).upsert(
        SIM_SOURCE,
        [
            FeaturePoint("fear_greed", 50.0, T0 - 2 * HOUR, T0 - 2 * HOUR),
            FeaturePoint("fear_greed", 15.0, T0 + 2 * HOUR, T0 + 2 * HOUR + 60_000),
        ],
    )
    client = engine.client()
    rule = await client.add_alert_rule("signal", symbol="BTC/USDT", when=FEAR)
    assert rule.kind == "signal" and rule.params == {"symbol": "BTC/USDT", "timeframe": "1h", "when": FEAR}
    assert rule.name == "BTC/USDT 1h: Fear & Greed < 20"
    for i in range(6):
        engine.venue.bar("BTC/USDT", T0 + i * HOUR, 100.0 + i, closed=True)
        await wait_for(lambda i=i: closed_ts(engine.ctx, "BTC/USDT") == T0 + i * HOUR)

    async def alerted() -> list[object]:
        return [a for a in await client.alert_history() if a.title == "BTC/USDT 1h: Fear & Greed < 20"]

    (alert,) = await eventually(alerted)
    assert f"close of the {to_iso(T0 + 3 * HOUR)} bar (close 103)" in alert.body
    assert "(simulated market)" in alert.body
    # bar by bar, with the same evaluation: only bar 3 fires (the condition still holds after it)
    fired = [bool(await evaluate_bar(engine.ctx, closed(engine, i))) for i in range(6)]
    assert fired == [False, False, False, True, False, False]
    await client.aclose()


async def test_an_indicator_condition_matches_the_backtest_signal(engine: Engine) -> None:
    from mastertrade.engine.signals.genome import parse_genome
    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.strategy import Strategy

    closes = [100, 101, 102, 103, 104, 103, 101, 99, 97, 98, 100, 103, 106, 108, 107, 105]
    for i, price in enumerate(closes):
        engine.venue.bar("BTC/USDT", T0 + i * HOUR, float(price), closed=True)
        await wait_for(lambda i=i: closed_ts(engine.ctx, "BTC/USDT") == T0 + i * HOUR)
    when = {"crosses_above": [{"price": "close"}, {"ind": "sma", "length": 3}]}
    await engine.ctx.alerts.add_rule("signal", {"symbol": "BTC/USDT", "timeframe": "1h", "when": when})
    fired = [bool(await evaluate_bar(engine.ctx, closed(engine, i, closes[i]))) for i in range(len(closes))]
    genome = parse_genome({"name": "x", "entry": when, "exit": when})
    frame = await engine.ctx.candles.read(SeriesKey(engine.venue.id, "BTC/USDT", "1h"))
    entries, _ = Strategy.from_genome(genome).signals(IndicatorCache(frame))
    crossings = [bool(entries[i]) and not (i > 0 and entries[i - 1]) for i in range(len(closes))]
    assert fired == crossings and any(fired)


async def test_bad_conditions_are_refused_naming_the_bad_part(engine: Engine) -> None:
    manager = engine.ctx.alerts
    with pytest.raises(InvalidGenome, match=r"--when\[\"<\"\]\[0\]\.feature: unknown feature 'fear_gred'"):
        await manager.add_rule(
            "signal", {"symbol": "BTC/USDT", "timeframe": "1h", "when": {"<": [{"feature": "fear_gred"}, 20]}}
        )
    with pytest.raises(UserInputError, match="a signal rule needs --symbol"):
        await manager.add_rule("signal", {"timeframe": "1h", "when": FEAR})
    assert not [rule for rule in manager.rules.rules if rule.kind == "signal"]


FEAR_TEXT = '{"<": [{"feature": "fear_greed"}, 20]}'


def test_mt_alerts_add_when(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    rule = mt.json(
        "alerts", "add", "--when", '{"<": [{"feature": "fear_greed"}, 20]}', "--symbol", "BTC/USDT"
    )
    assert rule["kind"] == "signal" and rule["params"]["timeframe"] == "1h"
    listed = mt("alerts", "list")
    assert "BTC/USDT 1h: Fear & Greed < 20" in listed.stdout
    assert 'when={"<": [{"feature": "fear_greed"}, 20.0]}' in listed.stdout
    bad = mt("alerts", "add", "--when", "{not json", "--symbol", "BTC/USDT")
    assert bad.exit_code == 2 and bad.stderr.startswith("mt: error: invalid --when '{not json': not JSON")
    missing = mt("alerts", "add")
    assert missing.exit_code == 2 and "missing KIND" in missing.stderr
    # a timeframe the daemon does not stream: no bar of it ever closes here, so the rule would never fire
    other = mt("alerts", "add", "--when", FEAR_TEXT, "--symbol", "BTC/USDT", "--timeframe", "4h")
    assert other.exit_code == 2
    assert other.stderr.strip() == (
        "mt: error: timeframe '4h': the daemon streams 1h bars ([market] timeframe), so a 4h signal rule"
        " would never fire"
    )
    stored = [rule for rule in mt.json("alerts", "list")["rules"] if not rule["builtin"]]
    assert [rule["id"] for rule in stored] == [rule["id"]]  # nothing stored
    # a market in any case is the market the feed streams, stored as the feed spells it (the same rule
    # as the first, refused while that one is there)
    assert mt("alerts", "add", "--when", FEAR_TEXT, "--symbol", "btc/usdt").exit_code == 2
    assert mt.json("alerts", "remove", str(rule["id"])) == {"removed": rule["id"]}
    lower = mt.json("alerts", "add", "--when", FEAR_TEXT, "--symbol", "btc/usdt")
    assert lower["params"]["symbol"] == "BTC/USDT"


async def test_a_signal_rule_survives_a_restart(engine: Engine) -> None:
    from mastertrade.engine.alerts.manager import AlertManager
    from mastertrade.engine.alerts.signal_rule import SignalRule

    added = await engine.ctx.alerts.add_rule(
        "signal", {"symbol": "BTC/USDT", "timeframe": "4h", "when": FEAR}, severity="critical"
    )
    ctx = engine.ctx
    restarted = AlertManager(ctx.settings.alerts, ctx.db, ctx.bus, ctx.clock, notifier=engine.notifier)
    try:
        await restarted.load()
        (rule,) = [rule for rule in restarted.rules.rules if isinstance(rule, SignalRule)]
        assert rule.info() == added.info() and rule.timeframe == "4h"
    finally:
        restarted.subscription.close()
