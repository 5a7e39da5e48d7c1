"""Trained models as strategies (kind ``model``): a stored policy artifact, its feature pipeline and the
strategy that turns its actions into entry/exit signals through the plugin interface.

This is the run-time half, which needs only numpy and sits with the signals so that
:func:`mastertrade.engine.signals.loader.load_strategy` can resolve ``model:<id>``; training lives in
:mod:`mastertrade.engine.rl`.
"""
