"""A job run's words that end in a list, and how they shorten to fit one terminal line.

Some jobs end what a run did with a list: the nightly generation why each skipped series was skipped, the
forecast retraining why each model did not train. Fifty skipped series made ``mt daemon run``'s top line
and ``mt status``'s outcome cell a wall of text, the counts buried under it. A job's ``summarize``
(``kernel.context.Job``) gives such words as a :class:`Listed`; the daemon sends them whole as a run's
``summary`` and in their parts as ``summary_list``, and a line with less room shortens them here, with
these words only, never its own: the counts first, then the first item, then how many more and where to
read them::

    ok: 0 of 50 series searched (all skipped: no candles stored for BTC/USDT 1h…; +49 more: see below)

Nothing is cut without a mark: an ellipsis where text is cut, "+N more" for the items left out, and the
reader's ``where`` saying where the whole is.
"""

from __future__ import annotations

from dataclasses import dataclass

ELLIPSIS = "…"

SHORTEST_ITEM = 16
"""Characters of the first item a shortened list keeps at least ("ETH/USDT 1h: 40…"); with less room it
lists none and says where they are: "(all skipped: see below)"."""


def cut(text: str, width: int) -> str:
    """``text`` whole when it fits in ``width`` characters, else its start ending in an ellipsis (the start
    says most: the counts, the exception's type)."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)].rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Listed:
    """Words ending in a list: ``said``, then ``(label: item; item ...)``: "0 of 3 series searched (all
    skipped: BTC/USDT 1h: no candles ...; ...)"."""

    said: str
    """What the run did, counts first: "0 of 3 series searched", "1 of 2 models trained"."""
    label: str = ""
    """What the items are, with how many: "all skipped", "2 skipped", "1 did not"."""
    items: tuple[str, ...] = ()
    """One line each: a skipped series and why, a model and why it did not train."""

    def words(self) -> str:
        """The words whole: every item listed."""
        if not self.items:
            return self.said
        return f"{self.said} ({self.label}: {'; '.join(self.items)})"

    def fit(self, width: int, where: str) -> str:
        """The words in at most ``width`` characters: whole when they fit; else the first item only (cut
        to the room left), then "+N more: ``where``" ("see below"), or ``where`` alone when only the
        first item was cut; with too little room for an item, none: "(all skipped: see below)" (the
        label says how many). The counts, first, are never cut for an item: when even they do not fit,
        the line is cut, its start kept."""
        whole = self.words()
        if len(whole) <= width or not self.items:
            return cut(whole, width)
        first, more = self.items[0], len(self.items) - 1
        head = f"{self.said} ({self.label}: "
        tail = f"; +{more} more: {where})" if more else f"; {where})"
        room = width - len(head) - len(tail)
        if room >= min(len(first), SHORTEST_ITEM):
            return head + cut(first, room) + tail
        return cut(f"{head}{where})", width)
