"""A nightly generation that ran but searched nothing (every series of its universe skipped: no candles
yet, too few bars) read "ok" in `mt status`'s jobs table and `mt report`, and the trader took it that
strategies had been searched. The words now say how many series it searched and why the others were
skipped; the stored outcome (and `--json`) stays "ok"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastertrade.cli.job_outcome import outcome_words
from mastertrade.cli.report_text import report_text
from mastertrade.engine.api.schemas import StatusReport
from mastertrade.engine.generator.nightly import nightly
from tests.cli.test_report_text import inputs, status
from tests.conftest import MT
from tests.generator.conftest import sim_frame
from tests.generator.helpers import settings_with, store_candles

NOW = datetime(2025, 1, 2, 3, tzinfo=UTC)


async def night_of_nothing(sqlite_db: Any) -> dict[str, Any]:
    """A real nightly run's result, as the scheduler stores it, on a universe none of whose series can be
    searched: BTC/USDT has too few bars, ETH/USDT and SOL/USDT none."""
    from mastertrade.config import MarketSettings

    await store_candles(sqlite_db, sim_frame(40))
    settings = settings_with(timeframes=["1h"]).model_copy(
        update={"market": MarketSettings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], timeframe="1h")}
    )
    report = await nightly(sqlite_db, settings, exchange="sim", now=NOW)
    assert all(entry.get("skipped") for entry in report["series"])
    result: dict[str, Any] = json.loads(json.dumps(report, default=str))
    return result


def with_nightly(result: dict[str, Any], outcome: str = "ok") -> StatusReport:
    started = NOW - timedelta(minutes=5)
    run = {"id": 7, "job": "nightly_generation", "trigger": "schedule", "started_at": started}
    run |= {"finished_at": NOW, "duration_s": 300.0, "outcome": outcome, "result": result}
    job = {"name": "nightly_generation", "description": "", "available": True, "running": False}
    return status(jobs=[job | {"schedule": "0 3 * * *", "last_run": run}])


async def test_a_night_that_searched_nothing_says_so_in_the_report(sqlite_db: Any) -> None:
    result = await night_of_nothing(sqlite_db)
    btc, eth, sol = (entry["skipped"] for entry in result["series"])
    words = outcome_words("nightly_generation", "ok", result)
    assert words == f"ok: 0 of 3 series searched (all skipped: {btc}; {eth}; {sol})"
    assert btc.startswith("sim:BTC/USDT:1h: 40 bars") and "too few" in btc
    assert eth.startswith("no candles stored for ETH/USDT 1h on sim")
    text = report_text(inputs(status=with_nightly(result)))
    assert f"  nightly_generation: {words} at " in text
    assert "nightly_generation: ok at" not in text


async def test_mt_status_words_it_and_its_json_keeps_the_stored_outcome(
    sqlite_db: Any, mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = with_nightly(await night_of_nothing(sqlite_db))
    monkeypatch.setattr("mastertrade.cli.status.with_client", lambda call, timeout_s: report)
    shown = mt("status")
    assert shown.exit_code == 0, shown.output
    table = " ".join(shown.stdout.replace("│", " ").split())  # the cell wraps in the table
    assert "ok: 0 of 3 series searched (all skipped: sim:BTC/USDT:1h: 40 bars" in table
    assert json.loads(mt("status", "--json").stdout)["jobs"][0]["last_run"]["outcome"] == "ok"


def test_a_night_that_searched_some_counts_them_and_other_outcomes_read_as_stored() -> None:
    searched = {"symbol": "BTC/USDT", "timeframe": "1h", "run_id": 4, "counts": {"stored": 3}}
    skipped = {
        "symbol": "ETH/USDT",
        "timeframe": "4h",
        "skipped": "no 4h series on sim-live: the feed\n makes 1h",
    }
    night = {"series": [searched, skipped]}
    assert outcome_words("nightly_generation", "ok", night) == (
        "ok: 1 of 2 series searched (1 skipped: ETH/USDT 4h: no 4h series on sim-live: the feed makes 1h)"
    )
    assert outcome_words("nightly_generation", "ok", {"series": [searched]}) == "ok"
    assert outcome_words("nightly_generation", "error", night) == "error"
    assert outcome_words("data_refresh", "ok", night) == "ok"
    assert outcome_words("nightly_generation", "ok", None) == "ok"
