"""``mt daemon run JOB``: start one of the daemon's jobs now (the nightly run by hand) and wait for it.

The daemon's scheduler runs the job exactly as its schedule would (same function, same run record),
with the trigger "manual": a manual run is never held back by ``[scheduler] simulated_min_gap_s``.
Waiting polls the job's run record until it has an outcome; Ctrl-C stops waiting, not the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, error, info, print_json, print_table, stderr
from mastertrade.cli.run_line import SHORTEST_LINE

if TYPE_CHECKING:
    from mastertrade.engine.api.schemas import JobRunInfo

_POLL_S = 0.5


def run_job(
    name: Annotated[
        str, typer.Argument(metavar="JOB", help="The job (`mt status` lists them), e.g. nightly_generation.")
    ],
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the run's outcome (default) or return at once.")
    ] = True,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Run a daemon job now, e.g. the nightly run: `mt daemon run nightly_generation`.

    It runs in the daemon exactly as its schedule runs it, recorded as a manual run (`mt status`). Exit
    status 0 when the run's outcome is ok, 1 when it failed or could not start (already running, not
    available here: the reason is said) or, for ml_retrain, a model did not train (each model's result is
    printed); Ctrl-C stops waiting and leaves the run going."""
    from mastertrade.cli.runtime import run as run_async
    from mastertrade.client import DaemonClient

    async def start_and_wait() -> JobRunInfo:
        import asyncio

        async with DaemonClient(timeout=30.0) as client:
            started = await client.run_job(name)
            if not json_out:
                info(f"job {name} run {started.id} started")
            while wait:
                for run in await client.job_runs(name, limit=20):
                    if run.id == started.id and run.finished_at is not None:
                        return run
                await asyncio.sleep(_POLL_S)
            return started

    run = run_async(start_and_wait)
    failed = run.finished_at is not None and run.outcome != "ok"
    models = run.result.get("models") if isinstance(run.result, dict) else None
    untrained = [key for key, item in (models or {}).items() if isinstance(item, dict) and "error" in item]
    if json_out:
        print_json(run.model_dump(mode="json"))
        raise typer.Exit(1 if failed or untrained else 0)
    if run.finished_at is None:
        info(f"it runs in the daemon; `mt status` shows its outcome when it ends (run {run.id})")
        return
    took = f" in {run.duration_s:.1f} s" if run.duration_s is not None else ""
    head = f"job {name} run {run.id}: "
    said = run.summary or run.outcome  # what it did, as `mt status` says it: "ok: 0 of 3 series searched ..."
    nightly = isinstance(run.result, dict) and "series" in run.result
    if run.summary_list is not None and not run.error:
        # a list of fifty skipped series shortened to the first and "+49 more: see below" (the series
        # table lists each), so the line stays a line of the terminal, its counts first
        where = "see below" if nightly or isinstance(models, dict) else "see `mt status --json`"
        room = max(stderr().width - len(head) - len(took), SHORTEST_LINE)
        said = run.summary_list.listed().fit(room, where)
    # an error whole: here is where a trader reads why it failed (`mt status` shows its first line)
    info(f"{head}{said}{took}" + (f": {run.error}" if run.error else ""))
    if isinstance(run.result, dict) and "series" in run.result:
        _print_nightly(run.result)
    if isinstance(models, dict):
        _print_models(models)
    if untrained:
        # the run went through its list, but a model it could not train is a retraining that failed
        error(f"{len(untrained)} of {len(models or {})} models did not train: {', '.join(untrained)}")
    if failed or untrained:
        raise typer.Exit(1)


def _print_models(models: dict[str, Any]) -> None:
    """The ``ml_retrain`` job's report: each model and market, its new version and hold-out verdict, or
    why it was not trained."""
    for key, item in models.items():
        if not isinstance(item, dict):
            continue
        if "error" in item:
            typer.echo(f"{key}: not trained: {item['error']}")
        else:
            typer.echo(f"{key}: model {item.get('version')}, {item.get('verdict') or 'no verdict'}")
            if item.get("holdout_note"):
                typer.echo(f"{key}: {item['holdout_note']}")
            if item.get("candles_changed"):  # trained again from scratch: its old forecasts meant nothing
                typer.echo(
                    f"{key}: its candles changed since its training, so it was trained again from them"
                    " and its stored forecasts replaced"
                )


def _print_nightly(result: dict[str, Any]) -> None:
    """A nightly run's report: each series, the strategies started on paper, the rules' decisions."""
    rows = []
    for entry in result.get("series", []):
        counts = entry.get("counts") or {}
        note = entry.get("skipped") and f"skipped: {entry['skipped']}"
        rows.append(
            (
                entry.get("symbol"),
                entry.get("timeframe"),
                entry.get("run_id", "-"),
                counts.get("stored", "-"),
                counts.get("passed", "-"),
                note or entry.get("paper_note", ""),
            )
        )
    print_table(
        ["symbol", "timeframe", "run", "stored", "passed", "note"],
        rows,
        title=f"Nightly run of {result.get('date')}, seed {result.get('seed')}"
        + (" on SIMULATED data" if result.get("simulated") else ""),
        right=["run", "stored", "passed"],
    )
    for item in result.get("resumed") or []:  # a night cut short left them passed
        info(f"on paper (from a night cut short): {item['id']} {item['name']}: {item['reason']}")
    paper = result.get("paper") or []
    for item in paper:
        info(f"on paper: {item['id']} {item['name']}: {item['reason']}")
    if not paper:
        info("no strategy started paper trading")
    decisions = result.get("decisions") or []
    moved = [item for item in decisions if item.get("action") != "keep"]
    for item in moved:
        info(f"{item['action']}: {item['id']} {item['name']}: {item['reason']}")
    kept = len(decisions) - len(moved)
    if decisions:
        kept_as = "strategy kept as it is" if kept == 1 else "strategies kept as they are"
        info(f"{kept} paper or active {kept_as}")
