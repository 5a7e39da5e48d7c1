"""`mt ml` end to end on simulated candles (LightGBM: fast), the forecast as a genome term, and the
behaviour without the [ml] extra."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from tests.conftest import MT

TRAIN = (
    "--symbol",
    "BTC/USDT",
    "--timeframe",
    "1h",
    "--train-bars",
    "150",
    "--retrain-every",
    "80",
    "--window",
    "8",
)


@pytest.fixture
def trained(mt: MT) -> dict[str, Any]:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    return mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "1")  # type: ignore[no-any-return]


def test_train_evaluate_list_predict(mt: MT, trained: dict[str, Any]) -> None:
    assert trained["model"] == "lightgbm" and trained["retrains"] >= 2
    assert trained["feature"] == {"feature": "forecast", "model": "lightgbm", "horizon": 1}
    artifact = trained["artifact"]
    assert len(artifact["version"]) == 16 and artifact["libraries"]["lightgbm"]
    assert artifact["features"][:2] == ["ret_1", "ret_4"]
    evaluation = trained["evaluation"]
    assert evaluation["bars"] > 0 and set(evaluation) >= {"error_ratio_zero", "error_ratio_last", "verdict"}
    assert ("loses to" in evaluation["verdict"]) == (
        evaluation["error_ratio_zero"] >= 1 or evaluation["error_ratio_last"] >= 1
    )

    report = mt.json("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["bars"] == evaluation["bars"]
    assert report["model"] == evaluation["model"]
    assert report["backtest"]["genome"]["entry"] == {">": [{**trained["feature"], "symbol": ""}, 0.0]}
    assert "buy-and-hold" in report["backtest"]["verdict"]

    listed = mt.json("ml", "list")
    assert [m["version"] for m in listed["models"]] == [artifact["version"]]

    first = mt.json("ml", "predict", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert first["version"] == artifact["version"] and isinstance(first["forecast"], float)
    # The walk-forward already stored the newest bar's forecast: predict does not revise it.
    assert first["already_stored"] and not first["stored"]


def test_same_seed_same_stored_model(mt: MT, trained: dict[str, Any]) -> None:
    again = mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "1")
    assert again["artifact"]["version"] == trained["artifact"]["version"]
    other = mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "2")
    assert other["artifact"]["version"] != trained["artifact"]["version"]


def test_options_not_given_come_from_the_ml_section(
    mt: MT, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"TRAIN_BARS": "150", "RETRAIN_EVERY": "80", "WINDOW": "8", "SEED": "1"}.items():
        monkeypatch.setenv(f"MT_ML__{name}", value)
    configured = mt.json("ml", "train", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert configured["artifact"]["version"] == trained["artifact"]["version"]
    assert configured["retrains"] == trained["retrains"]


async def test_forecast_term_reads_the_series_without_lookahead(
    database: Any, trained: dict[str, Any]
) -> None:
    import pandas as pd

    from mastertrade.engine.collectors.provider import features_for
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.signals.forecast_term import series_name
    from mastertrade.engine.signals.genome import parse_genome

    genome = parse_genome(
        {
            "name": "f",
            "symbol": "BTC/USDT",
            "timeframe": "1h",
            "entry": {">": [{"feature": "forecast", "model": "lightgbm", "horizon": 1}, 0]},
            "exit": {"<": [{"feature": "forecast", "model": "lightgbm"}, 0]},
        }
    )
    key = await CandleStore(database).resolve("BTC/USDT", "1h")
    frame = await CandleStore(database).read(key)
    provider = await features_for(database, [genome], timeframe="1h", simulated=True, exchange="sim")
    assert provider is not None
    seen = np.asarray(provider("forecast", {"model": "lightgbm", "horizon": 1, "symbol": ""}, frame)["value"])
    stored = await FeatureStore(database).read("ml_sim", series_name("lightgbm", 1, "1h", "sim"), "BTC/USDT")
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    first = int(np.searchsorted(opens, stored.ts[0]))
    # Made at the close of bar `first` (published when bar first + 1 opens): first read by bar first + 2.
    assert np.isnan(seen[: first + 2]).all()
    assert seen[first + 2] == stored.values[0]
    assert seen[-1] == stored.values[-3]  # the last bar reads the forecast made two bars earlier


def test_bad_input_is_one_line_exit_2(mt: MT) -> None:
    result = mt("ml", "train", "prophet", "--symbol", "BTC/USDT")
    assert result.exit_code == 2 and "unknown model 'prophet'" in result.stderr
    result = mt("ml", "train", "lightgbm", "--horizon", "0")
    assert result.exit_code == 2 and "'--horizon'" in result.stderr and "(got 0)" in result.stderr
    result = mt("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2 and result.stderr.startswith("mt: error: ")


def test_too_few_training_samples_are_refused_before_training() -> None:
    """Was: `mt ml train lightgbm --max-train 1` ended in LightGBM's traceback ("Check failed:
    (num_data) > (0)"): its bagging drew no row of one sample. --max-train is bounded like --train-bars."""
    from mastertrade.engine.ml.trainer import TrainRequest
    from mastertrade.errors import UserInputError

    with pytest.raises(UserInputError, match="--max-train 1: must be at least 20"):
        TrainRequest("lightgbm", "BTC/USDT", "1h", max_train=1).check()
    TrainRequest("lightgbm", "BTC/USDT", "1h", max_train=20).check()


def test_max_train_below_20_is_named_on_the_command_line(mt: MT) -> None:
    result = mt("ml", "train", "lightgbm", "--symbol", "BTC/USDT", "--max-train", "1", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "'--max-train'" in result.stderr and "(got 1)" in result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1


def test_absurd_epochs_are_named_instead_of_training_for_ever(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was: `--epochs 100000000` started an LSTM training that no Ctrl-C ended (the fit ran on)."""
    result = mt("ml", "train", "lstm_transformer", "--symbol", "BTC/USDT", "--epochs", "100000000")
    assert result.exit_code == 2 and result.stdout == ""
    assert "'--epochs'" in result.stderr and "(got 100000000)" in result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
    monkeypatch.setenv("MT_ML__EPOCHS", "100000000")
    result = mt("ml", "train", "lstm_transformer", "--symbol", "BTC/USDT")
    assert result.exit_code == 2 and "MT_ML__EPOCHS" in result.stderr and "100000000" in result.stderr


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (("ml", "train", "lightgbm"), "lightgbm"),
        (("ml", "train", "lstm_transformer"), "keras"),
        (("ml", "predict", "lightgbm"), "lightgbm"),
        (("ml", "evaluate", "lstm_transformer"), "jax"),
    ],
)
def test_without_the_extra_every_command_says_how_to_install(
    mt: MT, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], missing: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` now raises ImportError
    result = mt(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("mt: error: machine learning needs the [ml] extra")
    assert "pip install 'mastertrade[ml]'" in result.stderr
    assert result.stdout == ""


def test_a_threshold_that_is_not_a_number_is_named(mt: MT) -> None:
    for bad in ("nan", "inf"):
        result = mt(
            "ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--threshold", bad
        )
        assert result.exit_code == 2
        assert result.stderr == f"mt: error: --threshold {bad}: must be a finite number >= 0\n"


@pytest.mark.parametrize(
    ("ret", "hold", "said"),
    [
        (-16.8, -18.6, "beats buy-and-hold but loses to staying flat"),
        (3.0, 5.0, "loses to buy-and-hold but beats staying flat"),
        (-2.0, 1.0, "loses to buy-and-hold and staying flat"),
        (0.0, -1.0, "beats buy-and-hold but ties with staying flat"),
    ],
)
def test_a_strategy_that_loses_money_is_never_only_said_to_beat_buy_and_hold(
    ret: float, hold: float, said: str
) -> None:
    from mastertrade.engine.ml.evaluation import versus_naive

    assert (
        versus_naive("the threshold strategy", ret, hold) == f"the threshold strategy {said} on the hold-out"
    )


def test_evaluate_compares_the_threshold_strategy_with_staying_flat(mt: MT, trained: dict[str, Any]) -> None:
    from mastertrade.engine.ml.evaluation import versus_naive

    report = mt.json("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")
    backtest = report["backtest"]
    assert "staying flat" in backtest["verdict"]
    assert backtest["verdict"] == versus_naive(
        "the threshold strategy", backtest["metrics"]["return_pct"], backtest["buy_and_hold_return_pct"]
    )


def test_the_answers_and_verdicts_are_on_stdout(mt: MT, trained: dict[str, Any]) -> None:
    """Was: `mt ml train`'s summary and verdict, `mt ml evaluate`'s verdicts and `mt ml predict`'s
    forecast went to stderr with the progress bar: `mt ml predict ... > f` wrote an empty file, and a
    report saved from `mt ml evaluate` left out that the model loses to the baselines."""
    market = ("--symbol", "BTC/USDT", "--timeframe", "1h")
    text = mt("ml", "train", "lightgbm", *TRAIN, "--seed", "1")
    assert text.exit_code == 0 and text.stderr == ""
    version = trained["artifact"]["version"]
    assert f"{trained['forecasts']} walk-forward forecasts" in text.stdout and version in text.stdout
    assert f"the model {trained['evaluation']['verdict']}" in text.stdout
    assert "replaced the stored lightgbm forecasts" in text.stdout

    report = mt.json("ml", "evaluate", "lightgbm", *market)
    text = mt("ml", "evaluate", "lightgbm", *market)
    assert text.exit_code == 0 and text.stderr == ""
    assert f"the model {report['verdict']}" in text.stdout
    assert report["backtest"]["verdict"] in text.stdout

    forecast = mt.json("ml", "predict", "lightgbm", *market, "--no-publish")
    text = mt("ml", "predict", "lightgbm", *market, "--no-publish")
    assert text.exit_code == 0 and text.stderr == ""
    assert f"{version} on sim:BTC/USDT:1h" in text.stdout and f"{forecast['forecast']:+.5f}" in text.stdout


def test_the_hold_out_is_dated_and_said_to_be_forecast_by_earlier_models(
    mt: MT, trained: dict[str, Any]
) -> None:
    """Was: "model V trained on A .. B" then "hold-out: 54 bars", with the hold-out's bars inside A .. B
    and nowhere dated: the verdict read as the stored model's, scored on bars it had learnt from."""
    evaluation = trained["evaluation"]
    start, end = evaluation["start"], evaluation["end"]
    assert trained["first_forecast"] < start <= end <= trained["last_forecast"]
    assert (
        mt.json("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h")["start"] == start
    )
    text = mt("ml", "train", "lightgbm", *TRAIN, "--seed", "1")
    said = f"hold-out: {evaluation['bars']} bars, {start} .. {end}, each forecast made by a model trained"
    assert said in text.stdout


def test_a_feature_with_no_stored_value_or_given_twice_is_refused(mt: MT) -> None:
    from mastertrade.locations import locations

    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    # social_sentiment comes from a keyed plugin: nothing is stored for it here
    result = mt("ml", "train", "lightgbm", *TRAIN, "--feature", "social_sentiment")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "mt: error: --feature social_sentiment: no stored values for the bars of "
    )
    result = mt("ml", "train", "lightgbm", *TRAIN, "--feature", "fear_greed", "--feature", "fear_greed")
    assert (
        result.exit_code == 2 and result.stderr == "mt: error: --feature fear_greed: given more than once\n"
    )
    assert not (locations().data_dir / "models").exists()  # nothing half-written


def test_predict_refuses_a_newest_model_changed_on_disk_instead_of_an_older_one(
    mt: MT, trained: dict[str, Any]
) -> None:
    from pathlib import Path

    newest = mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "2")["artifact"]
    with (Path(newest["path"]) / "scaler_mean.npy").open("ab") as handle:
        handle.write(b"x")
    result = mt("ml", "predict", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--no-publish")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"mt: error: {newest['path']}: files do not match")
    assert "it is the newest lightgbm model of sim:BTC/USDT:1h (horizon 1)" in result.stderr

    missing = mt("ml", "predict", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--horizon", "3")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("mt: error: no trained lightgbm model of sim:BTC/USDT:1h with horizon 3")


def test_one_trade_of_the_threshold_strategy_is_one_trade(mt: MT, trained: dict[str, Any]) -> None:
    """Was: "threshold strategy on the hold-out: return 0.79%, 1 trades, ..."."""
    market = ("--symbol", "BTC/USDT", "--timeframe", "1h")
    # the threshold that leaves one trade depends on the forecasts: the first of these that does
    for threshold in ("0.003", "0.004", "0.0025", "0.005", "0.002", "0.006", "0.0015", "0.008", "0.001"):
        report = mt.json("ml", "evaluate", "lightgbm", *market, "--threshold", threshold)
        if report["backtest"]["metrics"]["trades"] == 1:
            break
    else:
        pytest.fail("no threshold left the threshold strategy one trade")
    text = mt("ml", "evaluate", "lightgbm", *market, "--threshold", threshold)
    assert text.exit_code == 0, text.output
    assert f"return {report['backtest']['metrics']['return_pct']:.2f}%, 1 trade, buy-and-hold" in text.stdout


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (("--symbol", ""), "invalid symbol '': expected BASE/QUOTE"),
        (("--symbol", " "), "invalid symbol ' ': expected BASE/QUOTE"),
        (("--timeframe", ""), "invalid timeframe '': expected a number and a unit"),
    ],
)
def test_an_empty_market_option_is_refused_not_read_as_the_default(
    mt: MT, trained: dict[str, Any], option: tuple[str, str], said: str
) -> None:
    """Before: `--symbol ''` trained, evaluated and forecast the first of [market] symbols without a
    word (the `mt ml` commands read an empty value as "not given")."""
    from mastertrade.artifacts import ArtifactStore

    before = [a.version for a in ArtifactStore.default().list()]
    for command in (("train", "lightgbm", "--train-bars", "150", "--window", "8"), ("evaluate", "lightgbm")):
        result = mt("ml", *command, *option)
        assert result.exit_code == 2, result.stdout
        assert result.stderr == f"mt: error: {said}" + result.stderr.split(said, 1)[1]
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    predicted = mt("ml", "predict", "lightgbm", *option, "--no-publish")
    assert predicted.exit_code == 2 and said in predicted.stderr
    assert [a.version for a in ArtifactStore.default().list()] == before  # nothing trained
