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

``mt strategy add FILE`` stores the record as the strategy's ``selection`` (:func:`selection_in`; the
record's ``by`` marks it, :func:`is_tuned`), so the stored strategy keeps what chose it: ``mt validate ID``,
``mt backtest ID`` and ``mt strategy show ID`` read it back (:func:`.provenance.provenance_of`) as they read a
generated strategy's, where they had taken a tuned genome for one nothing had selected (one trial, its
tuned bars out-of-sample). ``mt strategy export ID`` writes it back into the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mastertrade.engine.generator.deflated import MAX_TRIALS
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
    record = selection_in(file)
    return None if record is None else tuned_provenance(record, str(file), f"{file}: {SELECTION_KEY}")


def selection_in(path: str | Path) -> dict[str, Any] | None:
    """The record of its tuning a genome file carries, checked as :func:`tuned_provenance` checks it;
    ``None`` when it carries none. ``mt strategy add FILE`` stores it as the strategy's ``selection``."""
    file = Path(path)
    data = genome_document(read_genome_text(file), source=str(file))
    block = data.get(SELECTION_KEY) if isinstance(data, dict) else None
    if block is None:
        return None
    where = f"{file}: {SELECTION_KEY}"
    tuned_provenance(block, str(file), where)
    return _mapping(block, where)


def is_tuned(selection: dict[str, Any]) -> bool:
    """Whether a stored strategy's ``selection`` is the record of a tuning (``mt strategy add`` of a file
    ``mt optimize --out`` wrote), not a generation run's judgement."""
    return selection.get("by") == TUNED_BY


def tuned_provenance(record: Any, strategy_id: str, where: str) -> Provenance:
    """The provenance a tuning's record gives (a genome file's, ``strategy_id`` the file; a stored
    strategy's, ``strategy_id`` its id), after checking every field a reader uses: a record that is not
    one is bad input named by ``where`` and the field (``UserInputError``)."""
    record = _mapping(record, where)
    if record.get("by") != TUNED_BY:
        raise UserInputError(
            f"invalid {where}.by {show(record.get('by'))}: must be {TUNED_BY!r}, as `mt optimize --out`"
            " writes it"
        )
    window = _mapping(record.get("search_window"), f"{where}.search_window")
    _text(window, "start", f"{where}.search_window")
    holdout = _mapping(record.get("holdout"), f"{where}.holdout")
    for key in ("start", "end"):
        _text(holdout, key, f"{where}.holdout")
    counted = _mapping(record.get("deflated_trials"), f"{where}.deflated_trials")
    field = "trials_used" if "trials_used" in counted else "trials"
    trials = counted.get(field)
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise UserInputError(
            f"invalid {where}.deflated_trials.{field} {show(trials)}: must be a whole number >= 1"
        )
    if trials is not None and trials > MAX_TRIALS:
        raise UserInputError(f"invalid {where}.deflated_trials.{field} {trials:,}: at most {MAX_TRIALS:,}")
    variance = counted.get("variance_used")
    if variance is not None and (
        isinstance(variance, bool) or not isinstance(variance, int | float) or not 0 < variance < math.inf
    ):
        raise UserInputError(
            f"invalid {where}.deflated_trials.variance_used {show(variance)}: must be a number > 0"
        )
    dsr = record.get("deflated_sharpe")
    if dsr is not None and (isinstance(dsr, bool) or not isinstance(dsr, int | float) or not 0 <= dsr <= 1):
        raise UserInputError(
            f"invalid {where}.deflated_sharpe {show(dsr)}: must be a probability from 0 to 1, or null"
        )
    exchange = record.get("exchange")
    return Provenance(
        strategy_id=strategy_id,
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
