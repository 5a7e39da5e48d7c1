"""Settings: one ``Settings`` object from defaults, the TOML config file, a secrets file and ``MT_*``
environment variables (highest priority), nested with ``__`` (``MT_DB__URL``, ``MT_RISK__MAX_DRAWDOWN``).

Every field carries a docstring; ``mt init`` turns them into the comments of the config file it writes,
so the file documents itself and never drifts from the code. A malformed file is reported as one line
naming the file, the line and the key (``ConfigError``).

Exchange keys may come from ``[exchange]`` in the config, from ``MT_EXCHANGE__API_KEY`` /
``MT_EXCHANGE__SECRET``, or from a ``secrets.toml`` beside the config that must be mode 0600. They are
``SecretStr`` values: printed as ``**********`` everywhere, including ``mt config show``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Self, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from mastertrade.errors import ConfigError
from mastertrade.locations import Locations, locations

ENV_PREFIX = "MT_"
ENV_NESTED = "__"


class Section(BaseModel):
    """Base of every config section: unknown keys are errors (a typo must not pass silently), and so is
    a TOML boolean where a number belongs or a number where a boolean does (pydantic would read
    ``timeout_s = true`` as 1.0 and ``websocket = 0`` as false), and an infinite number (TOML's ``inf``,
    ``MT_ALERTS__REPEAT_WINDOW_S=inf``): no setting means "never" by it, and ``repeat_window_s = inf``
    crashed the alerts service at every start (a timedelta cannot hold it)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or isinstance(value, str):  # an environment variable's text is parsed as usual
            return value
        annotation = field.annotation
        types = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        numeric = int in types or float in types
        if isinstance(value, bool) and numeric and bool not in types:
            raise ValueError("expected a number, not true or false")
        if isinstance(value, int | float) and not isinstance(value, bool) and bool in types and not numeric:
            raise ValueError("expected true or false, not a number")
        return value

    @model_validator(mode="after")
    def _first_delay_within_longest(self) -> Self:
        # Every backoff pair (X_s, X_max_s): a first delay above the longest was cut to it without a
        # word (retry_backoff_s = 100 with retry_backoff_max_s = 10 retried after 10 s).
        for name in type(self).model_fields:
            longest = f"{name.removesuffix('_s')}_max_s"
            if not name.endswith("_s") or longest not in type(self).model_fields:
                continue
            first, cap = getattr(self, name), getattr(self, longest)
            if first > cap:
                raise ValueError(
                    f"{name} {first:g} is above {longest} {cap:g}: the first delay must not be longer than"
                    " the longest"
                )
        return self


class DbSettings(Section):
    url: str | None = None
    """Database URL. Empty means SQLite in the data folder. Postgres: "postgresql+asyncpg://user@host/db"
    ("postgresql://" and "postgres://" are read as that; an "@" in the user name or password is written
    %40). SQLite elsewhere: an absolute path, "sqlite+aiosqlite:////path/to/mt.db" ("sqlite:///" works)."""

    busy_timeout_ms: int = Field(default=10_000, ge=0)
    """SQLite only: how long a writer waits for a lock held by another process before failing."""

    echo: bool = False
    """Log every SQL statement (debugging only)."""

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        check_db_url(value or "")
        if value is None:
            return None
        url = with_async_driver(value.strip())
        scheme, separator, _ = url.partition("://")
        # A database no driver reaches passed here and stopped the daemon only once it had forked (exit 1,
        # "exited during start-up"), naming neither the key nor the line. A URL without "://" is left to
        # the engine factory, which says what it could not read.
        if separator and scheme.lower() not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"unsupported database URL {mask_url(url)!r}: "
                f"use {' or '.join(driver + '://...' for driver in SUPPORTED_DRIVERS)}"
            )
        return url


SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
"""The database drivers MasterTrade reaches its databases with (URL schemes)."""

_PLAIN_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
"""URL schemes without a driver, as libpq, Heroku-style environments and SQLite's docs write them, and the
async driver MasterTrade reaches each database with."""


def with_async_driver(url: str) -> str:
    """``url`` with the async driver MasterTrade uses when it names none: ``postgresql://`` and
    ``postgres://`` (what psql, libpq and most hosting dashboards give) become ``postgresql+asyncpg://``,
    ``sqlite:///`` becomes ``sqlite+aiosqlite:///``. Other URLs (another driver, a typo) are left for
    the engine factory to refuse by name."""
    scheme, separator, rest = url.partition("://")
    driver = _PLAIN_SCHEMES.get(scheme.lower()) if separator else None
    return f"{driver}://{rest}" if driver is not None else url


def check_db_url(url: str) -> None:
    """Refuse a database URL with more than one ``@`` (ValueError): SQLAlchemy ends the password at its
    first ``@``, so ``mt:p@ss@host`` would connect to the host ``ss@host``, and a driver error could then
    show the rest of the password. The message names the host, never the user name or password."""
    scheme, separator, rest = url.partition("://")
    if separator and rest.count("@") > 1:
        raise ValueError(
            f"the database URL {scheme}://***@{rest.rpartition('@')[2]} holds more than one '@': write an"
            " '@' in the user name or password as %40 (the user name and password are not shown)"
        )


class ExchangeSettings(Section):
    id: str = "binance"
    """ccxt exchange id used for downloads and live trading (binance, kraken, coinbase, ...)."""

    api_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+[^\s]*$")
    """Override the venue's REST base URL (testnet, proxy, self-hosted gateway): an http:// or https://
    URL. When set, every other API family of the venue fails closed: no request leaves for any other
    host."""

    api_key: SecretStr | None = None
    """API key. Prefer MT_EXCHANGE__API_KEY or the 0600 secrets file over this file."""

    secret: SecretStr | None = None
    """API secret. Prefer MT_EXCHANGE__SECRET or the 0600 secrets file over this file."""

    password: SecretStr | None = None
    """API passphrase, for the venues that have one."""

    timeout_s: float = Field(default=30.0, gt=0)
    """Timeout of one HTTP request to the venue, in seconds."""

    max_retries: int = Field(default=5, ge=0)
    """How often a request that failed with a network error or rate limit is retried."""

    backoff_s: float = Field(default=1.0, gt=0)
    """First retry delay in seconds; doubles on each retry (with jitter), capped at backoff_max_s."""

    backoff_max_s: float = Field(default=30.0, gt=0)
    """Longest delay between two retries, in seconds."""

    page_limit: int = Field(default=1000, ge=1, le=5000)
    """Candles asked for per request when downloading history (Binance serves at most 1000)."""

    poll_interval_s: float = Field(default=10.0, gt=0)
    """How often the live feed polls the venue for the current bar, in seconds (REST polling)."""

    websocket: bool = True
    """Stream the live feed over the venue's websockets (ccxt watchOHLCV) where ccxt has them; poll
    REST otherwise, and for a while after repeated websocket failures (then try websockets again)."""

    ws_url: str | None = None
    """Replace the venue's public market-stream websocket URL (testnet, proxy), e.g.
    "wss://stream.testnet.binance.vision/ws"; every other websocket family fails closed. With api_url
    set and ws_url unset, websockets stay off (the live feed polls api_url)."""

    @field_validator("api_url", "ws_url")
    @classmethod
    def _reachable(cls, value: str | None, info: ValidationInfo) -> str | None:
        # a port past 65535 reached the HTTP client and ended the first request in a traceback
        if value is None:
            return None
        schemes = ("http", "https") if info.field_name == "api_url" else ("ws", "wss")
        if urlsplit(value).scheme not in schemes:
            raise ValueError(f"expected a {schemes[1]}:// or {schemes[0]}:// URL")
        problem = url_host_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def url_host_problem(url: str) -> str | None:
    """What makes ``url`` name no place to connect to: no host, or a port that is not 1..65535
    (written as it was); None when it names one."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        port = -1
    if not parts.hostname:
        return "it names no host"
    if port is not None and not 1 <= port <= 65535:
        return f"port {parts.netloc.rpartition(':')[2]!r} is not a number from 1 to 65535"
    return None


class MarketSettings(Section):
    venue: Literal["sim", "ccxt", "replay"] = "sim"
    """Where the daemon's live feed comes from: "sim" (simulated market, offline), "ccxt" (the
    [exchange] venue) or "replay" (stored candles played back)."""

    symbols: list[str] = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    """Symbols the daemon streams, evaluates and trades."""

    timeframe: str = "1h"
    """Candle timeframe of the live feed and of trading (1m, 5m, 15m, 1h, 4h, 1d, ...)."""

    seed: int = 7
    """Seed of the simulated market (venue "sim"): the same seed gives the same prices."""

    speed: float = Field(default=1800.0, gt=0)
    """Venues "sim" and "replay": market seconds that pass per wall-clock second (1800 shows a 1h bar
    every two seconds)."""

    ticks_per_bar: int = Field(default=12, ge=1, le=1000)
    """Venues "sim" and "replay": how many updates show each bar forming before it closes."""

    replay_exchange: str = "sim"
    """Venue "replay": the exchange whose stored candles are played back. Changed to one whose candles
    are older than the market time the workspace reached, the daemon refuses to start and says how to
    go on (a replay_start at that time, or a new workspace)."""

    replay_start: str | None = None
    """Venue "replay": ISO-8601 time to start playing from (default: the first stored candle). A
    restarted daemon resumes after the last bar it served when that is later: market time never goes
    back (to replay from the beginning again, use a new workspace)."""

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        from mastertrade.engine.market.timeframes import check_timeframe
        from mastertrade.errors import UserInputError

        try:
            check_timeframe(value)  # one spelling: the series, features and strategies are stored under it
        except UserInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("symbols")
    @classmethod
    def _stored_spelling(cls, value: list[str]) -> list[str]:
        """Each symbol as the commands store it (upper case: ``btc/usdt`` is ``BTC/USDT``, which `mt data`
        and `mt generate` write), so the daemon reads and trades the series they made; one listed twice
        (in two spellings, say) is refused, naming it."""
        from mastertrade.engine.market.symbols import parse_symbol
        from mastertrade.errors import UserInputError

        found: list[str] = []
        for text in value:
            try:
                symbol = parse_symbol(text)
            except UserInputError as exc:
                raise ValueError(str(exc)) from None
            if symbol in found:
                raise ValueError(f"symbol {text!r} is listed twice (as {symbol})")
            found.append(symbol)
        return found


class CollectorsSettings(Section):
    """Alternative data: news and social sentiment, fear & greed, on-chain, whales, macro indices and
    the keyed sources (Glassnode, Moralis, LunarCrush, X), each polled on its own schedule."""

    enabled: bool = True
    """Run the collectors in the daemon. Each source can also be switched off on its own (disabled)."""

    disabled: list[str] = []
    """Sources switched off by name (see `mt data sources`), e.g. ["reddit", "whales"]. A name that is
    neither a built-in source nor an installed plugin's is refused (here and in intervals and timeouts)."""

    intervals: dict[str, float] = {}
    """Poll interval per source in seconds, overriding the source's default, e.g. { news = 600 }."""

    timeouts: dict[str, float] = {}
    """Longest time one poll of a source may take, in seconds, overriding its default."""

    backoff_s: float = Field(default=60.0, gt=0)
    """First retry delay after a failed poll, in seconds; doubles on each further failure (with jitter)."""

    backoff_max_s: float = Field(default=3600.0, gt=0)
    """Longest delay between two retries of a failing source, in seconds."""

    symbol_aliases: dict[str, list[str]] = {
        "BTC": ["bitcoin", "btc", "xbt"],
        "ETH": ["ethereum", "eth", "ether"],
        "SOL": ["solana", "sol"],
    }
    """Symbols whose mentions are counted, each with the words naming it (whole words, any case)."""

    sentiment_bucket: str = "1h"
    """Time bucket over which news and social sentiment is aggregated per symbol (1h, 4h, 1d ...)."""

    news_feeds: list[str] = [
        "https://www.coindesk.com/arc/outboundfeeds/rss/",
        "https://cointelegraph.com/rss",
        "https://decrypt.co/feed",
        "https://bitcoinmagazine.com/.rss/full/",
    ]
    """RSS or Atom feeds of crypto news sites scored for sentiment."""

    subreddits: list[str] = ["Bitcoin", "ethereum", "solana", "CryptoCurrency"]
    """Subreddits whose newest posts are scored for sentiment (Reddit's public JSON listings)."""

    reddit_user_agent: str = "python:mastertrade:0.1 (self-hosted trading workstation)"
    """User-Agent sent to Reddit, which throttles generic ones. Add "(by /u/yourname)" to be polite."""

    whale_threshold_usd: float = Field(default=1_000_000.0, gt=0)
    """A Bitcoin transaction moving at least this many dollars counts as a whale transaction."""

    macro_series: dict[str, str] = {"spx": "fred:SP500", "nasdaq": "fred:NASDAQCOM", "dxy": "fred:DTWEXBGS"}
    """Macro indices stored as features: name = "fred:SERIES_ID" or "stooq:SYMBOL" (daily closes, no key).
    FRED has no DXY; DTWEXBGS (the Fed's broad dollar index) stands in, or use "stooq:dx.f"."""

    glassnode_api_key: SecretStr | None = None
    """Glassnode API key (switches on the glassnode source). Prefer MT_COLLECTORS__GLASSNODE_API_KEY."""

    glassnode_assets: list[str] = ["BTC", "ETH"]
    """Assets whose Glassnode metrics (active addresses, transaction count) are collected."""

    moralis_api_key: SecretStr | None = None
    """Moralis API key (switches on the moralis source). Prefer MT_COLLECTORS__MORALIS_API_KEY."""

    moralis_tokens: dict[str, str] = {"ETH": "eth:0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"}
    """ERC-20 tokens whose transfer activity Moralis reports: symbol = "chain:contract address"
    (the default is WETH, a proxy for Ethereum DeFi activity)."""

    lunarcrush_api_key: SecretStr | None = None
    """LunarCrush API v4 key (switches on the lunarcrush source). Prefer MT_COLLECTORS__LUNARCRUSH_API_KEY."""

    x_bearer_token: SecretStr | None = None
    """X (Twitter) API v2 bearer token (switches on the x source). Prefer MT_COLLECTORS__X_BEARER_TOKEN."""

    plugin_keys: dict[str, SecretStr] = {}
    """Keys of plugin collectors, by the key name the plugin declares."""

    finbert_model_dir: Path | None = None
    """Folder of a FinBERT ONNX export (model.onnx, tokenizer.json or vocab.txt, config.json) that scores
    news and posts beside VADER (needs the [ml] extra). Empty: VADER alone."""

    finbert_weight: float = Field(default=0.5, ge=0, le=1)
    """FinBERT's share of an item's sentiment score when FinBERT is on (the rest is VADER's)."""

    @field_validator("sentiment_bucket")
    @classmethod
    def _known_bucket(cls, value: str) -> str:
        from mastertrade.engine.market.timeframes import timeframe_ms
        from mastertrade.errors import UserInputError

        try:
            timeframe_ms(value)
        except UserInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("macro_series")
    @classmethod
    def _macro_specs(cls, value: dict[str, str]) -> dict[str, str]:
        for name, spec in value.items():
            provider, _, code = spec.partition(":")
            if provider not in ("fred", "stooq") or not code.strip():
                raise ValueError(f"{name} = {spec!r}: expected 'fred:SERIES_ID' or 'stooq:SYMBOL'")
        return value

    @field_validator("disabled", "intervals", "timeouts")
    @classmethod
    def _known_sources[T: (list[str], dict[str, float])](cls, value: T) -> T:
        from mastertrade.engine.collectors import names

        # A misspelt name (disabled = ["redit"]) left the source meant running without a word. A plugin's
        # name is known only once its code is imported: with a plugin installed, an unknown name is
        # refused at `mt daemon start` (collectors.check), not by every command.
        unknown = [name for name in value if name not in names.BUILTIN_NAMES]
        if unknown and not names.plugins_installed():
            raise ValueError(names.unknown_name(unknown[0], names.BUILTIN_NAMES))
        return value

    @field_validator("intervals", "timeouts")
    @classmethod
    def _positive_seconds(cls, value: dict[str, float]) -> dict[str, float]:
        for name, seconds in value.items():
            if not seconds > 0:
                raise ValueError(f"{name} = {seconds}: must be a positive number of seconds")
        return value


class ApiSettings(Section):
    """The daemon's API: HTTP over a Unix socket (always), and optionally over TCP on 127.0.0.1."""

    tcp_port: int | None = Field(default=None, ge=1, le=65535)
    """Also listen on 127.0.0.1 at this TCP port (for an SSH tunnel), requiring a bearer token.
    Empty (the default) means no TCP listener."""

    token: SecretStr | None = None
    """Bearer token the TCP listener requires. Empty: the daemon generates one into the file
    api-token beside the socket (mode 0600). Prefer MT_API__TOKEN over this file."""

    heartbeat_s: float = Field(default=15.0, gt=0)
    """Seconds between heartbeat events on an idle event stream (/v1/events)."""

    event_queue: int = Field(default=1000, ge=10)
    """Events buffered per event-stream client; when it lags further, old price ticks are dropped
    for it (orders, fills and alerts never are)."""


class DaemonSettings(Section):
    """The engine daemon's process: stopping, restarting crashed services, logging."""

    start_timeout_s: float = Field(default=30.0, gt=0)
    """How long `mt daemon start` waits for a new daemon to answer on its socket, in seconds; one that
    has not answered by then is stopped (a live daemon retrying an exchange it cannot reach)."""

    stop_timeout_s: float = Field(default=20.0, gt=0)
    """On stop, how long running work (storing a candle, sending an order, a job) may take to finish
    before it is cancelled, in seconds."""

    restart_backoff_s: float = Field(default=1.0, gt=0)
    """First delay before a crashed service is restarted, in seconds; doubles on each crash in a row."""

    restart_backoff_max_s: float = Field(default=60.0, gt=0)
    """Longest delay before a crashed service is restarted, in seconds."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level written to the daemon log (DEBUG, INFO, WARNING, ERROR)."""

    log_max_bytes: int = Field(default=10_000_000, ge=10_000)
    """The daemon log is rotated when it reaches this size, in bytes."""

    log_backups: int = Field(default=5, ge=0)
    """How many rotated daemon logs are kept."""


class DbLockSettings(Section):
    """One trading daemon per database: the lock the daemon holds in its database (see engine/db_lock.py).
    Postgres uses an advisory lock and needs none of these; SQLite a lock row with a heartbeat."""

    heartbeat_s: float = Field(default=10.0, gt=0)
    """How often the daemon renews its claim on the database, in seconds."""

    stale_after_s: float = Field(default=60.0, gt=0)
    """A claim not renewed for this long (its daemon froze or died on another host) may be taken over by
    a new daemon, in seconds. A dead daemon on the same host is replaced at once."""


class SchedulerSettings(Section):
    """Jobs the daemon runs on a schedule."""

    enabled: bool = True
    """Run scheduled jobs. Off: jobs run only when started by hand (POST /v1/jobs/NAME/run)."""

    jobs: dict[str, str] = {
        "nightly_generation": "0 3 * * *",
        "data_refresh": "*/15 * * * *",
        "risk_metrics": "*/5 * * * *",
        "goal_snapshots": "0 * * * *",
        "ml_retrain": "30 2 * * *",
    }
    """Cron schedule of each job by name, in UTC: "minute hour day-of-month month day-of-week"
    (or @hourly, @daily ...). An empty string switches a job off; a job left out keeps its default
    schedule; a name that is no job is refused. On a simulated venue the schedules run on market time
    (the nightly job runs each simulated night, at most once per simulated_min_gap_s)."""

    simulated_min_gap_s: float = Field(default=600.0, ge=0)
    """Simulated or replayed market only: a scheduled run of a heavy job (nightly_generation,
    ml_retrain) is skipped until this many seconds of wall time have passed since that job's previous
    run started (by this daemon or, as recorded in the database, an earlier one: a restart does not
    run one at once). At the default speed a simulated night passes every 48 s, so the nightly job would
    otherwise start a new run as soon as the last one ends, storing thousands of strategies an hour.
    600: at most one run of each heavy job per ten minutes, so a session still shows nightly runs and
    promotions while CPU and database stay bounded. 0: every fire runs. Runs started by hand, the light
    jobs (risk_metrics, goal_snapshots ...) and a real exchange's schedules are never held back."""

    keep_runs: int = Field(default=1000, ge=1)
    """How many of each job's newest run records the database keeps (`mt status`, /v1/jobs/NAME/runs);
    older ones are deleted. On a simulated market the light jobs run several times a second, and their
    records grew the database by hundreds of thousands of rows a day."""

    backfill_bars: int = Field(default=500, ge=1)
    """data_refresh: how many bars to fetch for a symbol that has none stored yet."""

    repair_window_bars: int = Field(default=20_000, ge=0)
    """data_refresh: each run also fetches the bars missing inside this many newest bars of each
    series (holes an exchange outage, a reconnect or the live feed's 10,000-bar catch-up cap left), as
    `mt data check --repair` does for the whole series; each run reads only this window's bar times.
    0: no hole repair. Holes older than the window are left for `mt data check --repair`."""

    @field_validator("jobs")
    @classmethod
    def _valid_cron(cls, value: dict[str, str]) -> dict[str, str]:
        from mastertrade.engine.scheduler.cron import check_cron

        # The defaults name every job the daemon has (a test holds them to its registry): a misspelt
        # name (nightly_genration) left the job it meant on its default schedule, said only in the log.
        known: dict[str, str] = cls.model_fields["jobs"].default
        for name in value:
            if name not in known:
                raise ValueError(f"unknown job {name!r}: expected one of {', '.join(sorted(known))}")
        for name, expression in value.items():
            if expression.strip():
                check_cron(expression, what=f"schedule of {name}")
        # A table naming one job (`jobs = {nightly_generation = "0 4 * * *"}`) changes that job: taken
        # whole, it replaced the defaults and left risk_metrics and the others unscheduled without a word.
        return known | value


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
"""A URL scheme (RFC 3986)."""


class AlertsSettings(Section):
    """Alerts: which events notify, where to (Apprise URLs), and when to keep quiet."""

    urls: list[str] = []
    """Apprise notification URLs: json://host/path, tgram://bot-token/chat-id, discord://id/token,
    slack://..., mailtos://user:password@host ... (see the Apprise docs). In the environment:
    MT_ALERTS__URLS='["tgram://..."]'. Their secrets are masked in every output."""

    events: list[str] = [
        "order_filled",
        "risk_limit",
        "circuit_breaker",
        "goal_milestone",
        "strategy",
        "service_failure",
        "data_source",
        "whale",
    ]
    """Built-in rules that are on: order_filled, risk_limit, circuit_breaker, goal_milestone,
    strategy (promoted or retired), service_failure (a crashed service, an unclean daemon stop
    and the job runs it cut short), data_source (an alternative-data source went stale or failed,
    and when it recovers),
    whale (a transaction above [collectors] whale_threshold_usd). Price and signal rules are added
    with `mt alerts add`."""

    repeat_window_s: float = Field(default=900.0, ge=0)
    """An alert with the same dedupe key within this many seconds is counted, not sent again (unless
    that alert failed to reach its targets: then the next one is sent)."""

    quiet_hours: str | None = None
    """"HH:MM-HH:MM" (e.g. "22:00-07:00") during which non-critical alerts are held; they are sent
    together when the quiet hours end. Critical alerts always go out at once."""

    timezone: str = "UTC"
    """Time zone of quiet_hours, an IANA name such as "Europe/Berlin"."""

    retry_attempts: int = Field(default=5, ge=1)
    """How many delivery attempts an alert gets before it is recorded as failed."""

    retry_backoff_s: float = Field(default=30.0, gt=0)
    """Delay before the first retry of a failed delivery, in seconds; doubles on each retry."""

    retry_backoff_max_s: float = Field(default=900.0, gt=0)
    """Longest delay between two delivery attempts, in seconds."""

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        from mastertrade.engine.alerts.rules import BUILTIN_RULES

        for name in value:
            if name not in BUILTIN_RULES:
                raise ValueError(f"unknown alert event {name!r}: expected one of {', '.join(BUILTIN_RULES)}")
        return value

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        """Each must be ``scheme://...`` with a scheme Apprise knows and, for the web-hook and e-mail
        schemes, a host (``engine.alerts.schemes``): a malformed target would otherwise show only
        when every alert to it has failed its retries. Apprise checks the rest (the parts each
        service needs) when the daemon starts (``engine.alerts.targets``: loading Apprise's plugins
        costs a second, too much for every command); some of its schemes need nothing after the
        ``://`` (``windows://``, ``dbus://``). The error names the target by its place and masked
        form, never its text, which may hold a token."""
        if not value:
            return []
        from mastertrade.engine.alerts.masking import mask_target
        from mastertrade.engine.alerts.schemes import shape_problem

        urls = [url.strip() for url in value]
        for index, url in enumerate(urls):
            scheme, separator, _ = url.partition("://")
            if not separator or not _SCHEME.fullmatch(scheme):
                raise ValueError(
                    f"alert URL #{index + 1} of {len(value)} is not an Apprise URL: it must start with a"
                    " scheme and ://, like json://host/path or tgram://bot-token/chat-id (the value is not"
                    " shown: it may hold a token)"
                )
            problem = shape_problem(url)
            if problem is not None:
                raise ValueError(
                    f"alert URL #{index + 1} of {len(value)} ({mask_target(url)}) is not an Apprise URL:"
                    f" {problem}"
                )
        return urls

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        from mastertrade.engine.alerts.quiet import parse_quiet_hours

        if value is not None and value.strip():
            parse_quiet_hours(value)
            return value.strip()
        return None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name like Europe/Berlin") from None
        return value


class RiskSettings(Section):
    """The risk manager: pre-trade limits, circuit breakers and risk metrics. Fractions are of the
    account's equity (0.20 = 20%). Exits (sells that reduce a long position) are never blocked."""

    max_position: float = Field(default=0.20, gt=0, le=1)
    """Largest position in one symbol after an order fills, as a fraction of equity."""

    max_exposure: float = Field(default=0.80, gt=0, le=1)
    """Largest total value of all positions (and open buy orders), as a fraction of equity."""

    max_open_positions: int = Field(default=5, ge=1)
    """Most symbols held at the same time; a buy that would open one more is rejected."""

    min_notional: float = Field(default=10.0, ge=0)
    """Smallest order value in quote currency (USDT); smaller buys are rejected, not rounded up."""

    daily_loss_limit: float = Field(default=0.05, gt=0, le=1)
    """Loss since the start of the UTC day, as a fraction of that day's opening equity, at which new
    entries stop until the next day."""

    max_drawdown: float = Field(default=0.15, gt=0, lt=1)
    """Drawdown from the equity peak at which trading turns reduce-only (no new entries, exits allowed)
    until equity recovers or `mt risk resume` sets a new baseline."""

    resize: bool = True
    """Shrink a buy that breaks a size limit to the largest size that fits (instead of rejecting it)."""

    price_move_bar: float = Field(default=0.10, gt=0)
    """Circuit breaker: a bar whose range (high - low) exceeds this fraction of its open pauses trading."""

    price_move_minute: float = Field(default=0.05, gt=0)
    """Circuit breaker: a price move beyond this fraction within one minute of market time pauses trading."""

    price_move_cooldown_s: float = Field(default=1800.0, ge=0)
    """Seconds a price-move breaker stays tripped before it resets by itself."""

    stale_after_s: float = Field(default=300.0, gt=0)
    """Circuit breaker: no price update for a traded symbol for this many seconds pauses trading; it
    resets when fresh data arrives."""

    consecutive_losses: int = Field(default=5, ge=1)
    """Circuit breaker: this many losing trades in a row pause trading."""

    losses_cooldown_s: float = Field(default=21600.0, ge=0)
    """Seconds the consecutive-losses breaker stays tripped before it resets by itself."""

    error_burst: int = Field(default=5, ge=1)
    """Circuit breaker: this many exchange errors within error_window_s pause trading."""

    error_window_s: float = Field(default=60.0, gt=0)
    """The window, in seconds, in which exchange errors are counted."""

    error_cooldown_s: float = Field(default=300.0, ge=0)
    """Seconds the exchange-errors breaker stays tripped before it resets by itself."""

    var_horizon: str = "1d"
    """Horizon of VaR and CVaR: returns are taken over bars of this length (1h, 4h, 1d ...)."""

    var_lookback: int = Field(default=365, ge=20)
    """How many past returns of that horizon VaR and CVaR are computed from (at least 20)."""

    @field_validator("var_horizon")
    @classmethod
    def _known_horizon(cls, value: str) -> str:
        from mastertrade.engine.market.timeframes import timeframe_ms
        from mastertrade.errors import UserInputError

        try:
            timeframe_ms(value)
        except UserInputError as exc:
            raise ValueError(str(exc)) from None
        return value


class SizingSettings(Section):
    """Position sizing: fractional Kelly from each strategy's record, times the goals' risk factor."""

    kelly_fraction: float = Field(default=0.5, gt=0, le=1)
    """The part of the full Kelly fraction that is used (0.5 = half Kelly)."""

    prior_trades: int = Field(default=30, ge=0)
    """A strategy's backtest counts as at most this many trades when it is blended with its own paper
    and live trades, so its real record takes over as it grows."""

    min_trades: int = Field(default=10, ge=1)
    """With fewer trades than this (backtest and real together), default_fraction is used instead."""

    default_fraction: float = Field(default=0.05, gt=0, le=1)
    """Fraction of equity per position for a strategy without enough record for Kelly."""

    min_factor: float = Field(default=0.5, gt=0)
    """Lowest goal risk factor (ahead of schedule, or near the drawdown limit)."""

    max_factor: float = Field(default=1.5, gt=0)
    """Highest goal risk factor (behind schedule)."""

    goal_gain: float = Field(default=1.0, ge=0)
    """How strongly being behind or ahead of schedule moves the risk factor: the factor changes by
    gain x the schedule gap (10 points behind with gain 1 gives 1.10)."""

    schedule_tolerance: float = Field(default=0.05, ge=0)
    """A goal within this many points of its schedule (0.05 = 5% of the target) is on schedule."""

    drawdown_caution: float = Field(default=0.5, gt=0, lt=1)
    """From this fraction of max_drawdown on, the factor is capped, falling linearly to
    drawdown_floor at the limit, whatever the goals say."""

    drawdown_floor: float = Field(default=0.25, gt=0, le=1)
    """The cap on the risk factor when the drawdown reaches max_drawdown."""

    @model_validator(mode="after")
    def _factor_bounds(self) -> SizingSettings:
        # reversed bounds would pin every factor to max_factor and explain it as "kept within [2, 1.5]"
        if self.min_factor > self.max_factor:
            raise ValueError(
                f"min_factor {self.min_factor:g} is above max_factor {self.max_factor:g}: "
                "the goal factor's bounds must be low to high"
            )
        return self


class GoalsSettings(Section):
    """The trader's goals, created on first use (then managed with `mt goal add|remove`)."""

    monthly_return: float | None = Field(default=0.10, gt=0)
    """Default goal: return per calendar month, as a fraction (0.10 = 10%). Empty: no such goal."""

    monthly_profit: float | None = Field(default=10_000.0, gt=0)
    """Default goal: profit per calendar month in quote currency. Empty: no such goal."""

    portfolio_value: float | None = Field(default=1_000_000.0, gt=0)
    """Default goal: account value in quote currency. Empty: no such goal."""


class PaperSettings(Section):
    """Paper trading: the simulated account and how its orders fill (the backtest's rules)."""

    starting_cash: float = Field(default=10_000.0, gt=0)
    """Cash the paper account starts with, in quote currency."""

    strategy_cash: float = Field(default=10_000.0, gt=0)
    """Cash each paper-stage strategy's own isolated book starts with (as in its backtest)."""

    quote: str = "USDT"
    """Quote currency of the account's books, paper and live (read in upper case, as symbols are); at least
    one of [market] symbols must be quoted in it. A workspace keeps the one its books were opened in: the
    daemon refuses to start with another."""

    fee: float = Field(default=0.001, ge=0, lt=0.1)
    """Fee per side as a fraction of traded notional (0.001 = 0.1%, the backtest default)."""

    slippage: float = Field(default=0.0, ge=0, lt=0.1)
    """Adverse slippage of market and stop fills, as a fraction of the price (0 reproduces the backtest)."""

    @field_validator("quote")
    @classmethod
    def _stored_spelling(cls, value: str) -> str:
        # The books and symbols compare the quote as written: "usdt" against BTC/USDT (stored upper case)
        # showed the account's cash as 0.00, its drawdown 100% and refused every order.
        quote = value.strip().upper()
        if not quote or not (quote.isascii() and quote.isalnum()):
            raise ValueError(f"invalid quote currency {value!r}: letters and digits, like USDT")
        return quote


class ExecutionSettings(Section):
    """Order handling common to paper and live trading."""

    intent_max_age_s: float = Field(default=60.0, gt=0)
    """An order journaled but never sent (the daemon stopped in between) is sent at the next start only
    if it is younger than this; an older one is cancelled as stale."""

    unknown_grace_s: float = Field(default=15.0, ge=0)
    """An order whose answer was lost and that the exchange does not know is declared never received
    only after the exchange's receive window plus this many seconds (it could still arrive before)."""

    poll_interval_s: float = Field(default=5.0, gt=0)
    """How often open live orders are checked at the exchange for fills, in seconds."""

    native_stops: bool = True
    """Where the venue has native stop orders, a strategy's live stop also rests at the exchange (kept
    in step with the daemon's trailing logic), so it protects the position while the daemon is down."""

    answer_within_s: float = Field(default=5.0, gt=0)
    """A live order answers its caller (`mt trade`, the API) within this many seconds with its state
    as it stands; a send still waiting for the exchange goes on in the background."""


class ParitySettings(Section):
    """The parity monitor: each paper and active strategy's paper book compared with its backtest over
    the same bars, as bars close."""

    enabled: bool = True
    """Run the monitor in the trading daemon."""

    check_every_bars: int = Field(default=24, ge=1)
    """Check a book at least every this many of its bars (and at every bar on which it had a fill)."""

    max_mismatched_trades: int = Field(default=0, ge=0)
    """Trades that may differ (or exist on one side only) before the book counts as diverged."""

    pause_on_divergence: bool = True
    """Pause a diverged strategy (else only alert): it no longer trades what its backtest says."""


class BacktestSettings(Section):
    """Defaults of `mt backtest` (its --cash and --fee override them)."""

    cash: float = Field(default=10_000.0, gt=0)
    """Starting cash of a backtest, in the quote currency."""

    fee: float = Field(default=0.001, ge=0, lt=0.1)
    """Fee per side as a fraction of traded notional (0.001 = 0.1%, a typical spot taker fee)."""


class GeneratorSettings(Section):
    """The strategy generator (`mt generate` and the nightly run): genetic search, walk-forward validation,
    the filter, and the promotion rules of paper and active strategies. The nightly run's schedule is
    [scheduler] jobs.nightly_generation (03:00 UTC by default)."""

    count: int = Field(default=500, ge=1, le=100_000)
    """Distinct evaluated strategies stored per run (`mt generate --count` overrides it)."""

    population: int = Field(default=128, ge=8, le=100_000)
    """Individuals per generation of the genetic search."""

    generations: int = Field(default=12, ge=0, le=10_000)
    """Generations of the search after the random first one (more run when fewer distinct strategies
    than `count` were evaluated)."""

    crossover_prob: float = Field(default=0.5, ge=0, le=1)
    """Chance that a pair of parents swaps rule subtrees."""

    mutation_prob: float = Field(default=0.9, ge=0, le=1)
    """Chance that a child is mutated (parameters, thresholds, operators, indicators, conditions, stops)."""

    operator_policy: Literal["bandit", "uniform"] = "uniform"
    """How the search picks variation operators: "uniform" (the fixed built-in mutation weights and
    crossover_prob) or "bandit" (a Thompson-sampling bandit over mutations, swap targets and crossover
    rates, rewarded when a child beats its parent and persisted per series across runs; see the README's
    comparison)."""

    max_conditions: int = Field(default=6, ge=1, le=24)
    """Most conditions the search puts in one entry or exit rule."""

    complexity_penalty: float = Field(default=0.05, ge=0)
    """Subtracted per condition and group from the search's fitness, the Sharpe ratio of the walk-forward
    test folds inside the search window (never the hold-out): simpler rules win ties."""

    workers: int | None = Field(default=None, ge=1, le=1024)
    """Parallel workers evaluating candidates. Empty: one per core."""

    executor: Literal["threads", "processes", "dask"] = "threads"
    """How workers run: "threads" (numba threads in one process; best on one machine, where one
    evaluation costs microseconds), "processes" (a process pool, each with its own indicator cache) or
    "dask" (a Dask cluster, extra [cluster]: the scheduler below, or a LocalCluster on this machine)."""

    scheduler: str | None = None
    """Executor "dask": the scheduler's address (tcp://HOST:PORT of a running `dask scheduler`). Empty:
    start a LocalCluster of `workers` processes on 127.0.0.1 for the run."""

    timeframes: list[str] = []
    """Timeframes of the research universe (`mt generate --universe` and the nightly run): every symbol
    of [market] symbols on each of these. Empty: [market] timeframe only."""

    @field_validator("timeframes")
    @classmethod
    def _known_timeframes(cls, value: list[str]) -> list[str]:
        for timeframe in value:
            MarketSettings._known_timeframe(timeframe)
        return value

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, value: str | None) -> str | None:
        from mastertrade.engine.generator.cluster_address import check_address
        from mastertrade.errors import UserInputError

        if value:
            try:
                check_address(value)
            except UserInputError as exc:
                raise ValueError(str(exc)) from None
        return value or None

    lookback_bars: int = Field(default=8760, ge=200)
    """Newest bars of history a run searches on (8760 = one year of 1h bars)."""

    holdout_fraction: float = Field(default=0.25, gt=0, lt=1)
    """Newest share of the lookback held out from the search: scored once, after selection, for the
    stored candidates only. The filter, the deflated Sharpe ratio, the Kelly prior and every number
    shown as out-of-sample come from it."""

    pbo_blocks: int = Field(default=16, ge=2, le=16)
    """Blocks of the search window for the probability of backtest overfitting (CSCV); fewer are used
    when the window has fewer than two days per block."""

    walk_forward_windows: int = Field(default=4, ge=1, le=50)
    """Inner walk-forward test windows of the search window; the search's fitness is their stitched
    curve (never the hold-out)."""

    in_sample_ratio: float = Field(default=0.75, gt=0, lt=1)
    """Share of in-sample bars in one rolling in-sample + out-of-sample pair (0.75: three times as long)."""

    anchored: bool = False
    """Anchored walk-forward (every in-sample part starts at the first bar) instead of rolling."""

    min_trades: int = Field(default=10, ge=0)
    """Fewest closed trades a strategy needs: on the search's test folds (a constraint of the search)
    and on the hold-out (the filter)."""

    max_exposure_pct: float = Field(default=95.0, gt=0, le=100)
    """Highest share of bars spent in a position, on the search's test folds and on the hold-out
    (buy-and-hold is not a strategy)."""

    min_oos_sharpe: float = 1.0
    """Filter: lowest hold-out Sharpe ratio (annualised, daily returns) that passes."""

    min_deflated_sharpe: float = Field(default=0.95, ge=0, le=1)
    """Filter: lowest deflated Sharpe ratio of the hold-out Sharpe, a probability that it is real after
    accounting for every candidate ever tried on the series and the skew and fat tails of the returns."""

    max_drawdown_pct: float = Field(default=25.0, gt=0, le=100)
    """Filter: largest hold-out drawdown that passes, in percent."""

    reference_tolerance: float = Field(default=1e-6, gt=0, lt=1)
    """Finalists are re-run on the reference engine (backtesting.py); a relative difference of final
    equity above this, or different trades, fails the filter."""

    nightly_seed: int | None = Field(default=None, ge=0)
    """Nightly run's seed: empty, the date of its night (market time) as YYYYMMDD, so each night searches
    anew; a number N, the workspace's first nightly run uses N, the next N + 1 and so on (counted from the
    nightly runs stored for the universe's series, the one run most often), so a workspace replays the
    same nights from its start (the demo sets it, so every fresh demo shows the same strategies)."""

    paper_per_run: int = Field(default=3, ge=0)
    """Nightly run: how many of the run's passers (best deflated Sharpe first) start paper trading; a
    passer that traded the hold-out exactly as a better one did stays passed."""

    min_paper_days: float = Field(default=14.0, ge=0)
    """Promotion: shortest paper trading period, in days of market time, before a strategy can go active."""

    min_paper_trades: int = Field(default=5, ge=0)
    """Promotion: fewest closed paper trades before a strategy can go active."""

    paper_tolerance_sigma: float = Field(default=1.0, ge=0)
    """Promotion: the paper return may fall short of what the out-of-sample backtest predicts for the same
    period by at most this many standard deviations of that prediction."""

    drawdown_tolerance: float = Field(default=1.5, ge=1)
    """Promotion: the paper drawdown may be at most this multiple of the out-of-sample backtest drawdown."""

    retire_drawdown_pct: float = Field(default=25.0, gt=0, le=100)
    """Retirement: a paper or active strategy whose drawdown reaches this many percent is retired."""

    retire_sigma: float = Field(default=2.0, gt=0)
    """Retirement on decay: a paper or active strategy whose return falls this many standard deviations
    below its backtest's prediction (after min_paper_days and min_paper_trades) is retired."""

    max_paper_days: float = Field(default=90.0, ge=0)
    """Retirement: a paper strategy not promoted within this many days of market time is retired, with the
    reason it was kept (too few trades, below tolerance, ...), so paper strategies that never prove
    themselves do not pile up night after night (not one you added, without a hold-out: the rules cannot
    promote it); 0: never. At least min_paper_days."""

    @model_validator(mode="after")
    def _paper_period(self) -> GeneratorSettings:
        # a limit below the shortest record would retire every paper strategy before it could be judged
        if 0 < self.max_paper_days < self.min_paper_days:
            raise ValueError(
                f"max_paper_days {self.max_paper_days:g} is below min_paper_days {self.min_paper_days:g}:"
                " a paper strategy would be retired before its record could earn promotion (0 turns the"
                " limit off)"
            )
        return self


class RLSettings(Section):
    """Reinforcement learning (`mt rl train`, extra [ml]): a PPO policy trained on a series' search window
    and scored once on its hold-out."""

    steps: int = Field(default=20_000, ge=64, le=10_000_000)
    """Environment steps (bars) of PPO training (`mt rl train --steps` overrides it)."""

    holdout_fraction: float = Field(default=0.25, gt=0, lt=1)
    """Newest share of the lookback kept out of training and scored once as the hold-out."""

    lookback_bars: int = Field(default=8760, ge=300)
    """Newest bars of the series used (training window plus hold-out)."""

    episode_bars: int = Field(default=256, ge=16)
    """Bars per training episode (a random window of the training bars each time)."""


class MlSettings(Section):
    """Forecast models the daemon keeps current (needs the [ml] extra): retrained by the `ml_retrain` job,
    and each one predicts as every bar of [market] symbols closes, into its forecast feature series."""

    forecasts: list[Literal["lstm_transformer", "lightgbm"]] = []
    """Models to keep current, e.g. ["lightgbm"]. Empty: the daemon trains and predicts nothing."""

    horizon: int = Field(default=1, ge=1, le=48)
    """Bars ahead the daemon's forecasts look."""

    train_bars: int = Field(default=500, ge=20)
    """Labelled samples needed before the first model (a series never trained gets a full walk-forward)."""

    retrain_every: int = Field(default=168, ge=1)
    """Bars between retrainings in that first walk-forward."""

    window: int = Field(default=48, ge=4)
    """Bars of features per sample."""

    epochs: int = Field(default=4, ge=1, le=1000)
    """Training epochs of the LSTM-Transformer (1..1000: an extra zero or three is refused, not trained
    for days)."""

    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """Seed of every training: the same data and seed give the same model (0..4294967295, what numpy's
    and Keras's generators take)."""


class Settings(BaseSettings):
    """The effective settings of one MasterTrade installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED,
        extra="forbid",
        validate_default=True,
    )

    mode: Literal["paper", "live"] = "paper"
    """Trading mode. "live" also needs --live on the command line; without both, no order reaches
    a real exchange."""

    db: DbSettings = DbSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    market: MarketSettings = MarketSettings()
    api: ApiSettings = ApiSettings()
    daemon: DaemonSettings = DaemonSettings()
    db_lock: DbLockSettings = DbLockSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerts: AlertsSettings = AlertsSettings()
    collectors: CollectorsSettings = CollectorsSettings()
    risk: RiskSettings = RiskSettings()
    sizing: SizingSettings = SizingSettings()
    goals: GoalsSettings = GoalsSettings()
    paper: PaperSettings = PaperSettings()
    execution: ExecutionSettings = ExecutionSettings()
    backtest: BacktestSettings = BacktestSettings()
    parity: ParitySettings = ParitySettings()
    generator: GeneratorSettings = GeneratorSettings()
    rl: RLSettings = RLSettings()
    ml: MlSettings = MlSettings()

    _files_digest: str | None = PrivateAttr(default=None)

    @property
    def files_digest(self) -> str | None:
        """A digest of what the config and secrets files said when these settings were loaded (their
        values, not their comments or layout; the environment left out), or None for settings not read
        from the files. The daemon reports its own, so a command can tell the files changed since it
        started (``cli/config_drift.py``). A hash: no value can be read back from it."""
        return self._files_digest

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs (see load_settings); the environment overrides them.
        return (env_settings, init_settings)

    @field_validator("paper")
    @classmethod
    def _quote_traded(cls, value: PaperSettings, info: ValidationInfo) -> PaperSettings:
        market = info.data.get("market")  # absent when [market] itself was refused
        if market is None or not market.symbols:
            return value
        quotes = {symbol.partition("/")[2].partition(":")[0] for symbol in market.symbols}
        if value.quote not in quotes:
            raise ValueError(
                f"quote {value.quote!r} is the quote currency of none of [market] symbols"
                f" ({', '.join(market.symbols)}): the account could trade none of them"
            )
        return value

    def db_url(self, where: Locations | None = None) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.db.url or (where or locations()).default_db_url


def load_settings(path: Path | None = None, *, missing_ok: bool = False) -> Settings:
    """Read the config file (if any), the secrets file (if any) and the environment. A file named by
    ``MT_CONFIG`` must exist (a mistyped name ran on the defaults without a word), unless ``missing_ok``:
    ``mt init``, which writes it there."""
    where = locations()
    if path is None and not missing_ok and os.environ.get("MT_CONFIG") and not where.config_file.exists():
        raise ConfigError(
            f"MT_CONFIG names {str(where.config_file)!r}, which does not exist: run `mt init` to write it"
            " there, or point MT_CONFIG at your config file"
        )
    path = path or where.config_file
    file_data = _read_toml(path) if path.exists() else {}
    if file_data:
        _check_private(path, file_data, where.secrets_file)
    secrets = _read_secrets(where.secrets_file)
    for section, values in secrets.items():
        merged = dict(file_data.get(section, {}))
        merged.update(values)
        file_data = {**file_data, section: merged}
    misspelt = _misspelt_variable()
    if misspelt:
        raise ConfigError(misspelt)
    try:
        loaded = Settings(**file_data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, secrets=(where.secrets_file, secrets))) from None
    except SettingsError as exc:  # a list or table from the environment that is not JSON
        raise ConfigError(_describe_unparsed_env(exc)) from None
    loaded._files_digest = files_digest(file_data)
    return loaded


def files_digest(file_data: dict[str, Any]) -> str:
    """The digest :attr:`Settings.files_digest` holds: SHA-256 of the files' values in a canonical form."""
    import hashlib

    canonical = json.dumps(file_data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _misspelt_variable() -> str | None:
    """A variable that names a setting with one underscore where two belong (``MT_RISK_MAX_DRAWDOWN``
    for ``MT_RISK__MAX_DRAWDOWN``): the environment source ignores it, so the setting would silently
    keep its old value. Other ``MT_`` variables (``MT_HOME``, ...) are not settings and pass."""
    for name in sorted(os.environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or ENV_NESTED in upper:
            continue
        rest = upper[len(ENV_PREFIX) :].lower()
        for section, field in Settings.model_fields.items():
            model = field.annotation
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            key = rest.removeprefix(section + "_")
            if key != rest and key in model.model_fields:
                meant = ENV_PREFIX + section.upper() + ENV_NESTED + key.upper()
                return f"environment variable {name}: not a setting (did you mean {meant}?)"
    return None


def _check_private(path: Path, data: dict[str, Any], secrets_file: Path) -> None:
    """A config file that holds a secret (an exchange key, an API token, a data source's key) must be as
    private as the secrets file: readable by others, the key is as good as published. The error names
    the keys, never their values."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    held = [
        f"[{section}] {key}"
        for section, values in data.items()
        if isinstance(values, dict)
        for key, value in values.items()
        if value not in (None, "", {}) and _is_secret(section, key)
    ]
    if held:
        raise ConfigError(
            f"{path}: holds {', '.join(held)} but is readable by others (mode {mode:04o}): move"
            f" {'them' if len(held) > 1 else 'it'} to {secrets_file} (mode 0600), or chmod 600 {path}"
        )


def _is_secret(section: str, key: str) -> bool:
    """Whether ``[section] key`` is a ``SecretStr`` setting (or a table of them)."""
    field = Settings.model_fields.get(section)
    model = None if field is None else field.annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    inner = model.model_fields.get(key)
    return inner is not None and "SecretStr" in str(inner.annotation)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {exc.start}): is it a config file?") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: a binary file (NUL bytes), not a TOML config file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)"; put the place first, like a compiler.
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path}:{match.group(1)}" if match else str(path)
        reason = message[: match.start()].strip() if match else message
        raise ConfigError(f"{where}: invalid TOML: {reason}") from None


def _read_secrets(path: Path) -> dict[str, dict[str, Any]]:
    """The secrets file's values by config section. Keys at its top level belong to ``[exchange]``
    (``api_key = ...``, ``secret = ...``); tables name their section (``[collectors]
    glassnode_api_key = ...``, ``[api] token = ...``)."""
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path}: secrets file must be mode 0600, found {mode:04o} (chmod 600 it)")
    data = _read_toml(path)
    sections: dict[str, dict[str, Any]] = {}
    top = {key: value for key, value in data.items() if not isinstance(value, dict)}
    if top:
        sections["exchange"] = top
    for key, value in data.items():
        if isinstance(value, dict):
            sections.setdefault(key, {}).update(value)
    return sections


def _describe(
    exc: ValidationError, path: Path, *, secrets: tuple[Path, dict[str, dict[str, Any]]] | None = None
) -> str:
    """One line for the first validation error: where the value came from (an environment variable,
    the secrets file or the config file, with its line), the key, the reason. ``secrets`` is the
    secrets file and the values it gave, by section."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown key"
    elif "input" in error and not isinstance(error["input"], dict | list) and not _may_hold_secret(loc):
        reason = f"{reason} (got {json.dumps(error['input'], default=str)})"
    return _placed(loc, reason, path, secrets)


def key_error(loc: list[str], reason: str) -> ConfigError:
    """The error for a value refused only once the settings are loaded (a collector name that no plugin
    loaded gives, found at `mt daemon start`), worded and placed as ``load_settings`` words its own:
    the environment variable or the file and line that set it, the key, the reason."""
    where = locations()
    secrets_file = where.secrets_file
    secrets = _read_secrets(secrets_file)
    return ConfigError(_placed(loc, reason, where.config_file, (secrets_file, secrets)))


def _placed(
    loc: list[str], reason: str, path: Path, secrets: tuple[Path, dict[str, dict[str, Any]]] | None
) -> str:
    """``reason`` for the value at ``loc``, led by where that value came from (see ``_describe``)."""
    key = ".".join(loc)
    env_name = ENV_PREFIX + ENV_NESTED.join(part.upper() for part in loc)
    if any(name.upper() == env_name for name in os.environ):
        return f"environment variable {env_name}: {reason}"
    outer = _outer_env_variable(loc)
    if outer:
        return f"environment variable {outer}: key '{key}': {reason}"
    if secrets is not None and _given_by(secrets[1], loc):
        secrets_file = secrets[0]
        line = _locate(secrets_file, loc) or (
            _locate(secrets_file, loc[1:]) if loc[0] == "exchange" and len(loc) > 1 else None
        )
        return f"{secrets_file}{f':{line}' if line else ''}: key '{key}': {reason}"
    line = _locate(path, loc) if path.exists() else None
    # a whole section refused (two of its keys disagree): the variables that set some of its keys
    inside = sorted(name for name in os.environ if name.upper().startswith(env_name + ENV_NESTED))
    if inside and line is None:
        return f"environment variable {', '.join(inside)}: {reason}"
    place = f"{path}:{line}" if line else str(path)
    also = f" (with environment variable {', '.join(inside)})" if inside else ""
    return f"{place}: key '{key}'{also}: {reason}"


def _outer_env_variable(loc: list[str]) -> str | None:
    """The variable that set the value at ``loc`` as part of a JSON table (``MT_RISK='{"max_drawdown":
    2}'`` for ``risk.max_drawdown``), if one did."""
    names = {name.upper(): name for name in os.environ}
    for depth in range(len(loc) - 1, 0, -1):
        name = names.get(ENV_PREFIX + ENV_NESTED.join(part.upper() for part in loc[:depth]))
        if name is None:
            continue
        try:
            value: Any = json.loads(os.environ[name])
        except ValueError:
            continue
        for part in loc[depth:]:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            return name
    return None


def _given_by(values: dict[str, dict[str, Any]], loc: list[str]) -> bool:
    """Whether ``values`` (a file's settings by section) set the key at ``loc``."""
    section = values.get(loc[0])
    return section is not None and (len(loc) == 1 or loc[1] in section)


def _may_hold_secret(loc: list[str]) -> bool:
    """Whether the value at ``loc`` may hold a secret (the database URL's password, an API key), so
    that an error about it never repeats it."""
    if loc == ["db", "url"]:
        return True
    return SecretStr in _types_at(loc)


def _types_at(path: list[str]) -> tuple[Any, ...]:
    """The types the setting at ``path`` (a section, then keys) may hold (a union's members); none when
    there is no such setting."""
    model: Any = Settings
    annotation: Any = None
    for part in path:
        if get_origin(annotation) is dict:  # a key of a table ([collectors] plugin_keys): its values' type
            annotation = model = get_args(annotation)[1]
            continue
        fields = getattr(model, "model_fields", None)
        if not isinstance(fields, dict) or part not in fields:
            return ()
        annotation = fields[part].annotation
        model = annotation
    return get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)


def _describe_unparsed_env(exc: SettingsError) -> str:
    """One line naming the environment variable pydantic-settings could not decode: a list or table
    value (``MT_ALERTS__URLS``, a whole ``MT_RISK`` section) must be JSON. The value is not repeated:
    it may hold a secret (``MT_COLLECTORS__PLUGIN_KEYS``)."""
    match = re.search(r'field "([^"]+)"', str(exc))
    section = ENV_PREFIX + (match.group(1) if match else "").upper()
    for name in sorted(os.environ):
        upper = name.upper()
        if upper != section and not upper.startswith(section + ENV_NESTED):
            continue
        if _takes_json(upper[len(ENV_PREFIX) :].lower().split(ENV_NESTED)):
            try:
                json.loads(os.environ[name])
            except ValueError:
                return (
                    f"environment variable {name}: not valid JSON (a list or table set from the "
                    """environment is JSON, e.g. MT_ALERTS__URLS='["tgram://..."]')"""
                )
    return f"environment: {exc} (a list or table set from the environment must be JSON)"


def _takes_json(path: list[str]) -> bool:
    """Whether the setting at ``path`` (a section, then keys) is a list, table or section: the values
    pydantic-settings reads from the environment as JSON."""
    return any(
        get_origin(option) in (list, dict, tuple, set, frozenset)
        or option in (list, dict, tuple, set, frozenset)
        or (isinstance(option, type) and issubclass(option, BaseModel))
        for option in _types_at(path)
    )


def _locate(path: Path, loc: list[str]) -> int | None:
    """The 1-based line that sets ``loc`` (a section path and key) in a TOML file, if it can be found."""
    section: list[str] = []
    fallback = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?(\s*#.*)?", line)
        if header:
            section = [part.strip().strip('"') for part in header.group(1).split(".")]
            if section == loc:
                fallback = number
            continue
        match = re.match(r'"?([A-Za-z0-9_\-]+)"?\s*=', line)
        if match and section + [match.group(1)] == loc[: len(section) + 1]:
            return number
    return fallback


def render_config_file(settings: Settings | None = None) -> str:
    """A commented config.toml with every setting, its documentation and its current value.

    Values that are unset (None) and secrets are written as comments, so the file never carries a key
    unless the user puts it there. Rendered with tomlkit (a TOML library that writes comments), so
    every value is valid TOML however it is spelled.
    """
    import tomlkit

    from mastertrade.config_docs import attribute_docs

    settings = settings or Settings()
    document = tomlkit.document()
    for line in (
        "MasterTrade configuration (written by `mt init`).",
        "Every key can also be set from the environment: MT_<SECTION>__<KEY>, e.g. MT_DB__URL.",
        "Environment variables take precedence over this file. Dates are ISO-8601, UTC.",
    ):
        document.add(tomlkit.comment(line))
    document.add(tomlkit.nl())
    tables: list[tuple[str, BaseModel]] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            tables.append((name, value))
            continue
        _add_field(document, name, attribute_docs(type(settings)).get(name), value)
    for table_name, model in tables:
        table = tomlkit.table()
        docs = attribute_docs(type(model))
        for name in type(model).model_fields:
            _add_field(table, name, docs.get(name), getattr(model, name))
        document.add(table_name, table)
    return tomlkit.dumps(document).rstrip() + "\n"


def _add_field(container: Any, name: str, doc: str | None, value: Any) -> None:
    import tomlkit

    for part in (doc or "").splitlines():
        if part.strip():
            container.add(tomlkit.comment(part.strip()))
    if value is None or isinstance(value, SecretStr):
        container.add(tomlkit.comment(f'{name} = ""'))
    else:
        container.add(name, _toml_item(value))
    container.add(tomlkit.nl())


def _toml_item(value: Any) -> Any:
    """A tomlkit item for a config value: scalars as they are, lists and (inline) tables of them."""
    import tomlkit

    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for key, item in value.items():
            if item is not None:
                table.append(key, _toml_item(item))
        return table
    if isinstance(value, list | tuple):
        array = tomlkit.array()
        array.extend(_toml_item(item) for item in value)
        return array
    if isinstance(value, bool | int | float | str):
        return tomlkit.item(value)
    return tomlkit.item(str(value))


def masked_dump(settings: Settings, label: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The settings as plain data for display: secrets and database passwords as asterisks. ``label``
    shows each alert target (``mt config show`` passes the workspace's ``identity.target_label``, so
    two targets of one scheme show apart, as the daemon and its delivery records show them); without
    it, masked only (``masking.mask_target``)."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    if data["db"].get("url"):
        data["db"]["url"] = mask_url(data["db"]["url"])
    if data.get("alerts", {}).get("urls"):
        from mastertrade.engine.alerts.masking import mask_target

        data["alerts"]["urls"] = [(label or mask_target)(url) for url in data["alerts"]["urls"]]
    return data


def render_values(settings: Settings, label: Callable[[str], str] | None = None) -> str:
    """The effective settings as TOML, masked (what ``mt config show`` prints; ``masked_dump``)."""
    import tomlkit

    data = masked_dump(settings, label)
    document = tomlkit.document()
    for key, value in data.items():
        if not isinstance(value, dict) and value is not None:
            document.add(key, _toml_item(value))
    for name, values in data.items():
        if isinstance(values, dict):
            table = tomlkit.table()
            for key, value in values.items():
                if value is None:
                    table.add(tomlkit.comment(f"{key} (unset)"))
                else:
                    table.add(key, _toml_item(value))
            document.add(name, table)
    return tomlkit.dumps(document)


_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/]*):.*@")
"""``scheme://user:password@``, up to the last ``@``: as SQLAlchemy reads a database URL, a password
may hold ``/``, ``?``, ``#`` and ``:`` unencoded (``urlsplit`` would end the host at a ``/`` in it)."""


_QUERY_PASSWORD = re.compile(r"(?P<key>[?&][^=&#]*password=)[^&#]*", re.IGNORECASE)
"""``?password=...`` (or ``&sslpassword=...``): SQLAlchemy hands a URL's query to the driver as
keyword arguments, so ``postgresql+asyncpg://bob@db/mt?password=s3cret`` connects with that password."""


def mask_url(url: str) -> str:
    """A URL with its password replaced by asterisks, in its user part and in its query."""
    return _QUERY_PASSWORD.sub(r"\g<key>***", _PASSWORD.sub(r"\g<head>:***@", url, count=1))
