"""``mt status``: the running daemon at a glance: services, venue, last candle per symbol, event lag,
jobs and uptime."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mastertrade.cli.daemon import duration, with_client
from mastertrade.cli.output import JsonOption, info, print_json, print_table, stdout
from mastertrade.cli.run_line import said, shortened
from mastertrade.utc import iso


def status(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Show the daemon's services, venue, last candle per symbol, event lag, jobs and uptime."""
    from mastertrade.cli.config_drift import warn_if_changed

    report = with_client(lambda client: client.status(), timeout_s=5.0)
    changed = warn_if_changed(report.config_digest)
    if json_out:
        print_json(report.model_dump(mode="json") | {"config_files_changed": changed})
        return
    venue = report.venue
    lag = report.events.lag
    lag_text = f"p50 {lag.p50_ms:g} ms, p99 {lag.p99_ms:g} ms" if lag.p99_ms is not None else "no events yet"
    out = stdout()  # the headline is the answer to "what is running", so it is data: stdout
    out.print(
        f"daemon {report.version}: pid {report.pid}, up {duration(report.uptime_s)}, mode {report.mode}"
        + (" (stopping)" if report.stopping else "")
        + (" (recovered from an unclean stop)" if report.recovered else ""),
        markup=False,
    )
    simulated = ", simulated prices" if venue.simulated else ""
    out.print(f"venue: {venue.id} ({venue.kind}{simulated}), {report.timeframe}", markup=False)
    if venue.ended:
        out.print(venue.ended, markup=False)
    out.print(
        f"events: {report.events.published:,} published, {report.events.dropped:,} dropped, "
        f"queue depth {report.events.max_queue_depth}, lag {lag_text}",
        markup=False,
    )
    print_table(
        ["service", "state", "restarts", "last error"],
        [(s.name, s.state, s.restarts, s.last_error or "") for s in report.services],
        right=["restarts"],
    )
    print_table(
        ["symbol", "price", "last closed bar", "feed"],
        [
            (
                s.symbol,
                _price(s.price, s.tick),
                iso(s.last_closed) if s.last_closed else _no_closed_bar(venue.kind),
                f"failing since {iso(s.feed_error_since)}: {s.feed_error}"
                if s.feed_error and s.feed_error_since
                else "ok",
            )
            for s in report.symbols
        ],
        right=["price"],
    )
    # on a simulated market schedules run on market time, while a run record says when it really started
    clocks = (" (market time)", " (wall clock)") if venue.simulated else ("", "")
    # what each last run did, or why it failed, in at most a line of the terminal: fifty skipped series
    # filled a screen; what is left out is in --json
    width = stdout().width
    outcomes = {job.name: shortened(job.last_run, width, "see below") for job in report.jobs if job.last_run}
    print_table(
        ["job", "schedule", f"next run{clocks[0]}", f"last run{clocks[1]}", "outcome"],
        [
            (
                job.name,
                job.schedule or "manual",
                _next_run(job.next_run, job.held_until) if job.next_run else (job.reason or ""),
                iso(job.last_run.started_at) if job.last_run else "",
                outcomes.get(job.name, ""),
            )
            for job in report.jobs
        ],
    )
    if any(outcomes[job.name] != said(job.last_run) for job in report.jobs if job.last_run):
        info(
            "Outcomes cut to a line (…, +N more) are whole in `mt status --json`; a failed run's traceback:"
            " `mt daemon logs`."
        )
    if report.sources:
        print_table(
            ["source", "state", "last update", "next poll", "failures"],
            [
                (
                    s.source,
                    s.state + (f" ({s.reason})" if s.reason else ""),
                    iso(s.last_success) if s.last_success else "",
                    iso(s.next_poll) if s.next_poll else "",
                    s.failures,
                )
                for s in report.sources
            ],
            right=["failures"],
        )


def _no_closed_bar(kind: str) -> str:
    """The last closed bar's cell when there is none: a replay holds stored bars it has not served yet."""
    return "none served yet" if kind == "replay" else "none stored"


def _next_run(when: datetime, held_until: datetime | None) -> str:
    """The next scheduled fire, and when a heavy job on simulated time is held back, until when (its runs
    are skipped until then, so the fires before it do not run)."""
    if held_until is None:
        return iso(when)
    return f"{iso(when)}, but none before {iso(held_until, 'seconds')} (wall clock)"


def _price(value: float | None, tick: float | None) -> str:
    """A symbol's last price: on the market's tick when the exchange gives one (31,247.20, never
    31247.2 or 31,247.199999999997), else to eight significant digits (the simulated market has no tick)."""
    if value is None:
        return ""
    if tick is None:
        return f"{value:,.8g}"
    from mastertrade.prices import price

    return price(value, tick)
