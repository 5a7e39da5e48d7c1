"""Strategies on stored data: load a series with the alternative data its strategies read
(``series.SeriesLoader``) and backtest a strategy on it (``backtest.backtest_series``). Every caller
that evaluates strategies on stored candles comes through here: the CLI, the API, the generation
pipeline and the ``Trader``."""
