"""Aligning features to bars without lookahead: a value published at p is visible to bar t only when
p < open(t), i.e. from the bar after the one during which it was published."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mastertrade.engine.collectors.align import align, align_series
from mastertrade.engine.collectors.store import FeatureSeries
from mastertrade.engine.signals.feature_catalog import max_age_ms

BAR = 3_600_000
OPENS = np.arange(0, 10 * BAR, BAR, dtype=np.int64)


def one(ts: int, published: int, value: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.array([ts]), np.array([published]), np.array([value])


def test_a_value_published_during_a_bar_is_first_seen_by_the_next_bar() -> None:
    out = align(*one(BAR, 3 * BAR + 1234), OPENS)  # published inside bar 3
    assert np.isnan(out[:4]).all() and (out[4:] == 1.0).all()


def test_a_value_published_exactly_at_a_bars_open_is_not_visible_to_that_bar() -> None:
    out = align(*one(BAR, 3 * BAR), OPENS)
    assert np.isnan(out[3]) and out[4] == 1.0


def test_a_value_published_just_before_an_open_is_visible_to_that_bar() -> None:
    out = align(*one(BAR, 3 * BAR - 1), OPENS)
    assert np.isnan(out[2]) and out[3] == 1.0


def test_the_newest_observation_wins_and_revisions_count_from_their_publication() -> None:
    ts = np.array([0, BAR, BAR])  # bucket 1 exists twice only in this test's raw input: its revision
    published = np.array([BAR, 2 * BAR, 6 * BAR])
    values = np.array([10.0, 20.0, 25.0])
    out = align(ts, published, values, OPENS)
    assert np.isnan(out[1]) and out[2] == 10.0 and out[3] == 20.0 and out[6] == 20.0 and out[7] == 25.0
    # A late-published *older* observation never replaces a newer one.
    out = align(np.array([5 * BAR, 2 * BAR]), np.array([5 * BAR + 1, 7 * BAR]), np.array([1.0, 2.0]), OPENS)
    assert out[9] == 1.0


def test_forward_fill_stops_at_the_maximum_age() -> None:
    out = align(*one(0, 1), OPENS, max_age_ms=3 * BAR)
    assert np.isnan(out[0])  # published 1 ms after bar 0 opened
    assert out.tolist()[1:4] == [1.0, 1.0, 1.0]  # ages BAR-1, 2 BAR-1, 3 BAR-1
    assert np.isnan(out[4:]).all()  # 4 BAR - 1 ms old: too old


def test_maximum_ages_are_fixed_per_feature_and_at_least_two_bars() -> None:
    assert max_age_ms("spx", BAR) == 120 * BAR  # daily index closes: across a long weekend
    assert max_age_ms("sentiment", BAR) == 24 * BAR
    assert max_age_ms("fee_fast", 86_400_000) == 2 * 86_400_000  # on daily bars: two bars
    assert max_age_ms("plugin_feature", BAR) == 24 * BAR
    daily = FeatureSeries(
        "macro", "spx", "", np.arange(5) * 86_400_000, np.arange(1, 6) * 86_400_000, np.ones(5)
    )
    aligned = align_series(daily, OPENS + 86_400_000, max_age_ms("spx", BAR))
    assert np.isnan(aligned[0]) and aligned[1] == 1.0  # published exactly at bar 0's open


def test_empty_inputs() -> None:
    empty = np.array([], dtype=np.int64)
    assert np.isnan(align(empty, empty, np.array([]), OPENS)).all()
    assert align(*one(0, 0), empty).shape == (0,)


points = st.lists(
    st.tuples(st.integers(0, 12 * BAR), st.integers(0, 3 * BAR), st.floats(-100, 100, allow_nan=False)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(points=points, max_age=st.one_of(st.none(), st.integers(0, 6 * BAR)))
def test_no_bar_ever_sees_a_value_published_at_or_after_its_open(
    points: list[tuple[int, int, float]], max_age: int | None
) -> None:
    ts = np.array([p[0] for p in points], dtype=np.int64)
    published = ts + np.array([p[1] for p in points], dtype=np.int64)  # published at or after its time
    values = np.array([p[2] for p in points])
    out = align(ts, published, values, OPENS, max_age_ms=max_age)
    for bar, open_ms in enumerate(OPENS):
        visible = published < open_ms
        if not visible.any():
            assert np.isnan(out[bar])
            continue
        newest_ts = ts[visible].max()
        candidates = visible & (ts == newest_ts)
        latest_pub = published[candidates].max()
        expected_value = values[candidates & (published == latest_pub)]
        if max_age is not None and open_ms - latest_pub > max_age:
            assert np.isnan(out[bar])
        else:
            assert out[bar] in expected_value
        # Changing every value that was not yet published changes nothing this bar sees.
        future = ~visible
        if future.any():
            scrambled = values.copy()
            scrambled[future] = scrambled[future] + 1000.0
            again = align(ts, published, scrambled, OPENS, max_age_ms=max_age)
            assert (np.isnan(again[bar]) and np.isnan(out[bar])) or again[bar] == out[bar]
