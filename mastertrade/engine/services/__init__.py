"""The daemon's services, and the one place where areas add theirs and their scheduled jobs.

A service is an object with ``name`` and ``async run(ctx)`` (``kernel.context.Service``; read
``kernel/context.py`` for the rules and the ``EngineContext`` fields). The daemon runs the API servers
first, then every service ``build_services`` returns, each under the supervisor (``supervisor.py``), in
this order, and stops them in reverse order.

Adding a service (another area) is one line in ``build_services``::

    services.append(TradingService())

(import it inside the function, so importing this package stays cheap). Adding a scheduled job is
one line in ``build_jobs`` plus its schedule in ``[scheduler] jobs``::

    jobs.add("risk_metrics", compute_risk_metrics, "Recompute VaR, CVaR and exposure", summarize=...)

with ``summarize`` saying in words what a run did from its result, so that one that did nothing does not
read as a bare "ok" (``kernel.context.Job.summary``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext, JobRegistry, Service


def build_services(ctx: EngineContext) -> list[Service]:
    """Every service the daemon runs besides the API, in start order."""
    from mastertrade.engine.alerts.service import AlertService
    from mastertrade.engine.scheduler.service import SchedulerService
    from mastertrade.engine.services.market_feed import MarketFeed

    services: list[Service] = [AlertService(), MarketFeed(), SchedulerService()]
    from mastertrade.engine.collectors.daemon_service import CollectorsService

    services.append(CollectorsService())
    from mastertrade.engine.services.trading import TradingService

    services.append(TradingService())
    from mastertrade.engine.services.forecasts import ForecastService

    services.append(ForecastService())
    return services


def build_jobs() -> JobRegistry:
    """Every job the scheduler can run, by name (schedules come from ``[scheduler] jobs``)."""
    from mastertrade.engine.kernel.context import JobRegistry
    from mastertrade.engine.scheduler import data_refresh

    jobs = JobRegistry()
    data_refresh.register(jobs)
    from mastertrade.engine.services import trading

    trading.register_jobs(jobs)
    from mastertrade.engine.generator import nightly
    from mastertrade.engine.generator.night_summary import night_summary

    jobs.add(
        "nightly_generation", nightly.nightly_job, nightly.DESCRIPTION, paced=True, summarize=night_summary
    )
    from mastertrade.engine.services import forecasts as ml_daemon

    jobs.add(
        "ml_retrain",
        ml_daemon.retrain_job,
        ml_daemon.DESCRIPTION,
        available=ml_daemon.available,
        paced=True,
        summarize=ml_daemon.retrain_summary,
    )
    return jobs
