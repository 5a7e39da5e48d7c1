"""A collector name in `[collectors] disabled`, `intervals` or `timeouts` that no source has (a typo,
`disabled = ["redit"]`) is refused in one line naming the key, the name and the known names: by every
command that loads the config when no collector plugin is installed, else by `mt daemon start`,
`restart` and `mt config show` once the plugins are loaded. Before, it was accepted and the source meant
kept running."""

from __future__ import annotations

import importlib.metadata
import json
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import httpx
import pytest

from mastertrade.config import load_settings
from mastertrade.engine.collectors import names, registry
from mastertrade.engine.collectors.base import Collector, FeaturePoint
from mastertrade.engine.collectors.check import check_collector_names
from mastertrade.errors import ConfigError
from mastertrade.locations import locations
from tests.conftest import MT

BUILTIN = "blockchain, fear_greed, glassnode, lunarcrush, macro, mempool, moralis, news, reddit, whales, x"


class DeskFeed(Collector):
    name = "desk_feed"
    description = "a plugin source"

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        return []


def installed(monkeypatch: pytest.MonkeyPatch, *points: EntryPoint) -> None:
    """These collector plugins, and no other, are installed (for the metadata and the registry alike)."""
    original = importlib.metadata.entry_points

    def entry_points(**params: Any) -> Any:
        if params.get("group") == names.ENTRY_POINT_GROUP:
            return list(points)
        return original(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(registry, "entry_points", entry_points)


def plugin(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=names.ENTRY_POINT_GROUP)


def write_config(mt_home: Path, text: str) -> Path:
    path = mt_home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_builtin_names_are_the_registrys() -> None:
    assert names.BUILTIN_NAMES == tuple(cls.name for cls in registry.BUILTIN)


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ('[collectors]\ndisabled = ["reddit", "redit"]\n', "disabled", 2),
        ("[collectors]\nenabled = true\nintervals = { news = 600, fear_gred = 60 }\n", "intervals", 3),
        ("[collectors]\ntimeouts = { mempol = 5 }\n", "timeouts", 2),
    ],
)
def test_without_plugins_every_command_refuses_a_name_that_is_no_sources(
    mt_home: Path, mt: MT, monkeypatch: pytest.MonkeyPatch, text: str, key: str, line: int
) -> None:
    installed(monkeypatch)
    path = write_config(mt_home, text)
    bad = {"disabled": "redit", "intervals": "fear_gred", "timeouts": "mempol"}[key]
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == (
        f"{path}:{line}: key 'collectors.{key}': Value error, unknown collector {bad!r}: expected one of"
        f" {BUILTIN}"
    )
    result = mt("config", "show")
    assert result.exit_code == 2 and result.stderr == f"mt: error: {refused.value}\n", result.output


def test_without_plugins_a_name_from_the_environment_is_refused(
    mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed(monkeypatch)
    monkeypatch.setenv("MT_COLLECTORS__DISABLED", json.dumps(["whale"]))
    refused = "environment variable MT_COLLECTORS__DISABLED: .*unknown collector 'whale': expected one"
    with pytest.raises(ConfigError, match=refused):
        load_settings()


def test_the_builtin_names_and_no_plugin_pass(mt_home: Path, mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch)
    write_config(mt_home, '[collectors]\ndisabled = ["reddit", "x"]\nintervals = { news = 600 }\n')
    assert load_settings().collectors.disabled == ["reddit", "x"]
    assert check_collector_names(load_settings().collectors) is None
    assert mt("config", "show").exit_code == 0


def test_with_a_plugin_installed_its_name_passes_and_a_typo_is_refused_at_start(
    mt_home: Path, mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin's name is its class's, known only once its code is imported: the config loads, and
    `mt daemon start` (before anything runs), `restart` and `mt config show` refuse the name."""
    installed(monkeypatch, plugin("desk", f"{__name__}:DeskFeed"))
    write_config(mt_home, '[collectors]\ndisabled = ["desk_feed"]\nintervals = { desk_fed = 60 }\n')
    settings = load_settings()  # every other command still runs
    with pytest.raises(ConfigError) as refused:
        check_collector_names(settings.collectors)
    assert str(refused.value) == (
        f"{locations().config_file}:3: key 'collectors.intervals': unknown collector 'desk_fed': expected"
        f" one of {BUILTIN.replace('blockchain, ', 'blockchain, desk_feed, ')}"
    )
    for command in (["daemon", "start"], ["daemon", "start", "--foreground"], ["daemon", "restart"]):
        result = mt(*command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr == f"mt: error: {refused.value}\n"
        assert not locations().pid_file.exists() and not locations().log_file.exists()
    shown = mt("config", "show")
    assert shown.exit_code == 2 and shown.stderr == f"mt: error: {refused.value}\n" and shown.stdout == ""

    write_config(mt_home, '[collectors]\ndisabled = ["desk_feed"]\nintervals = { desk_feed = 60 }\n')
    assert check_collector_names(load_settings().collectors) is None
    assert mt("config", "show").exit_code == 0


def test_a_plugin_that_fails_to_load_leaves_an_unknown_name_a_warning(
    mt_home: Path, mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its name cannot be known, and one broken plugin must not stop the daemon: the name may be its."""
    installed(monkeypatch, plugin("desk", "no_such_module_xyz:DeskFeed"))
    write_config(mt_home, '[collectors]\ndisabled = ["desk_feed"]\n')
    warning = check_collector_names(load_settings().collectors)
    assert warning is not None
    assert warning.startswith("[collectors] disabled: 'desk_feed' is no collector's name that loaded; the")
    assert "desk (ModuleNotFoundError: No module named 'no_such_module_xyz')" in warning
    shown = mt("config", "show")
    assert shown.exit_code == 0 and f"mt: warning: {warning}" in shown.stderr.replace("\n", " ")
