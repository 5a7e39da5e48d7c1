"""``mt init``, ``mt config show|path`` and the CLI's error contract."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from mastertrade.locations import locations
from tests.conftest import MT


def test_init_writes_config_and_migrates(mt: MT, db_url: str) -> None:
    report = mt.json("init")
    config = Path(report["config"])
    assert report["config_written"] is True
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert tomllib.loads(config.read_text())["mode"] == "paper"
    assert report["revisions"]  # the schema is at its newest migration
    again = mt.json("init")
    assert again["config_written"] is False and again["revisions"] == report["revisions"]


def test_init_says_it_compiles_only_when_it_will(
    mt: MT, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.backtest import _numba
    from mastertrade.engine.warmup import STAMP, kernels_warm

    # What init says hangs on the stamp a finished warm-up leaves in the kernel cache folder, which every
    # test worker of this installation shares: another worker's `mt init` could warm it between this
    # test clearing it and running. This test's folder is its own (empty: no warm-up has finished in it);
    # the kernels themselves still load from numba's cache, fixed when numba was imported.
    monkeypatch.setattr(_numba, "CACHE_DIR", str(tmp_path / "kernels"))
    stamp = tmp_path / "kernels" / STAMP
    assert not kernels_warm()
    first = mt("init")
    assert first.exit_code == 0, first.stderr
    assert "compiling the backtest, indicator and generation kernels" in first.stderr
    assert "compiled in" in first.stdout
    assert kernels_warm() and stamp.is_file()
    # the installation's cache is warm: a second workspace (or a second init) loads, and says so
    again = mt("init")
    assert again.exit_code == 0 and "compiling" not in again.stderr, again.stderr
    assert "loaded from the cache in" in again.stdout
    assert mt.json("init")["kernels_cached"] is True
    # a stamp left for other kernel sources (an upgrade, an edited kernel) does not count
    stamp.write_text("0" * 64, encoding="ascii")
    assert not kernels_warm()
    report = mt("init")
    assert "compiling the backtest, indicator and generation kernels" in report.stderr
    assert kernels_warm()


def test_init_with_db_url_keeps_the_users_comments(mt: MT, mt_home: Path, db_url: str) -> None:
    os.environ.pop("MT_DB__URL")
    config = locations().config_file
    config.parent.mkdir(parents=True)
    config.write_text('# my own notes\nmode = "paper"\n\n[market]\nsymbols = ["BTC/USDT"]  # just one\n')
    mt.json("init", "--db-url", db_url)
    text = config.read_text()
    assert "# my own notes" in text and "# just one" in text
    assert tomllib.loads(text)["db"]["url"] == db_url


def test_init_with_a_bad_url_writes_nothing(mt: MT) -> None:
    result = mt("init", "--db-url", "mysql://root@localhost/x")
    assert result.exit_code == 2
    assert "unsupported database URL 'mysql://root@localhost/x'" in result.stderr
    assert not locations().config_file.exists()


@pytest.mark.parametrize("blank", ["", "  "])
def test_init_with_a_blank_url_writes_nothing(mt: MT, blank: str) -> None:
    """`mt init --db-url "$DATABASE_URL"` with the variable unset wrote `url = ""` and used SQLite."""
    result = mt("init", "--db-url", blank)
    assert result.exit_code == 2
    said = f"mt: error: invalid --db-url {blank!r}: blank; give a database URL, or leave the option out"
    assert result.stderr == f"{said} for SQLite in the data folder\n"
    assert not locations().config_file.exists()


def test_init_with_an_unreachable_database_fails_cleanly(mt: MT) -> None:
    result = mt("init", "--db-url", "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "cannot open database postgresql+asyncpg://nobody:***@127.0.0.1:1/none" in result.stderr
    assert "secret" not in result.stderr
    assert not locations().config_file.exists()


def test_config_show_masks_secrets(mt: MT, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MT_EXCHANGE__API_KEY", "key-very-secret")
    monkeypatch.setenv("MT_EXCHANGE__SECRET", "secret-very-secret")
    for args in (("config", "show"), ("config", "show", "--json")):
        result = mt(*args)
        assert result.exit_code == 0
        assert "very-secret" not in result.stdout + result.stderr
        assert "**********" in result.stdout
    shown = mt.json("config", "show")
    assert shown["exchange"]["api_key"] == "**********" and shown["mode"] == "paper"


def test_config_path_lists_every_path(mt: MT, mt_home: Path) -> None:
    paths = mt.json("config", "path")
    assert set(paths) >= {"config", "data", "database", "logs", "socket"}
    assert paths["config"] == str(mt_home / "config" / "config.toml")
    # the compiled kernels live per installation, not under MT_HOME's cache: their folder is listed too
    from mastertrade.engine.backtest._numba import CACHE_DIR

    assert paths["kernels"] == CACHE_DIR and paths["kernels"] != paths["cache"]


def test_malformed_config_is_one_line_and_exit_2(mt: MT) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True)
    config.write_text("[exchange]\ntimeout_s = -3\n")
    result = mt("config", "show")
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"mt: error: {config}:2: key 'exchange.timeout_s': Input should be greater than 0 (got -3)\n"
    )
    assert result.stdout == ""


def test_json_output_is_one_document(mt: MT, db_url: str) -> None:
    result = mt("data", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
