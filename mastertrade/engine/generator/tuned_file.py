"""What a genome file ``mt optimize --out`` writes says of its tuning, so ``mt validate FILE`` judges it as
the tuning judged it.

The file held the genome alone. ``mt validate FILE`` then counted one trial where the tuning had scored
dozens, reported its walk-forward windows over the very bars the tuning searched as out-of-sample, and
even given the ``--start`` and ``--trials`` the tuning printed, it deflated with the skill-less variance
1/(T-1) instead of the variance V of the trials' Sharpe ratios: for the same hold-out bars, ``mt optimize``
said a deflated Sharpe ratio of 0.486 (30 trials, V = 0.0061) and ``mt validate`` 0.020. The file now
carries the selection's provenance beside the genome, under :data:`~.signals.genome.SELECTION_KEY`
(which the genome loader leaves out)::

    "selection": {
      "by": "mt optimize",
      "exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h",   the series it was tuned on
      "search_window": {"start": ..., "end": ..., "bars": ...},     the bars every trial was scored on
      "holdout": {"start": ..., "end": ..., "bars": ...},           the bars the best was scored on once
      "deflated_trials": {"trials_used": N, "variance_used": V, "variance_source": "observed", ...},
      "deflated_sharpe": 0.486                                      what the tuning said over the hold-out
    }

:func:`provenance_in` reads it back as the :class:`~.report.Provenance` a stored generated strategy has:
on its own series, ``mt validate FILE`` starts after the search window, counts N and deflates with V (when
V was observed among the trials; the skill-less fallback depends on the days measured and is taken afresh),
so over the hold-out it says what the tuning said. A file without the record (written by hand, or by an
older ``mt optimize``) reads as before: one trial unless ``--trials`` declares more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mastertrade.engine.generator.report import Provenance, observed_variance
from mastertrade.engine.market.timeframes import parse_when
from mastertrade.engine.signals.genome import SELECTION_KEY, genome_document, read_genome_text
from mastertrade.engine.signals.specs import show
from mastertrade.errors import UserInputError

TUNED_BY = "mt optimize"
"""What the record says chose the genome (``by``)."""


def selection_record(report: dict[str, Any]) -> dict[str, Any]:
    """The record (see the module docstring) of the tuning ``report`` describes (``mt optimize``'s)."""
    return {
        "by": TUNED_BY,
        "exchange": report["exchange"],
        "symbol": report["symbol"],
        "timeframe": report["timeframe"],
        "search_window": report["search_window"],
        "holdout": report["holdout"],
        "deflated_trials": report["deflated_trials"],
        "deflated_sharpe": report["deflated_sharpe"],
    }


def tuned_document(report: dict[str, Any]) -> dict[str, Any]:
    """The JSON document ``mt optimize --out`` writes for a genome: the best genome and the record of the
    tuning that chose it."""
    return {**report["best"]["genome"], SELECTION_KEY: selection_record(report)}


def provenance_in(path: str | Path) -> Provenance | None:
    """The provenance a genome file records of its tuning; ``None`` when it records none. A record that is
    not one (edited by hand) is bad input, named: ``UserInputError``."""
    file = Path(path)
    data = genome_document(read_genome_text(file), source=str(file))
    block = data.get(SELECTION_KEY) if isinstance(data, dict) else None
    if block is None:
        return None
    where = f"{file}: {SELECTION_KEY}"
    record = _mapping(block, where)
    window = _mapping(record.get("search_window"), f"{where}.search_window")
    counted = _mapping(record.get("deflated_trials"), f"{where}.deflated_trials")
    field = "trials_used" if "trials_used" in counted else "trials"
    trials = counted.get(field)
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise UserInputError(
            f"invalid {where}.deflated_trials.{field} {show(trials)}: must be a whole number >= 1"
        )
    exchange = record.get("exchange")
    return Provenance(
        strategy_id=str(file),
        symbol=_text(record, "symbol", where),
        timeframe=_text(record, "timeframe", where),
        exchange=None if exchange is None else _text(record, "exchange", where),
        seen_until_ms=parse_when(
            _text(window, "end", f"{where}.search_window"), what=f"{where}.search_window.end"
        ),
        trials=trials,
        seen_by="tuning",
        variance=observed_variance(counted),
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserInputError(
            f"invalid {where} {show(value)}: must be an object, as `mt optimize --out` writes it"
        )
    return value


def _text(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise UserInputError(
            f"invalid {where}.{key} {show(value)}: must be a text, as `mt optimize --out` writes it"
        )
    return value
