"""The bottom of the engine: what every service, job and API route is written against.

- ``context``: the ``Service`` interface, the ``EngineContext`` a service runs with, the daemon's state.
  It also holds the scheduler's job registry (``JobRegistry``, ``JobRun``), which the context carries.
- ``clock``: wall time and sleeping behind one interface (``SystemClock``, ``FakeClock``), and the
  market time of a simulated market (``MarketTime``).

Nothing here imports a feature area at run time (only their types, for annotations), so every area
can depend on the kernel and none of them on each other's internals through it.
"""
