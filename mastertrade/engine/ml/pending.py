"""A forecast model and its series stay a pair when the process storing them is killed in between.

A training commits the forecast series, then publishes the model that made it (renames it into place,
:mod:`mastertrade.artifacts`). A process killed between the two (``kill -9``, the machine going down)
left the new series beside the older model, or beside none: the daemon then forecast new bars with a
model that did not make the stored past, and ``mt ml list`` showed it as the model of that series.

So the staged model records the series it is stored with (``meta["series"]``, :func:`stamp`: where it
is stored, its first and last bar, how many values and a digest of them) and is renamed
``.publishing-*`` before the commit (:meth:`~mastertrade.artifacts.Staged.hold_for_publish`). What a
killed process leaves there is settled by the next reader of models (:func:`settle`: a training,
``mt ml predict|list|show``, the daemon's forecasts): the stored series holding exactly those values on
those bars means the commit happened, and the model is published; anything else means the commit did not
happen (the transaction died with the process), and the model is discarded. A forecast stored since on a
newer bar (the daemon's, or ``mt ml predict``'s) lies outside those bars and does not change the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.collectors.forecast_candles import committed, series_digest

if TYPE_CHECKING:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.base import FeaturePoint

log = logging.getLogger(__name__)

KIND = "forecast"


def stamp(source: str, points: Sequence[FeaturePoint]) -> dict[str, Any]:
    """What a staged model records of the series it is stored with (``points``, all of one series)."""
    ts = np.fromiter((point.ts for point in points), dtype=np.int64, count=len(points))
    values = np.fromiter((point.value for point in points), dtype=np.float64, count=len(points))
    order = np.argsort(ts, kind="stable")
    return {
        "source": source,
        "name": points[0].name,
        "symbol": points[0].symbol,
        "first": int(ts[order[0]]),
        "last": int(ts[order[-1]]),
        "values": len(points),
        "digest": series_digest(ts[order], values[order]),
    }


async def settle(db: Database, store: ArtifactStore) -> list[dict[str, Any]]:
    """Publish or discard each forecast model a killed process left between its series' commit and its
    publish (see the module docstring); what was done, for the log. Cheap when there is none."""
    if not store.has_unfinished(KIND):
        return []
    claimed = store.unfinished(KIND)
    done: list[dict[str, Any]] = []
    try:
        while claimed:
            staged = claimed[0]
            manifest = staged.manifest()
            recorded = manifest.get("meta", {}).get("series")
            where = f"{manifest.get('name')} {staged.path.parent.name}"
            if isinstance(recorded, dict) and await committed(db, recorded):
                claimed.pop(0)
                artifact = staged.publish()
                done.append({"model": where, "version": artifact.version, "outcome": "published"})
                log.warning(
                    "forecast model %s %s: its series was committed by a training killed before it"
                    " published the model; published now",
                    where,
                    artifact.version,
                )
            else:
                claimed.pop(0)
                staged.discard()
                done.append({"model": where, "version": manifest.get("version"), "outcome": "discarded"})
                log.warning(
                    "forecast model %s %s: a training killed before its series was committed left it;"
                    " removed (the stored series and models are as they were)",
                    where,
                    manifest.get("version"),
                )
    finally:
        for staged in claimed:
            staged.release()
    return done
