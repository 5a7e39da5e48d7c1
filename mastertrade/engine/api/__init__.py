"""The daemon's HTTP API (FastAPI), served on the Unix socket and optionally on 127.0.0.1 over TCP.

- ``app.py``: ``create_app(ctx)`` and ``ROUTERS``, the list of route modules;
- ``routes_<area>.py``: one ``router = APIRouter()`` per area (status, market, jobs, alerts, daemon,
  events); ``schemas.py``: request/response models shared with ``mastertrade.client``;
- ``errors.py``: the JSON error contract; ``metrics.py``: Prometheus; ``auth.py``: the TCP token;
  ``body_limit.py``: the cap on request bodies.

Adding routes for an area: write ``routes_trading.py`` with ``router = APIRouter(tags=["trading"])``
and routes under ``/v1/...`` that take ``ctx: Ctx`` (``deps.py``), raise ``mastertrade.errors``
exceptions for failures (they become JSON errors with the right status), and declare
``response_model``s from a ``schemas_trading.py`` (so the client can share them); then add the
router to ``ROUTERS`` in ``app.py`` and a typed method to ``mastertrade.client.DaemonClient``.

This package's ``__init__`` imports nothing, so ``mastertrade.client`` can import ``schemas`` alone.
"""
