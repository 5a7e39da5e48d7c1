"""A strategy that reads a series nothing was stored for (a forecast never trained) says so: it used to
backtest as "entry rule never fired" and leave the reader to guess why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WARNING = "mt: warning: no stored values of forecast:lightgbm:h2:1d@sim of BTC/USDT"


def test_backtest_and_validate_name_a_forecast_never_trained(mt: Any, tmp_path: Path) -> None:
    assert mt("data", "sim", "BTC/USDT", "--timeframe", "1d", "--bars", "300", "--seed", "3").exit_code == 0
    genome = tmp_path / "reads-forecast.json"
    entry = {">": [{"feature": "forecast", "model": "lightgbm", "horizon": 2}, 0]}
    genome.write_text(json.dumps({"entry": entry, "stop_loss": 0.05}))
    series = ("--symbol", "BTC/USDT", "--timeframe", "1d")
    backtest = mt("backtest", str(genome), *series)
    assert backtest.exit_code == 0, backtest.output
    assert WARNING in backtest.stderr and "never fires" in backtest.stderr
    validate = mt("validate", str(genome), *series, "--json")
    assert validate.exit_code == 0, validate.output
    assert WARNING in validate.stderr
    assert json.loads(validate.stdout)["missing_features"] == ["forecast:lightgbm:h2:1d@sim of BTC/USDT"]
    # a strategy that reads only stored series (the simulated sentiment `mt data sim` writes) is quiet
    other = tmp_path / "reads-sentiment.json"
    other.write_text(json.dumps({"entry": {">": [{"feature": "sentiment"}, 0]}, "stop_loss": 0.05}))
    quiet = mt("backtest", str(other), *series)
    assert quiet.exit_code == 0, quiet.output
    assert "no stored values" not in quiet.stderr
