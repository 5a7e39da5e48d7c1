"""Candle storage on SQLite: import 1,000,000 candles from CSV (target < 10 s) and read one year of 1h
candles into a DataFrame (target < 20 ms), against pandas' own to_sql / read_sql on the same data."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._util import mt_executable, report, scratch_home, timed


def write_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.001, rows)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, rows))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, rows))
    ts = 1_500_000_000_000 - 1_500_000_000_000 % 60_000 + np.arange(rows, dtype=np.int64) * 60_000
    frame = pd.DataFrame(
        {
            "timestamp": ts,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.uniform(1, 50, rows),
        }
    )
    frame.to_csv(path, index=False)


def main() -> None:
    with scratch_home() as home:
        csv = home / "candles.csv"
        write_csv(csv, 1_000_000)
        start = time.perf_counter()
        subprocess.run(
            [mt_executable(), "data", "import", str(csv), "--symbol", "BTC/USDT", "--timeframe", "1m"],
            check=True,
        )
        ours = time.perf_counter() - start

        baseline_db = home / "baseline.db"
        start = time.perf_counter()
        frame = pd.read_csv(csv)
        with sqlite3.connect(baseline_db) as conn:
            frame.to_sql("candles", conn, index=False, chunksize=50_000)
            conn.execute("CREATE INDEX ix_ts ON candles (timestamp)")
        baseline = time.perf_counter() - start
        report("import 1M candles, pandas read_csv + to_sql + index (baseline)", baseline, "s")
        report(
            "import 1M candles, `mt data import` (whole command)",
            ours,
            "s",
            target="< 10 s",
            baseline=baseline,
        )

        from mastertrade.config import load_settings
        from mastertrade.db.database import Database
        from mastertrade.engine.market.store import CandleStore, SeriesKey

        key = SeriesKey("csv", "BTC/USDT", "1m")
        year_start = 1_500_000_000_000 - 1_500_000_000_000 % 60_000
        year_end = year_start + 8760 * 60_000  # 8,760 rows: as many as one year of 1h bars

        async def read_year() -> tuple[float, float]:
            db = await Database.open(load_settings())
            store = CandleStore(db)
            times = []
            for _ in range(20):
                start = time.perf_counter()
                frame = await store.read(key, year_start, year_end)
                times.append(time.perf_counter() - start)
            assert len(frame) == 8760
            await db.close()
            return min(times), float(np.median(times))

        best, median = asyncio.run(read_year())
        with sqlite3.connect(baseline_db) as conn:
            sql = f"SELECT * FROM candles WHERE timestamp >= {year_start} AND timestamp < {year_end}"
            naive, _ = timed(lambda: pd.read_sql_query(sql, conn), 5)
        report("read 8,760 candles, pandas read_sql_query (baseline)", naive, "s")
        report("read 8,760 candles into a DataFrame (best)", best, "s", target="< 0.020 s", baseline=naive)
        report("read 8,760 candles into a DataFrame (median)", median, "s")


if __name__ == "__main__":
    main()
