"""``MT_RISK_MAX_DRAWDOWN`` (one underscore where two belong) was ignored without a word, so the limit
the user meant to set kept its old value; it is refused naming the variable it should be."""

from __future__ import annotations

import pytest

from mastertrade.config import load_settings
from mastertrade.errors import ConfigError
from tests.conftest import MT


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("MT_RISK_MAX_DRAWDOWN", "MT_RISK__MAX_DRAWDOWN"),
        ("MT_DB_URL", "MT_DB__URL"),
        ("MT_DB_LOCK_STALE_AFTER_S", "MT_DB_LOCK__STALE_AFTER_S"),  # a section with an underscore
        ("mt_exchange_api_key", "MT_EXCHANGE__API_KEY"),
    ],
)
def test_one_underscore_for_two_is_refused_naming_the_right_variable(
    name: str, meant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "0.1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == f"environment variable {name}: not a setting (did you mean {meant}?)"


def test_other_mt_variables_are_not_settings_and_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MT_API_TOKEN_FILE", "MT_TEST_POSTGRES_URL", "MT_SOMETHING_ELSE"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("MT_RISK__MAX_DRAWDOWN", "0.1")
    assert load_settings().risk.max_drawdown == 0.1


def test_the_cli_says_it_in_one_line_exit_2(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_RISK_MAX_DRAWDOWN", "0.1")
    result = mt("config", "show")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: environment variable MT_RISK_MAX_DRAWDOWN: not a setting (did you mean"
        " MT_RISK__MAX_DRAWDOWN?)\n"
    )
