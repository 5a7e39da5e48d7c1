"""The cyclic garbage collector during a search: young collections at the search's own pace, no full ones.

A search makes millions of short-lived containers (genome documents, rule paths, scores), nearly all
freed by reference counting, beside a heap that only grows while it runs (the archive, the memo caches of
genome building). With the collector's default thresholds it ran some 500 young and a few full
collections in one ``mt generate --count 500``, each full one walking the whole heap; measured on
2026-12-03 (one year of 1h bars, four seeds interleaved, every setting in one process), the search spent
a fifth of its CPU time in them: 1.11-1.25 CPU seconds with the defaults, 0.87-0.96 with the collector
off, 0.98-1.09 with a young threshold of 20,000.

So while a search runs the automatic collector is off and :meth:`CollectorPause.generation_done`
collects the young generations (what was allocated since the last call and is still alive, a few
thousand objects) once per generation: the garbage cycles a generation makes (rare: a caught exception's
traceback, say) are still freed within that generation, and only the older heap, which the search does
not free anyway, goes unwalked until it ends. Nested and concurrent pauses (a universe's series, the
daemon's jobs) share one count; the collector comes back on when the last one ends, if it was on when
the first began.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType

_lock = threading.Lock()
_depth = 0
_was_enabled = False


class CollectorPause:
    """``with CollectorPause() as pause:`` the automatic collector off; ``pause.generation_done()`` after
    each generation collects the young objects."""

    def __enter__(self) -> CollectorPause:
        global _depth, _was_enabled
        with _lock:
            if _depth == 0:
                _was_enabled = gc.isenabled()
                gc.disable()
            _depth += 1
        return self

    def generation_done(self) -> None:
        """Collect the two young generations: cycles among what was made since the last call."""
        gc.collect(1)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        global _depth
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
