"""Settings from defaults, the config file, the secrets file and MT_* variables; one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mastertrade.config import Settings, load_settings, mask_url, render_config_file
from mastertrade.errors import ConfigError
from mastertrade.locations import locations
from tests.conftest import MT


def write_config(text: str) -> Path:
    path = locations().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_a_config_file() -> None:
    settings = load_settings()
    assert settings.mode == "paper"
    assert settings.db_url() == f"sqlite+aiosqlite:///{locations().database_file}"
    assert settings.market.venue == "sim"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('[db]\nurl = "sqlite+aiosqlite:////tmp/from-file.db"\n[exchange]\ntimeout_s = 5\n')
    monkeypatch.setenv("MT_DB__URL", "sqlite+aiosqlite:////tmp/from-env.db")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BTC/USDT"]')
    settings = load_settings()
    assert settings.db.url == "sqlite+aiosqlite:////tmp/from-env.db"
    assert settings.exchange.timeout_s == 5
    assert settings.market.symbols == ["BTC/USDT"]


def test_bad_value_names_file_line_and_key() -> None:
    path = write_config('mode = "paper"\n\n[exchange]\nid = "binance"\ntimeout_s = "soon"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{path}:5: key 'exchange.timeout_s'")
    assert "soon" in message and "\n" not in message


def test_unknown_key_is_an_error_not_ignored() -> None:
    path = write_config("[market]\nsymbolz = []\n")
    with pytest.raises(ConfigError, match=rf"^{path}:2: key 'market.symbolz': unknown key$"):
        load_settings()


def test_reversed_goal_factor_bounds_are_refused() -> None:
    # min above max pinned every factor at max_factor, "kept within [2.00, 1.50]"
    path = write_config("[sizing]\nmin_factor = 2\n")
    with pytest.raises(
        ConfigError, match=rf"^{path}:1: key 'sizing': .*min_factor 2 is above max_factor 1.5"
    ):
        load_settings()


def test_a_section_refused_for_what_the_environment_set_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MT_SIZING__MIN_FACTOR", "2")
    with pytest.raises(ConfigError, match="^environment variable MT_SIZING__MIN_FACTOR: .*above max_factor"):
        load_settings()  # no config file: it was named before, as if it held the value
    path = write_config("[sizing]\nmax_factor = 1.2\n")
    with pytest.raises(
        ConfigError, match=rf"^{path}:1: key 'sizing' \(with environment variable MT_SIZING__MIN"
    ):
        load_settings()


@pytest.mark.parametrize(
    ("text", "message", "equal"),
    [
        (
            "[alerts]\nretry_backoff_s = 1000\n",
            "retry_backoff_s 1000 is above retry_backoff_max_s 900",
            "[alerts]\nretry_backoff_s = 900\n",
        ),
        (
            "[daemon]\nrestart_backoff_max_s = 0.5\n",
            "restart_backoff_s 1 is above restart_backoff_max_s 0.5",
            "[daemon]\nrestart_backoff_max_s = 1\n",
        ),
        (
            "[exchange]\nbackoff_s = 45\n",
            "backoff_s 45 is above backoff_max_s 30",
            "[exchange]\nbackoff_s = 30\n",
        ),
        (
            "[collectors]\nbackoff_max_s = 30\n",
            "backoff_s 60 is above backoff_max_s 30",
            "[collectors]\nbackoff_max_s = 60\n",
        ),
    ],
)
def test_a_first_delay_above_the_longest_is_refused(text: str, message: str, equal: str) -> None:
    # it was cut to the longest without a word: the first retry came sooner than the file said
    path = write_config(text)
    with pytest.raises(ConfigError, match=rf"^{path}:1: key '\w+': .*{message}: the first delay"):
        load_settings()
    write_config(equal)
    load_settings()


def test_invalid_toml_names_the_line() -> None:
    path = write_config('mode = "paper"\n[db\n')
    with pytest.raises(ConfigError, match=rf"^{path}:2: invalid TOML"):
        load_settings()


def test_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_MODE", "yolo")
    with pytest.raises(ConfigError, match="^environment variable MT_MODE: "):
        load_settings()


def test_a_malformed_alert_url_is_refused_by_place_without_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_ALERTS__URLS", '["json://host/hook", "tgram//bot-secret-123/456"]')
    with pytest.raises(ConfigError, match="alert URL #2 of 2 is not an Apprise URL") as caught:
        load_settings()
    assert "secret-123" not in str(caught.value) and caught.value.args[0].count("\n") == 0
    # schemes that need nothing after :// (desktop notifications) are Apprise's to judge, and kept
    monkeypatch.setenv("MT_ALERTS__URLS", '[" windows:// ", "json://host/hook"]')
    assert load_settings().alerts.urls == ["windows://", "json://host/hook"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MT_ALERTS__URLS", "tgram://bot/chat"),
        ("MT_MARKET__SYMBOLS", "BTC/USDT"),
        ("MT_RISK", "strict"),
        ("MT_COLLECTORS__PLUGIN_KEYS", "k-secret-789"),
    ],
)
def test_a_list_or_table_from_the_environment_that_is_not_json_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # pydantic-settings decodes these as JSON and raised its own SettingsError (a traceback in `mt`).
    monkeypatch.setenv("MT_ALERTS__QUIET_HOURS", "22:00-07:00")  # a plain string beside it is fine
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^environment variable {name}: not valid JSON") as raised:
        load_settings()
    assert value not in str(raised.value)  # it may be a secret


def test_bad_timeframe_is_rejected() -> None:
    write_config('[market]\ntimeframe = "1y"\n')
    with pytest.raises(ConfigError, match="market.timeframe.*invalid timeframe '1y'"):
        load_settings()


def test_market_symbols_are_read_in_the_stored_spelling() -> None:
    write_config('[market]\nsymbols = ["btc/usdt", " Eth/Usdt ", "SOL/USDT:USDT"]\n')
    assert load_settings().market.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT:USDT"]
    write_config('[market]\nsymbols = ["BTC/USDT", "btc/usdt"]\n')
    with pytest.raises(ConfigError, match="market.symbols.*'btc/usdt' is listed twice"):
        load_settings()
    write_config('[market]\nsymbols = ["BTCUSDT"]\n')
    with pytest.raises(ConfigError, match="market.symbols.*invalid symbol 'BTCUSDT'"):
        load_settings()


def test_the_paper_quote_is_read_in_the_symbols_spelling_and_must_be_one_they_trade_in() -> None:
    """`quote = "usdt"` started a daemon whose account showed equity 0.00 usdt, a 100% drawdown and its
    limits tripped, and refused every order ("the account trades against usdt")."""
    write_config('[paper]\nquote = " usdt "\n')
    assert load_settings().paper.quote == "USDT"
    path = write_config('[paper]\nquote = ""\n')
    with pytest.raises(ConfigError, match=rf"^{path}:2: key 'paper.quote': .*invalid quote currency ''"):
        load_settings()
    path = write_config('[market]\nsymbols = ["BTC/USDT", "ETH/USDT:USDT"]\n\n[paper]\nquote = "EUR"\n')
    with pytest.raises(
        ConfigError,
        match=rf"^{path}:4: key 'paper': .*quote 'EUR' is the quote currency of none of \[market\] symbols"
        r" \(BTC/USDT, ETH/USDT:USDT\): the account could trade none of them",
    ):
        load_settings()
    write_config('[market]\nsymbols = ["BTC/EUR", "ETH/USDT"]\n\n[paper]\nquote = "eur"\n')
    assert load_settings().paper.quote == "EUR"  # a symbol in another quote is streamed, not traded


def test_secrets_file_must_be_private() -> None:
    secrets = locations().secrets_file
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text('api_key = "k-123"\nsecret = "s-456"\n')
    secrets.chmod(0o644)
    with pytest.raises(ConfigError, match="must be mode 0600, found 0644"):
        load_settings()
    secrets.chmod(0o600)
    settings = load_settings()
    assert settings.exchange.api_key is not None
    assert settings.exchange.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(settings) and "s-456" not in str(settings.model_dump(mode="json"))


def test_a_config_file_holding_a_secret_must_be_private_too() -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('mode = "paper"\n[exchange]\napi_key = "k-123"\n[api]\ntoken = "t-789"\n')
    config.chmod(0o644)
    with pytest.raises(
        ConfigError, match=r"holds \[exchange\] api_key, \[api\] token but is readable"
    ) as raised:
        load_settings()
    assert "k-123" not in str(raised.value) and "t-789" not in str(raised.value)
    config.chmod(0o600)
    assert load_settings().exchange.api_key is not None
    config.write_text('mode = "paper"\n[exchange]\nid = "kraken"\n')  # nothing secret: its mode is free
    config.chmod(0o644)
    assert load_settings().exchange.id == "kraken"


def test_a_plugin_key_of_the_wrong_type_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A numeric key in `[collectors] plugin_keys` was refused with "(got 98765432)": a table's entries
    were not known to be secrets, as `glassnode_api_key`'s value is."""
    config = write_config("[collectors]\nplugin_keys = { foo = 98765432 }\n")
    config.chmod(0o600)
    with pytest.raises(ConfigError, match=r"config.toml:2: key 'collectors.plugin_keys.foo'") as in_file:
        load_settings()
    config.unlink()
    monkeypatch.setenv("MT_COLLECTORS__PLUGIN_KEYS", '{"foo": 98765432}')
    with pytest.raises(
        ConfigError, match="MT_COLLECTORS__PLUGIN_KEYS: key 'collectors.plugin_keys.foo'"
    ) as env:
        load_settings()
    assert "98765432" not in str(in_file.value) and "98765432" not in str(env.value)
    monkeypatch.delenv("MT_COLLECTORS__PLUGIN_KEYS")
    monkeypatch.setenv("MT_SCHEDULER__JOBS", '{"risk_metrics": 5}')  # not a secret: still shown
    with pytest.raises(ConfigError, match=r"scheduler.jobs.risk_metrics': .* \(got 5\)"):
        load_settings()


def test_rendered_config_is_valid_toml_with_every_default() -> None:
    text = render_config_file()
    data = tomllib.loads(text)
    assert data["mode"] == "paper"
    assert data["market"]["symbols"] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert "# api_key" in text  # secrets are documented but never written
    assert Settings(**data) == Settings()


def test_mask_url_hides_password() -> None:
    assert mask_url("postgresql+asyncpg://bob:hunter2@db/mt") == "postgresql+asyncpg://bob:***@db/mt"
    assert mask_url("sqlite+aiosqlite:////x.db") == "sqlite+aiosqlite:////x.db"


def test_secrets_file_feeds_any_section() -> None:
    secrets = locations().secrets_file
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text('api_key = "top-level"\n\n[collectors]\nglassnode_api_key = "gn-789"\n')
    secrets.chmod(0o600)
    settings = load_settings()
    assert settings.exchange.api_key is not None
    assert settings.exchange.api_key.get_secret_value() == "top-level"
    assert settings.collectors.glassnode_api_key is not None
    assert settings.collectors.glassnode_api_key.get_secret_value() == "gn-789"


def test_the_rendered_config_is_toml_that_reads_back_every_value() -> None:
    """``render_config_file`` and ``render_values`` write through tomlkit: quotes, backslashes and
    non-ASCII text survive, and every written value reads back as it was."""
    import tomllib

    from mastertrade.config import Settings, render_config_file, render_values

    tricky = 'sqlite+aiosqlite:///C:\\data\\mt "ünïcode".db'
    settings = Settings().model_copy(
        update={"db": Settings().db.model_copy(update={"url": tricky}), "market": Settings().market}
    )
    written = tomllib.loads(render_config_file(settings))
    assert written["db"]["url"] == tricky
    assert written["scheduler"]["jobs"] == settings.scheduler.jobs
    assert written["market"]["symbols"] == list(settings.market.symbols)
    shown = tomllib.loads(render_values(settings))
    assert shown["db"]["url"] == tricky and shown["scheduler"]["jobs"] == settings.scheduler.jobs


def test_a_config_file_mt_config_names_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mt: MT
) -> None:
    """A mistyped MT_CONFIG ran every command, and the daemon, on the defaults without a word. Now it is
    refused in one line naming the file; `mt init` writes it there, and then it is read."""
    named = tmp_path / "my-config.toml"
    monkeypatch.setenv("MT_CONFIG", str(named))
    with pytest.raises(
        ConfigError, match=rf"^MT_CONFIG names '{named}', which does not exist: run `mt init`"
    ):
        load_settings()
    refused = mt("config", "show")
    assert refused.exit_code == 2 and refused.stderr.startswith("mt: error: MT_CONFIG names"), refused.stderr
    assert not named.exists()
    assert load_settings(missing_ok=True).mode == "paper"  # what `mt init` reads before writing it
    named.write_text('[market]\nsymbols = ["ETH/USDT"]\n')
    assert load_settings().market.symbols == ["ETH/USDT"]
