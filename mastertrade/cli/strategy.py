"""``mt strategy``: strategies as data.

``show`` prints a strategy's genome so a user can copy it, edit it and backtest the file
(``mt strategy show sma_cross --json > mine.json``; ``mt backtest mine.json ...``); ``builtins`` lists
the built-in strategies and the installed plugin strategies.

Stored strategies (what ``mt generate`` and the nightly run store) are named by their id, 16 hex digits
or any unique prefix of at least 4: ``list`` shows them, ``show ID`` their validation and history,
``paper``/``activate``/``pause``/``retire`` move them through the pipeline (an illegal move exits 2 and
names the allowed ones), ``export`` writes the genome file ``mt backtest`` reproduces. ``runs`` lists the
generation runs that stored them (``cli/generation_runs.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli import output
from mastertrade.cli.output import JsonOption, print_json, print_table
from mastertrade.cli.runtime import open_db, run

if TYPE_CHECKING:
    from mastertrade.engine.generator.store import StoredStrategy
    from mastertrade.engine.signals.loader import StoredLookup
    from mastertrade.engine.signals.strategy import Strategy

app = typer.Typer(
    help="Strategies: show a genome, list built-in, plugin and stored strategies and the generation runs"
    " that stored them, move stored ones through paper and active trading, export them.",
    no_args_is_help=True,
)

SymbolOption = typer.Option("--symbol", help="Fill in the genome's symbol, e.g. BTC/USDT.")
TimeframeOption = typer.Option("--timeframe", help="Fill in the genome's timeframe, e.g. 1h.")


@app.command("show")
def show(
    name: Annotated[
        str,
        typer.Argument(help="A built-in name, a genome JSON file, a stored strategy id or a plugin name."),
    ],
    symbol: Annotated[str | None, SymbolOption] = None,
    timeframe: Annotated[str | None, TimeframeOption] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Print a strategy's rules in words and its genome JSON.

    With --json, only the genome document that `mt backtest FILE` accepts: save, edit, backtest it.

    A plugin strategy shows its description and settings. A stored strategy shows its state, its
    validation (full, in-sample and out-of-sample metrics, deflated Sharpe ratio, reference engine) and its
    history; with --json the whole record, its genome under "genome" (`mt strategy export` writes the file).
    """
    from mastertrade.engine.market.timeframes import check_timeframe
    from mastertrade.engine.signals.loader import load_strategy

    if timeframe is not None:
        check_timeframe(timeframe, what="--timeframe")
    found = _find_stored(name)
    if found is not None:
        if symbol or timeframe:
            from mastertrade.errors import UserInputError

            raise UserInputError(
                f"stored strategy {found[0].id} trades {found[0].symbol} {found[0].timeframe}: to use it"
                " elsewhere, `mt strategy export` it and edit the file"
            )
        _show_stored(*found, json_out)
        return
    strategy = load_strategy(name, symbol, timeframe, stored=stored_lookup(name))
    if strategy.genome is None:
        _show_plugin(strategy, json_out)
        return
    if json_out:
        print_json(strategy.genome.to_dict())
        return
    from mastertrade.engine.signals.canonical import fingerprint
    from mastertrade.engine.signals.describe import describe, pretty_json

    typer.echo(describe(strategy.genome, multiline=True))
    typer.echo(f"  source {strategy.source}, fingerprint {fingerprint(strategy.genome)}")
    typer.echo("")
    typer.echo(pretty_json(strategy.genome.to_dict()))


def _show_plugin(strategy: Strategy, json_out: bool) -> None:
    from mastertrade.engine.signals.plugins import installed_plugins

    info = installed_plugins().get(strategy.name)
    document = {
        "name": strategy.name,
        "source": strategy.source,
        "description": strategy.description,
        "distribution": info.distribution if info else None,
        "symbol": strategy.symbol,
        "timeframe": strategy.timeframe,
        "stop_loss": strategy.stop_loss,
        "take_profit": strategy.take_profit,
        "trailing_stop": strategy.trailing_stop,
        "size": strategy.size,
    }
    if json_out:
        print_json(document)
        return
    width = max(len(key) for key in document)
    for key, value in document.items():
        typer.echo(f"{key:<{width}}  {'-' if value is None else value}")


@app.command("builtins")
def builtins(json_out: Annotated[bool, JsonOption] = False) -> None:
    """List the built-in strategies and the installed plugin strategies, with what they do."""
    from mastertrade.engine.signals.builtins import BUILTINS
    from mastertrade.engine.signals.describe import describe
    from mastertrade.engine.signals.plugins import installed_plugins, load_plugin
    from mastertrade.errors import OperationFailed

    rows: list[dict[str, Any]] = [
        {"name": name, "source": "builtin", "distribution": None, "description": describe(genome)}
        for name, genome in BUILTINS.items()
    ]
    for name, info in sorted(installed_plugins().items()):
        try:
            description = load_plugin(name).description
        except OperationFailed as exc:
            description = f"(broken: {exc})"
        rows.append(
            {"name": name, "source": "plugin", "distribution": info.distribution, "description": description}
        )
    if json_out:
        print_json(rows)
        return
    table = [
        (
            row["name"],
            row["source"] + (f" ({row['distribution']})" if row["distribution"] else ""),
            row["description"],
        )
        for row in rows
    ]
    print_table(["name", "source", "description"], table)


# --- stored strategies ------------------------------------------------------------------------------

_ID = re.compile(r"[0-9a-fA-F]{4,16}")


def _may_be_stored(spec: str) -> bool:
    """A spec that can only be a stored id: hex digits, not a built-in, not an existing file."""
    from mastertrade.engine.signals.builtins import BUILTINS

    return _ID.fullmatch(spec) is not None and spec not in BUILTINS and not Path(spec).is_file()


def stored_lookup(spec: str) -> StoredLookup | None:
    """The ``stored=`` hook of ``load_strategy`` for a command-line spec: the database is opened only
    when the spec can be a stored id (so `mt backtest sma_cross` never touches it)."""
    if not _may_be_stored(spec):
        return None

    async def fetch() -> StoredLookup:
        from mastertrade.engine.generator.store import StrategyStore

        db = await open_db()
        try:
            return await StrategyStore(db).resolver(spec)
        finally:
            await db.close()

    return run(fetch)


def stored_record(spec: str) -> StoredStrategy | None:
    """The stored strategy ``spec`` names (an id or a unique prefix), or None when it names none."""
    found = _find_stored(spec)
    return None if found is None else found[0]


def _find_stored(spec: str) -> tuple[StoredStrategy, list[dict[str, Any]]] | None:
    """The stored strategy ``spec`` names and its history, or None when it names none."""
    if not _may_be_stored(spec):
        return None

    async def fetch() -> tuple[StoredStrategy, list[dict[str, Any]]] | None:
        from mastertrade.engine.generator.store import StrategyStore
        from mastertrade.errors import NotFound

        db = await open_db()
        try:
            store = StrategyStore(db)
            try:
                found = await store.get(spec)
            except NotFound:
                return None
            return found, [item.as_dict() for item in await store.history(found.id)]
        finally:
            await db.close()

    return run(fetch)


def _stored_document(strategy: StoredStrategy, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {**strategy.as_dict(), "description": strategy.description(), "history": history}


def _number(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _show_stored(strategy: StoredStrategy, history: list[dict[str, Any]], json_out: bool) -> None:
    document = _stored_document(strategy, history)
    if json_out:
        print_json(document)
        return
    from mastertrade.engine.signals.describe import pretty_json

    typer.echo(strategy.description(multiline=True))
    typer.echo(f"  id {strategy.id}, {strategy.state.value} since {document['state_since']}")
    typer.echo("")
    report = strategy.metrics.get("report")
    if report is not None:  # added by the trader: no search, the backtest attached for reference
        parts = [("backtest, whole series (for reference)", report)]
        if strategy.holdout:  # a trained policy's hold-out, scored once by `mt rl train`
            parts.append(("hold-out (never searched)", strategy.holdout))
    else:
        parts = [
            ("search window (full)", strategy.metrics),
            ("search: in-sample", strategy.in_sample),
            ("search: test folds (optimised)", strategy.search),
            ("hold-out (never searched)", strategy.holdout),
        ]
    baseline = strategy.selection.get("holdout_buy_and_hold")
    if baseline:  # the naive baseline over the same bars (runs since it was recorded)
        held = strategy.holdout
        parts.append(
            ("buy-and-hold, hold-out", {"start": held.get("start"), "end": held.get("end"), **baseline})
        )
    rows = [
        (
            label,
            f"{metrics.get('start', '')} .. {metrics.get('end', '')}",
            _number(metrics.get("return_pct")),
            _number(metrics.get("sharpe")),
            _number(metrics.get("max_drawdown_pct")),
            metrics.get("trades", "n/a"),
            _number(metrics.get("exposure_pct"), 1),
        )
        for label, metrics in parts
    ]
    print_table(
        ["part", "bars", "return %", "Sharpe", "max DD %", "trades", "exposure %"],
        rows,
        right=["return %", "Sharpe", "max DD %", "trades", "exposure %"],
    )
    reference = strategy.reference
    if reference is None:
        checked = "not re-run (only finalists are)"
    elif reference.get("agrees"):
        checked = (
            f"agrees ({reference['trades_fast']} trades, final equity {reference['final_equity_fast']:,.2f})"
        )
    else:
        checked = f"DISAGREES: {reference.get('mismatch')}"
    selection = strategy.selection
    trials = selection.get("deflated_trials") or {}
    if selection.get("legacy"):
        typer.echo("stored before the hold-out existed: its figures were seen by the search (no hold-out)")
    from mastertrade.engine.generator.tuned_file import is_tuned

    if is_tuned(selection):  # added from a genome file `mt optimize --out` wrote: what its tuning said
        _show_tuning(strategy)
    elif report is not None and not strategy.holdout:
        typer.echo(
            "added by the trader: no search and no hold-out, so no deflated Sharpe ratio; the backtest is"
            f" not out-of-sample (`mt validate {strategy.id}` reports walk-forward windows)"
        )
    else:
        typer.echo(
            f"deflated Sharpe {_number(strategy.deflated_sharpe, 3)} of the hold-out Sharpe, with N ="
            f" {trials.get('trials_used', trials.get('trials', 'n/a'))} trials (every candidate scored on"
            f" this series' overlapping bars) and V = {_number(trials.get('variance_used'), 5)} per day"
            f" ({trials.get('variance_source', 'not recorded')}); reference engine {checked}"
        )
    pbo = selection.get("pbo")
    if pbo:
        typer.echo(
            f"probability of backtest overfitting of its run: {pbo['pbo']:.2f}"
            f" (CSCV, {pbo['trials']} candidates, {pbo['blocks']} blocks)"
        )
    from mastertrade.engine.generator.report import versus_buy_and_hold, versus_cash

    # below its starting cash, and, money and risk-adjusted both (`mt validate`'s rule), behind holding:
    # a strategy that stayed out of a market where holding lost 46% did not do worse than holding
    for said in (
        versus_cash(strategy.holdout, " over the hold-out"),
        versus_buy_and_hold(strategy.holdout, baseline, " over the hold-out") if baseline else "",
    ):
        if said:
            typer.echo(said.removeprefix("; "))
    typer.echo("")
    print_table(
        ["at", "from", "to", "reason"],
        [(item["at"], item["from"] or "", item["to"], item["reason"]) for item in history],
        title="History",
    )
    typer.echo(pretty_json(strategy.genome_data))


def _show_tuning(strategy: StoredStrategy) -> None:
    """The record of its tuning a strategy added from a genome file `mt optimize --out` wrote keeps: where
    its trials were scored, the hold-out its best was scored on once, and the deflated Sharpe ratio its
    tuning said there, with the N and V it counted (what `mt validate ID` counts)."""
    from mastertrade.engine.generator.tuned_file import tuned_provenance

    record = strategy.selection
    tuned = tuned_provenance(record, strategy.id, f"stored strategy {strategy.id}: selection")
    window, held, trials = record["search_window"], record["holdout"], record["deflated_trials"]
    market = f"{tuned.exchange + ':' if tuned.exchange else ''}{tuned.symbol}:{tuned.timeframe}"
    elsewhere = (
        ""
        if tuned.applies(strategy.exchange or "", strategy.symbol, strategy.timeframe)
        else f"; it trades {strategy.symbol} {strategy.timeframe}, a market its tuning never saw"
    )
    typer.echo(
        f"tuned by `mt optimize` on {market}: its trials were scored on the search window"
        f" {window['start']} .. {window['end']}{_bars(window)}, the best once on the hold-out"
        f" {held['start']} .. {held['end']}{_bars(held)}; the backtest above covers the searched bars, so"
        f" it is not out-of-sample (`mt validate {strategy.id}` reports on the bars after them){elsewhere}"
    )
    typer.echo(
        f"its tuning's deflated Sharpe {_number(record.get('deflated_sharpe'), 3)} of the hold-out Sharpe,"
        f" with N = {'n/a' if tuned.trials is None else f'{tuned.trials:,}'} trials (every candidate"
        f" scored on its series' overlapping bars) and V = {_number(trials.get('variance_used'), 5)} per"
        f" day ({trials.get('variance_source', 'not recorded')})"
    )


def _bars(window: dict[str, Any]) -> str:
    """A window's bar count in parentheses, when it records one."""
    bars = window.get("bars")
    return f" ({bars:,} bars)" if isinstance(bars, int) and not isinstance(bars, bool) else ""


StateOption = typer.Option("--state", help="Only strategies in this state (repeat for several).")


TABLE_LIMIT = 200
"""Rows the table shows without ``--limit`` or ``--all`` (the newest; ``--json`` gives every one): a week of
nightly runs stores thousands, and drawing them all took seconds for a screen nobody scrolls."""

LIMIT_MAX = 1_000_000
"""The largest ``--limit``: past 2**63 - 1 the database driver ended in an OverflowError traceback;
``--all`` is the way to ask for every one."""

TRADED_STATES = frozenset({"paper", "active", "paused", "retired"})
"""The states of a strategy that may have a paper book (retired: it may have traded before)."""


@app.command("list")
def list_stored(
    state: Annotated[list[str] | None, StateOption] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only strategies on this symbol.")] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Only strategies on this timeframe.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help=f"At most this many, newest first (the table shows the newest {TABLE_LIMIT} unless told;"
            " --json every one; --all every one in the table).",
            min=1,
            max=LIMIT_MAX,
        ),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Show every one in the table.")] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """List stored strategies, newest first, with their state and hold-out results.

    States: generated, backtested, passed, failed, paper, active, paused, retired.
    """
    if every and limit is not None:
        from mastertrade.errors import UserInputError

        raise UserInputError(f"--all and --limit {limit} ask for different things: give one")
    capped = limit is None and not every and not json_out
    asked = TABLE_LIMIT if capped else limit
    total: int | None = None

    async def fetch() -> tuple[list[StoredStrategy], dict[str, Any]]:
        nonlocal total
        from mastertrade.engine.execution.parity_monitor import latest_statuses
        from mastertrade.engine.generator.states import parse_state
        from mastertrade.engine.generator.store import StrategyStore
        from mastertrade.engine.market.symbols import parse_symbol
        from mastertrade.engine.market.timeframes import canonical_timeframe, check_timeframe, timeframe_ms

        states = [parse_state(item) for item in state] if state else None
        # a filter that can match nothing (BTCUSDT, 7x) is a typo: said, not answered with an empty list
        if symbol is not None:
            parse_symbol(symbol)
        if timeframe is not None:
            timeframe_ms(timeframe)
        db = await open_db()
        try:
            store = StrategyStore(db)
            found = await store.list(states=states, symbol=symbol, timeframe=timeframe, limit=asked)
            if not found and timeframe is not None and canonical_timeframe(timeframe) != timeframe:
                # `60m` matches only strategies stored under it before such spellings were refused;
                # with none, the spelling to write is the answer, not an empty list
                check_timeframe(timeframe, what="--timeframe")
            if capped and len(found) == TABLE_LIMIT:
                total = await store.count(states=states, symbol=symbol, timeframe=timeframe)
            # only a strategy that has traded on paper has a book for the monitor to judge; asking for
            # every stored one cost a query each (thousands after a few nights: half a minute)
            booked = [item.id for item in found if item.state in TRADED_STATES]
            return found, await latest_statuses(db, booked)
        finally:
            await db.close()

    from mastertrade.engine.generator.pipeline import strategy_row

    strategies, parity = run(fetch)
    documents = [
        {
            **strategy_row(item),
            "state_since": item.as_dict()["state_since"],
            "created_at": item.as_dict()["created_at"],
            "parity": parity.get(item.id),
        }
        for item in strategies
    ]
    if json_out:
        print_json(documents)
        return
    rows = [
        (
            doc["id"],
            doc["state"],
            f"{doc['symbol']} {doc['timeframe']}",
            _number(doc["holdout_sharpe"]),
            _number(doc["holdout_max_drawdown_pct"]),
            doc["holdout_trades"],
            _number(doc["deflated_sharpe"], 3),
            {None: "-", True: "agrees", False: "DISAGREES"}[doc["reference_agrees"]],
            _parity(doc["parity"]),
            doc["name"],
        )
        for doc in documents
    ]
    print_table(
        [
            "id",
            "state",
            "market",
            "hold-out Sharpe",
            "hold-out DD %",
            "hold-out trades",
            "deflated",
            "reference",
            "paper vs backtest",
            "name",
        ],
        rows,
        title=f"{len(rows)} stored strateg{'y' if len(rows) == 1 else 'ies'}"
        + (f" (the newest of {total:,})" if total is not None and total > len(rows) else ""),
        right=["hold-out Sharpe", "hold-out DD %", "hold-out trades", "deflated"],
    )
    if total is not None and total > len(rows):
        output.info(
            f"showing the newest {len(rows):,} of {total:,} stored strategies: `--all` lists every one,"
            " `--limit N` another number, `--state`/`--symbol` narrow them"
        )


def _parity(status: dict[str, Any] | None) -> str:
    """The parity monitor's latest word on a strategy's paper book."""
    if status is None:
        return "-"
    if status["diverged"]:
        return f"DIVERGED ({_trades(status['mismatched'])})" + (", paused" if status.get("paused") else "")
    if status["identical"]:
        return f"identical ({_trades(status['same'])})"
    return f"{status['mismatched']} differ (within tolerance)"


ReasonOption = typer.Option("--reason", help="Why (recorded in the strategy's history).")


def _move(spec: str, action: str, reason: str, json_out: bool) -> None:
    """Through the daemon when it runs (so it publishes the move and alerts), else the same door,
    ``generator.lifecycle.move_strategy``, on the database directly. The reason is checked here, so
    that it is refused the same way with or without the daemon (the API's own check named its "body
    field", and without the daemon nothing checked it)."""
    from mastertrade.cli.validation import check_reason

    check_reason(reason)

    async def apply() -> dict[str, Any]:
        from mastertrade import errors
        from mastertrade.client import DaemonClient

        async with DaemonClient() as client:
            try:
                moved = await client.change_strategy(spec, action, reason=reason)
            except errors.DaemonNotRunning:
                pass
            else:
                return {
                    "id": moved.id,
                    "name": moved.name,
                    "from": moved.moved_from,
                    "to": moved.state,
                    "reason": reason,
                    "market": (moved.symbol, moved.timeframe),
                }
        from mastertrade.engine.generator.lifecycle import action_target, move_strategy
        from mastertrade.engine.generator.store import StrategyStore

        db = await open_db()
        try:
            done = await move_strategy(StrategyStore(db), spec, action_target(action), reason)
            return {**done.as_dict(), "market": (done.after.symbol, done.after.timeframe)}
        finally:
            await db.close()

    move = run(apply)
    if move["to"] in ("paper", "active"):
        untraded_warning(*move["market"])
    if json_out:
        print_json({key: move[key] for key in ("id", "from", "to", "reason")})
        return
    typer.echo(f"strategy {move['id']} ({move['name']}): {move['from']} -> {move['to']}")


def untraded_warning(symbol: str, timeframe: str) -> bool:
    """Warn (stderr) when the daemon's feed gives a strategy on this market no bar, so it would sit on
    paper or the account without ever trading (``lifecycle.untraded_reason``); whether it warned."""
    from mastertrade.cli.runtime import settings
    from mastertrade.engine.generator.lifecycle import untraded_reason

    reason = untraded_reason(symbol, timeframe, settings().market)
    if reason is not None:
        output.info(f"mt: warning: {reason}", style="yellow")
    return reason is not None


@app.command("paper")
def paper(
    strategy_id: Annotated[str, typer.Argument(help="Stored strategy id (or a unique prefix).")],
    reason: Annotated[str, ReasonOption] = "moved to paper trading by hand",
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Start paper trading a strategy that passed the filter, or resume a paused one on paper."""
    _move(strategy_id, "paper", reason, json_out)


@app.command("activate")
def activate(
    strategy_id: Annotated[str, typer.Argument(help="Stored strategy id (or a unique prefix).")],
    reason: Annotated[str, ReasonOption] = "activated by hand",
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Let a paper or paused strategy trade the account (in live mode: real money).

    The nightly run promotes paper strategies whose paper record holds up; this does it by hand.
    """
    _move(strategy_id, "activate", reason, json_out)


@app.command("pause")
def pause(
    strategy_id: Annotated[str, typer.Argument(help="Stored strategy id (or a unique prefix).")],
    reason: Annotated[str, ReasonOption] = "paused by hand",
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Stop a paper or active strategy from trading, keeping it (resume with `paper` or `activate`)."""
    _move(strategy_id, "pause", reason, json_out)


@app.command("retire")
def retire(
    strategy_id: Annotated[str, typer.Argument(help="Stored strategy id (or a unique prefix).")],
    reason: Annotated[str, ReasonOption] = "retired by hand",
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Stop a strategy for good (final)."""
    _move(strategy_id, "retire", reason, json_out)


@app.command("export")
def export(
    strategy_id: Annotated[
        str, typer.Argument(help="Stored strategy id (or a unique prefix), or a built-in name.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the genome to this file, in a folder that exists (default: stdout)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite OUT if it exists with other content.")
    ] = False,
) -> None:
    """Write a stored strategy's genome JSON, the file `mt backtest FILE` takes and reproduces (one added
    from a genome file `mt optimize --out` wrote: with the record of its tuning, as that file had it).

    The stored metrics cover the bars the generation run used; the command to reproduce them on exactly
    those bars is printed on stderr. A built-in's genome (sma_cross ...) is written as a starting point to
    edit. A file of yours at OUT is kept unless --force (like `mt data export`).
    """
    from mastertrade.engine.signals.builtins import BUILTINS

    if strategy_id in BUILTINS:
        _write_genome(BUILTINS[strategy_id].to_json(indent=2) + "\n", out, force, f"built-in {strategy_id}")
        return

    async def fetch() -> StoredStrategy:
        from mastertrade.engine.generator.store import StrategyStore

        db = await open_db()
        try:
            return await StrategyStore(db).get(strategy_id)
        finally:
            await db.close()

    strategy = run(fetch)
    from mastertrade.engine.generator.tuned_file import is_tuned

    document = strategy.genome.to_dict()
    if is_tuned(strategy.selection):  # added from a tuned genome file: the record goes back with it
        from mastertrade.engine.signals.genome import SELECTION_KEY

        document[SELECTION_KEY] = strategy.selection
    _write_genome(
        json.dumps(document, indent=2, allow_nan=False) + "\n", out, force, f"strategy {strategy.id}"
    )
    _reproduce_hint(strategy, "FILE" if out is None else str(out))


def _write_genome(text: str, out: Path | None, force: bool, what: str) -> None:
    """The genome JSON on stdout, or into ``out`` (a file of the user's kept unless ``force``)."""
    if out is None:
        typer.echo(text, nl=False)
        return
    from mastertrade.cli.out_file import check_out, write_out

    check_out(out, force=force, text=text)
    write_out(out, text, force=force)
    output.info(f"wrote {what} to {out}")


def _reproduce_hint(strategy: StoredStrategy, file: str) -> None:
    """Tell how to reproduce the stored full-series backtest: on the same bars, which newer candles may
    have extended since."""
    from mastertrade.engine.market.timeframes import parse_when, timeframe_ms, to_iso

    figures = strategy.metrics.get("report") or strategy.metrics  # one added by the trader: its report
    start, end = figures.get("start"), figures.get("end")
    if not start or not end:
        return
    stop = to_iso(parse_when(end, what="end") + timeframe_ms(strategy.timeframe))
    # the genome file names no exchange: without it the command fails once the market is stored for
    # several exchanges, or reads another exchange's bars
    where = f" --exchange {strategy.exchange}" if strategy.exchange else ""
    output.info(f"its stored backtest: mt backtest {file} --start {start} --end {stop}{where}")


def _trades(count: int) -> str:
    return f"{count} trade" if count == 1 else f"{count} trades"
