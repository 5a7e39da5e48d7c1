"""An infinite number in a setting is refused in one line naming the key: `repeat_window_s = inf` (meant
as "never repeat") was taken, and the alerts service then crashed at every start and restart
(`OverflowError: cannot convert float infinity to integer`), so no alert was ever sent."""

from __future__ import annotations

import pytest

from mastertrade.config import load_settings
from mastertrade.errors import ConfigError
from mastertrade.locations import locations


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[alerts]\nrepeat_window_s = inf\n", "alerts.repeat_window_s"),
        ("[risk]\nprice_move_cooldown_s = +inf\n", "risk.price_move_cooldown_s"),
        ("[scheduler]\nsimulated_min_gap_s = inf\n", "scheduler.simulated_min_gap_s"),
    ],
)
def test_an_infinite_number_in_the_file_is_refused(text: str, key: str) -> None:
    path = locations().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert f"config.toml:2: key '{key}': Input should be a finite number" in message
    assert "\n" not in message


def test_an_infinite_number_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_ALERTS__REPEAT_WINDOW_S", "inf")
    with pytest.raises(ConfigError, match="MT_ALERTS__REPEAT_WINDOW_S: Input should be a finite number"):
        load_settings()
    monkeypatch.setenv("MT_ALERTS__REPEAT_WINDOW_S", "1e9")  # long, and finite: fine
    assert load_settings().alerts.repeat_window_s == 1e9
