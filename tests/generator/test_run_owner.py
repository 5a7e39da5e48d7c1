"""A `mt generate` killed mid-search (kill -9, a crash) left its generation run "running" for ever:
nothing recorded which process ran it, so nothing could tell it from a run still going on elsewhere. Each
run now names its owner (pid, host, the process's start), and a run whose owner on this host has ended is
marked "interrupted" when runs are listed or a new one starts; a live owner's run never is."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from mastertrade.db.models.strategies import GenerationRun
from mastertrade.engine.generator.run_owner import RunOwner
from mastertrade.engine.generator.store import StrategyStore
from mastertrade.pids import process_started, same_process
from tests.conftest import MT

STARTED = datetime(2026, 12, 5, 9, 0, 0, tzinfo=UTC)
WAIT = [sys.executable, "-c", "import signal; signal.pause()"]


@pytest.fixture
def alive() -> Iterator[subprocess.Popen[bytes]]:
    """Another process, running until the test ends (a `mt generate` still searching)."""
    with subprocess.Popen(WAIT) as process:
        try:
            yield process
        finally:
            process.kill()


def ended() -> RunOwner:
    """A process that ran and ended (a `mt generate` killed): its owner record, taken while it ran."""
    with subprocess.Popen(WAIT) as process:
        owner = RunOwner(process.pid, RunOwner.current().host, process_started(process.pid))
        process.kill()
    return owner


def run_row(owner: RunOwner | None, symbol: str = "BTC/USDT") -> GenerationRun:
    return GenerationRun(
        trigger="cli", exchange="sim", symbol=symbol, timeframe="1h", seed=1, outcome="running",
        started_at=STARTED, owner_pid=owner and owner.pid, owner_host=owner and owner.host,
        owner_started=owner and owner.started,
    )  # fmt: skip


def table_cells(table: str) -> list[list[str]]:
    """The header's and each row's cells of a table ``print_table`` drew."""
    lines = [line.strip("┃│") for line in table.splitlines() if line.startswith(("┃", "│"))]
    return [[cell.strip() for cell in line.replace("┃", "│").split("│")] for line in lines]


def test_a_process_is_told_from_a_later_one_given_its_pid(alive: subprocess.Popen[bytes]) -> None:
    started = process_started(alive.pid)
    assert started is not None and started != process_started(RunOwner.current().pid)
    assert same_process(alive.pid, started) and same_process(alive.pid, None)
    assert not same_process(alive.pid, "another-boot/1")  # its pid, another process
    gone = ended()
    assert process_started(gone.pid) is None and not same_process(gone.pid, gone.started)


async def test_a_killed_run_is_interrupted_when_runs_are_read_and_a_live_one_is_not(
    database: Any, alive: subprocess.Popen[bytes]
) -> None:
    here = RunOwner.current()
    killed_by = ended()
    owners = {
        "killed": killed_by,
        "live": RunOwner(alive.pid, here.host, process_started(alive.pid)),
        "this process": here,
        "pid reused": RunOwner(alive.pid, here.host, "another-boot/1"),
        "another host": RunOwner(alive.pid + 1_000_000, "elsewhere", None),  # cannot be looked at
        "no owner": None,  # stored before owners were recorded
    }
    async with database.sessions() as session:
        for name, owner in owners.items():
            session.add(run_row(owner, symbol=name))
        await session.commit()
    store = StrategyStore(database)
    listed = {run.symbol: run for run in await store.runs()}
    outcomes = {name: run.outcome for name, run in listed.items()}
    assert outcomes == {
        "killed": "interrupted",
        "live": "running",
        "this process": "running",
        "pid reused": "interrupted",
        "another host": "running",
        "no owner": "running",
    }
    killed = listed["killed"]
    assert killed.error == "the process running it stopped before it finished"
    assert killed.finished_at is not None and killed.duration_s is None  # it ended unseen
    assert killed.as_dict()["owner"] == {"pid": killed_by.pid, "host": here.host}
    assert listed["no owner"].owner is None and listed["no owner"].as_dict()["owner"] is None


async def test_a_new_run_marks_the_runs_of_dead_owners_and_records_its_own(
    database: Any, alive: subprocess.Popen[bytes]
) -> None:
    live = RunOwner(alive.pid, RunOwner.current().host, process_started(alive.pid))
    async with database.sessions() as session:
        session.add(run_row(ended()))
        session.add(run_row(live))
        await session.commit()
    store = StrategyStore(database)
    run_id = await store.start_run(
        trigger="cli", exchange="sim", symbol="BTC/USDT", timeframe="1h", seed=7, parameters={}
    )
    # read one by one (`run` judges nothing): the start did it
    assert [(await store.run(i)).outcome for i in (1, 2, run_id)] == ["interrupted", "running", "running"]
    assert (await store.run(run_id)).owner == RunOwner.current()


def test_mt_strategy_runs_shows_a_killed_run_interrupted_and_a_live_one_running(
    mt: MT, db_url: str, alive: subprocess.Popen[bytes]
) -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    live = RunOwner(alive.pid, RunOwner.current().host, process_started(alive.pid))

    async def setup() -> None:
        db = await Database.open(load_settings())
        try:
            store = StrategyStore(db)
            done = await store.start_run(
                trigger="nightly", exchange="sim", symbol="ETH/USDT", timeframe="4h", seed=3, parameters={}
            )
            counts = {"scored": 12_345, "stored": 50, "passed": 2, "failed": 48}
            await store.finish_run(done, outcome="ok", counts=counts, timings={"total_s": 754.2})
            async with db.sessions() as session:
                session.add(run_row(ended(), symbol="SOL/USDT"))
                session.add(run_row(live))
                await session.commit()
        finally:
            await db.close()

    asyncio.run(setup())
    shown = mt("strategy", "runs")
    assert shown.exit_code == 0, shown.stderr
    cells = table_cells(shown.stdout)
    assert cells[0] == ["id", "started", "market", "kind", "outcome", "scored", "stored", "passed", "took"]
    counted = [row[:8] for row in cells[1:]]
    assert (
        counted
        == [  # newest first
            ["3", "2026-12-05T09:00:00Z", "BTC/USDT 1h", "mt generate", "running", "-", "-", "-"],
            ["2", "2026-12-05T09:00:00Z", "SOL/USDT 1h", "mt generate", "interrupted", "-", "-", "-"],
            [*cells[3][:2], "ETH/USDT 4h", "nightly", "ok", "12,345", "50", "2"],
        ]
    )
    assert cells[1][8].endswith(" so far") and cells[2][8] == "-" and cells[3][8] == "12m 34s"

    documents = mt.json("strategy", "runs", "--limit", "2")
    assert [(d["id"], d["trigger"], d["outcome"], d["symbol"]) for d in documents] == [
        (3, "cli", "running", "BTC/USDT"),
        (2, "cli", "interrupted", "SOL/USDT"),
    ]
    assert documents[0]["owner"] == {"pid": alive.pid, "host": live.host}
    assert documents[1]["error"] == "the process running it stopped before it finished"
    assert documents[0]["duration_s"] is None and documents[1]["duration_s"] is None
    nightly = mt.json("strategy", "runs")[2]
    assert nightly["counts"]["scored"] == 12_345 and nightly["duration_s"] == 754.2
    assert nightly["owner"]["pid"] > 0 and nightly["started_at"].endswith("Z")


def test_mt_strategy_runs_says_when_there_is_none(mt: MT, db_url: str) -> None:
    shown = mt("strategy", "runs")
    assert shown.exit_code == 0 and shown.stdout == ""
    assert "no generation runs yet" in shown.stderr
    assert mt.json("strategy", "runs") == []


def test_a_short_run_shows_its_tenths_of_a_second() -> None:
    from mastertrade.cli.generation_runs import took_text

    assert [took_text(s) for s in (0.93, 2.37, 59.94, 59.96, 754.2)] == [
        "0.9s",
        "2.4s",
        "59.9s",
        "1m 00s",
        "12m 34s",
    ]
