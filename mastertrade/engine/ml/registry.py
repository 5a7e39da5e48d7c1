"""Stored models by id: find one, say which strategies rely on it, delete it.

One door for ``mt ml show|delete ID`` (any kind of model artifact) and ``mt rl show|delete ID``
(policies only). An id is a model's version (its content hash, as ``mt ml list`` shows it) or a unique
prefix of 4 or more of its hex digits.

A model is in use, and its deletion refused naming the strategies, when a strategy that trades or may
trade again (paper, active, paused) relies on it:

- a policy (kind ``policy``): a strategy that is that policy (``model:<id>``, or its folder);
- a forecast model (kind ``forecast``): the daemon forecasts every new bar with the newest model of a
  series trained by the bar's close (``serving``), so that version is in use when a strategy reads that
  model's forecast (same horizon) on its market and timeframe (on its exchange, when the strategy names
  one), and so is every newer one: on a replay a newer one serves once the market time reaches its
  training (elsewhere the newest serves, and there is no newer one). Older versions feed nothing and may
  go. Deleting one in use would silently put an older model, or none, behind the strategy.

A deletion renames the folder out of the way first (a ``.saving-`` name, which the store's sweep
removes should the process die midway), so no half-deleted folder is ever read as a model.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mastertrade.artifacts import MANIFEST, STAGING_PREFIX, ArtifactStore
from mastertrade.errors import NotFound, UserInputError

IN_USE_STATES = ("paper", "active", "paused")
"""States of a strategy that trades, or may again without being re-added (a paused one resumes)."""

_ID = re.compile(r"^[0-9a-f]{4,16}$")
_MODEL_PREFIX = "model:"


class ModelInUse(UserInputError):
    """A deletion refused: strategies that trade (or may again) rely on the model."""


def find_model(store: ArtifactStore, ident: str, *, kind: str | None = None) -> Path:
    """The folder of the stored model ``ident`` (of ``kind`` when given)."""
    key = ident.strip().lower()
    what = "policy" if kind == "policy" else "model"
    listing = "mt rl list" if kind == "policy" else "mt ml list"
    if not _ID.match(key):
        raise UserInputError(
            f"invalid model id {ident!r}: give 4 to 16 hex digits of an id `{listing}` shows"
        )
    pattern = f"{kind or '*'}/*/*/{key}*/{MANIFEST}"
    matches = sorted(path.parent for path in store.root.glob(pattern)) if store.root.is_dir() else []
    if not matches and kind is not None and store.root.is_dir():
        # a model of another kind with that id (`mt ml list` shows them together): named as what it is,
        # as `mt backtest model:ID` does the other way round; "no stored policy" of a listed id misleads
        other = sorted(path.parent for path in store.root.glob(f"*/*/*/{key}*/{MANIFEST}"))
        if len(other) == 1:
            folder = other[0]
            found, name = folder.parent.parent.parent.name, folder.parent.parent.name
            raise UserInputError(
                f"model {folder.name} is a {found} model ({name}), not a {what}: `mt ml show {ident}`"
                f" shows it (`mt ml delete {ident}` deletes it)"
            )
    if not matches:
        raise NotFound(f"no stored {what} {ident!r} (see `{listing}`)")
    if len(matches) > 1:
        raise UserInputError(
            f"model id {ident!r} is ambiguous: {', '.join(path.name for path in matches)}; give more digits"
        )
    return matches[0]


def _relies_on_policy(strategy: Any, folder: Path) -> bool:
    spec = str(getattr(strategy, "plugin", None) or "")
    if spec.startswith(_MODEL_PREFIX):
        named = spec[len(_MODEL_PREFIX) :].strip().lower()
        if _ID.match(named):
            return folder.name.startswith(named)
        spec = spec[len(_MODEL_PREFIX) :]
    if not spec:
        return False
    path = Path(spec).expanduser()
    path = path.parent if path.name == MANIFEST else path
    try:
        return path.resolve() == folder.resolve()
    except OSError:
        return False


def _reads_forecast(strategy: Any, model: str, key: dict[str, Any]) -> bool:
    from mastertrade.engine.signals.forecast_term import FORECAST
    from mastertrade.engine.signals.genome import required_features

    if getattr(strategy, "plugin", None) is not None:
        return False
    if strategy.timeframe != key.get("timeframe"):
        return False
    if getattr(strategy, "exchange", None) not in (None, key.get("exchange")):
        return False
    for name, params in required_features(strategy.genome):
        if name != FORECAST:
            continue
        values = dict(params)
        symbol = str(values.get("symbol", "")) or strategy.symbol
        if (
            str(values.get("model", "lstm_transformer")) == model
            and int(values.get("horizon", 1)) == int(key.get("horizon", 1))
            and symbol == key.get("symbol")
        ):
            return True
    return False


def _reads_forecast_of_folder(strategy: Any, model: str, series_folder: str) -> bool:
    """:func:`_reads_forecast` for a model whose manifest cannot be read: whether a forecast the strategy
    reads is stored under ``series_folder``, the folder its key names (exchange, symbol, timeframe,
    horizon); any exchange's, for a strategy that names none."""
    from mastertrade.artifacts import safe_key
    from mastertrade.engine.signals.forecast_term import FORECAST
    from mastertrade.engine.signals.genome import required_features

    if getattr(strategy, "plugin", None) is not None:
        return False
    exchange = getattr(strategy, "exchange", None)
    for feature, params in required_features(strategy.genome):
        values = dict(params)
        if feature != FORECAST or str(values.get("model", "lstm_transformer")) != model:
            continue
        symbol = str(values.get("symbol", "")) or strategy.symbol
        tail = safe_key([symbol, strategy.timeframe, str(int(values.get("horizon", 1)))])
        if (
            series_folder == f"{safe_key([exchange])}_{tail}"
            if exchange
            else series_folder.endswith(f"_{tail}")
        ):
            return True
    return False


def forecast_readers(strategies: Iterable[Any], model: str, key: dict[str, Any]) -> list[str]:
    """The strategies (``id (state)``) among ``strategies`` in an :data:`IN_USE_STATES` state that read
    the forecast of ``model`` on the series ``key`` (exchange, symbol, timeframe, horizon): whose past
    forecasts they have traded on, and whose next ones the daemon makes for them."""
    return [
        f"{strategy.id} ({strategy.state})"
        for strategy in strategies
        if str(strategy.state) in IN_USE_STATES and _reads_forecast(strategy, model, key)
    ]


def model_users(
    store: ArtifactStore, folder: Path, strategies: Iterable[Any], *, until: int | None = None
) -> list[str]:
    """The strategies (``id (state)``) among ``strategies`` in an :data:`IN_USE_STATES` state that rely
    on the model in ``folder`` (see the module docstring); ``until``: a replay's market time (None: the
    newest bar's), at which the forecast version serving is the newest trained by then."""
    from mastertrade.engine.ml.serving import may_serve

    head = _head(folder)
    # A manifest that cannot be read (changed or broken on disk) still sits at
    # <kind>/<name>/<series>/<version>: the layout says what it is, so a strategy relying on it keeps it
    # (it was deleted as relied on by nothing, under a strategy trading it).
    readable = isinstance(head.get("kind"), str) and isinstance(head.get("key"), dict)
    kind = head.get("kind") if readable else folder.parent.parent.parent.name
    name = str(head.get("name")) if readable else folder.parent.parent.name
    serves = True
    if kind == "forecast" and readable:
        # The versions of its series are its sibling folders (the manifest's key is stored sorted, so it
        # does not rebuild the folder name); the newest by creation time of those trained by the market
        # time is the one the daemon uses, and each newer one will be once the market time reaches it.
        made = str(head.get("created_at", ""))
        siblings = [_head(p) for p in folder.parent.iterdir() if p.is_dir() and not p.name.startswith(".")]
        serving = [
            str(sibling.get("created_at", ""))
            for sibling in siblings
            if isinstance(sibling.get("meta"), dict)
            and isinstance(sibling.get("key"), dict)
            and may_serve(sibling["meta"], sibling["key"], until)
        ]
        serves = not serving or made >= max(serving)
    found = []
    for strategy in strategies:
        if str(strategy.state) not in IN_USE_STATES:
            continue
        if kind == "policy":
            uses = _relies_on_policy(strategy, folder)
        elif kind == "forecast" and serves:
            uses = (
                _reads_forecast(strategy, name, dict(head["key"]))
                if readable
                else _reads_forecast_of_folder(strategy, name, folder.parent.name)
            )
        else:
            uses = False
        if uses:
            found.append(f"{strategy.id} ({strategy.state})")
    return found


def _head(folder: Path) -> dict[str, Any]:
    """The manifest's identity fields, read without the hash check (a model changed on disk can still be
    shown as such and deleted)."""
    import json

    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(store: ArtifactStore, folder: Path) -> dict[str, Any]:
    """What ``show`` prints: the checked artifact, or its manifest and why it does not load."""
    from mastertrade.artifacts import IncompatibleArtifact

    try:
        return {**store.open(folder).as_dict(), "loads": True}
    except IncompatibleArtifact as exc:
        head = _head(folder)
        # A manifest that cannot be read still sits at <kind>/<name>/<series>/<version> of the store
        series = folder.parent
        return {
            "kind": head.get("kind") or series.parent.parent.name,
            "name": head.get("name") or series.parent.name,
            "key": head.get("key"),
            "series_folder": series.name,
            "version": folder.name,
            "created_at": head.get("created_at"),
            "path": str(folder),
            "loads": False,
            "problem": str(exc),
        }


def check_unused(
    store: ArtifactStore, folder: Path, strategies: Iterable[Any], *, until: int | None = None
) -> None:
    """Raise :class:`ModelInUse` naming the strategies that rely on the model in ``folder``, if any
    (``until``: a replay's market time, :func:`model_users`)."""
    users = model_users(store, folder, strategies, until=until)
    if users:
        one = len(users) == 1
        raise ModelInUse(
            f"model {folder.name} is used by strateg{'y' if one else 'ies'} {', '.join(users)}:"
            f" retire {'it' if one else 'them'} first (`mt strategy retire ID`); nothing deleted"
        )


def delete_model(
    store: ArtifactStore, folder: Path, strategies: Iterable[Any], *, until: int | None = None
) -> dict[str, Any]:
    """Delete the model in ``folder`` unless strategies rely on it (:class:`ModelInUse` naming them;
    ``until``: a replay's market time, :func:`model_users`)."""
    shown = describe(store, folder)
    check_unused(store, folder, strategies, until=until)
    doomed = folder.with_name(f"{STAGING_PREFIX}deleting-{folder.name}")
    held = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # a sweep by another process leaves it to this one
        os.replace(folder, doomed)
        shutil.rmtree(doomed)
    finally:
        os.close(held)
    return shown
