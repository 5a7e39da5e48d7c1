"""Promotion and retirement: when a paper strategy goes active, and when a trading one is retired.

The input is a :class:`TradingRecord`: what the strategy did since it started trading in its current
stage (days of market time, closed trades, return, maximum drawdown). :func:`read_record` builds it from
the trading core's journal; the rules themselves (:func:`decide`) take it as plain data.

The backtest's prediction for a period of ``d`` days comes from the stored out-of-sample daily returns
(mean ``m`` and standard deviation ``s`` of the stitched OOS curve): an expected return of ``m * d`` and
a spread of ``s * sqrt(d)``. The record's shortfall is measured in those spreads:
``z = (return - m * d) / (s * sqrt(d))``.

- **Retire** (paper or active) when the drawdown reaches ``retire_drawdown_pct``, or, once the record is
  long enough (``min_paper_days`` and ``min_paper_trades``), when it has decayed: ``z <= -retire_sigma``.
- **Promote** a paper strategy to active when the record is long enough, ``z >= -paper_tolerance_sigma``
  (its return is within tolerance of the backtest), and its drawdown is at most ``drawdown_tolerance``
  times the OOS backtest drawdown (and never held to less than 2%: tiny backtest drawdowns are noise).
- Otherwise keep it where it is, with the reason; but a paper strategy kept for ``max_paper_days`` of its
  record is retired, with that reason (paper strategies that never trade, or never reach the tolerance,
  would otherwise pile up night after night). Not one without out-of-sample daily returns (a strategy the
  trader added, with no hold-out): the rules can never promote it, so only its drawdown retires it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from mastertrade.engine.generator.states import State
from mastertrade.utc import from_ms, iso, parse_iso, to_ms

if TYPE_CHECKING:
    from mastertrade.config import GeneratorSettings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.ledger import RoundTrip
    from mastertrade.engine.generator.store import StoredStrategy

DRAWDOWN_FLOOR_PCT = 2.0
_DAY_MS = 86_400_000

Action = Literal["promote", "retire", "keep"]


@dataclass(frozen=True)
class TradingRecord:
    """What a strategy did in its current stage (market time)."""

    start: datetime
    end: datetime
    trades: int
    return_pct: float
    max_drawdown_pct: float

    @property
    def days(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds() / 86_400)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "days": self.days,
            "trades": self.trades,
            "return_pct": self.return_pct,
            "max_drawdown_pct": self.max_drawdown_pct,
        }


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def prediction(strategy: StoredStrategy, days: float) -> tuple[float, float] | None:
    """(expected return %, its standard deviation %) over ``days`` from the OOS daily returns, or None
    when the backtest has no such numbers."""
    mean = strategy.holdout.get("daily_mean")
    std = strategy.holdout.get("daily_std")
    if mean is None or std is None or not (math.isfinite(mean) and math.isfinite(std)):
        return None
    return mean * days * 100.0, std * math.sqrt(max(days, 0.0)) * 100.0


def decide(strategy: StoredStrategy, record: TradingRecord | None, rules: GeneratorSettings) -> Decision:
    """What to do with a paper or active strategy given its record, by the ``[generator]`` rules (see the
    module docstring)."""
    decision = _judge(strategy, record, rules)
    limit = rules.max_paper_days
    if (
        decision.action == "keep"
        and strategy.state is State.PAPER
        and record is not None
        and limit > 0
        and record.days >= limit
    ):
        if prediction(strategy, record.days) is None:
            # no hold-out to hold it to (added by the trader): the rules can never promote it, so the
            # time they give it to prove itself does not run out; retiring is final, and it is his call
            return Decision("keep", f"{decision.reason}; only `mt strategy activate` promotes it")
        return Decision("retire", f"not promoted within {limit:g} days of paper trading: {decision.reason}")
    return decision


def _judge(strategy: StoredStrategy, record: TradingRecord | None, rules: GeneratorSettings) -> Decision:
    stage = strategy.state.value
    if strategy.state not in (State.PAPER, State.ACTIVE):
        return Decision("keep", f"{stage} strategies are not judged")
    if record is None:
        return Decision("keep", f"no {stage} record yet")
    if record.max_drawdown_pct >= rules.retire_drawdown_pct:
        return Decision(
            "retire",
            f"{stage} drawdown {record.max_drawdown_pct:.1f}% reached the limit of"
            f" {rules.retire_drawdown_pct:g}%",
        )
    if record.days < rules.min_paper_days or record.trades < rules.min_paper_trades:
        return Decision(
            "keep",
            f"{stage} record too short: {record.days:.1f} of {rules.min_paper_days:g} days,"
            f" {record.trades} of {rules.min_paper_trades} trades",
        )
    predicted = prediction(strategy, record.days)
    if predicted is None:
        return Decision("keep", "the backtest has no out-of-sample daily returns to compare with")
    expected, spread = predicted
    z = (record.return_pct - expected) / spread if spread > 0 else 0.0
    versus = (
        f"return {record.return_pct:.2f}% vs {expected:.2f}% expected over {record.days:.1f} days"
        f" ({z:+.1f} sigma)"
    )
    if z <= -rules.retire_sigma:
        return Decision("retire", f"decay: {stage} {versus}")
    if strategy.state is State.ACTIVE:
        return Decision("keep", f"holds up: {versus}")
    if z < -rules.paper_tolerance_sigma:
        return Decision("keep", f"paper below tolerance: {versus}")
    backtest_drawdown = strategy.holdout.get("max_drawdown_pct") or 0.0
    allowed = max(backtest_drawdown * rules.drawdown_tolerance, DRAWDOWN_FLOOR_PCT)
    if record.max_drawdown_pct > allowed:
        return Decision(
            "keep",
            f"paper drawdown {record.max_drawdown_pct:.1f}% above {allowed:.1f}%"
            f" ({rules.drawdown_tolerance:g} x the backtest's {backtest_drawdown:.1f}%)",
        )
    return Decision(
        "promote",
        f"paper record holds up: {record.trades} trades, {versus}, drawdown {record.max_drawdown_pct:.1f}%",
    )


# --- records from the trading core's journal --------------------------------------------------------


def _when(ts: int) -> datetime:
    return from_ms(ts)


def _drawdown_pct(values: list[float]) -> float:
    peak, worst = -math.inf, 0.0
    for value in values:
        peak = max(peak, value)
        if peak > 0:
            worst = max(worst, 1.0 - value / peak)
    return worst * 100.0


def holdout_end_ms(strategy: StoredStrategy) -> int | None:
    """The open time of the newest bar the strategy's selection saw (its hold-out's last bar), or None
    when it has no hold-out (a strategy added by hand, a legacy row)."""
    end = strategy.holdout.get("end")
    if not isinstance(end, str):
        return None
    try:
        return to_ms(parse_iso(end))
    except ValueError:
        return None


async def account_books(db: Database) -> list[str]:
    """The account's books (every book but the strategies' own paper books)."""
    from mastertrade.engine.execution.journal import Journal

    return [book.id for book in await Journal(db).books() if not book.id.startswith("strategy:")]


async def read_record(
    db: Database, strategy: StoredStrategy, *, accounts: Sequence[str] | None = None
) -> TradingRecord | None:
    """The record of a paper or active strategy from the trading journal, or None before its first bar.

    Paper: its own book (``strategy:<id>``): the equity history gives return and drawdown, the book's
    round trips the trades. Active: its round trips in the account's books (over its whole active life,
    a pause included); the return and drawdown are those of the trades compounded at the strategy's own
    size (the account sizes it by Kelly, so this is what its backtest predicts, whatever the sizing did).
    Times are market times (the candles'), as the trading core records them.

    Only bars after the hold-out count: a book opens on the bar the trading core evaluates when the
    strategy starts, and a trading core that lags the feed (a simulated market while the nightly job
    holds the machine) opens it on bars the hold-out already scored. Those bars chose the strategy; a
    record over them would repeat the backtest and hold it to its own prediction. The record then starts
    at the mark of the hold-out's last bar, and counts the trades entered after it.

    ``accounts``: the account's books (:func:`account_books`), read once by a caller that judges many
    strategies; reading every book again for each strategy made judging N strategies cost N²."""
    from mastertrade.engine.execution.journal import Journal

    journal = Journal(db)
    after = holdout_end_ms(strategy)
    if strategy.state is State.PAPER:
        book = f"strategy:{strategy.id}"
        points = await journal.equity_history(book, since=after)  # none: the book does not exist yet
        if len(points) < 2:
            return None
        ledger = await journal.ledger(book)
        values = [point.equity for point in points]
        return TradingRecord(
            start=points[0].at,
            end=points[-1].at,
            trades=sum(1 for trip in ledger.round_trips if after is None or trip.entry_ts > after),
            return_pct=(values[-1] / values[0] - 1.0) * 100.0 if values[0] > 0 else 0.0,
            max_drawdown_pct=_drawdown_pct(values),
        )
    trips: list[RoundTrip] = []
    for book_id in accounts if accounts is not None else await account_books(db):
        trips.extend(
            trip
            for trip in (await journal.strategy_ledger(book_id, strategy.id)).round_trips
            if after is None or trip.entry_ts > after
        )
    if not trips:
        return None
    trips.sort(key=lambda trip: trip.exit_ts)
    size = float(strategy.genome_data.get("size", 1.0))
    equity = [1.0]
    for trip in trips:
        equity.append(equity[-1] * (1.0 + size * trip.return_))
    return TradingRecord(
        start=_when(min(trip.entry_ts for trip in trips)),
        end=_when(trips[-1].exit_ts),
        trades=len(trips),
        return_pct=(equity[-1] - 1.0) * 100.0,
        max_drawdown_pct=_drawdown_pct(equity),
    )
