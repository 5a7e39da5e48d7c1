"""A trained policy takes the genomes' path: `mt rl train` counts and records it in the series' trial
registry, `mt strategy add model:<id> --paper` stores it with its hold-out validation, the daemon's
trader evaluates it bar by bar from the store (paper, then active), and the parity monitor finds its
paper book identical to its backtest.

PPO itself (skrl on JAX) is trained in ``test_ppo.py``; here its training step is replaced by fixed
weights (JAX's start-up and compilation take a minute on a busy machine), so everything after it (the
hold-out validation, the registry, the artifact, the store, the trader, the parity report) runs for
real and in a few seconds.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest

from mastertrade.engine.signals.model.features import FEATURES
from mastertrade.engine.signals.model.policy import PolicyWeights
from tests.conftest import MT

HOUR = 3_600_000
PAPER, ACTIVE = 80, 50  # bars on paper, then active


def weights(seed: int) -> PolicyWeights:
    rng = np.random.default_rng(seed)
    sizes = (len(FEATURES), 8, 3)
    return PolicyWeights.from_lists(
        [
            {"kernel": rng.normal(0.0, 1.0, (a, b)), "bias": rng.normal(0.0, 0.1, b)}
            for a, b in zip(sizes, sizes[1:], strict=False)
        ]
    )


@pytest.fixture
def fixed_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mt rl train` with PPO's weights replaced by fixed ones of the training seed."""

    def train_ppo(env: Any, settings: Any, progress: Any = None) -> PolicyWeights:
        assert env.end < len(env.closes)  # the hold-out is never stepped through
        if progress is not None:
            progress(settings.steps, settings.steps)
        return weights(settings.seed)

    monkeypatch.setattr("mastertrade.engine.rl.train.train_ppo", train_ppo)


def _sim(mt: MT, symbol: str = "BTC/USDT", bars: int = 800) -> None:
    result = mt("data", "sim", symbol, "--timeframe", "1h", "--bars", str(bars), "--seed", "3")
    assert result.exit_code == 0, result.stderr


@pytest.mark.usefixtures("fixed_training")
def test_the_deflated_sharpe_counts_the_series_trial_registry_and_records_the_policy(
    mt: MT, db_url: str
) -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.deflated import deflated_sharpe
    from mastertrade.engine.generator.trials import Tally, TrialRegistry
    from mastertrade.engine.market.store import SeriesKey

    _sim(mt)
    _sim(mt, "ETH/USDT")
    btc, eth = SeriesKey("sim", "BTC/USDT", "1h"), SeriesKey("sim", "ETH/USDT", "1h")
    genomes = Tally.of(40, np.random.default_rng(0).normal(0.0, 0.05, 40))

    async def registry(action: Any) -> Any:
        db = await Database.open(load_settings())
        try:
            return await action(TrialRegistry(db))
        finally:
            await db.close()

    async def record_genomes(trials: TrialRegistry) -> None:
        # a generation run on BTC scored 40 genomes (as `mt generate` records them); one on ETH, 7
        await trials.record(btc, 0, 2**62, genomes, source="generate")
        await trials.record(eth, 0, 2**62, Tally.of(7, [0.1] * 7), source="generate")

    asyncio.run(registry(record_genomes))
    first = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    hold = first["holdout"]
    assert hold["trials"] == 41, hold["deflated_trials"]  # the 40 genomes and this policy; not ETH's
    # N and V are the shared registry's: the pooled tally's deflation, the same call the genomes make
    searched = first["in_sample"]["daily_mean"] / first["in_sample"]["daily_std"]
    pooled = genomes + Tally.of(1, [searched])
    used = pooled.deflation(hold["days"])
    assert hold["deflated_trials"]["trials_used"] == used.trials == 41
    assert hold["deflated_trials"]["variance_used"] == pytest.approx(used.variance, rel=1e-12)
    expected = deflated_sharpe(
        hold["daily_sharpe"],
        hold["days"],
        hold["daily_skew"],
        hold["daily_kurtosis"],
        trials=used.trials,
        variance=used.variance,
    )
    assert hold["deflated_sharpe"] == pytest.approx(expected, rel=1e-12)

    # the policy is recorded as one trial: the next training (another seed) counts it
    second = mt.json(
        "rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64", "--seed", "1"
    )
    assert second["holdout"]["trials"] == 42 and second["model"] != first["model"]

    # the same weights again (same seed, same bars) are the same candidate: counted, not added again
    repeat = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    assert repeat["model"] == first["model"] and repeat["holdout"]["trials"] == 42

    async def tallies(trials: TrialRegistry) -> tuple[Tally, Tally]:
        return await trials.tally(btc, 0, 2**62), await trials.tally(eth, 0, 2**62)

    after_btc, after_eth = asyncio.run(registry(tallies))
    assert (after_btc.trials, after_btc.batches) == (42, 3) and after_eth.trials == 7

    # stored as a strategy (without --paper: passed, or chosen by the trader), its validation said
    added = mt("strategy", "add", second["model"], "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert added.exit_code == 0, added.stderr
    assert "over 42 trials" in added.stdout and "passed" in added.stdout

    # both policies are stored as model artifacts, in the one format the forecasts use
    listed = mt.json("rl", "list")
    assert {row["model"] for row in listed} == {first["model"], second["model"]}
    models = mt.json("ml", "list")
    assert {row["kind"] for row in models["models"]} == {"policy"} and not models["unreadable"]


async def _evaluated(trader: Any, strategy_id: str, bars: int) -> bool:
    cursor = await trader.bar_clock.cursor(strategy_id)
    return cursor is not None and cursor.cursor - cursor.start >= bars * HOUR


@pytest.mark.usefixtures("fixed_training")
async def test_a_policy_added_on_paper_trades_bar_by_bar_and_its_paper_book_equals_its_backtest(
    mt: MT, db_url: str
) -> None:
    import httpx

    from mastertrade.engine.candle import Candle
    from mastertrade.engine.daemon import Daemon
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.venue import CandleUpdate
    from mastertrade.utc import iso_ms
    from tests.daemon.fakes import FakeVenue, RecordingNotifier
    from tests.trading.conftest import T0, trading_settings

    # trained on bars that closed before the ones the daemon trades it on: a policy trades no bar closing
    # before its training's end (``ml.serving``), and these bars are pushed from T0 on
    end = iso_ms(T0)
    sim = ("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "800", "--seed", "3", "--end", end)
    assert (await asyncio.to_thread(mt, *sim)).exit_code == 0
    trained = await asyncio.to_thread(
        mt.json, "rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64"
    )
    model = trained["model"]

    # another market than the one it was validated on: one line, exit 2, nothing stored
    other = await asyncio.to_thread(mt, "strategy", "add", model, "--symbol", "ETH/USDT", "--timeframe", "1h")
    assert other.exit_code == 2 and "trained and validated on BTC/USDT 1h" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1

    added = await asyncio.to_thread(
        mt.json, "strategy", "add", model, "--symbol", "BTC/USDT", "--timeframe", "1h", "--paper"
    )
    assert added["state"] == "paper" and added["name"] == model
    assert added["report"]["kind"] == "backtest"  # the plain backtest, for reference
    validation = added["validation"]  # the hold-out validation `mt rl train` ran, as a genome's
    assert validation["holdout"]["start"] == trained["holdout"]["start"]
    assert validation["deflated_sharpe"] == trained["holdout"]["deflated_sharpe"]
    shown = await asyncio.to_thread(mt.json, "strategy", "show", added["id"])
    assert shown["out_of_sample"]["return_pct"] == trained["holdout"]["return_pct"]
    assert shown["deflated_sharpe"] == trained["holdout"]["deflated_sharpe"]
    assert shown["selection"]["holdout"]["bars"] == trained["holdout"]["bars"]
    assert "trained by `mt rl train`" in json.dumps(shown)

    # the daemon's trader reads it from the store and evaluates it on every closed bar
    settings = trading_settings(market={"symbols": ["BTC/USDT"], "timeframe": "1h"})
    venue = FakeVenue()
    daemon = Daemon(settings, venue=venue, notifier=RecordingNotifier(), serve_api=False)
    ctx = await daemon.start()
    try:
        from mastertrade.client import DaemonClient
        from mastertrade.engine.api.app import create_app
        from mastertrade.engine.execution.trader import Trader

        frame = simulate("BTC/USDT", "1h", PAPER + ACTIVE, 11, end=T0 + (PAPER + ACTIVE) * HOUR)
        rows = list(frame.itertuples(index=False))
        client = DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx)))

        async def push(i: int) -> None:
            row = rows[i]
            ts = T0 + i * HOUR
            venue.push(
                CandleUpdate("BTC/USDT", "1h", Candle(ts, row.open, row.high, row.low, row.close, 10.0), True)
            )

        async def until(condition: Any, what: str) -> None:
            for _ in range(2000):
                if await condition():
                    return
                await asyncio.sleep(0.005)
            raise AssertionError(f"timed out waiting for {what}")

        async def started() -> bool:
            return ctx.find(Trader) is not None

        await until(started, "the trading service")
        trader: Trader = ctx.get(Trader)
        async with client:
            for i in range(PAPER):
                await push(i)
            await until(lambda: _evaluated(trader, added["id"], PAPER - 1), "the paper bars")
            moved = await client.change_strategy(added["id"], "activate", reason="test: paper held up")
            assert moved.state == "active"
            for i in range(PAPER, PAPER + ACTIVE):
                await push(i)
            await until(lambda: _evaluated(trader, added["id"], PAPER + ACTIVE - 1), "the active bars")
            report = await client.strategy_parity(added["id"])
            assert report.identical, report.model_dump()
            assert report.same >= 5, "too few trades to prove anything"
            detail = await client.strategy(added["id"])  # what `mt strategy show` and the TUI read
            assert detail.state == "active" and "PPO policy" in detail.description
            statuses = trader.parity.statuses
            assert statuses[added["id"]].identical and not statuses[added["id"]].diverged
            assert trader.bar_clock.evaluated >= PAPER + ACTIVE - 1
            # once active it trades the account too (sized and risk-checked), beside its own book
            orders = await client.orders(limit=500)
            account = [o for o in orders if o.strategy_id == added["id"] and o.book != report.book]
            assert account and all(o.placed_ts >= T0 + PAPER * HOUR for o in account), account
    finally:
        await daemon.stop()


@pytest.mark.usefixtures("fixed_training")
def test_the_summary_says_in_words_how_the_policy_did_against_flat_and_buy_and_hold(mt: MT) -> None:
    from mastertrade.engine.ml.evaluation import versus_naive

    _sim(mt)
    doc = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64", "--seed", "5")
    hold = doc["holdout"]
    said = versus_naive("the policy", hold["return_pct"], hold["buy_hold_return_pct"])
    assert "staying flat" in said and ("loses to" in said) == (
        hold["return_pct"] < 0 or not hold["beats_buy_hold"]
    )
    shown = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64", "--seed", "5")
    assert shown.exit_code == 0, shown.stderr
    assert said + "\n" in shown.stdout
    # what was trained on which bars is part of the answer, beside its table (was: on stderr only)
    assert shown.stdout.startswith(f"trained {doc['model']} on sim:BTC/USDT:1h (SIMULATED), ")
    assert shown.stderr == ""


@pytest.mark.usefixtures("fixed_training")
def test_validate_reports_a_policy_on_bars_its_training_never_saw(mt: MT) -> None:
    _sim(mt, bars=1000)
    trained = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    spec = trained["model"] if str(trained["model"]).startswith("model:") else f"model:{trained['model']}"
    report = mt.json("validate", spec)
    origin = report["provenance"]
    assert origin["seen_by"] == "training" and origin["seen_bars"] == 0
    assert report["full"]["start"] > origin["searched_until"]
    assert not any(window["seen_by_search"] for window in report["walk_forward"])

    whole = mt.json("validate", spec, "--start", "2000-01-01")
    assert whole["provenance"]["seen_bars"] > 0 and whole["full"]["bars"] == 1000
    assert "are bars its training saw, so figures over them are not out-of-sample" in whole["verdict"]


@pytest.mark.usefixtures("fixed_training")
def test_validate_counts_the_trials_a_policys_hold_out_counted(mt: MT, db_url: str) -> None:
    """A policy trained after a search of its series was judged among every candidate scored there; its
    `mt validate` counts those trials too (it counted one, as if it were the only thing ever tried)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.trials import Tally, TrialRegistry
    from mastertrade.engine.market.store import SeriesKey

    _sim(mt, bars=1000)

    async def record_genomes() -> None:
        db = await Database.open(load_settings())
        try:
            genomes = Tally.of(40, np.random.default_rng(0).normal(0.0, 0.05, 40))
            btc = SeriesKey("sim", "BTC/USDT", "1h")
            await TrialRegistry(db).record(btc, 0, 2**62, genomes, source="generate")
        finally:
            await db.close()

    asyncio.run(record_genomes())
    trained = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    counted = trained["holdout"]["deflated_trials"]["trials_used"]
    assert counted == 41
    report = mt.json("validate", trained["model"])
    assert report["deflated"]["trials"] == counted  # before: 1
    assert report["deflated"]["trials_source"] == "recorded"
    assert report["provenance"]["trials_recorded"] == counted
    shown = mt("validate", trained["model"])
    assert shown.exit_code == 0, shown.stderr
    assert "for 41 trials (what its hold-out counted on this series when it was trained)" in shown.stdout
    # a declared count still wins
    assert mt.json("validate", trained["model"], "--trials", "3")["deflated"]["trials"] == 3


@pytest.mark.usefixtures("fixed_training")
def test_stored_bars_older_than_the_lookback_are_said_to_be_left_out(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `mt rl train` on 1,000 stored bars with [rl] lookback_bars = 600 trained on the newest 600
    without a word about the 400 it left out (a generation run and a tuning say it)."""
    _sim(mt, bars=1000)
    monkeypatch.setenv("MT_RL__LOOKBACK_BARS", "600")
    doc = mt.json("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    assert doc["data"] == {"stored_bars": 1000, "lookback_bars": 600, "trimmed_bars": 400}
    assert doc["training"]["bars"] + doc["holdout"]["bars"] == 600
    shown = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    assert shown.exit_code == 0, shown.stderr
    assert (
        "BTC/USDT 1h: trained and held out the newest 600 of 1,000 stored bars ([rl] lookback_bars = 600);"
        " the older 400 bars were left out\n"
    ) in shown.stderr
    monkeypatch.setenv("MT_RL__LOOKBACK_BARS", "5000")
    whole = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    assert whole.exit_code == 0 and "left out" not in whole.stderr
