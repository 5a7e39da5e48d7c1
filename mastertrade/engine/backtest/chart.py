"""backtesting.py's interactive chart, made to work offline and to say what it shows.

backtesting.py writes its chart with bokeh's default resources, which load bokeh's JavaScript from a
CDN (a blank page offline), and adds a script that loads a tracking page from the project's website
when the chart is opened. Here the figure it builds is kept, those two are left out, and the page is
saved with bokeh's ``INLINE`` resources (every script in the file) under a heading that names the
strategy, the series and the engine, and says SIMULATED when the prices are.
"""

from __future__ import annotations

import contextlib
import html
from pathlib import Path
from typing import Any
from unittest import mock


def write_chart(bt: Any, stats: Any, path: Path, *, title: str, simulated: bool) -> None:
    """Draw ``bt``'s run ``stats`` into the self-contained HTML file ``path``, whose folder must exist.
    An ``OSError`` is left to the caller: ``mt backtest --plot`` writes through ``cli/out_file.py``, which
    names the file the trader gave (``path`` is a partial file beside it)."""
    import backtesting._plotting
    from bokeh.io import save
    from bokeh.layouts import column
    from bokeh.models.widgets.markups import Div
    from bokeh.resources import INLINE

    def no_show(*_: Any, **__: Any) -> None:  # the figure is saved below, with inline resources
        return None

    with (
        mock.patch.object(backtesting._plotting, "_add_popcon", lambda: None),
        mock.patch.object(backtesting._plotting, "show", no_show),
    ):
        figure = bt.plot(results=stats, filename=str(path), open_browser=False)
    label = (
        ' <span style="background:#b00020;color:white;padding:2px 8px;border-radius:3px">SIMULATED</span>'
        if simulated
        else ""
    )
    heading = Div(
        text=f'<h2 style="font-family:sans-serif;margin:4px 0">{html.escape(title)}{label}</h2>',
        sizing_mode="stretch_width",
    )
    page_title = f"{title} (SIMULATED)" if simulated else title
    partial = path.with_name(f".{path.name}.partial")
    try:  # through a partial file renamed into place: never a half-written chart
        save(
            column(heading, figure, sizing_mode="stretch_width"),
            filename=str(partial),
            resources=INLINE,
            title=page_title,
        )
        partial.replace(path)
    except OSError:
        with contextlib.suppress(OSError):  # there may be no partial file, nor a folder to hold one
            partial.unlink(missing_ok=True)
        raise
