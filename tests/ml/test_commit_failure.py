"""`mt ml train` stores a model and its forecast series together: the model becomes visible only once
the series is committed. Was: the model was saved inside the transaction, before its commit, so a
failure (or a Ctrl-C) at the commit left a model on disk with no forecast series behind it, or replaced
the manifest of an identical model stored before."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MT
from tests.ml.test_train_in_use import MARKET, TRAIN, _stored

pytest.importorskip("lightgbm")


def _models_dir() -> Path:
    from mastertrade.locations import locations

    return locations().data_dir / "models"


def _on_disk() -> dict[str, bytes]:
    """Every file under the models folder (staging folders included; not the training lock files), with
    its bytes."""
    root = _models_dir()
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".training")
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


@pytest.fixture
def commit_fails(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """Turns on (and off) a failure of the transaction that replaces the series as it ends: rolled
    back, the error raised (as a full disk or a Ctrl-C at the commit)."""
    from mastertrade.engine.ml import publish

    original = publish.replacing

    @asynccontextmanager
    async def failing(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with original(*args, **kwargs) as replacement:
            yield replacement
            raise OSError("disk I/O error at the commit")

    def switch(on: bool) -> None:
        monkeypatch.setattr(publish, "replacing", failing if on else original)

    return switch


@pytest.fixture
def series(mt: MT, db_url: str) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0


@pytest.mark.usefixtures("series")
def test_a_failed_commit_leaves_no_model(mt: MT, commit_fails: Callable[[bool], None]) -> None:
    commit_fails(True)
    failed = mt("ml", "train", "lightgbm", *MARKET, *TRAIN)
    assert failed.exit_code != 0
    assert _stored()[0].shape[0] == 0
    assert _on_disk() == {}  # no model, no staging folder
    assert mt.json("ml", "list")["models"] == []

    commit_fails(False)
    trained = mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)  # and the next training stores both
    assert _stored()[0].shape[0] == trained["forecasts"] > 0
    assert [m["version"] for m in mt.json("ml", "list")["models"]] == [trained["artifact"]["version"]]


@pytest.mark.usefixtures("series")
def test_a_failed_commit_keeps_an_identical_model_stored_before(
    mt: MT, commit_fails: Callable[[bool], None]
) -> None:
    trained = mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)
    files, stored = _on_disk(), _stored()
    commit_fails(True)
    again = mt("ml", "train", "lightgbm", *MARKET, *TRAIN)  # the same training: the same version
    assert again.exit_code != 0
    assert _on_disk() == files  # the model stored before, manifest and all, bit for bit
    for old, new in zip(stored, _stored(), strict=True):
        assert old.tobytes() == new.tobytes()
    assert [m["version"] for m in mt.json("ml", "list")["models"]] == [trained["artifact"]["version"]]

    commit_fails(False)
    retrained = mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)
    assert retrained["artifact"]["version"] == trained["artifact"]["version"]
