"""Start-up stays cheap and the engine stands without the UI, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "pandas",
    "numpy",
    "ccxt",
    "numba",
    "backtesting",
    "pandas_ta",
    "deap",
    "sqlalchemy",
    "apprise",
]
# rich is not listed: httpx imports it (for its own command-line tool) whenever it is installed, so any
# HTTP client pulls it in. That the engine never imports rich itself is the import-linter contract's job.
UI = ["textual"]


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_mt_help_imports_nothing_heavy() -> None:
    loaded = modules_after(
        "import sys\nfrom mastertrade.cli.app import app\nsys.argv = ['mt', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_headless_modules_never_import_the_ui() -> None:
    import pkgutil

    import mastertrade

    headless = [
        info.name
        for info in pkgutil.walk_packages(mastertrade.__path__, "mastertrade.")
        if not info.name.startswith(("mastertrade.cli", "mastertrade.tui", "mastertrade.db.migrations"))
        and info.name != "mastertrade.__main__"
    ]
    loaded = modules_after("\n".join(f"import {name}" for name in headless))
    assert not loaded & set(UI), sorted(loaded & set(UI))


def test_a_plain_backtest_loads_neither_the_alternative_data_store_nor_alembic(tmp_path: object) -> None:
    """`mt backtest` of a strategy without alternative-data terms: the series loads, the engine runs,
    and the collectors (their tables, httpx), alembic (the schema is current), ccxt and backtesting.py
    (the reference engine) stay unimported: they were a third of the command's start-up."""
    code = f"""
import asyncio, os
os.environ["MT_HOME"] = {str(tmp_path)!r}
from mastertrade.config import load_settings
from mastertrade.db.database import Database
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.research.backtest import backtest_series
from mastertrade.engine.research.series import SeriesLoader
from mastertrade.engine.signals.builtins import builtin

async def main():
    db = await Database.open(load_settings())
    key = SeriesKey("sim", "BTC/USDT", "1h")
    await CandleStore(db).upsert(key, rows_from_frame(simulate("BTC/USDT", "1h", 300, 1)))
    await db.close()
    import sys
    for name in [n for n in sys.modules if n.startswith(("alembic", "mastertrade.engine.collectors"))]:
        del sys.modules[name]  # the set-up above migrated the new database: only the load counts
    db = await Database.open(load_settings())
    genome = builtin("sma_cross", "BTC/USDT", "1h")
    series = await SeriesLoader(db).find("BTC/USDT", "1h", strategies=[genome])
    await db.close()
    assert series.features is None
    backtest_series(genome, series, cash=10_000.0, fee=0.001)

asyncio.run(main())
"""
    loaded = modules_after(code)
    avoided = {"alembic", "ccxt", "backtesting", "httpx", "mastertrade.engine.collectors.provider"}
    assert not loaded & avoided, sorted(loaded & avoided)
