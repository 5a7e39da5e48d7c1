"""``mt data check``: gaps, off-grid and duplicate timestamps, inconsistent bars and outliers of a
series; ``--repair`` re-downloads the gaps from the series' exchange and checks again."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mastertrade.cli.data.options import ExchangeOption, TimeframeOption
from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.cli.runtime import open_db, run, settings


def check_series(
    symbol: Annotated[str, typer.Argument(help="Symbol to check, e.g. BTC/USDT.")],
    timeframe: Annotated[str, TimeframeOption],
    exchange: Annotated[str | None, ExchangeOption] = None,
    repair: Annotated[
        bool,
        typer.Option("--repair", help="Re-download the gaps from the series' exchange, then check again."),
    ] = False,
    return_threshold: Annotated[
        float | None,
        typer.Option(
            "--return-threshold", help="Flag returns beyond this many local robust sigmas (default 15)."
        ),
    ] = None,
    range_threshold: Annotated[
        float | None,
        typer.Option(
            "--range-threshold",
            help="Flag bars whose range exceeds this many local median ranges (default 10).",
        ),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Check a stored series: gaps, off-grid or duplicate timestamps, inconsistent bars, outliers.

    Findings do not change the exit code (0); the JSON document says "ok": false. --repair exits 2 with
    the reason when the series was not downloaded (simulated or imported data).
    """
    from mastertrade.engine.market import quality
    from mastertrade.engine.market.ccxt_venue import CcxtVenue, exchange_ids
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import timeframe_ms
    from mastertrade.errors import UserInputError

    timeframe_ms(timeframe)
    limits: dict[str, Any] = {}
    for name, value in (("return", return_threshold), ("range", range_threshold)):
        if value is not None and not value > 0:
            raise UserInputError(f"invalid --{name}-threshold {value}: must be > 0")
        if value is not None:
            limits[f"{name}_threshold"] = value
    config = settings()

    async def examine() -> quality.QualityReport:
        db = await open_db(config)
        try:
            store = CandleStore(db)
            key = await store.resolve(symbol, timeframe, exchange)
            report = await quality.check_series(store, key, **limits)
            if not repair:
                return report
            before = report.missing
            fixed = quality.RepairResult([], [])
            if report.gaps:
                reason = quality.cannot_repair(key, exchange_ids())
                if reason:
                    raise UserInputError(reason)
                async with CcxtVenue(config.exchange, exchange_id=key.exchange) as venue:
                    fixed = await quality.repair_gaps(
                        store, venue, key, report.gaps, page_limit=config.exchange.page_limit
                    )
                report = await quality.check_series(store, key, **limits)
            report.repair = {
                **fixed.as_dict(),
                "missing_before": before,
                "filled": before - report.missing,
                "still_missing": report.missing,
            }
            return report
        finally:
            await db.close()

    report = run(examine)
    if json_out:
        print_json(report.as_dict())
        return
    _print(report.as_dict())


def _print(report: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    rows += [("gap", f"{g['start']} .. {g['end']}", f"{g['bars']} bars missing") for g in report["gaps"]]
    rows += [("off grid", ts, "not on the timeframe's bar grid") for ts in report["off_grid"]]
    rows += [("duplicate", ts, "timestamp appears more than once") for ts in report["duplicates"]]
    rows += [("inconsistent", b["time"], ", ".join(b["problems"])) for b in report["inconsistent"]]
    rows += [
        ("outlier", o["time"], f"{o['kind']} {o['value']:.6g} ({o['score']:g}x the local scale)")
        for o in report["outliers"]
    ]
    title = (
        f"{report['series']}{' (simulated)' if report['simulated'] else ''}: {report['rows']:,} bars, "
        f"{report['first']} .. {report['last']}, {report['missing']:,} missing"
    )
    if rows:
        print_table(["finding", "time", "detail"], rows, title=title)
    else:
        info(f"{title}: no problems found")
    if report["truncated"]:
        counts = ", ".join(f"{count:,} {name}" for name, count in report["counts"].items() if count)
        info(f"showing the first entries of each kind; in all: {counts} (use --json)")
    fixed = report["repair"]
    if fixed is not None:
        info(
            f"repair: {fixed['filled']:,} of {fixed['missing_before']:,} missing bars filled "
            f"({fixed['requests']} requests); {fixed['still_missing']:,} still missing"
            + (" (the exchange may have had an outage there)" if fixed["still_missing"] else "")
        )
