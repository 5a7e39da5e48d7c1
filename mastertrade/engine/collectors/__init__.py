"""Alternative data: sentiment, fear & greed, on-chain, whales, macro indices and keyed sources.

- ``base``: the collector interface (``Collector``, ``FeaturePoint``, backoff, HTTP helpers).
- ``registry``: the built-in collectors and plugins (entry point group ``mastertrade.collectors``).
- ``service``: polls every source on its schedule, stores values, keeps health (``CollectorService``).
- ``store``: feature time series and source health in the database (``FeatureStore``).
- ``align``: features aligned to candle bars without lookahead.
- ``provider``: the features' values for strategies (their genome terms are ``signals/feature_catalog.py``).
- ``sim``: simulated features that move with the simulated market.
"""
