"""The strategy generator: genetic search over genomes, honest validation, and the promotion pipeline.

What other parts call::

    from mastertrade.engine.generator.pipeline import GenerationRequest, generate
    summary = await generate(db, settings, GenerationRequest("BTC/USDT", "1h", count=500, seed=1))

    from mastertrade.engine.generator.store import StrategyStore       # stored strategies
    from mastertrade.engine.generator.source import StoredStrategies   # the trading core's StrategySource
    from mastertrade.engine.generator.nightly import nightly_job       # the scheduler's nightly_generation

The modules, in the order a run uses them:

- :mod:`.grid`: the coarse grids of parameters, thresholds, stops and sizes the search draws from.
- :mod:`.variation`: random genomes, mutation and crossover, always through the genome model.
- :mod:`.evaluation` and :mod:`.kernel`: a problem (candles + walk-forward windows), a worker's warm
  scorer, and the compiled kernel that backtests every window of many strategies at once.
- :mod:`.executor`: the one interface that maps batches of genomes to scores (threads, processes);
  :mod:`.cluster`: the same on a Dask cluster (extra ``[cluster]``); :mod:`.universe`: many series
  (symbols x timeframes) as one workload.
- :mod:`.search`: NSGA-II on out-of-sample Sharpe and drawdown, constraints, complexity penalty,
  deduplication, determinism.
- :mod:`.deflated` and :mod:`.validation`: the deflated Sharpe ratio, the filter, the reference engine.
- :mod:`.pipeline`: one generation run, stored and recorded.
- :mod:`.states`, :mod:`.store`: the life cycle of a stored strategy and its storage.
- :mod:`.promotion`, :mod:`.nightly`, :mod:`.source`: paper -> active -> retired, the nightly job, and
  what the trading core trades.
"""

from __future__ import annotations
