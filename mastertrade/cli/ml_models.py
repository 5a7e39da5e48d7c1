"""``mt ml show|delete ID`` and ``mt rl show|delete ID``: one stored model's details, or its deletion.

``mt ml`` names any model artifact (forecast models and policies, as ``mt ml list`` lists them),
``mt rl`` only policies. Both go through :mod:`mastertrade.engine.ml.registry`; neither needs the
``[ml]`` extra (a model is files and a manifest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mastertrade.cli.output import info, print_json, print_table
from mastertrade.cli.runtime import open_db, run

if TYPE_CHECKING:
    from mastertrade.artifacts import ArtifactStore

IdArg = Annotated[
    str, typer.Argument(help="The model's id (its version, as the list shows) or 4+ hex digits of it.")
]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        help="Delete without asking. Without it the command says what it would delete, and at a "
        "terminal asks whether to.",
    ),
]


def settled(store: ArtifactStore) -> ArtifactStore:
    """``store`` once every forecast model a killed training left between its series' commit and its
    publish is published or discarded (``engine/ml/pending.py``); the database is opened only then."""
    if not store.has_unfinished("forecast"):
        return store
    from mastertrade.engine.ml.pending import settle

    async def go() -> None:
        db = await open_db()
        try:
            await settle(db, store)
        finally:
            await db.close()

    run(go)
    return store


def _series(doc: dict[str, Any]) -> str:
    key = doc.get("key")
    if not isinstance(key, dict):  # a manifest that does not say: the folder the store keeps it in
        return str(doc.get("series_folder") or "?")
    text = f"{key.get('exchange')}:{key.get('symbol')}:{key.get('timeframe')}"
    return text + (f" h{key['horizon']}" if "horizon" in key else "")


HOLDOUT_NOTE = (
    "hold-out: the verdict on the newest bars of a forecast model's walk-forward, each forecast made by a"
    " model trained before its bar; the stored model was trained on those bars too (`mt ml show ID` dates"
    " them)"
)
"""Said under a listing of forecast models: the verdict beside a model is not a test of that model."""


def walk_forward_holdout(kind: str | None, metrics: dict[str, Any]) -> str | None:
    """The hold-out a forecast model's verdict was scored on: its bars and dates, and by whose
    forecasts (the walk-forward's, not the stored model's, which was trained on all bars); None for
    a policy (scored on bars it was not trained on) or a model with no scored hold-out."""
    if kind != "forecast" or not metrics.get("bars"):
        return None
    bars = metrics["bars"]
    dated = f", {metrics['start']} .. {metrics['end']}" if "start" in metrics else ""
    return (
        f"{bars}{dated}, each forecast made by a model trained before its bar"
        " (this model was trained on them too)"
    )


def show(ident: str, kind: str | None, json_out: bool) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.ml.registry import describe, find_model

    store = settled(ArtifactStore.default())
    doc = describe(store, find_model(store, ident, kind=kind))
    if json_out:
        print_json(doc)
        return
    rows: list[tuple[str, Any]] = [
        ("id", doc["version"]),
        ("model", f"{doc.get('kind')} {doc.get('name')}"),
        ("series", _series(doc)),
        ("created", doc.get("created_at")),
    ]
    if doc["loads"]:
        metrics = doc.get("metrics") or {}
        verdict = metrics.get("verdict")
        if "passed" in metrics:
            verdict = "passed the filter" if metrics["passed"] else "failed the filter"
        rows += [
            ("trained from", doc.get("train_start")),
            ("trained to", doc.get("train_end")),
            ("features", ", ".join(doc.get("features") or [])),
            ("hold-out", verdict or "-"),
            *(
                [("hold-out bars", holdout)]
                if (holdout := walk_forward_holdout(doc.get("kind"), metrics)) is not None
                else []
            ),
            ("libraries", ", ".join(f"{k} {v}" for k, v in sorted((doc.get("libraries") or {}).items()))),
        ]
    rows.append(("path", doc["path"]))
    print_table(["field", "value"], rows)
    if not doc["loads"]:
        info(f"this model does not load: {doc['problem']}")


def delete(ident: str, kind: str | None, yes: bool, json_out: bool) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.registry import IN_USE_STATES, check_unused, delete_model, describe, find_model

    store = settled(ArtifactStore.default())
    folder = find_model(store, ident, kind=kind)

    async def go(really: bool) -> dict[str, Any]:
        from mastertrade.cli.runtime import settings
        from mastertrade.engine.market.as_of import workspace_market_time

        config = settings()
        db = await open_db(config)
        try:
            strategies = await StrategyStore(db).list(states=IN_USE_STATES)
            # in a replay workspace the forecast version in use is the newest trained by its market time
            until = await workspace_market_time(config, db)
        finally:
            await db.close()
        if not really:
            check_unused(store, folder, strategies, until=until)
            return describe(store, folder)
        return delete_model(store, folder, strategies, until=until)

    doc = run(lambda: go(yes))
    what = f"{doc.get('kind')} {doc.get('name')} {doc['version']} of {_series(doc)}"
    if not yes:
        if json_out or not _interactive():
            if json_out:
                print_json({"deleted": False, "model": doc})
            info(f"would delete {what}: add --yes to delete it")
            return
        if not typer.confirm(f"delete {what}?", default=False, err=True):
            info("deleted nothing")
            return
        doc = run(lambda: go(True))
    if json_out:
        print_json({"deleted": True, "model": doc})
        return
    info(f"deleted {what}")


def _interactive() -> bool:
    """Whether someone at a terminal can answer a question (not a script, a pipe or cron)."""
    import sys

    return sys.stdin.isatty() and sys.stderr.isatty()
