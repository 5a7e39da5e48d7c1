"""On a replay a trained policy trades no bar closing before the close of the last bar it learnt from.

A strategy names its policy by hand (``model:<id>``), a fixed choice, not the newest version of anything;
a replay's models folder may hold one trained on the bars the replay has yet to play (trained on the whole
history before the workspace replayed). Before, the daemon traded such a policy on every bar the replay
closed: its paper book (and the parity backtest beside it) traded with a policy that had learnt from the
bars to come. Now a policy serves a bar only when it was trained by that bar's close, the rule forecasts
follow (``engine/ml/serving.py``): its signals on the bars before are left out, said once in the log
(and by `mt strategy add` in a replay workspace). Research (`mt backtest`, `mt validate`) is not trading:
it runs the policy on those bars and says they are in-sample, as it did.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from mastertrade.utc import iso_ms
from tests.conftest import MT
from tests.rl.test_model_trading import fixed_training  # noqa: F401  (the fixture, by name)

HOUR = 3_600_000
ENDED = 1_793_491_200_000  # 2026-11-01T00:00:00Z: the simulated series' last close, fixed
BARS = 800
FROM = 560
"""The replay plays from this bar (index in the store), before the policy's training ended (bar 599)."""
PLAYED = 140
"""Bars the replay plays before it stands still: 40 before the training's end, 100 after."""


def _sim_and_train(mt: MT, *, paper: bool = True) -> tuple[list[int], dict[str, Any], dict[str, Any]]:
    """The stored bars' opens, the policy trained on the whole history (before the workspace replays:
    its search window is the first 600 bars) and the paper strategy that is that policy (``paper``)."""
    end = iso_ms(ENDED)
    sim = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", str(BARS), "--seed", "3", "--end", end)
    assert sim.exit_code == 0, sim.stderr
    [series] = mt.json("data", "list")
    trained = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    added = (
        mt.json("strategy", "add", trained["model"], "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
        if paper
        else {}
    )
    assert not paper or added["state"] == "paper", added
    assert series["rows"] == BARS and series["last"] == iso_ms(ENDED - HOUR)  # --end: the last close
    opens = [ENDED - (BARS - i) * HOUR for i in range(BARS)]
    return opens, trained, added


@pytest.mark.usefixtures("fixed_training")
async def test_on_a_replay_a_policy_trades_no_bar_closing_before_its_training_ended(
    mt: MT, database: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import httpx

    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.app import create_app
    from mastertrade.engine.daemon import Daemon
    from mastertrade.engine.execution.trader import Trader
    from mastertrade.engine.market.replay import ReplayVenue
    from mastertrade.engine.market.replay_position import ReplayPositions
    from mastertrade.engine.market.store import CandleStore
    from tests.daemon.fakes import RecordingNotifier
    from tests.trading.conftest import trading_settings

    opens, trained, added = await asyncio.to_thread(_sim_and_train, mt)
    learnt_through = opens[600]  # the close of bar 599, the last of its search window
    assert trained["training"]["end"] == iso_ms(opens[599])
    for name, value in {
        "MT_MARKET__VENUE": "replay",
        "MT_MARKET__REPLAY_EXCHANGE": "sim",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
    }.items():
        monkeypatch.setenv(name, value)
    played = 0
    playing, standing = asyncio.Event(), asyncio.Event()

    async def play_then_stand(seconds: float) -> None:
        nonlocal played
        await playing.wait()
        if played == PLAYED:
            standing.set()
            await asyncio.Future()  # market time stands at the last bar played
        played += 1

    venue = ReplayVenue(
        CandleStore(database),
        "sim",
        start=opens[FROM],
        ticks_per_bar=1,
        sleep=play_then_stand,
        positions=ReplayPositions(database),
    )
    settings = trading_settings(market={"symbols": ["BTC/USDT"], "timeframe": "1h", "venue": "replay"})
    daemon = Daemon(settings, venue=venue, notifier=RecordingNotifier(), serve_api=False)
    last = opens[FROM + PLAYED - 1]
    # `mt` (above) set the root logger up afresh, without pytest's handler: it listens to the trader's gate
    gate = logging.getLogger("mastertrade.engine.ml.serving_policy")
    gate.addHandler(caplog.handler)
    with caplog.at_level(logging.WARNING, logger=gate.name):
        ctx = await daemon.start()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60.0
            # the first bar plays once the trading service has read where the replay stands (a service
            # starting while bars stream by may find the replay past the bar it was told comes first)
            while ctx.find(Trader) is None:
                assert loop.time() < deadline, "timed out waiting for the trading service"
                await asyncio.sleep(0.005)
            playing.set()
            await standing.wait()
            deadline = loop.time() + 60.0

            async def evaluated() -> bool:
                trader = ctx.find(Trader)
                cursor = None if trader is None else await trader.bar_clock.cursor(added["id"])
                return cursor is not None and cursor.cursor == last

            while not await evaluated():  # every played bar evaluated (a bar's handling has no event)
                assert loop.time() < deadline, "timed out waiting for the bar clock"
                await asyncio.sleep(0.005)
            async with DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx))) as client:
                report = await client.strategy_parity(added["id"])
                orders = await client.orders(limit=500, book=report.book)
        finally:
            await daemon.stop()
            gate.removeHandler(caplog.handler)

    placed = sorted(o.placed_ts for o in orders if o.strategy_id == added["id"])
    # no order from a signal made before the policy's training ended (was: its first on the bar after 560)
    assert placed and placed[0] >= learnt_through, [iso_ms(ts) for ts in placed[:3]]
    assert len(placed) >= 4, "too few orders after its training's end to prove it trades then"
    # its paper book is still its backtest over the same bars: the same signals were left out of both
    assert report.identical and report.same >= 2, report.model_dump()
    said = [r.getMessage() for r in caplog.records if "would have seen the future" in r.getMessage()]
    # said once, at the first signal asked of it: the close of bar 561 (its book opened at 560's close)
    assert said == [
        f"strategy {added['id']}: policy {trained['model']} of sim:BTC/USDT:1h was not trained by"
        f" {iso_ms(opens[FROM + 2])}: it learnt from the bars to {trained['training']['end']}, and a signal"
        f" from it would have seen the future; it serves from that bar's close, {iso_ms(learnt_through)};"
        " until then its signals are left out (it does not trade)"
    ], caplog.text


def _replay_at(monkeypatch: pytest.MonkeyPatch, market_time: int) -> None:
    """This workspace replays sim BTC/USDT from ``market_time`` (no bar played yet: its market time)."""
    for name, value in {
        "MT_MARKET__VENUE": "replay",
        "MT_MARKET__REPLAY_EXCHANGE": "sim",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
        "MT_MARKET__REPLAY_START": iso_ms(market_time),
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("fixed_training")
def test_research_marks_the_bars_a_policy_learnt_from_and_adding_it_on_a_replay_says_when_it_trades(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Research is not trading: `mt backtest` runs a policy on the bars its training saw and says they are
    in-sample, `mt validate` starts after them; the last bar they count as seen is the one from whose
    close the daemon lets it trade. Stored to trade in a replay workspace whose market time is before
    then, the policy is said to wait for it (its paper book would otherwise look like one that never
    trades)."""
    opens, trained, _ = _sim_and_train(mt, paper=False)
    model, end = trained["model"], trained["training"]["end"]
    assert end == iso_ms(opens[599])
    backtest = mt("backtest", model)
    assert backtest.exit_code == 0, backtest.stderr
    assert f"600 of these 800 bars are ones its training saw (up to {end})" in " ".join(
        backtest.stderr.split()
    )
    assert mt.json("validate", model)["full"]["start"] == iso_ms(opens[600])
    other = mt.json(
        "rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64", "--seed", "1"
    )
    assert other["training"]["end"] == end and other["model"] != model

    _replay_at(monkeypatch, opens[FROM])
    added = mt("strategy", "add", model, "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
    assert added.exit_code == 0, added.stderr
    assert (
        f"mt: warning: policy {model} of sim:BTC/USDT:1h was not trained by {iso_ms(opens[FROM])}: it learnt"
        f" from the bars to {end}, and a signal from it would have seen the future; it serves from that"
        f" bar's close, {iso_ms(opens[600])}; until the replay reaches it, the daemon leaves its signals out"
        " (its book does not trade)"
    ) in " ".join(added.stderr.split()), added.stderr
    assert "stored" in added.stdout and ": paper;" in added.stdout

    # another policy trained on the same bars, stored once the market time has reached their end: it serves
    _replay_at(monkeypatch, opens[600])
    later = mt("strategy", "add", other["model"], "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper")
    assert later.exit_code == 0, later.stderr
    assert "was not trained by" not in later.stderr and ": paper;" in later.stdout


def test_a_policy_serves_from_the_close_of_the_last_bar_it_learnt_from(tmp_path: Any) -> None:
    """The rule forecasts follow (``serving.serves``), for a policy: everything it learnt from was known
    at the close of its training's last bar. The daemon's strategy gives no signal before (``keep``) and
    the policy's own signals from then on; research runs the policy itself, on any bar."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.ml.serving import served_bars, serves
    from mastertrade.engine.ml.serving_policy import ServingPolicy, serving_strategy
    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.model.actions import KEEP
    from mastertrade.engine.signals.model.artifact import Policy
    from mastertrade.engine.signals.model.features import FEATURES, raw_features, scaling
    from mastertrade.engine.signals.model.store import save
    from mastertrade.engine.signals.model.strategy import ModelStrategy
    from mastertrade.engine.signals.strategy import Strategy
    from tests.rl.test_model_trading import weights

    frame = simulate("BTC/USDT", "1h", 400, 3, end=ENDED)
    opens = frame.index.as_unit("ms").asi8
    mean, std = scaling(raw_features(IndicatorCache(frame))[:300])
    policy = Policy(FEATURES, tuple(map(float, mean)), tuple(map(float, std)), weights(0))
    stored = save(
        policy,
        exchange="sim",
        symbol="BTC/USDT",
        timeframe="1h",
        train_start=int(opens[0]),
        train_end=int(opens[299]),
        training={"start": iso_ms(int(opens[0])), "end": iso_ms(int(opens[299]))},
        evaluation={},
        store=ArtifactStore(tmp_path / "models"),
    )
    served = int(opens[300])  # the close of bar 299
    assert serves(stored.artifact, served) and serves(stored.artifact, None)
    assert not serves(stored.artifact, served - 1)
    assert served_bars(stored.artifact, opens + HOUR).tolist() == [False] * 299 + [True] * 101

    research = ModelStrategy(stored).actions(IndicatorCache(frame))
    assert (research[:299] != KEEP).any()  # on the bars it learnt from it acts: in-sample, and said so
    traded = ServingPolicy(stored, "s1").actions(IndicatorCache(frame))
    assert (traded[:299] == KEEP).all() and traded[299:].tolist() == research[299:].tolist()
    # the daemon's strategies: a stored policy through the gate, anything else as it is
    strategy = Strategy.from_model(stored.model, ModelStrategy(stored), "BTC/USDT", "1h")
    assert isinstance(serving_strategy(strategy, "s1").plugin, ServingPolicy)
    unsaved = Strategy.from_model("ppo", ModelStrategy(policy), "BTC/USDT", "1h")
    assert serving_strategy(unsaved, "s1") is unsaved
