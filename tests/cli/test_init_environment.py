"""``mt init`` writes the defaults, not the values an ``MT_*`` variable of this shell puts in force."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

from mastertrade.config import load_settings
from mastertrade.engine.setup import initialise
from mastertrade.locations import locations
from tests.conftest import MT


def _init(db_url: str | None = None) -> dict[str, object]:
    return asyncio.run(initialise(load_settings(), db_url, warm=False))


def test_a_variable_of_this_shell_is_not_written_to_the_new_config(
    mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_MODE", "live")
    monkeypatch.setenv("MT_RISK__MAX_DRAWDOWN", "0.33")
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/elsewhere.db")
    report = _init()
    written = tomllib.loads(locations().config_file.read_text(encoding="utf-8"))
    assert report["config_written"] is True
    assert written["mode"] == "paper"  # MT_MODE=live was for this shell only
    assert written["risk"]["max_drawdown"] == 0.15
    assert "url" not in written["db"]  # nor the database (and its password) of MT_DB__URL
    assert (mt_home / "elsewhere.db").exists()  # the database in force is the one set up


def test_an_explicit_db_url_is_written(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_MODE", "live")
    url = f"sqlite+aiosqlite:///{mt_home}/chosen.db"
    _init(url)
    written = tomllib.loads(locations().config_file.read_text(encoding="utf-8"))
    assert written["db"]["url"] == url and written["mode"] == "paper"


def test_init_warns_when_the_environment_names_another_database(
    mt: MT, mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/env.db")
    result = mt("init", "--json")
    assert result.exit_code == 0, result.stderr
    assert "mt: warning: MT_DB__URL is set here and wins over" in result.stderr
    assert "SQLite in the data folder" in result.stderr
    # the file now names the same database: nothing to warn about
    again = mt("init", "--db-url", f"sqlite+aiosqlite:///{mt_home}/env.db", "--json")
    assert again.exit_code == 0 and "warning" not in again.stderr


def test_a_config_folder_that_cannot_be_written_is_one_line(mt: MT, mt_home: Path) -> None:
    mt_home.mkdir(parents=True)
    (mt_home / "config").write_text("not a folder\n")
    result = mt("init")
    assert result.exit_code == 1
    config = mt_home / "config" / "config.toml"
    assert result.stderr.splitlines()[-1] == (
        f"mt: error: cannot write the config file {config}: {mt_home / 'config'} is a file, not a folder"
        f" (the database sqlite+aiosqlite:///{mt_home}/data/mastertrade.db is ready; fix the folder, or"
        " set MT_HOME, and run mt init again)"
    )
    assert "Traceback" not in result.stderr
