"""`mt status`'s jobs table says why a run failed, and keeps each outcome to a line of the terminal.

A failed run read a bare "error" (a skipped one "skipped"): its why was only in `--json`. A night that
skipped many series filled the table with every series' reason, the counts lost among them. Now the cell
holds the outcome and the first line of its error, or the counts, the first skipped series and "+N more:
see below", in at most the terminal's width; what is cut ends in an ellipsis, and a line under the table
says where the whole is. The words are the daemon's (`summary`, `summary_list`): the runs here are worded
by the product's own jobs, from their stored rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastertrade.db.models.daemon import JobRun
from mastertrade.engine.api.schemas import StatusReport
from mastertrade.engine.scheduler.runs import run_info
from mastertrade.engine.services import build_jobs
from tests.cli.test_report_text import status
from tests.conftest import MT

NOW = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)
FAILED = (
    "ValueError: could not convert string to float: 'abc' (while searching ETH/USDT 1h, series 2 of 3: the"
    " run of the 1 searched before it stays stored)\nthe second line of a long message"
)
SKIPPED = [
    f"{coin}/USDT" for coin in ("ETH", "SOL", "ADA", "XRP", "DOT", "LTC", "BNB", "AVAX", "LINK", "TRX")
]


def recorded(job: str, outcome: str, result: Any = None, error: str | None = None) -> dict[str, Any]:
    """A run of the product's ``job`` as the API gives it from its ``job_runs`` row."""
    row = JobRun(id=7, job=job, trigger="schedule", started_at=NOW, finished_at=NOW, outcome=outcome)
    row.error = error
    row.result = json.dumps(result) if result is not None else None
    return run_info(row, build_jobs().get(job))


def night() -> dict[str, Any]:
    """A nightly result: BTC/USDT searched, ten series skipped, each for want of candles."""
    btc = {"symbol": "BTC/USDT", "timeframe": "1h", "run_id": 4, "counts": {"stored": 30, "passed": 3}}
    skipped = [
        {"symbol": symbol, "timeframe": "1h", "skipped": f"no candles stored for {symbol} 1h on binance"}
        for symbol in SKIPPED
    ]
    return {"series": [btc, *skipped], "paper": [], "decisions": []}


def report(**runs: dict[str, Any]) -> StatusReport:
    jobs = [
        {"name": name, "description": "", "available": True, "running": False, "schedule": "0 3 * * *"}
        | {"next_run": NOW + timedelta(hours=3), "last_run": run}
        for name, run in runs.items()
    ]
    return status(jobs=jobs)


def outcomes(table: str) -> dict[str, str]:
    """Each job's outcome cell in the jobs table, its wrapped lines joined."""
    lines = table.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("┃ job "))
    cells: dict[str, list[str]] = {}
    job = ""
    for line in lines[start + 2 :]:
        if not line.startswith("│"):
            break
        parts = [part.strip() for part in line.strip().strip("│").split("│")]
        job = parts[0] or job
        cells.setdefault(job, []).append(parts[-1])
    return {name: " ".join(" ".join(parts).split()) for name, parts in cells.items()}


@pytest.fixture
def shown(mt: MT, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`mt status` of a daemon reporting ``document``, as in a terminal 140 wide."""
    monkeypatch.setattr("mastertrade.cli.output._PIPE_WIDTH", 140)

    def show(document: StatusReport, *args: str) -> Any:
        monkeypatch.setattr("mastertrade.cli.status.with_client", lambda call, timeout_s: document)
        result = mt("status", *args)
        assert result.exit_code == 0, result.output
        return result

    return show


def test_a_failed_run_says_why_in_a_line_and_where_the_rest_is(shown: Any) -> None:
    document = report(
        data_refresh=recorded("data_refresh", "error", error=FAILED),
        goal_snapshots=recorded("goal_snapshots", "skipped", error="the previous run was still running"),
        risk_metrics=recorded("risk_metrics", "ok", {"figures": [], "note": "4 1d returns: too few for VaR"}),
    )
    result = shown(document)
    cells = outcomes(result.stdout)
    failed = cells["data_refresh"]  # it read "error"
    assert failed.startswith("error: ValueError: could not convert string to float: 'abc' (while searching")
    assert failed.endswith("…") and len(failed) <= 140 and "second line" not in failed
    assert cells["goal_snapshots"] == "skipped: the previous run was still running"  # it read "skipped"
    assert cells["risk_metrics"] == "ok: no VaR: 4 1d returns: too few for VaR"
    assert "whole in `mt status --json`; a failed run's traceback: `mt daemon logs`" in result.stderr
    whole = json.loads(shown(document, "--json").stdout)["jobs"][0]["last_run"]
    assert whole["outcome"] == "error" and whole["error"] == FAILED


def test_a_night_of_many_skipped_series_keeps_its_counts_and_says_how_many_more(shown: Any) -> None:
    document = report(nightly_generation=recorded("nightly_generation", "ok", night()))
    result = shown(document)
    cell = outcomes(result.stdout)["nightly_generation"]
    counts = "ok: 1 of 11 series searched, 30 strategies stored, 3 passed, none put on paper"
    assert cell.startswith(f"{counts} (10 skipped: no candles stored for ETH"), cell
    assert cell.endswith("…; +9 more: see below)") and len(cell) <= 140, cell
    assert "SOL/USDT" not in cell  # it listed all ten
    assert "are whole in `mt status --json`" in result.stderr
    last = json.loads(shown(document, "--json").stdout)["jobs"][0]["last_run"]
    assert last["summary"].startswith(f"{counts} (10 skipped: ") and all(
        s in last["summary"] for s in SKIPPED
    )
    assert last["summary_list"] == {
        "said": counts,
        "label": "10 skipped",
        "items": [f"no candles stored for {symbol} 1h on binance" for symbol in SKIPPED],
    }


def test_outcomes_that_fit_are_whole_and_need_no_word_under_the_table(shown: Any) -> None:
    short = night() | {"series": night()["series"][:2]}
    document = report(
        nightly_generation=recorded("nightly_generation", "ok", short),
        data_refresh=recorded("data_refresh", "error", error="RuntimeError: the exchange said no"),
    )
    result = shown(document)
    assert outcomes(result.stdout) == {
        "nightly_generation": "ok: 1 of 2 series searched, 30 strategies stored, 3 passed, none put on paper"
        " (1 skipped: no candles stored for ETH/USDT 1h on binance)",
        "data_refresh": "error: RuntimeError: the exchange said no",
    }
    assert "mt status --json" not in result.stderr


def test_a_list_shortens_in_its_own_words_counts_first() -> None:
    """The ways a list shortens (``Listed.fit``), from the whole down to the counts cut."""
    from mastertrade.engine.kernel.run_words import Listed

    first = "BTC/USDT 1h: no candles stored"
    words = Listed("ok: 0 of 3 series searched", "all skipped", (first, "ETH/USDT 1h: too few", "x"))
    head = "ok: 0 of 3 series searched (all skipped: "
    assert words.fit(200, "see below") == words.words() == f"{head}{first}; ETH/USDT 1h: too few; x)"
    assert words.fit(92, "see below") == f"{head}{first}; +2 more: see below)"
    assert words.fit(80, "see below") == f"{head}BTC/USDT 1h: no c…; +2 more: see below)"
    assert words.fit(70, "see below") == f"{head}see below)"  # no room for an item: none, and where
    assert words.fit(40, "see below") == "ok: 0 of 3 series searched (all skipped…"
    # one item, too long: cut, and where it is whole
    one = Listed(
        "ok: 1 of 2 models trained", "1 did not", ("lightgbm ETH/USDT: too few bars" + " to train" * 9,)
    )
    assert (
        one.fit(80, "see below")
        == "ok: 1 of 2 models trained (1 did not: lightgbm ETH/USDT: too few ba…; see below)"
    )
