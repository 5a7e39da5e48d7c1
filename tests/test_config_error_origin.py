"""A settings error names the place the bad value came from: the secrets file (and its line) or the
environment variable holding a JSON table, not a config file that never held it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastertrade.config import load_settings
from mastertrade.errors import ConfigError
from mastertrade.locations import locations


def _secrets(text: str) -> Path:
    path = locations().secrets_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def _error() -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


def test_a_misspelt_key_at_the_top_of_the_secrets_file_names_that_file_and_line() -> None:
    secrets = _secrets("# my keys\napi_kye = 'abc'\n")
    assert _error() == f"{secrets}:2: key 'exchange.api_kye': unknown key"


def test_a_bad_value_in_a_table_of_the_secrets_file_names_its_line_not_the_config_file() -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True)
    config.write_text("[risk]\nmax_drawdown = 0.1\n", encoding="utf-8")  # valid, and on line 2 too
    secrets = _secrets("api_key = 'k'\n[risk]\nmax_drawdown = 3\n")
    assert _error() == f"{secrets}:3: key 'risk.max_drawdown': Input should be less than 1 (got 3)"


def test_a_secret_of_the_wrong_type_names_the_secrets_file_without_echoing_it() -> None:
    secrets = _secrets("[collectors]\nglassnode_api_key = 12345\n")
    message = _error()
    assert message == f"{secrets}:2: key 'collectors.glassnode_api_key': Input should be a valid string"


def test_an_error_of_the_config_file_still_names_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True)
    config.write_text("[risk]\nmax_drawdown = 0.1\nfoo = 1\n", encoding="utf-8")
    _secrets("api_key = 'k'\n")
    monkeypatch.setenv("MT_RISK", '{"max_drawdown": 0.2}')  # a table that does not hold the bad key
    assert _error() == f"{config}:3: key 'risk.foo': unknown key"


def test_a_bad_value_in_a_json_section_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_RISK", '{"max_drawdown": 2}')
    assert (
        _error()
        == "environment variable MT_RISK: key 'risk.max_drawdown': Input should be less than 1 (got 2)"
    )
