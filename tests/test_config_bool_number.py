"""A TOML boolean where a number belongs, or a number where a boolean does, is refused in one line naming
the key and value (pydantic alone read ``timeout_s = true`` as 1.0 and ``websocket = 0`` as false); an
environment variable's text is read as before (``MT_EXCHANGE__WEBSOCKET=0``)."""

from __future__ import annotations

import pytest

from mastertrade.config import load_settings
from mastertrade.errors import ConfigError
from mastertrade.locations import locations


def _config(text: str) -> str:
    path = locations().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[exchange]\ntimeout_s = true\n",
            "key 'exchange.timeout_s': Value error, expected a number, not true or false (got true)",
        ),
        (
            "[paper]\nfee = false\n",
            "key 'paper.fee': Value error, expected a number, not true or false (got false)",
        ),
        (
            "[api]\ntcp_port = true\n",
            "key 'api.tcp_port': Value error, expected a number, not true or false (got true)",
        ),
        (
            "[exchange]\nwebsocket = 0\n",
            "key 'exchange.websocket': Value error, expected true or false, not a number (got 0)",
        ),
    ],
)
def test_a_boolean_for_a_number_or_a_number_for_a_boolean_is_refused(text: str, message: str) -> None:
    path = _config(text)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == f"{path}:2: {message}"


def test_right_types_and_environment_text_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    _config("[exchange]\ntimeout_s = 5\nwebsocket = false\n\n[api]\ntcp_port = 8765\n")
    settings = load_settings()
    assert settings.exchange.timeout_s == 5.0 and settings.exchange.websocket is False
    monkeypatch.setenv("MT_EXCHANGE__WEBSOCKET", "1")
    monkeypatch.setenv("MT_EXCHANGE__TIMEOUT_S", "7")
    settings = load_settings()
    assert settings.exchange.websocket is True and settings.exchange.timeout_s == 7.0
