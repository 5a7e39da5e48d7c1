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
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mastertrade.errors import ConfigError
from mastertrade.locations import Locations, locations

ENV_PREFIX = "MT_"
ENV_NESTED = "__"


class Section(BaseModel):
    """Base of every config section: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)


class DbSettings(Section):
    url: str | None = None
    """Database URL. Empty means SQLite in the data folder. Postgres: "postgresql+asyncpg://user@host/db"."""

    busy_timeout_ms: int = Field(default=10_000, ge=0)
    """SQLite only: how long a writer waits for a lock held by another process before failing."""

    echo: bool = False
    """Log every SQL statement (debugging only)."""


class ExchangeSettings(Section):
    id: str = "binance"
    """ccxt exchange id used for downloads and live trading (binance, kraken, coinbase, ...)."""

    api_url: str | None = None
    """Override the venue's REST base URL (testnet, proxy, self-hosted gateway). When set, every
    other API family of the venue fails closed: no request leaves for any other host."""

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


class MarketSettings(Section):
    venue: Literal["sim", "ccxt", "replay"] = "sim"
    """Where the daemon's live feed comes from: "sim" (simulated market, offline), "ccxt" (the
    [exchange] venue) or "replay" (stored candles played back)."""

    symbols: list[str] = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    """Symbols the daemon streams, evaluates and trades."""

    timeframe: str = "1h"
    """Candle timeframe of the live feed and of trading (1m, 5m, 15m, 1h, 4h, 1d, ...)."""

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        from mastertrade.engine.market.timeframes import timeframe_ms
        from mastertrade.errors import UserInputError

        try:
            timeframe_ms(value)
        except UserInputError as exc:
            raise ValueError(str(exc)) from None
        return value


class Settings(BaseSettings):
    """The effective settings of one MasterTrade installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED,
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
    )

    mode: Literal["paper", "live"] = "paper"
    """Trading mode. "live" also needs --live on the command line; without both, no order reaches
    a real exchange."""

    db: DbSettings = DbSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    market: MarketSettings = MarketSettings()

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

    def db_url(self, where: Locations | None = None) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.db.url or (where or locations()).default_db_url


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (if any), the secrets file (if any) and the environment."""
    where = locations()
    path = path or where.config_file
    file_data = _read_toml(path) if path.exists() else {}
    secrets = _read_secrets(where.secrets_file)
    if secrets:
        exchange = dict(file_data.get("exchange", {}))
        exchange.update(secrets)
        file_data = {**file_data, "exchange": exchange}
    try:
        return Settings(**file_data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)"; put the place first, like a compiler.
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = f"{path}:{match.group(1)}" if match else str(path)
        reason = message[: match.start()].strip() if match else message
        raise ConfigError(f"{where}: invalid TOML: {reason}") from None


def _read_secrets(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path}: secrets file must be mode 0600, found {mode:04o} (chmod 600 it)")
    data = _read_toml(path)
    section = data.get("exchange", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: expected keys api_key/secret at the top or under [exchange]")
    return section


def _describe(exc: ValidationError, path: Path) -> str:
    """One line for the first validation error: where the value came from, the key, the reason."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc)
    reason = error["msg"]
    if error["type"] == "extra_forbidden":
        reason = "unknown key"
    elif "input" in error and not isinstance(error["input"], dict | list):
        reason = f"{reason} (got {json.dumps(error['input'], default=str)})"
    env_name = ENV_PREFIX + ENV_NESTED.join(part.upper() for part in loc)
    if any(name.upper() == env_name for name in os.environ):
        return f"environment variable {env_name}: {reason}"
    line = _locate(path, loc) if path.exists() else None
    place = f"{path}:{line}" if line else str(path)
    return f"{place}: key '{key}': {reason}"


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
    unless the user puts it there.
    """
    settings = settings or Settings()
    lines = [
        "# MasterTrade configuration (written by `mt init`).",
        "# Every key can also be set from the environment: MT_<SECTION>__<KEY>, e.g. MT_DB__URL.",
        "# Environment variables take precedence over this file. Dates are ISO-8601, UTC.",
        "",
    ]
    tables: list[tuple[str, BaseModel]] = []
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            tables.append((name, value))
            continue
        lines += _render_field(name, field.description, value)
    for table_name, model in tables:
        lines.append(f"[{table_name}]")
        for name, field in type(model).model_fields.items():
            lines += _render_field(name, field.description, getattr(model, name))
    return "\n".join(lines).rstrip() + "\n"


def _render_field(name: str, doc: str | None, value: Any) -> list[str]:
    out = [f"# {part.strip()}" for part in (doc or "").splitlines() if part.strip()]
    if value is None or isinstance(value, SecretStr):
        out.append(f'# {name} = ""')
    else:
        out.append(f"{name} = {toml_value(value)}")
    out.append("")
    return out


def toml_value(value: Any) -> str:
    """A TOML literal for a config value (scalars, lists and tables of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        items = ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items() if item is not None)
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The settings as plain data for display: secrets and database passwords as asterisks."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    if data["db"].get("url"):
        data["db"]["url"] = mask_url(data["db"]["url"])
    return data


def render_values(settings: Settings) -> str:
    """The effective settings as TOML, masked (what ``mt config show`` prints)."""
    data = masked_dump(settings)
    lines = [f"{key} = {toml_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    for table, values in data.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]"]
            for key, value in values.items():
                lines.append(f"# {key} (unset)" if value is None else f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def mask_url(url: str) -> str:
    """A URL with its password replaced by asterisks."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
