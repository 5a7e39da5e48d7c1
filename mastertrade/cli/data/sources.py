"""``mt data sources``: the alternative-data sources, their state, last value and schedule.

It reads what the collectors persisted (the daemon need not run). ``--refresh`` polls the enabled
sources once now, stores their values and then lists them: the way to collect without the daemon, e.g.
from cron; it exits 1, naming them, when any source it polled failed. Keys are never shown: only
whether one is configured.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run, settings


def list_sources(
    names: Annotated[
        list[str] | None, typer.Argument(help="Only these sources (default: all).", show_default=False)
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Poll the enabled sources once now (needs the network); exit 1 naming any that failed.",
        ),
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """List alternative-data sources: state (ok/stale/disabled/error), last value, last update,
    schedule and whether a key is configured."""
    from mastertrade.engine.collectors.report import source_report

    config = settings()

    async def load() -> list[dict[str, Any]]:
        db = await open_db(config)
        try:
            return await source_report(
                db, config.collectors, names=names, refresh=refresh, venue=config.market.venue
            )
        finally:
            await db.close()

    report = run(load)
    if json_out:
        print_json(report)
        _fail_on_refresh_errors(report)
        return
    rows = [
        (
            item["source"],
            item["state"] + (f" ({item['reason']})" if item["reason"] else ""),
            _last_value(item["last_values"]),
            item["last_success"] or "-",
            _every(item["interval_s"]),
            ("yes" if item["key_configured"] else "no") if item["needs_key"] else "-",
        )
        for item in report
    ]
    print_table(["source", "state", "last value", "last update", "every", "key"], rows)
    from mastertrade.engine.collectors.sentiment import scoring

    info(f"sentiment scoring: {scoring(config.collectors)}")
    _fail_on_refresh_errors(report)


def _fail_on_refresh_errors(report: list[dict[str, Any]]) -> None:
    """Exit 1 naming every source this ``--refresh`` polled without success: from cron, a refresh
    that stored nothing must not look like one that worked."""
    from mastertrade.errors import OperationFailed

    failed = [item for item in report if item.get("refreshed") and item["state"] != "ok"]
    if failed:
        reasons = "; ".join(f"{item['source']}: {item['reason'] or item['state']}" for item in failed)
        polled = sum(1 for item in report if item.get("refreshed"))
        raise OperationFailed(f"{len(failed)} of {polled} sources failed to refresh: {reasons}")


def _last_value(values: list[dict[str, Any]]) -> str:
    if not values:
        return "-"
    first = values[0]
    symbol = f" {first['symbol']}" if first.get("symbol") else ""
    more = f" (+{len(values) - 1})" if len(values) > 1 else ""
    return f"{first['name']}{symbol} = {first['value']:.6g}{more}"


def _every(seconds: float | None) -> str:
    if not seconds:
        return "-"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
