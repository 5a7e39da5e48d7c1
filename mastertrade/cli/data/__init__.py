"""``mt data``: candle series: download, simulate, import, export, list, check and delete."""

from __future__ import annotations

import typer

from mastertrade.cli.data import check, delete, download, files, series, sim, sources

app = typer.Typer(
    help="Market data: download, simulate, import, export, list, check and delete candles.",
    no_args_is_help=True,
)

app.command("import")(files.import_csv)
app.command("export")(files.export_csv)
app.command("list")(series.list_series)
app.command("sim")(sim.simulate)
app.command("download")(download.download_candles)
app.command("check")(check.check_series)
app.command("sources")(sources.list_sources)
app.command("delete")(delete.delete_candles)
