"""The API's request and response bodies, shared by the routes and the client.

This module imports only pydantic, so ``mastertrade.client`` (and through it the CLI and the TUI) can
use the same models the daemon serves without importing FastAPI. Times are ISO-8601 UTC; candle
timestamps are also given as epoch milliseconds (``ts``). Another area puts its models in its own
``schemas_<area>.py`` beside this one, for the same reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mastertrade.engine.api.schemas_collectors import SourceInfo
from mastertrade.engine.kernel.run_words import Listed

TIMEFRAME_PATTERN = r"^0*[1-9][0-9]*[mhdw]$"
Timeframe = Annotated[str, Field(pattern=TIMEFRAME_PATTERN, examples=["1m", "15m", "1h", "1d"])]
"""A bar length: a number and a unit m/h/d/w (``engine/market/timeframes.py``), as stored: a series or
strategy stored under ``60m`` before such spellings were refused is shown under that name."""


def _one_spelling(value: str) -> str:
    from mastertrade.engine.market.timeframes import check_timeframe
    from mastertrade.errors import UserInputError

    try:
        return check_timeframe(value)
    except UserInputError as exc:
        raise ValueError(str(exc)) from None


TimeframeInput = Annotated[Timeframe, AfterValidator(_one_spelling)]
"""A bar length in a request: spelled its one way (``1h``; ``60m`` is refused, naming ``1h``), since what
is stored is stored under the text."""
Severity = Literal["info", "warning", "critical"]


class Model(BaseModel):
    # Responses from a newer daemon may carry fields this client does not know yet.
    model_config = ConfigDict(extra="ignore")


class Request(BaseModel):
    # Infinity and NaN are refused like any number outside a field's range (422, naming the value).
    # Strict: a number is a JSON number and a switch a JSON boolean. Lax pydantic took `"amount": true`
    # as 1 and `"amount": "0.5"` as 0.5; a whole number is still a number (`"amount": 1`).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class ErrorDetail(Model):
    code: str
    message: str


class ErrorBody(Model):
    """Every error response: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


class ServiceInfo(Model):
    name: str
    state: str
    restarts: int
    started_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    backoff_s: float | None = None


class VenueInfo(Model):
    id: str
    kind: str
    simulated: bool
    ended: str | None = None
    """A replay that has served every stored bar says so here (market time stands still)."""


class SymbolInfo(Model):
    symbol: str
    timeframe: Timeframe
    price: float | None = None
    price_at: datetime | None = None
    last_closed_ts: int | None = None
    last_closed: datetime | None = None
    feed_error: str | None = None
    """Why the live feed's polls for this symbol fail (None while they work)."""
    feed_error_since: datetime | None = None
    """Since when they have failed."""
    tick: float | None = None
    """The market's price tick (0.01: prices in whole cents) when the exchange says; None: not known
    (the simulated market, markets not loaded yet)."""


class LagInfo(Model):
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float = 0.0
    delivered: int = 0


class EventsInfo(Model):
    published: int
    dropped: int
    coalesced: int
    overflows: int
    subscribers: int
    max_queue_depth: int
    lag: LagInfo


class SummaryList(Model):
    """A run's ``summary`` that ends in a list, in its parts: "ok: 0 of 3 series searched" (``said``),
    "all skipped" (``label``) and one item per skipped series with why (``items``). A terminal line
    shortens it with :meth:`listed` (``Listed.fit``: the first item and "+N more"), in the same words."""

    said: str
    label: str
    items: list[str]

    def listed(self) -> Listed:
        return Listed(self.said, self.label, tuple(self.items))


class JobRunInfo(Model):
    id: int
    job: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    duration_s: float | None = None
    outcome: str
    error: str | None = None
    result: Any = None
    summary: str | None = None
    """The outcome as a trader reads it: what an "ok" run did when its job says ("ok: 0 of 3 series
    searched (all skipped: ...)", "ok: no goals to record"), else the outcome as stored. ``outcome`` stays
    what scripts test."""
    summary_list: SummaryList | None = None
    """``summary`` in its parts when it ends in a list (a night's skipped series, the models that did not
    train), else none."""


class JobInfo(Model):
    name: str
    description: str
    schedule: str | None = None
    available: bool
    reason: str | None = None
    running: bool
    next_run: datetime | None = None
    held_until: datetime | None = None
    """A heavy job on simulated time: its scheduled runs are skipped until this wall time (``[scheduler]
    simulated_min_gap_s`` after its previous run started); ``None`` when it is not held back."""
    last_run: JobRunInfo | None = None


class StatusReport(Model):
    """What ``GET /v1/status`` and ``mt status`` show."""

    version: str
    pid: int
    started_at: datetime
    uptime_s: float
    mode: Literal["paper", "live"]
    stopping: bool
    recovered: bool = Field(description="the previous daemon run ended without a clean stop")
    venue: VenueInfo
    timeframe: Timeframe
    services: list[ServiceInfo]
    symbols: list[SymbolInfo]
    events: EventsInfo
    work: dict[str, int] = Field(description="units of work running now, by kind")
    jobs: list[JobInfo]
    socket: str
    tcp_port: int | None = None
    sources: list[SourceInfo] = Field(default_factory=list, description="alternative-data sources")
    config_digest: str | None = Field(
        default=None,
        description="a digest of the config and secrets files' values as the daemon read them at its start "
        "(not the environment); a command that reads another digest from the files now knows they changed "
        "and a restart would apply the change",
    )


class Candle(Model):
    ts: int
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandlesResponse(Model):
    exchange: str
    symbol: str
    timeframe: Timeframe
    simulated: bool
    candles: list[Candle]
    next: str | None = Field(
        default=None,
        description="with since: the `since` of the next page (ISO-8601 UTC), null on the last page",
    )


class FeaturePointInfo(Model):
    ts: int = Field(description="the moment the value describes, epoch ms UTC")
    time: datetime
    published_at: datetime = Field(description="when it could first be known (bars opening after it use it)")
    value: float


class FeatureSeriesInfo(Model):
    source: str
    name: str
    symbol: str = Field(description='a base asset ("BTC") or "" for market-wide series')
    simulated: bool
    points: list[FeaturePointInfo]
    next: str | None = Field(
        default=None, description="the `since` of the next page (ISO-8601 UTC), null on the last page"
    )


class FeatureListing(Model):
    source: str
    name: str
    symbol: str
    rows: int
    first: datetime
    last: datetime
    last_value: float
    simulated: bool


class AlertRuleInfo(Model):
    id: int | None = Field(default=None, description="null for the built-in rules of [alerts] events")
    name: str
    kind: str
    params: dict[str, Any]
    severity: Severity | None = None
    builtin: bool


class AlertRuleCreate(Request):
    """A rule to add. ``kind`` is price_cross (symbol, level, direction), pct_move (pct, window,
    optional symbol), signal (when, symbol, timeframe) or an event kind (order_filled, risk_limit, ...;
    optional symbol or service)."""

    kind: str
    name: str | None = None
    severity: Severity | None = None
    symbol: str | None = None
    level: float | None = None
    direction: Literal["above", "below", "any"] | None = None
    pct: float | None = None
    window: str | None = None
    service: str | None = None
    when: dict[str, Any] | str | None = Field(
        default=None,
        description='signal: a condition in the genome language, e.g. {"<": [{"feature": "fear_greed"}, 20]}',
    )
    timeframe: TimeframeInput | None = Field(
        default=None, description="signal: the bars it watches (default: [market] timeframe)"
    )


class AlertTargetResult(Model):
    index: int
    target: str
    ok: bool
    error: str | None = None


class AlertInfo(Model):
    id: int
    created_at: datetime
    rule: str
    severity: Severity
    dedupe_key: str
    title: str
    body: str
    status: str
    attempts: int
    repeats: int
    last_seen_at: datetime
    delivered_at: datetime | None = None
    error: str | None = None
    targets: list[AlertTargetResult]


class AlertsOverview(Model):
    targets: list[str] = Field(description="the Apprise URLs, masked")
    quiet_hours: str | None = None
    quiet_now: bool
    repeat_window_s: float
    rules: list[AlertRuleInfo]
    history: list[AlertInfo]


class AlertTestRequest(Request):
    message: str | None = Field(default=None, max_length=2000)


REPORT_MAX = 16_000
"""The longest report ``POST /v1/alerts/report`` sends (a chat service may take less: Telegram 4,096
characters, and says so by refusing it, which the answer reports)."""


class AlertReportRequest(Request):
    title: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    message: str = Field(min_length=1, max_length=REPORT_MAX)


class RemovedResponse(Model):
    removed: int


class HealthReport(Model):
    """``GET /v1/health``: the daemon's event loop answers (``ok`` turns false once it is stopping)."""

    ok: bool
    pid: int


class StopResponse(Model):
    stopping: bool
    pid: int


class IndicatorLine(Model):
    spec: str = Field(description="the line spec asked for, e.g. sma(length=20)")
    values: list[float | None] = Field(description="one per bar of ts; null while the indicator warms up")


class IndicatorsResponse(Model):
    exchange: str
    symbol: str
    timeframe: Timeframe
    simulated: bool
    ts: list[int] = Field(description="the bars' open times, epoch ms, oldest first")
    lines: list[IndicatorLine]
