"""A nightly generation's run says what the night did wherever a trader reads it: `mt status`'s jobs
table, `mt report`, `mt daemon run` and the dashboard all show the run's ``summary``, which the daemon
words once (``Job.summary``, the job's ``night_summary``). A night that ran but searched nothing (every
series of its universe skipped: no candles yet, too few bars) read "ok", and the trader took it that
strategies had been searched; a night that searched read "ok" too, with nothing of what it stored or put
on paper. The stored outcome (and `--json`'s ``outcome``) stays "ok"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastertrade.cli.report_text import report_text
from mastertrade.db.models.daemon import JobRun
from mastertrade.engine.api.schemas import JobRunInfo, StatusReport
from mastertrade.engine.generator.nightly import nightly
from mastertrade.engine.scheduler.runs import run_info
from mastertrade.engine.services import build_jobs
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


def recorded(result: Any, outcome: str = "ok", job: str = "nightly_generation") -> JobRunInfo:
    """A run of the product's ``job`` with ``result``, as the API gives it from its ``job_runs`` row."""
    started = NOW - timedelta(minutes=5)
    row = JobRun(id=7, job=job, trigger="schedule", started_at=started, finished_at=NOW, outcome=outcome)
    row.result = json.dumps(result) if result is not None else None
    return JobRunInfo.model_validate(run_info(row, build_jobs().get(job)))


def with_nightly(run: JobRunInfo) -> StatusReport:
    job = {"name": "nightly_generation", "description": "", "available": True, "running": False}
    return status(jobs=[job | {"schedule": "0 3 * * *", "last_run": run.model_dump()}])


async def test_a_night_that_searched_nothing_says_so_in_the_report(sqlite_db: Any) -> None:
    result = await night_of_nothing(sqlite_db)
    btc, eth, sol = (entry["skipped"] for entry in result["series"])
    run = recorded(result)
    words = run.summary
    assert words == f"ok: 0 of 3 series searched (all skipped: {btc}; {eth}; {sol})"
    assert btc.startswith("sim:BTC/USDT:1h: 40 bars") and "too few" in btc
    assert eth.startswith("no candles stored for ETH/USDT 1h on sim")
    assert run.outcome == "ok"
    text = report_text(inputs(status=with_nightly(run)))
    assert f"  nightly_generation: {words} at " in text
    assert "nightly_generation: ok at" not in text


async def test_mt_status_words_it_and_its_json_keeps_the_stored_outcome(
    sqlite_db: Any, mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = with_nightly(recorded(await night_of_nothing(sqlite_db)))
    monkeypatch.setattr("mastertrade.cli.status.with_client", lambda call, timeout_s: report)
    shown = mt("status")
    assert shown.exit_code == 0, shown.output
    table = " ".join(shown.stdout.replace("│", " ").split())  # the cell wraps in the table
    assert "ok: 0 of 3 series searched (all skipped: sim:BTC/USDT:1h: 40 bars" in table
    last = json.loads(mt("status", "--json").stdout)["jobs"][0]["last_run"]
    assert last["outcome"] == "ok" and last["summary"].startswith("ok: 0 of 3 series searched")


def test_a_night_that_searched_counts_what_it_stored_and_moved() -> None:
    btc = {"symbol": "BTC/USDT", "timeframe": "1h", "run_id": 4, "counts": {"stored": 30, "passed": 3}}
    sol = {"symbol": "SOL/USDT", "timeframe": "1h", "run_id": 5, "counts": {"stored": 1, "passed": 0}}
    eth = {
        "symbol": "ETH/USDT",
        "timeframe": "4h",
        "skipped": "no 4h series on sim-live: the feed\n makes 1h",
    }
    paper = [{"id": "a", "name": "gen-a", "reason": "best"}, {"id": "b", "name": "gen-b", "reason": "next"}]
    decisions = [
        {"id": "c", "name": "gen-c", "action": "promote", "reason": "held up on paper"},
        {"id": "d", "name": "gen-d", "action": "retire", "reason": "drawdown"},
        {"id": "e", "name": "gen-e", "action": "keep", "reason": "too short"},
    ]
    night = {"series": [btc, eth, sol], "paper": paper, "resumed": [], "decisions": decisions}
    assert recorded(night).summary == (
        "ok: 2 of 3 series searched, 31 strategies stored, 3 passed, 2 put on paper, 1 promoted to active,"
        " 1 retired (1 skipped: ETH/USDT 4h: no 4h series on sim-live: the feed makes 1h)"
    )
    # every series searched: what it did still reads, not a bare "ok"
    assert recorded({"series": [btc], "paper": [], "decisions": []}).summary == (
        "ok: 1 of 1 series searched, 30 strategies stored, 3 passed, none put on paper"
    )
    one = {"series": [sol], "resumed": paper[:1]}  # a night cut short left one passer to put on paper
    assert recorded(one).summary == "ok: 1 of 1 series searched, 1 strategy stored, 0 passed, 1 put on paper"


def test_other_outcomes_and_results_read_as_stored() -> None:
    night = {"series": [{"symbol": "BTC/USDT", "timeframe": "1h", "skipped": "no candles"}]}
    assert recorded(night, outcome="error").summary == "error"
    assert recorded(None).summary == "ok"
    assert recorded({"symbols": {}}).summary == "ok"  # an older version's result, without its series
    assert recorded(night, job="data_refresh").summary == "ok"  # not a data_refresh result


def test_a_result_its_words_cannot_read_leaves_the_outcome_as_stored() -> None:
    """A result of another shape (an older version's run) must not fail `mt status` or a run's end."""
    from mastertrade.engine.kernel.context import Job

    odd = {"series": [{"symbol": "BTC/USDT", "timeframe": "1h", "skipped": "x"}], "decisions": "?"}
    assert recorded(odd).summary == "ok: 0 of 1 series searched (all skipped: BTC/USDT 1h: x)"
    assert recorded({"figures": [{"level": "95%"}]}, job="risk_metrics").summary == "ok"

    async def nothing(ctx: Any, run: Any) -> None:
        return None

    strict = Job("strict", nothing, "reads a key its result lacks", summarize=lambda result: result["gone"])
    assert strict.summary("ok", {"other": 1}) == "ok"
