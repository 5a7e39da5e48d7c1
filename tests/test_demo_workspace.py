"""The demo's workspace: under ``MT_HOME`` when it is set, so a scratch home never reaches the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from mastertrade.engine.demo import demo_home


def test_the_demo_workspace_follows_mt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_HOME", str(tmp_path))
    assert demo_home() == tmp_path / "demo"
    monkeypatch.delenv("MT_HOME")
    assert demo_home().name == "demo" and not demo_home().is_relative_to(tmp_path)
