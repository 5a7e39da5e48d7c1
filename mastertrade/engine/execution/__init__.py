"""The trading core: the Account (brokers, journal, risk gate, portfolio), the Trader that decides, the
live protections and the parity of paper trading with the backtest (see ``trader.py`` and ``account.py``)."""
