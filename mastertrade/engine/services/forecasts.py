"""The daemon's forecasts: the nightly ``ml_retrain`` job and the service that predicts as bars close.

For each model in ``[ml] forecasts`` and each symbol of ``[market] symbols`` (at ``[market] timeframe``):

- ``ml_retrain`` trains the model of the newest bar on every label known now (on a replay: closed by its
  market time, ``market.as_of``) and saves it as a new artifact (a series never trained gets a full
  walk-forward first, which also stores its past forecasts; so does one whose forecasts were made from
  candles that changed since, unless a trading strategy reads it: then it is not trained, an error
  naming the model, the strategies and what to do);
- :class:`ForecastService` waits for ``candle.closed`` and stores the forecast made at that bar's close
  (published at the close, like every walk-forward forecast) with the newest artifact trained by then
  (``ml.serving``: on a replay a newer one may have learnt from the bars it has yet to play; with none,
  no forecast, said once). It notices a new artifact by its folder and loads it once.

Without the ``[ml]`` extra both say so (the job is shown as unavailable; the service logs it once and
idles), and nothing else in the daemon changes.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from mastertrade.engine.kernel.run_words import Listed
from mastertrade.errors import MasterTradeError, NotFound

if TYPE_CHECKING:
    from mastertrade.artifacts import Artifact
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.kernel.context import EngineContext, JobRun
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.ml.trainer import LoadedModel, TrainRequest

log = logging.getLogger(__name__)

DESCRIPTION = "Retrain the forecast models of [ml] forecasts on every label known now"


def _missing(settings: Settings) -> str | None:
    from mastertrade.extras import FORECAST_MODULES, MLUnavailable, require

    if not settings.ml.forecasts:
        return "no models in [ml] forecasts"
    try:
        for model in settings.ml.forecasts:
            require(*FORECAST_MODULES[model])
    except MLUnavailable as exc:
        return str(exc)
    return None


def available(ctx: EngineContext) -> str | None:
    return _missing(ctx.settings)


def request_for(settings: Settings, model: str, symbol: str, exchange: str) -> TrainRequest:
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest

    ml = settings.ml
    return TrainRequest(
        model=model,
        symbol=symbol,
        timeframe=settings.market.timeframe,
        exchange=exchange,
        horizon=ml.horizon,
        train_bars=ml.train_bars,
        retrain_every=ml.retrain_every,
        seed=ml.seed,
        config=ModelConfig(window=ml.window, epochs=ml.epochs),
        section="ml",
    )


async def retrain_job(ctx: EngineContext, run: JobRun) -> dict[str, Any]:
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.market.as_of import research_until
    from mastertrade.engine.ml.trainer import refit

    strategies = StrategyStore(ctx.db)
    until = research_until(ctx.venue, ctx.market_time)  # a replay's store holds the bars to come too
    pairs = [(m, s) for m in ctx.settings.ml.forecasts for s in ctx.settings.market.symbols]
    results: dict[str, Any] = {}
    for index, (model, symbol) in enumerate(pairs):
        run.progress(index, len(pairs), f"training {model} on {symbol}")
        try:
            request = request_for(ctx.settings, model, symbol, ctx.venue.id)
            summary = await refit(ctx.db, request, strategies=strategies, until=until)
        except MasterTradeError as exc:
            results[f"{model} {symbol}"] = {"error": str(exc)}
            log.error("ml_retrain: %s on %s: %s", model, symbol, exc)
            continue
        results[f"{model} {symbol}"] = {
            "version": summary["artifact"]["version"],
            "verdict": summary["evaluation"].get("verdict"),
            # other trainings scored the same hold-out bars: the verdict is not out-of-sample (``ml.trials``)
            "holdout_trainings": summary["evaluation"].get("holdout_trainings"),
            "holdout_note": summary["evaluation"].get("holdout_note"),
            # its candles changed since its training: trained again from them, its forecasts replaced
            **({"candles_changed": summary["candles_changed"]} if "candles_changed" in summary else {}),
        }
    run.progress(len(pairs), len(pairs), "done")
    return {"models": results}


def retrain_summary(result: Any) -> Listed | None:
    """The ``ml_retrain`` job's result in words: how many of its models trained, and each of the others
    listed with why it did not (its outcome stays "ok" when one fails: the run went through its list)."""
    if not isinstance(result, dict) or not isinstance(result.get("models"), dict):
        return None
    models = {key: item for key, item in result["models"].items() if isinstance(item, dict)}
    failed = {key: item["error"] for key, item in models.items() if "error" in item}
    said = f"{len(models) - len(failed)} of {len(models)} models trained"
    reasons = tuple(f"{key}: {' '.join(str(error).split())}" for key, error in failed.items())
    return Listed(said, f"{len(failed)} did not", reasons)


class ForecastService:
    """Stores each configured model's forecast as every bar of the configured market closes."""

    name = "forecasts"

    def __init__(self) -> None:
        self.loaded: dict[tuple[str, SeriesKey], LoadedModel] = {}
        self.last_ms: float | None = None
        """How long the last bar's forecasts took (all models of one symbol), in milliseconds."""
        self._warned: set[str] = set()
        self._listings: dict[tuple[str, SeriesKey], tuple[tuple[str, ...], list[Artifact]]] = {}
        """Per model and series: the artifact folder's names when its versions were last looked for, and
        those versions (oldest first)."""
        self._chosen: dict[tuple[str, SeriesKey], str | None] = {}
        """Per model and series: the version last chosen to serve (None: none might), loaded or not."""

    async def run(self, ctx: EngineContext) -> None:
        from mastertrade.engine.events import CandleClosed

        missing = _missing(ctx.settings)
        if missing is not None:
            if ctx.settings.ml.forecasts:
                log.warning("forecasts are off: %s", missing)
            await ctx.stopping.wait()
            return
        ctx.provide(self)
        subscription = ctx.bus.subscribe({"candle.closed"}, name=self.name, maxsize=10_000)
        async with subscription:
            while True:
                event = await subscription.get()
                if not isinstance(event, CandleClosed):
                    continue
                if (
                    event.timeframe != ctx.settings.market.timeframe
                    or event.symbol not in ctx.settings.market.symbols
                ):
                    continue
                await self.on_bar(ctx, event.venue, event.symbol, event.timeframe, event.ts)

    async def on_bar(
        self, ctx: EngineContext, venue: str, symbol: str, timeframe: str, at_bar: int | None = None
    ) -> list[dict[str, Any]]:
        """Forecast from the bar of one symbol that closed (opened at ``at_bar``; by default the newest
        stored, which on a replay is one it has yet to play) with every configured model, each in its
        newest version trained by that bar's close (:meth:`_model`)."""
        from mastertrade.engine.collectors.forecast_candles import CandlesChanged
        from mastertrade.engine.market.store import SeriesKey
        from mastertrade.engine.market.timeframes import timeframe_ms
        from mastertrade.engine.ml.serving import NoModelYet
        from mastertrade.engine.ml.trainer import predict_latest

        key = SeriesKey(venue, symbol, timeframe)
        # made at the bar's close: only a model trained by then may make it (``ml.serving``)
        at = None if at_bar is None else at_bar + timeframe_ms(timeframe)
        started = time.perf_counter()
        out = []
        for model in ctx.settings.ml.forecasts:
            loaded = await self._model(model, key, ctx.settings.ml.horizon, ctx.db, at)
            if loaded is None:
                continue
            async with ctx.work(f"forecast {model} {symbol}"):
                try:
                    out.append(await predict_latest(ctx.db, loaded, key, at_bar=at_bar))
                except CandlesChanged as exc:
                    # not a crash of the service: the other models and series go on; said once a model
                    warned = f"stale {model} {key} {loaded.artifact.version}"
                    if warned not in self._warned:
                        self._warned.add(warned)
                        log.warning("forecasts: %s; no forecast stored until then", exc)
                except NoModelYet as exc:  # the bar read is older than the one that closed (a gap)
                    warned = f"future {model} {key} {loaded.artifact.version}"
                    if warned not in self._warned:
                        self._warned.add(warned)
                        log.warning("forecasts: %s; none stored", exc)
        self.last_ms = (time.perf_counter() - started) * 1000
        return out

    async def _model(
        self, model: str, key: SeriesKey, horizon: int, db: Database, at: int | None = None
    ) -> LoadedModel | None:
        """The model of the series that serves market time ``at`` (the close of the bar to forecast from;
        None: the newest), loaded once; the versions are looked for again only when the folder's listing
        changes (a retrain), and the one serving is chosen again as ``at`` passes a newer one's training
        (:mod:`mastertrade.engine.ml.serving`). With none trained by ``at``, no forecast, said once.
        A model that may serve but does not load (changed on disk) is an error in the log, and no
        forecast is made: never a silent fall back to an older model (``latest_model``)."""
        from mastertrade.artifacts import ArtifactStore, safe_key
        from mastertrade.engine.collectors.forecast_candles import KIND, artifact_key
        from mastertrade.engine.ml.serving import NoModelYet, serving
        from mastertrade.engine.ml.trainer import latest_model

        store = ArtifactStore.default()
        wanted = artifact_key(key, horizon)
        parent = store.root / KIND / model / safe_key(str(v) for v in wanted.values())
        listing = tuple(sorted(p.name for p in parent.iterdir())) if parent.is_dir() else ()
        seen = self._listings.get((model, key))
        if seen is None or seen[0] != listing:
            seen = (listing, store.versions(KIND, model, wanted))
            self._listings[(model, key)] = seen
            self._chosen.pop((model, key), None)
        chosen = serving(seen[1], at)
        version = None if chosen is None else chosen.version
        if (model, key) in self._chosen and self._chosen[(model, key)] == version:
            return self.loaded.get((model, key))  # as for the last bar (None: it did not load, or none may)
        self._chosen[(model, key)] = version
        self.loaded.pop((model, key), None)
        try:
            loaded = await latest_model(model, key, horizon, store, db=db, until=at)
        except NoModelYet as exc:
            if f"future {model} {key}" not in self._warned:
                self._warned.add(f"future {model} {key}")
                log.warning("forecasts: %s; until one serves, its forecasts are left out", exc)
            return None
        except NotFound:
            if f"{model} {key}" not in self._warned:
                self._warned.add(f"{model} {key}")
                log.warning("no trained %s model for %s yet: the ml_retrain job makes one", model, key)
            return None
        except MasterTradeError as exc:
            log.error("forecast model %s of %s: %s; no forecast until it is trained again", model, key, exc)
            return None
        self.loaded[(model, key)] = loaded
        return loaded
