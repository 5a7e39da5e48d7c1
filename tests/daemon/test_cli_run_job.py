"""`mt daemon run JOB`: a daemon job (the nightly run) started by hand from the command line and waited
for. Before it, the docs' only way to run the nightly job by hand was `POST /v1/jobs/NAME/run` with curl."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.config import Settings
from tests.conftest import MT
from tests.daemon import conftest as daemon_conftest
from tests.daemon.conftest import ThreadedDaemon

NIGHT = {
    "date": "2026-01-02",
    "seed": 20260102,
    "simulated": True,
    "series": [
        {"symbol": "BTC/USDT", "timeframe": "1h", "run_id": 7, "counts": {"stored": 20, "passed": 2}},
        {"symbol": "BTC/USDT", "timeframe": "4h", "run_id": 8, "counts": {"stored": 20, "passed": 1},
         "paper_note": "1 passed and stay passed, not on paper"},
        {"symbol": "ETH/USDT", "timeframe": "1h", "skipped": "no candles stored for ETH/USDT 1h"},
    ],
    "paper": [{"id": "00aa11bb22cc33dd", "name": "gen-00aa11bb22", "reason": "among the 3 best"}],
    "decisions": [
        {"id": "0123456789abcdef", "name": "gen-0123456789", "action": "retire", "reason": "drawdown"},
        {"id": "fedcba9876543210", "name": "gen-fedcba9876", "action": "keep", "reason": "too short"},
    ],
}  # fmt: skip


RETRAIN = {
    "models": {
        "lightgbm BTC/USDT": {"version": "0123456789abcdef", "verdict": "loses to the zero-return baseline"},
        "lightgbm ETH/USDT": {
            "error": "sim:ETH/USDT:1h: 26 bars are too few to train with [ml] train_bars = 500"
            " and [ml] window = 48"
        },
    }
}


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


@pytest.fixture
def jobs_daemon(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedDaemon]:
    """A daemon whose jobs are the core ones (data_refresh: unavailable on its simulated venue) plus a
    nightly-like job and one that fails; the nightly and retraining ones say what they did in the real
    jobs' words."""
    from mastertrade.engine.services import build_jobs

    core = daemon_conftest.core_jobs
    real = build_jobs()

    def jobs() -> Any:
        registry = core()

        async def night(ctx: Any, run: Any) -> dict[str, Any]:
            return NIGHT

        async def broken(ctx: Any, run: Any) -> None:
            raise RuntimeError("the exchange said no")

        async def retrain(ctx: Any, run: Any) -> dict[str, Any]:
            return RETRAIN

        words = {name: real.get(name).summarize for name in ("nightly_generation", "ml_retrain")}
        registry.add(
            "nightly_generation", night, "the nightly run", paced=True, summarize=words["nightly_generation"]
        )
        registry.add(
            "ml_retrain",
            retrain,
            "the forecast models' retraining",
            paced=True,
            summarize=words["ml_retrain"],
        )
        registry.add("broken", broken, "always fails")
        return registry

    monkeypatch.setattr(daemon_conftest, "core_jobs", jobs)
    daemon = ThreadedDaemon(settings).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def test_run_starts_a_job_waits_for_it_and_prints_the_nightly_report(
    mt: MT, jobs_daemon: ThreadedDaemon
) -> None:
    result = mt("daemon", "run", "nightly_generation")
    assert result.exit_code == 0, result.output
    said = re.sub(r"run \d+", "run N", re.sub(r"in [\d.]+ s", "in T s", result.stderr))
    assert said.splitlines()[:2] == [
        "job nightly_generation run N started",
        # what the night did, as `mt status` says it: it read "ok in T s"
        "job nightly_generation run N: ok: 2 of 3 series searched, 40 strategies stored, 3 passed, 1 put on"
        " paper, 1 retired (1 skipped: no candles stored for ETH/USDT 1h) in T s",
    ]
    assert "on paper: 00aa11bb22cc33dd gen-00aa11bb22: among the 3 best" in result.stderr
    assert "retire: 0123456789abcdef gen-0123456789: drawdown" in result.stderr
    assert "1 paper or active strategy kept as it is" in result.stderr
    table = result.stdout
    assert "Nightly run of 2026-01-02, seed 20260102 on SIMULATED data" in table
    assert (
        "1 passed and stay passed, not on paper" in table
        and "skipped: no candles stored for ETH/USDT 1h" in table
    )
    runs = mt.json("status")["jobs"]
    (night,) = [job for job in runs if job["name"] == "nightly_generation"]
    assert night["last_run"]["trigger"] == "manual" and night["last_run"]["outcome"] == "ok"
    assert night["last_run"]["summary"].startswith("ok: 2 of 3 series searched, 40 strategies stored")


def test_run_json_is_the_finished_run_record(mt: MT, jobs_daemon: ThreadedDaemon) -> None:
    result = mt("daemon", "run", "nightly_generation", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    record = json.loads(result.stdout)
    assert record["outcome"] == "ok" and record["trigger"] == "manual" and record["result"] == NIGHT
    started = mt("daemon", "run", "nightly_generation", "--no-wait", "--json")
    assert started.exit_code == 0
    assert json.loads(started.stdout)["outcome"] in ("running", "ok")


def test_a_failed_or_unavailable_job_exits_1_saying_why(mt: MT, jobs_daemon: ThreadedDaemon) -> None:
    failed = mt("daemon", "run", "broken")
    assert failed.exit_code == 1
    assert re.search(
        r"job broken run \d+: error in [\d.]+ s: RuntimeError: the exchange said no", failed.stderr
    )
    as_json = mt("daemon", "run", "broken", "--json")
    assert (
        as_json.exit_code == 1 and json.loads(as_json.stdout)["error"] == "RuntimeError: the exchange said no"
    )
    unavailable = mt("daemon", "run", "data_refresh")
    assert unavailable.exit_code == 1 and unavailable.stdout == ""
    assert unavailable.stderr.startswith("mt: error: job data_refresh cannot run here: ")


def test_the_ml_retrain_says_each_model_and_exits_1_when_one_failed(
    mt: MT, jobs_daemon: ThreadedDaemon
) -> None:
    """Was: "job ml_retrain run 7: ok in 0.2 s", exit 0, when no model could train (the reasons only
    in the daemon's log)."""
    result = mt("daemon", "run", "ml_retrain")
    assert result.exit_code == 1
    assert re.search(
        r"job ml_retrain run \d+: ok: 1 of 2 models trained \(1 did not: lightgbm ETH/USDT: sim:ETH/USDT:1h:"
        r" 26 bars are too few to train with \[ml\] train_bars = 500 and \[ml\] window = 48\) in [\d.]+ s",
        result.stderr,
    )
    assert "lightgbm BTC/USDT: model 0123456789abcdef, loses to the zero-return baseline" in result.stdout
    assert "lightgbm ETH/USDT: not trained: sim:ETH/USDT:1h: 26 bars are too few" in result.stdout
    assert "mt: error: 1 of 2 models did not train" in result.stderr
    as_json = mt("daemon", "run", "ml_retrain", "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["result"] == RETRAIN


def test_an_unknown_job_is_bad_input_naming_the_known_ones(mt: MT, jobs_daemon: ThreadedDaemon) -> None:
    result = mt("daemon", "run", "nightly")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "mt: error: no job 'nightly' (known jobs: broken, data_refresh, ml_retrain, nightly_generation)\n"
    )


def test_run_without_a_daemon_says_so(mt: MT) -> None:
    result = mt("daemon", "run", "nightly_generation")
    assert result.exit_code == 1
    assert result.stderr == "mt: error: the daemon is not running: start it with `mt daemon start`\n"


@pytest.mark.parametrize("name", ["../daemon/stop?", "..", "a/b", "%2e%2e"])
def test_a_job_name_is_one_path_segment_never_another_endpoint(
    mt: MT, jobs_daemon: ThreadedDaemon, name: str
) -> None:
    """The name went into the request's path unencoded: `mt daemon run '../daemon/stop?'` was
    `POST /v1/daemon/stop`, which stopped the daemon and ended in a traceback."""
    result = mt("daemon", "run", name)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("mt: error: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output
    assert not mt.json("status")["stopping"]
