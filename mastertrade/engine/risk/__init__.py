"""The risk manager: pre-trade checks, circuit breakers, the kill switch, VaR and CVaR.

- ``check``: the pure pre-trade check. It takes a proposed order, a snapshot of the portfolio, the limits
  and the state of the controls (kill switch, breakers) and returns approve, resize or reject, with a
  reason for every rejection and resize. No I/O, so it can be property-tested.
- ``breakers``: the pure circuit-breaker rules (price move, stale data, consecutive losses, exchange
  error bursts, the kill switch): what trips them and what resets them.
- ``var``: historical and parametric VaR and CVaR from a return series.
- ``store``: the persisted side (breaker states, the audit log of every decision, metric snapshots).
- ``manager``: ties them together for the trading service: checks orders, feeds the breakers, writes
  the audit log and publishes events.
"""
