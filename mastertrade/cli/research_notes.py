"""What a research command says about the data a strategy meets: bars a trained policy's training saw or
a generated strategy's search (a tuned genome file's tuning) chose it on (in-sample, not evidence), a
market it never saw, and series it reads that hold nothing. Shared by `mt backtest` and `mt validate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mastertrade.cli.output import info

if TYPE_CHECKING:
    from mastertrade.engine.generator.report import Provenance
    from mastertrade.engine.research.series import Series
    from mastertrade.engine.signals.strategy import Strategy


def trained_on(loaded: Strategy) -> Provenance | None:
    """The provenance of a stored policy: the bars its training saw are not out-of-sample to it, and its
    deflated Sharpe ratio counts the trials its hold-out score counted in the series' trial registry
    (genomes and policies scored on overlapping bars) with the variance V observed among them, as a
    generated strategy's counts its generation's (None for a policy without a recorded training range)."""
    from mastertrade.engine.generator.report import Provenance, observed_variance
    from mastertrade.engine.market.timeframes import parse_when
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    plugin = loaded.plugin
    stored = plugin.stored if isinstance(plugin, ModelStrategy) else None
    end = None if stored is None else stored.training.get("end")
    if stored is None or not end:
        return None
    evaluation = stored.evaluation
    recorded = evaluation.get("deflated_trials") or {}
    counted = recorded.get("trials_used", evaluation.get("trials"))
    return Provenance(
        strategy_id=f"model:{stored.id}",
        symbol=stored.symbol,
        timeframe=stored.timeframe,
        exchange=stored.exchange,
        seen_until_ms=parse_when(str(end), what="training end"),
        trials=int(counted) if counted else None,
        seen_by="training",
        variance=observed_variance(recorded),
    )


def say_what_selection_saw(spec: str, loaded: Any, series: Series) -> None:
    """A trained policy backtested on bars its training saw, a generated strategy on bars its search
    chose it on, or a genome file `mt optimize --out` wrote on bars its tuning chose it on, says how many
    (in-sample, not evidence of anything); on a market it never saw, says that (a test of transfer)."""
    provenance = trained_on(loaded)
    source = getattr(loaded, "source", None)
    if provenance is None and source == "stored":
        from mastertrade.cli.strategy import stored_record
        from mastertrade.engine.generator.provenance import provenance_of

        record = stored_record(spec)
        provenance = None if record is None else provenance_of(record)
    if provenance is None and source == "file":
        from mastertrade.engine.generator.tuned_file import provenance_in

        provenance = provenance_in(spec)
    if provenance is None:
        return
    key = series.key
    if not provenance.applies(key.exchange, key.symbol, key.timeframe):
        info(
            f"note: {spec} was {provenance.seen} on {provenance.symbol}"
            f" {provenance.timeframe}{f' ({provenance.exchange})' if provenance.exchange else ''}:"
            f" {key.symbol} {key.timeframe} ({key.exchange}) is a market it never saw"
        )
        return
    stamps = series.stamps()
    _warn_seen(spec, provenance, int((stamps <= provenance.seen_until_ms).sum()), len(stamps))


def warn_in_sample(spec: str, provenance: Provenance | None, report: dict[str, Any]) -> None:
    """`mt validate` over bars the strategy's selection saw (an earlier --start) warns as `mt backtest`
    does: its table marks those windows and its verdict begins with them, but a reader of the figures
    alone (or of --json) would take them for out-of-sample."""
    origin = report.get("provenance")
    if provenance is not None and origin:
        _warn_seen(spec, provenance, int(origin["seen_bars"]), int(report["bars"]), "without --start, ")


def _warn_seen(spec: str, provenance: Provenance, seen: int, bars: int, how: str = "") -> None:
    """The warning of :func:`say_what_selection_saw` and :func:`warn_in_sample`, when any bar was seen."""
    from mastertrade.engine.market.timeframes import to_iso

    if seen:
        info(
            f"mt: warning: {seen:,} of these {bars:,} bars are ones its {provenance.chose}"
            f" (up to {to_iso(provenance.seen_until_ms)}): in-sample, not evidence; {how}`mt validate"
            f" {spec}` reports on the bars after",
            style="yellow",
        )


def warn_policy_waits(loaded: Strategy, until: int | None) -> None:
    """In a replay workspace (``until``: its market time) a stored policy trained on bars after the
    market time is given no signal by the replay's daemon until the market reaches its training's end
    (``engine/ml/serving_policy.py``): said when it is stored to trade, or its paper book's flat start
    would look like a policy that never trades."""
    from mastertrade.engine.ml.serving import policy_not_yet, serves
    from mastertrade.engine.signals.model.strategy import ModelStrategy

    plugin = loaded.plugin
    stored = plugin.stored if isinstance(plugin, ModelStrategy) else None
    if stored is None or until is None or serves(stored.artifact, until):
        return
    then = "until the replay reaches it, the daemon leaves its signals out (its book does not trade)"
    info(f"mt: warning: {policy_not_yet(stored.artifact, until, then)}", style="yellow")


def say_market_time(data: dict[str, Any], series: str, did: str, why: str = "") -> None:
    """On stderr, when a research command ran in a replay workspace (``data`` has ``market_time``): it
    ``did`` only the bars closed by the replay's market time, and how many stored bars after it were left
    out (``after_market_time_bars``), ``why`` added: nothing is cut silently."""
    if data.get("market_time") is None:
        return
    count = int(data["after_market_time_bars"])
    left = (
        f"the {count:,} stored bar after it was" if count == 1 else f"the {count:,} stored bars after it were"
    )
    info(
        f'{series}: this workspace is a replay ([market] venue = "replay") at market time'
        f" {data['market_time']}: {did} only the bars closed by then; {left} left out (the replay has yet"
        f" to play them{why}). To research the whole history, use another workspace (another MT_HOME or"
        " [db] url)"
    )


def warn_note(note: str | None) -> None:
    """A report's note as a warning on stderr, when it has one: the engines' unit too coarse for these
    prices (``coarse_units``, ``engine/backtest/unit_cost.py``), bars missing inside its span
    (``missing_note``, ``engine/market/missing.py``): the figures beside it are not what they seem."""
    if note:
        info(f"mt: warning: {note}", style="yellow")


def warn_missing_bars(frame: Any, timeframe: str, symbol: str) -> int:
    """Say how many bars are missing inside the span researched, when they are a share worth knowing
    (``engine/market/missing.py``); the count, for --json."""
    from mastertrade.engine.market.missing import missing_bars, missing_note

    note = missing_note(frame, timeframe, symbol)
    if note:
        info(f"mt: warning: {note}", style="yellow")
    return missing_bars(frame, timeframe)[0]


def warn_registry_trials(scored: int | None) -> None:
    """Say how many candidates were chosen among on these bars when ``mt validate`` was given no
    --trials for a strategy it knows nothing of (a genome file edited by hand, or one an older ``mt
    optimize --out`` wrote without the record of its tuning, looks fresh): its deflated Sharpe ratio
    counts one trial, and its windows may cover bars it was tuned on."""
    if scored:
        info(
            f"mt: warning: {scored:,} candidates (mt generate, mt optimize, mt rl train) were scored on bars"
            " of this series overlapping these: if this strategy was chosen or tuned among them, --trials"
            f" {scored} is its count and its windows over the bars they searched are not out-of-sample"
            " (a genome file `mt optimize --out` writes records its tuning, and `mt validate` reads it)",
            style="yellow",
        )


def warn_missing_features(missing: Sequence[str]) -> None:
    """Say which series a strategy reads that hold nothing: a rule on them never fires, and "no trades"
    alone would not say why (a forecast never trained, a collector never run on this market)."""
    if missing:
        info(
            f"mt: warning: no stored values of {', '.join(missing)}: read as missing on every bar, so a rule"
            " on it never fires (`mt ml train` makes forecasts; the daemon's collectors or `mt data sim`"
            " the alternative data)",
            style="yellow",
        )
