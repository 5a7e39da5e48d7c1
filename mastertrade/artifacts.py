"""Versioned model artifacts on disk: one folder per trained model, named by its content hash.

Generic on purpose, and outside the engine's layers so every layer can read it: forecasts (``engine/ml``)
and trading policies (``engine/signals/model``, kind ``policy``) store through it, in one format.

Layout under the data folder (``locations().models_dir``)::

    models/<kind>/<name>/<key>/<version>/
        manifest.json     what it is, how it was made, what it scored, a hash of every file
        ...               the payload files the model wrote (weights, scaler, config)

``kind`` groups artifacts ("forecast"); ``name`` is the model ("lstm_transformer"); ``key`` says what it
was trained for (market, timeframe, horizon), made file-safe; ``version`` is the first 16 hex digits of
the SHA-256 over the payload files and the manifest's identity fields, so the same training gives the
same version and any change to the weights gives another.

The manifest records the training range, metrics, feature names, free ``meta`` and the library versions
it was made with. Loading checks the artifact format, that the files still hash to the version, and that
each library the caller names has the same major version (and for pre-1.0 libraries the same minor),
failing with :class:`IncompatibleArtifact`, whose message says what differs and how to retrain.

A save is atomic: payload and manifest are written into a temporary folder (``.saving-*`` beside the
versions) that is renamed into place. The saving process holds an exclusive ``flock`` on that folder
until it is renamed or removed, so a process killed mid-save leaves a folder nobody holds: every later
save removes such folders (:meth:`ArtifactStore.sweep_staging`), never one a live process is writing.

A model stored together with something else (a forecast model and its series, committed in a database
transaction) is staged, renamed ``.publishing-*`` before that commit (:meth:`Staged.hold_for_publish`)
and published after it. A process killed between the commit and the publish leaves a ``.publishing-*``
folder that the sweep leaves alone: the next reader that can tell whether the commit happened claims it
(:meth:`ArtifactStore.unfinished`) and publishes or discards it (``engine/ml/pending.py``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from mastertrade.errors import NotFound, UserInputError
from mastertrade.utc import iso

FORMAT = 1
"""Version of the artifact layout; an artifact of another format is refused."""

MANIFEST = "manifest.json"
STAGING_PREFIX = ".saving-"
PUBLISHING_PREFIX = ".publishing-"
STAGING_GRACE_S = 60.0
"""A staging folder younger than this is left alone even when unlocked: its writer may not have locked it
yet (it locks right after creating it), or be an older MasterTrade that did not lock at all."""
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class IncompatibleArtifact(UserInputError):
    """A stored artifact that this installation cannot load (other format or library versions)."""


def safe_key(parts: Iterable[str]) -> str:
    """A folder name for ``parts`` ("BTC/USDT", "1h", "h1" -> "BTC-USDT_1h_h1")."""
    return "_".join(_SAFE.sub("-", str(part)) for part in parts)


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the named distributions (and Python), "missing" for absent ones."""
    out = {"python": ".".join(str(v) for v in sys.version_info[:3])}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def _compatible(made: str, have: str) -> bool:
    """Same major version; below 1.0 also the same minor (0.x releases may break formats)."""
    made_parts, have_parts = made.split("."), have.split(".")
    if made_parts[0] != have_parts[0]:
        return False
    if made_parts[0] == "0":
        return made_parts[1:2] == have_parts[1:2]
    return True


@dataclass(frozen=True)
class Artifact:
    """A stored model: its folder and manifest."""

    path: Path
    kind: str
    name: str
    key: dict[str, Any]
    version: str
    created_at: str
    train_start: int | None
    train_end: int | None
    features: list[str]
    metrics: dict[str, Any]
    libraries: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)

    def file(self, name: str) -> Path:
        return self.path / name

    def as_dict(self) -> dict[str, Any]:
        from mastertrade.utc import iso_ms as to_iso

        return {
            "kind": self.kind,
            "name": self.name,
            "key": self.key,
            "version": self.version,
            "created_at": self.created_at,
            "train_start": to_iso(self.train_start) if self.train_start is not None else None,
            "train_end": to_iso(self.train_end) if self.train_end is not None else None,
            "features": self.features,
            "metrics": self.metrics,
            "libraries": self.libraries,
            "meta": self.meta,
            "path": str(self.path),
        }


_FIELDS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "name": (str,),
    "key": (dict,),
    "features": (list,),
    "version": (str,),
    "created_at": (str,),
    "files": (dict,),
}
_OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "train_start": (int, type(None)),
    "train_end": (int, type(None)),
    "metrics": (dict,),
    "libraries": (dict,),
    "meta": (dict,),
}


def _check_fields(manifest_file: Path, manifest: Mapping[str, Any]) -> None:
    """Refuse a manifest that lacks a field every artifact has, or holds one of the wrong type (one
    edited by hand, or a foreign file): named as an unloadable artifact, never a KeyError traceback."""
    for name, types in (*_FIELDS.items(), *_OPTIONAL_FIELDS.items()):
        if name not in manifest:
            if name in _FIELDS:
                raise IncompatibleArtifact(f"{manifest_file}: not a model manifest (no {name!r})")
            continue
        value = manifest[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise IncompatibleArtifact(
                f"{manifest_file}: not a model manifest ({name!r} is a JSON {type(value).__name__})"
            )


def _hash_files(folder: Path, identity: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode())
    files: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        relative = path.relative_to(folder).as_posix()
        file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        files[relative] = file_hash
        digest.update(relative.encode() + b"\0" + file_hash.encode())
    return digest.hexdigest()[:16], files


class Staged:
    """An artifact written and hashed in its staging folder (held locked), not yet visible: published
    (renamed into place) or discarded exactly once."""

    def __init__(self, store: ArtifactStore, staging: Path, final: Path, held: int) -> None:
        self._store = store
        self._staging = staging
        self._held: int | None = held
        self.path = final
        """Where :meth:`publish` puts it (``<key folder>/<version>``)."""

    def publish(self) -> Artifact:
        """Rename it into place; the same content stored before is replaced (the new manifest, with its
        metrics and time, wins)."""
        try:
            if self.path.exists():
                shutil.rmtree(self.path)
            os.replace(self._staging, self.path)
        except BaseException:
            self.discard()
            raise
        self._release()
        return self._store.open(self.path)

    def discard(self) -> None:
        """Remove it; what is stored stays as it was."""
        shutil.rmtree(self._staging, ignore_errors=True)
        self._release()

    def hold_for_publish(self) -> None:
        """Rename the staging folder ``.publishing-*`` (still held), before the commit of what it is stored
        with: a process killed after that commit and before :meth:`publish` leaves it for the next reader
        to settle (see the module docstring), where the sweep would remove a ``.saving-*`` folder."""
        held = self._staging.with_name(PUBLISHING_PREFIX + self._staging.name.removeprefix(STAGING_PREFIX))
        os.replace(self._staging, held)
        self._staging = held

    def manifest(self) -> dict[str, Any]:
        """Its manifest, as written."""
        found: dict[str, Any] = json.loads((self._staging / MANIFEST).read_text(encoding="utf-8"))
        return found

    def release(self) -> None:
        """Let go of it unchanged (a claimed unfinished publish left for a later reader)."""
        self._release()

    def _release(self) -> None:
        if self._held is not None:
            os.close(self._held)
            self._held = None


class ArtifactStore:
    """The artifacts under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.unreadable: list[tuple[Path, str]] = []
        """Folders the last :meth:`list` could not read, with the reason (shown, never dropped)."""

    @classmethod
    def default(cls) -> ArtifactStore:
        from mastertrade.locations import locations

        return cls(locations().data_dir / "models")

    def save(
        self,
        kind: str,
        name: str,
        key: Mapping[str, Any],
        write: Callable[[Path], None],
        *,
        libraries: Mapping[str, str],
        train_start: int | None = None,
        train_end: int | None = None,
        features: Iterable[str] = (),
        metrics: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Artifact:
        """Write a new artifact: ``write(folder)`` puts the payload files into ``folder``."""
        staged = self.stage(
            kind,
            name,
            key,
            write,
            libraries=libraries,
            train_start=train_start,
            train_end=train_end,
            features=features,
            metrics=metrics,
            meta=meta,
        )
        return staged.publish()

    def stage(
        self,
        kind: str,
        name: str,
        key: Mapping[str, Any],
        write: Callable[[Path], None],
        *,
        libraries: Mapping[str, str],
        train_start: int | None = None,
        train_end: int | None = None,
        features: Iterable[str] = (),
        metrics: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Staged:
        """Write and hash an artifact without making it visible: :meth:`Staged.publish` renames it into
        place, :meth:`Staged.discard` removes it. For a model stored together with something else (its
        forecast series in a database transaction): it is published only once that has been committed,
        so a failed or interrupted commit leaves no model behind, nor replaces a stored one."""
        parent = self.root / kind / name / safe_key(str(v) for v in key.values())
        parent.mkdir(parents=True, exist_ok=True)
        self.sweep_staging()
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
        held = os.open(staging, os.O_RDONLY)
        try:
            fcntl.flock(held, fcntl.LOCK_EX)  # ours until the folder is renamed or removed (see module doc)
            write(staging)
            identity = {
                "format": FORMAT,
                "kind": kind,
                "name": name,
                "key": dict(key),
                "features": list(features),
            }
            version, files = _hash_files(staging, identity)
            manifest = {
                **identity,
                "version": version,
                "created_at": iso(datetime.now(UTC)),
                "train_start": train_start,
                "train_end": train_end,
                "metrics": dict(metrics or {}),
                "libraries": dict(libraries),
                "meta": dict(meta or {}),
                "files": files,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            os.close(held)
            raise
        return Staged(self, staging, parent / version, held)

    def sweep_staging(self, *, grace_s: float = STAGING_GRACE_S) -> list[Path]:
        """Remove the staging folders of saves that died (killed mid-save): those no live process holds
        locked and older than ``grace_s``. Returns what it removed."""
        removed: list[Path] = []
        now = time.time()
        for folder in sorted(self.root.glob(f"*/*/*/{STAGING_PREFIX}*")) if self.root.is_dir() else ():
            try:
                if not folder.is_dir() or now - folder.stat().st_mtime < grace_s:
                    continue
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue  # gone meanwhile (its save finished), or not ours to read
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live save holds it
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            finally:
                os.close(fd)
        return removed

    def has_unfinished(self, kind: str) -> bool:
        """Whether a ``.publishing-*`` folder of ``kind`` exists (see the module docstring); cheap."""
        return self.root.is_dir() and any(self.root.glob(f"{kind}/*/*/{PUBLISHING_PREFIX}*"))

    def unfinished(self, kind: str) -> list[Staged]:
        """The publishes of ``kind`` that a process killed before their end left (``.publishing-*``
        folders no live process holds), each now held by this one: the caller publishes, discards or
        releases every one. One whose manifest cannot be read is removed: it is renamed only once its
        manifest is written, so it is not a model (changed on disk since)."""
        claimed: list[Staged] = []
        for folder in (
            sorted(self.root.glob(f"{kind}/*/*/{PUBLISHING_PREFIX}*")) if self.root.is_dir() else ()
        ):
            try:
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue  # published or removed meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # its process is alive: it publishes or discards it itself
                continue
            if not folder.is_dir():  # settled by another reader between the glob and the lock
                os.close(fd)
                continue
            try:
                version = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["version"]
            except (OSError, ValueError, KeyError, TypeError):
                shutil.rmtree(folder, ignore_errors=True)
                os.close(fd)
                continue
            claimed.append(Staged(self, folder, folder.parent / str(version), fd))
        return claimed

    def open(self, path: Path, *, require: Iterable[str] = ()) -> Artifact:
        """Read and check the artifact in ``path``; ``require`` names libraries whose versions must match."""
        manifest_file = path / MANIFEST
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no model artifact in {path}") from None
        except (OSError, ValueError) as exc:
            raise IncompatibleArtifact(f"{manifest_file}: unreadable manifest ({exc})") from None
        if not isinstance(manifest, dict):
            raise IncompatibleArtifact(
                f"{manifest_file}: not a model manifest (a JSON {type(manifest).__name__}, not an object)"
            )
        if manifest.get("format") != FORMAT:
            raise IncompatibleArtifact(
                f"{path}: artifact format {manifest.get('format')!r}, this MasterTrade reads format {FORMAT};"
                " train the model again"
            )
        _check_fields(manifest_file, manifest)
        identity = {k: manifest[k] for k in ("format", "kind", "name", "key", "features")}
        version, files = _hash_files(path, identity)
        if version != manifest.get("version") or files != manifest.get("files"):
            raise IncompatibleArtifact(
                f"{path}: files do not match the manifest's content hash (changed on disk)"
            )
        made_with = dict(manifest.get("libraries", {}))
        have = library_versions(require)
        for library in require:
            made, now = str(made_with.get(library, "missing")), have[library]
            if now == "missing":
                raise IncompatibleArtifact(f"{path}: needs {library} {made}, which is not installed")
            if made == "missing" or not _compatible(made, now):
                raise IncompatibleArtifact(
                    f"{path}: made with {library} {made}, this installation has {library} {now}"
                    " (incompatible); train the model again"
                )
        return Artifact(
            path=path,
            kind=manifest["kind"],
            name=manifest["name"],
            key=dict(manifest["key"]),
            version=manifest["version"],
            created_at=manifest["created_at"],
            train_start=manifest.get("train_start"),
            train_end=manifest.get("train_end"),
            features=list(manifest["features"]),
            metrics=dict(manifest.get("metrics", {})),
            libraries=made_with,
            meta=dict(manifest.get("meta", {})),
        )

    def versions(self, kind: str, name: str, key: Mapping[str, Any]) -> list[Artifact]:
        """The artifacts of one model and key, oldest first (by creation time)."""
        parent = self.root / kind / name / safe_key(str(v) for v in key.values())
        found = (
            [self._quiet(p) for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
            if parent.is_dir()
            else []
        )
        return sorted((a for a in found if a is not None), key=lambda a: a.created_at)

    def latest(
        self, kind: str, name: str, key: Mapping[str, Any], *, require: Iterable[str] = ()
    ) -> Artifact:
        """The newest artifact of one model and key, checked (see :meth:`open`)."""
        found = self.versions(kind, name, key)
        if not found:
            described = " ".join(str(v) for v in key.values())
            raise NotFound(f"no trained {name} model for {described} (train one with `mt ml train {name}`)")
        return self.open(found[-1].path, require=require)

    def list(self, kind: str | None = None) -> list[Artifact]:
        """Every readable artifact (of one kind, if given), by kind, name, key and age."""
        kinds = (
            [kind]
            if kind
            else sorted(p.name for p in self.root.iterdir() if p.is_dir())
            if self.root.is_dir()
            else []
        )
        out: list[Artifact] = []
        self.unreadable = []
        for each in kinds:
            base = self.root / each
            if not base.is_dir():
                continue
            for manifest in sorted(base.glob(f"*/*/*/{MANIFEST}")):
                if manifest.parent.name.startswith("."):
                    continue  # staged, not (yet) published: a save under way, or one a killed process left
                try:
                    out.append(self.open(manifest.parent))
                except (NotFound, IncompatibleArtifact) as exc:
                    self.unreadable.append((manifest.parent, str(exc)))
        return sorted(out, key=lambda a: (a.kind, a.name, json.dumps(a.key, sort_keys=True), a.created_at))

    def _quiet(self, path: Path) -> Artifact | None:
        """The artifact without library checks, or None for a folder that is not one."""
        try:
            return self.open(path)
        except (NotFound, IncompatibleArtifact):
            return None
