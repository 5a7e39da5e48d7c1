"""The daemon log: UTC records that parse back, secrets redacted everywhere (tracebacks included),
and files created private."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from mastertrade.config import Settings
from mastertrade.engine.services.logs import parse_log_lines, setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_secrets_never_reach_the_log(tmp_path: Path, restore_logging: None) -> None:
    settings = Settings()
    settings = settings.model_copy(
        update={
            "alerts": settings.alerts.model_copy(update={"urls": ["tgram://123456:BOTSECRET99/4242"]}),
            "api": settings.api.model_copy(update={"token": SecretStr("tok-abcdef-123")}),
            "exchange": settings.exchange.model_copy(update={"api_key": SecretStr("KEY-9f8e7d")}),
        }
    )
    path = tmp_path / "logs" / "daemon.log"
    setup_logging(settings, path, stderr=False)
    log = logging.getLogger("mastertrade.test")
    log.info(
        "posting to %s with %s and %s", "tgram://123456:BOTSECRET99/4242", "tok-abcdef-123", "KEY-9f8e7d"
    )
    try:
        raise RuntimeError("the bot BOTSECRET99 was refused")
    except RuntimeError:
        log.exception("delivery failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    for secret in ("BOTSECRET99", "tok-abcdef-123", "KEY-9f8e7d", "4242"):
        assert secret not in text
    records = list(parse_log_lines(text.splitlines()))
    assert records[0]["message"] == "posting to tgram://*** with *** and ***"
    assert records[0]["time"].endswith("Z") and records[0]["logger"] == "mastertrade.test"
    assert records[1]["level"] == "ERROR" and "RuntimeError: the bot *** was refused" in records[1]["message"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_path_word_secret_is_hidden_as_a_word_not_inside_longer_ones(
    tmp_path: Path, restore_logging: None
) -> None:
    """A target whose URL path is /fail: "failed" in the log stays "failed", the word itself is hidden."""
    settings = Settings()
    settings = settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"urls": ["json://10.1.2.3/fail"]})}
    )
    path = tmp_path / "logs" / "daemon.log"
    setup_logging(settings, path, stderr=False)
    logging.getLogger("mastertrade.test").info("alert #6 failed after 5 attempts posting to /fail")
    for handler in logging.getLogger().handlers:
        handler.flush()
    (record,) = parse_log_lines(path.read_text(encoding="utf-8").splitlines())
    assert record["message"] == "alert #6 failed after 5 attempts posting to /***"


def test_apprises_own_abbreviation_of_a_password_is_redacted(tmp_path: Path, restore_logging: None) -> None:
    # Apprise logs "Could not load E-Mail URL: mailto://user:P...7@1...1:9": first and last character
    # of the password, under our redaction of the whole one.
    import apprise

    url = "mailto://mailuser:PASSWORDSECRET7@127.0.0.1:9"
    settings = Settings()
    settings = settings.model_copy(update={"alerts": settings.alerts.model_copy(update={"urls": [url]})})
    path = tmp_path / "logs" / "daemon.log"
    setup_logging(settings, path, stderr=False)
    assert apprise.Apprise().add(url) is False
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Could not load E-Mail URL" in text
    assert "P...7" not in text and "PASSWORDSECRET7" not in text and "mailuser" not in text


def test_every_secret_setting_is_redacted_data_source_and_plugin_keys_included(
    tmp_path: Path, restore_logging: None
) -> None:
    # The list of secrets was written out by hand and missed the data sources' keys: a plugin collector
    # that logged its request (key in the query) put the key in daemon.log.
    settings = Settings()
    settings = settings.model_copy(
        update={
            "collectors": settings.collectors.model_copy(
                update={
                    "glassnode_api_key": SecretStr("GN-key-1a2b3c"),
                    "moralis_api_key": SecretStr("MO-key-4d5e6f"),
                    "lunarcrush_api_key": SecretStr("LC-key-7a8b9c"),
                    "x_bearer_token": SecretStr("XB-token-0d1e2f"),
                    "plugin_keys": {"coingecko": SecretStr("CG-key-3a4b5c")},
                }
            ),
        }
    )
    secrets = ("GN-key-1a2b3c", "MO-key-4d5e6f", "LC-key-7a8b9c", "XB-token-0d1e2f", "CG-key-3a4b5c")
    path = tmp_path / "logs" / "daemon.log"
    setup_logging(settings, path, stderr=False)
    logging.getLogger("mastertrade.test").warning(
        "GET https://api.example/v1?key=%s failed", " ".join(secrets)
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert [secret for secret in secrets if secret in text] == []
    assert "GET https://api.example/v1?key=*** *** *** *** *** failed" in text
