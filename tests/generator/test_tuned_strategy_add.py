"""`mt optimize --out best.json`, then `mt strategy add best.json`: the stored strategy keeps the record of
its tuning.

The file records its tuning (series, search window, hold-out, N and V, the deflated Sharpe ratio) and `mt
validate best.json` reads it, but `mt strategy add` stored the genome alone: `mt validate ID` then said
"deflated Sharpe 0.839 for 1 trial (assumed ...)" over every bar, the tuned ones presented as
out-of-sample, where `mt validate best.json` and `mt optimize` said 0.486 for 30 trials over the hold-out;
`mt backtest ID` gave no in-sample warning and `mt strategy show ID` said "no search and no hold-out".
Now the record is stored as the strategy's selection and read back as the file's is; `mt strategy export
ID` writes it back. A file without the record is stored as before; a broken record is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import MT

SIM = ("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "3000", "--seed", "5")
END = ("--end", "2026-06-01T00:00Z")
SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def _said(result: Result) -> str:
    """stderr with its lines joined (rich wraps long lines)."""
    return " ".join(result.stderr.split())


def _judged(report: dict[str, Any]) -> tuple[Any, ...]:
    """What `mt validate --json` judged with, and over which bars."""
    deflated = report["deflated"]
    return (
        report["full"]["start"],
        report["full"]["end"],
        deflated["trials"],
        deflated["trials_source"],
        deflated["trial_variance"],
        deflated["deflated_sharpe"],
        report["provenance"]["seen_by"],
        report["provenance"]["seen_bars"],
        report["registry_trials"],
    )


def test_a_strategy_added_from_a_tuned_file_is_judged_as_the_file(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM, *END).exit_code == 0
    best = tmp_path / "best.json"
    tuned = mt.json("optimize", "sma_cross", *SERIES, "--trials", "30", "--out", str(best))
    record = json.loads(best.read_text(encoding="utf-8"))["selection"]
    assert tuned["deflated_sharpe"] is not None and tuned["deflated_trials"]["variance_source"] == "observed"
    from_file = mt.json("validate", str(best))

    added = mt("strategy", "add", str(best), *SERIES)
    assert added.exit_code == 0, added.stderr
    [strategy_id] = [row["id"] for row in mt.json("strategy", "list")]

    checked = mt("validate", strategy_id, "--json")
    assert checked.exit_code == 0, checked.stderr
    assert "mt: warning" not in checked.stderr
    stored = json.loads(checked.stdout)
    assert _judged(stored) == _judged(from_file)
    assert stored["full"]["start"] == tuned["holdout"]["start"]  # the bars the tuning never searched
    assert stored["deflated"]["trials"] == 30 and stored["deflated"]["trials_source"] == "recorded"
    assert stored["deflated"]["deflated_sharpe"] == pytest.approx(tuned["deflated_sharpe"], rel=1e-9)
    table = " ".join(mt("validate", strategy_id).stdout.split())
    assert f"deflated Sharpe {tuned['deflated_sharpe']:.3f} for 30 trials (what its tuning counted" in table
    assert "tuned genome (mt optimize): its tuning saw the bars to" in table
    assert f"`mt validate {strategy_id}` reports on the bars after its search window" in added.stdout

    # the bars the tuning searched are marked and warned of, as for the file
    searched = tuned["search_window"]
    warning = f"mt: warning: {searched['bars']:,} of these 3,000 bars are ones its tuning chose it on"
    early = mt("validate", strategy_id, "--start", searched["start"], "--json")
    assert early.exit_code == 0, early.stderr
    assert json.loads(early.stdout)["provenance"]["seen_bars"] == searched["bars"]
    assert warning in _said(early)
    whole = mt("backtest", strategy_id, "--json")
    assert whole.exit_code == 0 and warning in _said(whole)

    shown = mt.json("strategy", "show", strategy_id)
    assert shown["selection"] == record
    assert shown["deflated_sharpe"] == pytest.approx(tuned["deflated_sharpe"], rel=1e-9)
    assert [row["deflated_trials"] for row in mt.json("strategy", "list")] == [30]
    text = " ".join(mt("strategy", "show", strategy_id).stdout.split())
    assert "tuned by `mt optimize` on sim:BTC/USDT:1h: its trials were scored on the search window" in text
    assert f"{searched['start']} .. {searched['end']} ({searched['bars']:,} bars)" in text
    assert (
        f"its tuning's deflated Sharpe {tuned['deflated_sharpe']:.3f} of the hold-out Sharpe, with N = 30"
        f" trials" in text
    )
    assert f"V = {tuned['deflated_trials']['variance_used']:.5f} per day (observed)" in text
    assert "no search and no hold-out" not in text

    # exported, it is the file it was added from, and validated as that file
    again = tmp_path / "again.json"
    assert mt("strategy", "export", strategy_id, "--out", str(again)).exit_code == 0
    assert json.loads(again.read_text(encoding="utf-8"))["selection"] == record
    assert _judged(mt.json("validate", str(again))) == _judged(from_file)


def _genome_with(
    mt: MT, tmp_path: Path, selection: dict[str, Any] | None, builtin: str = "sma_cross"
) -> Path:
    """A genome file (a built-in's) with ``selection`` as its record of a tuning (none when None)."""
    genome = json.loads(mt("strategy", "show", builtin, "--json").stdout)
    path = tmp_path / f"{builtin}.json"
    document = genome if selection is None else {**genome, "selection": selection}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


RECORD: dict[str, Any] = {
    "by": "mt optimize",
    "exchange": "sim",
    "symbol": "BTC/USDT",
    "timeframe": "1h",
    "search_window": {"start": "2026-04-12T00:00:00Z", "end": "2026-05-06T23:00:00Z", "bars": 600},
    "holdout": {"start": "2026-05-07T00:00:00Z", "end": "2026-05-31T23:00:00Z", "bars": 600},
    "deflated_trials": {
        "trials": 12,
        "trials_used": 12,
        "variance_used": 0.004,
        "variance_source": "observed",
    },
    "deflated_sharpe": 0.25,
}
"""A record as `mt optimize --out` writes it, of a tuning on 1,200 simulated bars ending at END."""


def test_a_file_without_a_record_is_stored_as_before_and_a_broken_record_is_refused(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    assert mt(*SIM[:5], "--bars", "1200", "--seed", "5", *END).exit_code == 0
    plain = mt.json("strategy", "add", str(_genome_with(mt, tmp_path, None)), *SERIES)
    assert "selection" not in plain
    checked = mt.json("validate", plain["id"])
    assert checked["deflated"]["trials"] == 1 and checked["deflated"]["trials_source"] == "default"
    assert "provenance" not in checked and checked["full"]["bars"] == 1200
    shown = mt.json("strategy", "show", plain["id"])
    assert shown["selection"] == {} and shown["deflated_sharpe"] is None
    assert "no search and no hold-out" in mt("strategy", "show", plain["id"]).stdout
    assert "selection" not in json.loads(mt("strategy", "export", plain["id"]).stdout)

    broken = {**RECORD, "deflated_trials": {**RECORD["deflated_trials"], "trials_used": 0}}
    path = _genome_with(mt, tmp_path, broken, "rsi_reversion")
    refused = mt("strategy", "add", str(path), *SERIES)
    assert refused.exit_code == 2 and refused.stdout == ""
    field = "selection.deflated_trials.trials_used"
    assert refused.stderr == f"mt: error: invalid {path}: {field} 0: must be a whole number >= 1\n"
    for nonsense, said in (
        ({**RECORD, "by": "me"}, "selection.by \"me\": must be 'mt optimize'"),
        (
            {**RECORD, "deflated_trials": {"trials_used": 10**13}},
            "selection.deflated_trials.trials_used 10,000,000,000,000: at most 1,000,000,000,000",
        ),
        ({**RECORD, "deflated_sharpe": 1.5}, "selection.deflated_sharpe 1.5: must be a probability"),
    ):
        path = _genome_with(mt, tmp_path, nonsense, "rsi_reversion")
        refused = mt("strategy", "add", str(path), *SERIES)
        assert refused.exit_code == 2 and refused.stderr.startswith(f"mt: error: invalid {path}: {said}")
    assert [row["id"] for row in mt.json("strategy", "list")] == [plain["id"]]  # nothing stored


def test_a_record_of_another_market_is_kept_but_judges_nothing_here(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    """Added on ETH/USDT from a file tuned on BTC/USDT: the record says where it was tuned, but its
    figures are not the strategy's on a market its tuning never saw."""
    assert mt(*SIM[:5], "--bars", "1200", "--seed", "5", *END).exit_code == 0
    assert (
        mt("data", "sim", "ETH/USDT", "--timeframe", "1h", "--bars", "1200", "--seed", "6", *END).exit_code
        == 0
    )
    path = _genome_with(mt, tmp_path, RECORD)

    here = mt.json("strategy", "add", str(path), *SERIES)
    assert here["selection"] == RECORD
    assert mt.json("strategy", "show", here["id"])["deflated_sharpe"] == 0.25
    judged = mt.json("validate", here["id"])
    assert judged["full"]["start"] == RECORD["holdout"]["start"] and judged["deflated"]["trials"] == 12

    elsewhere = mt.json("strategy", "add", str(path), "--symbol", "ETH/USDT", "--timeframe", "1h")
    shown = mt.json("strategy", "show", elsewhere["id"])
    assert shown["selection"] == RECORD and shown["deflated_sharpe"] is None
    text = " ".join(mt("strategy", "show", elsewhere["id"]).stdout.split())
    assert "it trades ETH/USDT 1h, a market its tuning never saw" in text
    judged = mt.json("validate", elsewhere["id"])
    assert judged["deflated"]["trials_source"] == "default" and judged["full"]["bars"] == 1200
    backtest = mt("backtest", elsewhere["id"], "--json")
    assert backtest.exit_code == 0
    assert f"note: {elsewhere['id']} was tuned on BTC/USDT 1h (sim): ETH/USDT 1h (sim) is a market" in _said(
        backtest
    )
