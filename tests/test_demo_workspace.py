"""The demo's workspace: under ``MT_HOME`` when it is set, so a scratch home never reaches the user's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.demo import demo_home
from tests.conftest import MT


def test_the_demo_workspace_follows_mt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_HOME", str(tmp_path))
    assert demo_home() == tmp_path / "demo"
    monkeypatch.delenv("MT_HOME")
    assert demo_home().name == "demo" and not demo_home().is_relative_to(tmp_path)


class _FakeDaemon:
    """The demo's daemon calls, without a process: ``spawn`` starts it, ``stop`` ends it."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.spawned = 0
        self.stopped = 0

    def spawn(self, settings: object) -> int:
        self.spawned += 1
        self.pid = 4242
        return self.pid

    def running_pid(self, where: object = None) -> int | None:
        return self.pid

    def settled_pid(self, where: object = None) -> int | None:
        return self.pid

    def stop(self, *, timeout_s: float) -> int | None:
        self.stopped += 1
        pid, self.pid = self.pid, None
        return pid


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_demo_stops_the_daemon_it_started_and_the_next_run_starts_over(
    mt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: type[BaseException]
) -> None:
    """Ctrl-C (or a failure) while the demo waits for its generation run used to leave the daemon running
    with nothing activated; the next `mt demo` then attached to it and the paper account never traded."""
    import mastertrade.cli.demo as cli_demo
    from mastertrade.engine import daemon
    from mastertrade.engine import demo as engine_demo

    fake = _FakeDaemon()
    for name in ("spawn", "running_pid", "settled_pid", "stop"):
        monkeypatch.setattr(daemon, name, getattr(fake, name))

    async def prepare(settings: object, *, say: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(engine_demo, "prepare", prepare)
    generations: list[str] = []

    def generate(say: Any) -> dict[str, Any]:
        generations.append("run")
        if len(generations) == 1:
            raise failure()
        return {"activated": ["s1"]}

    monkeypatch.setattr(cli_demo, "_generate_and_activate", generate)
    home = tmp_path / "demo"
    first = mt("demo", "--no-tui", "--home", str(home))
    assert first.exit_code == (130 if failure is KeyboardInterrupt else 1), first.output
    assert fake.spawned == 1 and fake.stopped == 1 and fake.pid is None
    assert "stopping the demo daemon this run started" in first.stderr
    second = mt("demo", "--no-tui", "--home", str(home), "--json")
    assert second.exit_code == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["started"] is True and report["generation"] == {"activated": ["s1"]}
    assert fake.spawned == 2 and fake.pid == 4242


async def test_prepare_writes_the_features_a_stopped_run_left_out(
    mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first `mt demo` stopped after its candles but before their features: the next one writes them."""
    from mastertrade.engine import setup

    initialise = setup.initialise

    async def migrate_only(settings: Any, db_url: str | None = None, **options: Any) -> dict[str, Any]:
        return await initialise(settings, db_url, warm=False)  # the kernels are not what is tested

    monkeypatch.setattr(setup, "initialise", migrate_only)
    from sqlalchemy import text

    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.demo import demo_settings, prepare
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import SIM_EXCHANGE, CandleStore, SeriesKey, rows_from_frame
    from mastertrade.engine.market.timeframes import floor_ts, now_ms, timeframe_ms

    settings = demo_settings()
    settings.db.url = f"sqlite+aiosqlite:///{mt_home}/demo.db"
    market = settings.market
    said: list[str] = []
    before = now_ms()
    await prepare(settings, bars=40, say=said.append)  # creates the database, its candles and features
    after = now_ms()
    db = await Database.open(settings)
    try:
        key = SeriesKey(SIM_EXCHANGE, market.symbols[0], market.timeframe)
        stored = await CandleStore(db).read(key)
        # the simulated history, ending at the bar that was forming (a day may have begun since, on the
        # demo's daily bars: the end is read from what was stored, not from the clock)
        end = int(stored.index[-1].value // 1_000_000) + timeframe_ms(market.timeframe)
        assert floor_ts(before, market.timeframe) <= end <= floor_ts(after, market.timeframe)
        assert rows_from_frame(stored) == rows_from_frame(
            simulate(market.symbols[0], market.timeframe, 40, market.seed, end=end)
        )
        features = FeatureStore(db)
        written = {info.name for info in await features.list_features("sim")}
        assert written
        async with db.engine.begin() as conn:  # as if the run had stopped before writing them
            await conn.execute(text("DELETE FROM features WHERE source = 'sim'"))
        assert not await features.list_features("sim")
        await prepare(settings, bars=40, say=said.append)
        assert {info.name for info in await features.list_features("sim")} == written
        # and the candles the first run wrote are kept as they were
        assert rows_from_frame(await CandleStore(db).read(key)) == rows_from_frame(stored)
    finally:
        await db.close()


def test_the_demo_daemon_gets_none_of_the_users_alert_targets_or_exchange_keys(
    mt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's MT_ALERTS__URLS reached the demo's daemon: its simulated fills alerted their real
    channels. The demo's settings are its own config file's."""
    import os

    import mastertrade.cli.demo as cli_demo
    from mastertrade.engine import daemon
    from mastertrade.engine import demo as engine_demo

    fake = _FakeDaemon()
    seen: dict[str, Any] = {}

    def spawn(settings: Any) -> int:
        seen["urls"] = list(settings.alerts.urls)
        seen["key"] = settings.exchange.api_key
        seen["env"] = sorted(name for name in os.environ if name.startswith(("MT_ALERTS__", "MT_EXCHANGE__")))
        return fake.spawn(settings)

    monkeypatch.setattr(daemon, "spawn", spawn)
    for name in ("running_pid", "settled_pid", "stop"):
        monkeypatch.setattr(daemon, name, getattr(fake, name))

    async def prepare(settings: object, *, say: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(engine_demo, "prepare", prepare)
    monkeypatch.setattr(cli_demo, "_generate_and_activate", lambda say: {"activated": []})
    monkeypatch.setenv("MT_ALERTS__URLS", '["json://127.0.0.1:9/mine"]')
    monkeypatch.setenv("MT_EXCHANGE__API_KEY", "users-real-key")
    result = mt("demo", "--no-tui", "--home", str(tmp_path / "demo"), "--json")
    assert result.exit_code == 0, result.stderr
    assert seen == {"urls": [], "key": None, "env": []}


def test_the_demos_daily_bars_rarely_trip_the_price_move_breaker() -> None:
    """With the intraday default (10% of the open) about one simulated daily bar in sixteen trips the
    price-move breaker (one in ten before the simulator's volatility was brought down to the stated one):
    with four symbols, a halt every few seconds. The demo's limit leaves it rare."""
    import numpy as np

    from mastertrade.engine.demo import SEED, SYMBOLS, TIMEFRAME, demo_settings
    from mastertrade.engine.market.sim import simulate

    limit = demo_settings().risk.price_move_bar
    frames = [simulate(symbol, TIMEFRAME, 3000, SEED) for symbol in SYMBOLS]
    ranges = np.concatenate([((f.high - f.low) / f.open).to_numpy() for f in frames])
    assert (ranges > 0.10).mean() > 0.05  # why the default does not fit daily bars
    assert (ranges > limit).mean() < 0.01
    # per symbol too: BTC-EDGE's planted edge doubled its moves, 39 bars in 3,000 over the limit
    for symbol, frame in zip(SYMBOLS, frames, strict=True):
        assert (((frame.high - frame.low) / frame.open) > limit).mean() < 0.01, symbol


class _Run:
    def __init__(self, run_id: int) -> None:
        self.id = run_id
        self.duration_s = 7.0


@pytest.mark.parametrize(("passing_run", "activated"), [(2, ["s2"]), (None, [])])
def test_the_demo_searches_again_when_a_run_passes_nothing(
    monkeypatch: pytest.MonkeyPatch, passing_run: int | None, activated: list[str]
) -> None:
    """The demo's small search passes nothing about one run in three: it asks for up to three runs (each
    judged against every candidate tried so far), saying what each did, and stops at the first that puts
    strategies on paper."""
    import mastertrade.cli.demo as cli_demo

    runs: list[int] = []

    def run_generation(timeout_s: float) -> _Run:
        runs.append(len(runs) + 1)
        return _Run(runs[-1])

    monkeypatch.setattr(cli_demo, "_run_generation", run_generation)
    monkeypatch.setattr(cli_demo, "_activate_paper", lambda: ["s2"] if runs[-1] == passing_run else [])
    said: list[str] = []
    report = cli_demo._generate_and_activate(said.append)
    assert report["activated"] == activated
    assert runs == ([1, 2] if passing_run else [1, 2, 3]) and report["runs"] == runs
    assert said[0].startswith("generation run 1 (7.0 s): no strategy passed the filter")
    if passing_run:
        assert said[-1].startswith("generation done in 7.0 s: 1 strategy now trades the paper account")
    else:
        assert said[-1].startswith("no strategy passed the filter in 3 generation runs")


def test_the_demo_waits_for_a_generation_run_the_schedule_started_as_the_daemon_came_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A month of the demo's market time passes in a minute of wall time, so the daemon's own monthly
    generation run can start as it comes up (a second `mt demo` on a stopped workspace did, measured).
    The demo's request is then refused as "already running": it waits for that run instead of failing
    and stopping the daemon it just started."""
    from datetime import UTC, datetime

    import mastertrade.cli.demo as cli_demo
    import mastertrade.client as client_module
    from mastertrade.engine.api.schemas import JobRunInfo
    from mastertrade.errors import OperationFailed

    started = datetime(2026, 12, 1, 3, tzinfo=UTC)
    running = JobRunInfo(
        id=7, job="nightly_generation", trigger="schedule", started_at=started, outcome="running"
    )
    done = running.model_copy(update={"finished_at": started, "duration_s": 9.0, "outcome": "ok"})
    # the scheduled run's record is written a moment after the job is marked running: none listed at first
    listings = iter([[], [running], [done]])
    asked: list[str] = []

    class Client:
        def __init__(self, **_: Any) -> None:
            pass

        async def __aenter__(self) -> Client:
            return self

        async def __aexit__(self, *_: object) -> None:
            return None

        async def run_job(self, name: str) -> JobRunInfo:
            asked.append(name)
            raise OperationFailed(f"job {name} is already running")

        async def job_runs(self, name: str, *, limit: int = 20) -> list[JobRunInfo]:
            return next(listings, [done])

    monkeypatch.setattr(client_module, "DaemonClient", Client)
    monkeypatch.setattr(cli_demo, "POLL_S", 0.0)
    finished = cli_demo._run_generation(timeout_s=30)
    assert (finished.id, finished.outcome, finished.trigger) == (7, "ok", "schedule")
    assert asked[0] == "nightly_generation"


def test_the_demo_still_fails_on_a_job_that_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only "already running" is waited out: any other refusal is the demo's error at once."""
    import mastertrade.cli.demo as cli_demo
    import mastertrade.client as client_module
    from mastertrade.errors import OperationFailed

    class Client:
        def __init__(self, **_: Any) -> None:
            pass

        async def __aenter__(self) -> Client:
            return self

        async def __aexit__(self, *_: object) -> None:
            return None

        async def run_job(self, name: str) -> Any:
            raise OperationFailed(f"job {name} not started: the daemon is stopping")

        async def job_runs(self, name: str, *, limit: int = 20) -> list[Any]:
            raise AssertionError("nothing to wait for")

    monkeypatch.setattr(client_module, "DaemonClient", Client)
    monkeypatch.setattr(cli_demo, "POLL_S", 0.0)
    with pytest.raises(OperationFailed, match="the daemon is stopping"):
        cli_demo._run_generation(timeout_s=30)


@pytest.mark.parametrize(
    ("speed", "reason"),
    [
        ("inf", "must be a finite number"),
        ("nan", "must be a finite number"),
        ("0", "must be > 0"),
        ("-5", "must be > 0"),
    ],
)
def test_a_speed_that_is_no_pace_is_refused_before_anything_is_written(
    mt: MT, tmp_path: Path, speed: str, reason: str
) -> None:
    """`mt demo --speed inf` (or nan) reached the demo's config and ended in a pydantic traceback."""
    home = tmp_path / "demo"
    result = mt("demo", "--no-tui", "--speed", speed, "--home", str(home))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("mt: error: invalid --speed ") and result.stderr.count("\n") == 1
    assert reason in result.stderr
    assert not home.exists()
