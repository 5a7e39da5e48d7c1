"""``mt strategy runs``: the generation runs that stored the strategies, newest first.

Each row is one run on one series (a universe run is one per series): ``mt generate`` and ``mt optimize
--evolve`` runs and the daemon's nightly ones, read from the database as ``mt strategy list`` reads the
strategies. A run left "running" by a process that has died (a ``mt generate`` killed mid-search) is marked
"interrupted" as the runs are read (``StrategyStore.mark_abandoned``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run

if TYPE_CHECKING:
    from datetime import datetime

    from mastertrade.engine.generator.store import RunRecord

KINDS = {"cli": "mt generate", "optimize": "mt optimize", "nightly": "nightly"}
"""What started a run, by its trigger as stored."""


def runs(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")] = 20,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """List the generation runs, newest first: market, what started it, outcome, counts and duration.

    Outcomes: running, ok, error, cancelled (Ctrl-C, SIGTERM) and interrupted (its process ended without
    a word: killed, crashed, or the daemon stopped during its nightly run). `--json` has each run's
    parameters, seed, counts and timings."""

    async def fetch() -> tuple[list[RunRecord], datetime]:
        from mastertrade.db.types import utcnow
        from mastertrade.engine.generator.store import StrategyStore

        db = await open_db()
        try:
            return await StrategyStore(db).runs(limit=limit), utcnow()
        finally:
            await db.close()

    found, now = run(fetch)
    if json_out:
        print_json([record.as_dict() for record in found])
        return
    if not found:
        info("no generation runs yet: `mt generate` runs one")
        return
    print_table(
        ["id", "started", "market", "kind", "outcome", "scored", "stored", "passed", "took"],
        [_row(record, now) for record in found],
        right=["id", "scored", "stored", "passed", "took"],
    )


def _row(record: RunRecord, now: datetime) -> tuple[Any, ...]:
    from mastertrade.cli.daemon import duration
    from mastertrade.utc import iso

    took = record.duration_s
    if record.outcome == "running":
        shown = f"{duration((now - record.started_at).total_seconds())} so far"
    else:
        shown = "-" if took is None else took_text(took)
    counts = record.counts
    return (
        record.id,
        iso(record.started_at, "seconds"),
        f"{record.symbol} {record.timeframe}",
        KINDS.get(record.trigger, record.trigger),
        record.outcome,
        *(
            f"{counts[key]:,}" if isinstance(counts.get(key), int) else "-"
            for key in ("scored", "stored", "passed")
        ),
        shown,
    )


def took_text(seconds: float) -> str:
    """How long a finished run took: under a minute (most runs) in tenths of a second, where whole
    seconds showed a run of 0.9 s as "0s"; longer as the daemon's uptime is shown."""
    from mastertrade.cli.daemon import duration

    return f"{seconds:.1f}s" if seconds < 59.95 else duration(round(seconds))
