"""A training killed between the commit of its forecast series and the publish of its model: the next
reader of models finds the pair whole. Was: the series of the new training stayed beside the older model
(or none), so the daemon forecast new bars, and ``mt ml list`` described the series, with a model that
did not make it. Killed before the commit, the staged model goes and the older pair stays as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.conftest import MT
from tests.ml.test_train_in_use import MARKET, OTHER, TRAIN, _stored

pytest.importorskip("lightgbm")

KILLED_AT = textwrap.dedent(
    """
    import os, signal, sys
    from mastertrade.artifacts import Staged
    from mastertrade.cli.app import main
    from mastertrade.engine.collectors.store import FeatureStore

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9: no clean-up of any kind runs

    if sys.argv[1] == "publish":  # the series is committed, the model not yet published
        Staged.publish = killed
    else:  # the series is being written, in its transaction
        FeatureStore.replace = killed
    sys.argv = ["mt", *sys.argv[2:]]
    main()
    """
)


def _killed_training(at: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AT, at, "ml", "train", "lightgbm", *MARKET, *OTHER],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=600,
    )
    assert done.returncode == -9, done.stderr


def _models(mt: MT) -> list[dict[str, Any]]:
    return sorted(mt.json("ml", "list")["models"], key=lambda model: model["created_at"])


def _series_folder_names() -> set[str]:
    from mastertrade.artifacts import ArtifactStore

    root = ArtifactStore.default().root / "forecast" / "lightgbm"
    return {path.name for path in root.glob("*/*")}


@pytest.fixture
def first(mt: MT, db_url: str) -> dict[str, Any]:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    return mt.json("ml", "train", "lightgbm", *MARKET, *TRAIN)  # type: ignore[no-any-return]


def test_killed_after_the_series_commit_the_next_reader_publishes_its_model(
    mt: MT, first: dict[str, Any]
) -> None:
    before = _stored()
    _killed_training("publish")
    ts, values, _ = _stored()
    assert ts.shape[0] != before[0].shape[0]  # the series the killed training committed (other bars)
    models = _models(mt)  # mt ml list: the model that made that series, published
    assert [model["meta"]["train_bars"] for model in models] == [150, 300]
    newest = models[-1]
    assert newest["version"] != first["artifact"]["version"]
    assert newest["path"].endswith(f"/{newest['version']}")  # in place, not a staging folder
    assert _series_folder_names() == {first["artifact"]["version"], newest["version"]}  # nothing left over
    # it is the model that forecasts the next bar
    predicted = mt.json("ml", "predict", "lightgbm", *MARKET, "--no-publish")
    assert predicted["version"] == newest["version"]
    # and the one whose series is stored
    assert newest["meta"]["series"]["values"] == ts.shape[0] == len(values)
    assert newest["train_end"] == first["artifact"]["train_end"]


def test_killed_before_the_series_commit_the_older_pair_stays(mt: MT, first: dict[str, Any]) -> None:
    before = _stored()
    _killed_training("write")
    for old, new in zip(before, _stored(), strict=True):  # the transaction died with the process
        assert old.tobytes() == new.tobytes()
    assert [model["version"] for model in _models(mt)] == [first["artifact"]["version"]]
    assert _series_folder_names() == {first["artifact"]["version"]}  # the staged model was removed
    predicted = mt.json("ml", "predict", "lightgbm", *MARKET, "--no-publish")
    assert predicted["version"] == first["artifact"]["version"]
