"""The scheduler: named jobs on cron schedules from ``[scheduler] jobs``, each run recorded.

- ``kernel/context.py`` (the engine's kernel, since the ``EngineContext`` carries it): ``Job`` and
  ``JobRegistry``, where areas register their job functions (the list itself is built in
  ``mastertrade.engine.services.build_jobs``).
- ``service.py``: the ``SchedulerService`` that fires jobs on time (and on demand through the API)
  and records every run (``runs.py``, table ``job_runs``).
- ``cron.py``: cron expressions; ``data_refresh.py``: the candle gap-filling job.
"""
