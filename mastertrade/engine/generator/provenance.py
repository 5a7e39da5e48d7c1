"""What chose a stored strategy, read back from its row: the :class:`~.report.Provenance` that keeps a
report on its own series (``mt validate ID``, ``mt backtest ID``) from counting the bars its selection saw
as out-of-sample, or from charging it for one trial.

Two kinds of stored strategy have one: a generated strategy (its generation run's search window and the
trials its deflated Sharpe ratio counted) and one the trader added from a genome file ``mt optimize --out``
wrote (the record of its tuning, stored as its ``selection``: :mod:`.tuned_file`). Any other strategy added
by hand has none: this product did not see what chose it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastertrade.engine.generator.report import Provenance, observed_variance
from mastertrade.engine.generator.tuned_file import is_tuned, tuned_provenance

if TYPE_CHECKING:
    from mastertrade.engine.generator.store import StoredStrategy


def provenance_of(strategy: StoredStrategy) -> Provenance | None:
    """The provenance of a stored strategy (module docstring), ``None`` when it has none. The last bar seen
    is the end of its search-window backtest (the whole series it was scored on, for strategies stored
    before the hold-out existed), or of its tuning's search window."""
    from mastertrade.engine.market.timeframes import parse_when

    if is_tuned(strategy.selection):
        return tuned_provenance(strategy.selection, strategy.id, f"stored strategy {strategy.id}: selection")
    end = strategy.metrics.get("end")
    if strategy.generation_run_id is None or not end:
        return None
    trials = strategy.selection.get("deflated_trials") or {}
    counted = trials.get("trials_used", trials.get("trials"))
    return Provenance(
        strategy_id=strategy.id,
        symbol=strategy.symbol,
        timeframe=strategy.timeframe,
        exchange=strategy.exchange,
        seen_until_ms=parse_when(str(end), what="search window end"),
        trials=int(counted) if counted else None,
        variance=observed_variance(trials),
    )
