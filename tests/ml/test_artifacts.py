"""The versioned artifact store: content hash, manifest, tamper and version checks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mastertrade.artifacts import ArtifactStore, IncompatibleArtifact, library_versions


def _save(store: ArtifactStore, payload: bytes = b"weights", libraries: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def write(folder: Path) -> None:
        (folder / "w.bin").write_bytes(payload)

    return store.save(
        "forecast",
        "demo",
        {"symbol": "BTC/USDT", "timeframe": "1h"},
        write,
        libraries=libraries or library_versions(["numpy"]),
        train_start=1000,
        train_end=2000,
        features=["ret_1", "range"],
        metrics={"verdict": "loses to the zero-return baseline"},
    )


def test_same_content_same_version_other_content_other_version(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    first = _save(store)
    again = _save(store)
    other = _save(store, b"other weights")
    assert first.version == again.version != other.version
    assert len(first.version) == 16
    assert first.path.parent.name == "BTC-USDT_1h"
    loaded = store.open(first.path, require=["numpy"])
    assert loaded.train_start == 1000 and loaded.train_end == 2000
    assert loaded.features == ["ret_1", "range"]
    assert loaded.libraries["numpy"] == library_versions(["numpy"])["numpy"]
    assert {a.version for a in store.list()} == {first.version, other.version}


def test_changed_files_are_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    artifact = _save(store)
    (artifact.path / "w.bin").write_bytes(b"tampered")
    with pytest.raises(IncompatibleArtifact, match="content hash"):
        store.open(artifact.path)
    assert store.list() == []
    assert len(store.unreadable) == 1 and "content hash" in store.unreadable[0][1]


def test_incompatible_library_version_fails_clearly(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    artifact = _save(store, libraries={"numpy": "1.0.0", "python": "3.12.0"})
    with pytest.raises(
        IncompatibleArtifact, match=r"made with numpy 1\.0\.0, this installation has numpy 2\."
    ):
        store.open(artifact.path, require=["numpy"])
    store.open(artifact.path)  # without the requirement it reads


def test_other_format_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    artifact = _save(store)
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    manifest["format"] = 99
    (artifact.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleArtifact, match="format 99"):
        store.open(artifact.path)


def test_latest_and_missing(tmp_path: Path) -> None:
    from mastertrade.errors import NotFound

    store = ArtifactStore(tmp_path)
    with pytest.raises(NotFound, match="no trained demo model"):
        store.latest("forecast", "demo", {"symbol": "BTC/USDT", "timeframe": "1h"})
    _save(store)
    newest = _save(store, b"newer")
    assert (
        store.latest("forecast", "demo", {"symbol": "BTC/USDT", "timeframe": "1h"}).version == newest.version
    )


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda manifest: [], "a JSON list, not an object"),
        (lambda manifest: "weights", "a JSON str, not an object"),
        (lambda manifest: {"format": 1}, "no 'kind'"),
        (lambda manifest: {k: v for k, v in manifest.items() if k != "created_at"}, "no 'created_at'"),
        (lambda manifest: {**manifest, "key": ["BTC/USDT"]}, "'key' is a JSON list"),
        (lambda manifest: {**manifest, "metrics": None}, "'metrics' is a JSON NoneType"),
        (lambda manifest: {**manifest, "train_start": "2024"}, "'train_start' is a JSON str"),
    ],
)
def test_a_manifest_of_another_shape_is_an_unreadable_artifact_not_a_traceback(
    tmp_path: Path, edit: Any, said: str
) -> None:
    """A manifest that is JSON but not an artifact's (edited by hand, a foreign file) is named as such;
    before, a KeyError or AttributeError traceback ended `mt ml list`, `show` and `predict`."""
    store = ArtifactStore(tmp_path)
    artifact = _save(store)
    good = _save(store, b"other weights")
    manifest = json.loads((artifact.path / "manifest.json").read_text())
    (artifact.path / "manifest.json").write_text(json.dumps(edit(manifest)))
    with pytest.raises(IncompatibleArtifact, match=f"not a model manifest \\({re.escape(said)}"):
        store.open(artifact.path)
    assert [a.version for a in store.list()] == [good.version]  # the others still list
    assert len(store.unreadable) == 1 and said in store.unreadable[0][1]


def test_mt_ml_list_and_show_name_a_manifest_of_another_shape(mt: Any) -> None:
    store = ArtifactStore.default()
    artifact = _save(store)
    (artifact.path / "manifest.json").write_text("[]")
    listed = mt("ml", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "not a model manifest (a JSON list, not an object)" in listed.stderr
    assert "no trained models yet" not in listed.stderr and "no readable models" in listed.stderr
    shown = mt("ml", "show", artifact.version)
    assert shown.exit_code == 0 and "not a model manifest" in shown.stdout + shown.stderr
    assert "Traceback" not in shown.stdout + shown.stderr
