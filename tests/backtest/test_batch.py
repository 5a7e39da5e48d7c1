"""The batch runner gives exactly the figures of one-at-a-time backtests, whatever the chunking,
threads or engine, and keeps the input order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mastertrade.engine.backtest.batch import read_genomes_jsonl, run_batch
from mastertrade.engine.backtest.runner import backtest
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.builtins import builtin, builtin_names
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome
from mastertrade.errors import InvalidGenome, UserInputError

END = 1_735_689_600_000


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    return simulate("BTC/USDT", "1h", 2000, 4, end=END)


def test_fast_batch_equals_single_backtests_in_input_order(frame) -> None:  # type: ignore[no-untyped-def]
    genomes = [random_genome(seed, stops=seed % 2 == 0) for seed in range(9)] + [builtin("sma_cross")]
    cache = IndicatorCache(frame)
    singles = [backtest(genome, frame, fee=0.002, cache=cache) for genome in genomes]
    expected = [single.metrics() for single in singles]
    still_open = [single.open_trade for single in singles]
    assert True in still_open and False in still_open
    for chunk, threads in ((4, 1), (3, 2), (512, None)):
        results = list(run_batch(genomes, frame, fee=0.002, chunk=chunk, threads=threads, cache=cache))
        assert [r.index for r in results] == list(range(len(genomes)))
        assert [r.name for r in results] == [g.name for g in genomes]
        assert [r.metrics for r in results] == expected
        assert [r.open_trade for r in results] == still_open
        assert all(r.engine_s > 0 and r.signals_s > 0 for r in results)


def test_a_small_batch_is_spread_over_the_kernel_threads(frame, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mastertrade.engine.backtest import fast

    sizes: list[int] = []
    serial = fast.simulate_rows

    def counted(*args: object) -> object:
        sizes.append(len(args[4]))  # type: ignore[arg-type]
        return serial(*args)

    monkeypatch.setattr(fast, "simulate_rows", counted)
    genomes = [random_genome(seed, stops=None) for seed in range(9)]
    results = list(run_batch(genomes, frame, threads=2))
    import numba

    per_chunk = -(-9 // (2 * min(2, numba.get_num_threads())))  # two chunks a thread at least
    assert sizes == [len(genomes[i : i + per_chunk]) for i in range(0, 9, per_chunk)]
    assert [r.index for r in results] == list(range(9))


def test_the_serial_batch_kernel_gives_the_parallel_kernels_numbers(frame) -> None:  # type: ignore[no-untyped-def]
    from mastertrade.engine.backtest.fast import price_arrays, simulate_many, simulate_rows
    from mastertrade.engine.backtest.metrics import Calendar
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
    from mastertrade.engine.signals.evaluate import signals

    genomes = [random_genome(seed, stops=seed % 2 == 0) for seed in range(12)]
    cache = IndicatorCache(frame)
    pairs = [signals(genome, cache) for genome in genomes]
    entries, exits = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    params = np.array([order_params(genome).kernel_args() for genome in genomes]).T.copy()
    calendar = Calendar.from_ts(frame.index.as_unit("ms").asi8)
    args = (*price_arrays(frame), entries, exits, *params, 10_000.0, 0.001, FRACTIONAL_UNIT)
    serial = simulate_rows(*args, calendar.day_last, calendar.years)
    parallel = simulate_many(*args, calendar.day_last, calendar.years, 2)
    assert serial.tobytes() == parallel.tobytes()


def test_reference_batch_gives_the_fast_figures_inline_and_in_a_process_pool(frame) -> None:  # type: ignore[no-untyped-def]
    genomes = [builtin(name) for name in builtin_names()[:3]]
    fast = [(r.metrics, r.open_trade) for r in run_batch(genomes, frame)]
    inline = [(r.metrics, r.open_trade) for r in run_batch(genomes, frame, engine="reference")]
    pooled = list(run_batch(genomes, frame, engine="reference", pool_min=2))
    assert inline == fast
    assert [(r.metrics, r.open_trade) for r in pooled] == fast
    assert [r.index for r in pooled] == [0, 1, 2]


def test_jsonl_reader_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(builtin("sma_cross").to_json(indent=None) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(InvalidGenome, match=f"{path}:3: invalid JSON"):
        read_genomes_jsonl(path)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(UserInputError, match="holds no genomes"):
        read_genomes_jsonl(path)
    with pytest.raises(UserInputError, match="does not exist"):
        read_genomes_jsonl(tmp_path / "missing.jsonl")
