"""A job's last run in ``mt status``'s jobs table: what it did, or why it failed, in a line's room.

The daemon words every run once (its ``summary``, and ``summary_list`` when the words end in a list:
``engine/kernel/run_words.py``); here those words are only shortened, never reworded. A night that
skipped fifty series filled the table with its reasons, the counts buried among them, and a failed run
read a bare "error", its why only in ``--json``. Now the cell keeps what says most, first: the counts and
the first skipped series ("+49 more: see below"), a failed run's outcome and the first line of its error;
whatever is cut ends in an ellipsis, and ``mt status`` says under the table where the whole is.
(``mt daemon run``'s top line shortens its list the same way, ``Listed.fit``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastertrade.cli.output import one_line
from mastertrade.engine.kernel.run_words import ELLIPSIS, cut

if TYPE_CHECKING:
    from mastertrade.engine.api.schemas import JobRunInfo

SHORTEST_LINE = 40
"""Characters a run's words get however narrow the terminal: fewer would not hold its counts (the
terminal wraps them instead)."""


def said(run: JobRunInfo) -> str:
    """The run's words whole: its summary, and its error when it has one ("error: ValueError: ...")."""
    words = run.summary or run.outcome
    return f"{words}: {run.error}" if run.error else words


def shortened(run: JobRunInfo, width: int, where: str) -> str:
    """:func:`said` in at most ``width`` characters (``SHORTEST_LINE`` at least): a failed (cancelled,
    skipped ...) run's outcome and the first line of its error, its start kept; an "ok" run's words with
    their list cut to its first item and "+N more: ``where``" when they do not fit."""
    width = max(width, SHORTEST_LINE)
    words = run.summary or run.outcome
    if run.error:
        lines = run.error.strip().splitlines() or [""]
        first = one_line(lines[0]) + (f" {ELLIPSIS}" if len(lines) > 1 else "")
        return cut(f"{words}: {first}", width)
    if run.summary_list is not None:
        return run.summary_list.listed().fit(width, where)
    return cut(words, width)
