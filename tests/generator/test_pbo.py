"""CSCV's probability of backtest overfitting, checked against a worked example done by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mastertrade.engine.generator.pbo import choose_blocks, probability_of_overfitting

# Four periods (one per block), three trials A, B, C.
RETURNS = np.array(
    [
        [3.0, 1.0, 2.0],
        [1.0, 2.0, 3.0],
        [2.0, 3.0, 1.0],
        [0.0, 1.0, 3.0],
    ]
)


def test_worked_example_by_hand() -> None:
    """S = 4 blocks, C(4, 2) = 6 splits; performance = mean return; w = rank / (N + 1) = rank / 4.

    IS blocks | IS sums (A, B, C) | best | OOS sums (A, B, C) | OOS rank of best | w     | logit
    {0, 1}    | 4, 3, 5           | C    | 2, 4, 4            | 2.5 (tie with B) | 0.625 | ln(5/3) > 0
    {0, 2}    | 5, 4, 3           | A    | 1, 3, 6            | 1                | 0.25  | ln(1/3)
    {0, 3}    | 3, 2, 5           | C    | 3, 5, 4            | 2                | 0.5   | 0 (counts)
    {1, 2}    | 3, 5, 4           | B    | 3, 2, 5            | 1                | 0.25  | ln(1/3)
    {1, 3}    | 1, 3, 6           | C    | 5, 4, 3            | 1                | 0.25  | ln(1/3)
    {2, 3}    | 2, 4, 4 (B first) | B    | 4, 3, 5            | 1                | 0.25  | ln(1/3)

    Five of the six logits are <= 0: PBO = 5/6."""
    result = probability_of_overfitting(RETURNS, 4, metric="mean")
    assert result.pbo == pytest.approx(5 / 6)
    expected = [math.log(5 / 3), math.log(1 / 3), 0.0, math.log(1 / 3), math.log(1 / 3), math.log(1 / 3)]
    assert list(result.logits) == pytest.approx(expected)
    assert result.as_dict()["combinations"] == 6 and result.trials == 3 and result.blocks == 4


def _brute_force_sharpe_pbo(returns: np.ndarray, blocks: int) -> float:
    """The paper's definition, literally: concatenate the blocks, Sharpe = mean / std (ddof 1)."""
    parts = np.array_split(np.arange(len(returns)), blocks)
    trials = returns.shape[1]
    overfit = total = 0
    for combo in itertools.combinations(range(blocks), blocks // 2):
        inside = np.concatenate([parts[i] for i in combo])
        outside = np.concatenate([parts[i] for i in range(blocks) if i not in combo])
        ins = returns[inside].mean(0) / returns[inside].std(0, ddof=1)
        outs = returns[outside].mean(0) / returns[outside].std(0, ddof=1)
        best = int(np.argmax(ins))
        rank = 1 + np.sum(outs < outs[best])  # no ties with continuous data
        w = rank / (trials + 1)
        overfit += math.log(w / (1 - w)) <= 0
        total += 1
    return overfit / total


def test_sharpe_version_matches_the_literal_definition() -> None:
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0, 0.01, (96, 12))
    result = probability_of_overfitting(returns, 8)
    assert result.pbo == pytest.approx(_brute_force_sharpe_pbo(returns, 8))


def test_noise_overfits_and_a_real_edge_does_not() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 0.01, (200, 40))
    # pure noise: picking the in-sample best is a coin toss out of sample (PBO about one half)
    assert 0.2 < probability_of_overfitting(noise, 10).pbo < 0.8
    edge = noise.copy()
    edge[:, 7] += 0.01  # one trial really is better everywhere
    assert probability_of_overfitting(edge, 10).pbo == 0.0


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="even"):
        probability_of_overfitting(RETURNS, 3)
    with pytest.raises(ValueError, match="two trials"):
        probability_of_overfitting(RETURNS[:, :1], 2)
    assert choose_blocks(100, 16) == 16 and choose_blocks(20, 16) == 10 and choose_blocks(3, 16) == 0


def _numpy_logits(returns: np.ndarray, blocks: int, metric: str) -> list[float]:
    """The per-block-sum formulation in plain numpy, one combination at a time (what the compiled kernel
    replaced): the kernel must give the same logits to the last bit."""
    matrix = np.nan_to_num(returns, nan=0.0, posinf=0.0, neginf=0.0)
    edges = np.linspace(0, len(matrix), blocks + 1).round().astype(np.int64)
    count = np.diff(edges).astype(np.float64)
    sums = np.add.reduceat(matrix, edges[:-1], axis=0)
    squares = np.add.reduceat(matrix * matrix, edges[:-1], axis=0)

    def performance(chosen: np.ndarray) -> np.ndarray:
        n = float(count[chosen].sum())
        mean = sums[chosen].sum(axis=0) / n
        if metric == "mean":
            return mean
        variance = (squares[chosen].sum(axis=0) - n * mean * mean) / max(n - 1.0, 1.0)
        std = np.sqrt(np.maximum(variance, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(std > 0, mean / std, 0.0)

    logits = []
    for combo in itertools.combinations(range(blocks), blocks // 2):
        inside = np.zeros(blocks, dtype=np.bool_)
        inside[list(combo)] = True
        in_perf, out_perf = performance(inside), performance(~inside)
        best = int(np.argmax(in_perf))
        rank = np.sum(out_perf < out_perf[best]) + (np.sum(out_perf == out_perf[best]) + 1.0) / 2.0
        w = rank / (matrix.shape[1] + 1.0)
        logits.append(math.log(w / (1.0 - w)))
    return logits


@pytest.mark.parametrize(
    ("periods", "trials", "blocks", "metric"), [(97, 30, 8, "sharpe"), (40, 6, 4, "mean")]
)
def test_compiled_kernel_equals_the_numpy_formulation_bit_for_bit(
    periods: int, trials: int, blocks: int, metric: str
) -> None:
    rng = np.random.default_rng(periods)
    returns = rng.normal(0.0, 0.01, (periods, trials))
    returns[:, 2] = 0.0  # a flat trial: zero deviation
    returns[:, 4] = returns[:, 5]  # tied trials
    returns[3:6] = np.nan  # missing periods count as zero
    result = probability_of_overfitting(returns, blocks, metric=metric)  # type: ignore[arg-type]
    assert list(result.logits) == _numpy_logits(returns, blocks, metric)


def _plain_ranks(returns: np.ndarray, blocks: int, mean_only: bool) -> np.ndarray:
    """The plain numpy formulation: for every combination, both halves' sums folded block by block in
    ascending order, performance from the sums, the in-sample best's out-of-sample rank."""
    periods, trials = returns.shape
    edges = np.linspace(0, periods, blocks + 1).round().astype(np.int64)
    count = np.diff(edges).astype(np.float64)
    sums = np.add.reduceat(returns, edges[:-1], axis=0)
    squares = np.add.reduceat(returns * returns, edges[:-1], axis=0)

    def performance(half: list[int]) -> np.ndarray:
        total, square, n = sums[half[0]].copy(), squares[half[0]].copy(), 0.0
        for block in half[1:]:
            total += sums[block]
            square += squares[block]
        for block in half:
            n += count[block]
        mean = total / n
        if mean_only:
            return mean
        std = np.sqrt(np.maximum((square - n * mean * mean) / max(n - 1.0, 1.0), 0.0))
        return np.divide(mean, std, out=np.zeros(trials), where=std > 0)

    ranks = []
    for inside in itertools.combinations(range(blocks), blocks // 2):
        ins = performance(list(inside))
        outs = performance([block for block in range(blocks) if block not in inside])
        target = outs[int(np.argmax(ins))]
        ranks.append(np.sum(outs < target) + (np.sum(outs == target) + 1.0) / 2.0)
    return np.array(ranks)


@pytest.mark.parametrize(
    ("blocks", "periods", "trials", "mean_only", "ties"),
    [
        (16, 273, 120, False, False),
        (10, 60, 7, True, True),
        (8, 96, 12, False, True),
        (2, 9, 5, False, False),
    ],
)
def test_the_kernel_gives_the_plain_formulations_ranks_to_the_bit(
    blocks: int, periods: int, trials: int, mean_only: bool, ties: bool
) -> None:
    """Each half computed once for the two combinations it serves, its sums from a stack of prefix sums:
    the same additions in the same order as the plain fold, so the same ranks, ties included."""
    from mastertrade.engine.generator.pbo_kernel import pbo_ranks

    rng = np.random.default_rng(blocks)
    returns = (
        rng.integers(-2, 3, (periods, trials)).astype(np.float64)
        if ties
        else rng.normal(0.0, 0.01, (periods, trials))
    )
    edges = np.linspace(0, periods, blocks + 1).round().astype(np.int64)
    halves = np.array(list(itertools.combinations(range(blocks), blocks // 2)), dtype=np.int64)
    ranks = pbo_ranks(
        np.add.reduceat(returns, edges[:-1], axis=0),
        np.add.reduceat(returns * returns, edges[:-1], axis=0),
        np.diff(edges).astype(np.float64),
        halves,
        mean_only,
    )
    plain = _plain_ranks(returns, blocks, mean_only)
    assert ranks.tobytes() == plain.tobytes()
    if ties and mean_only:
        assert np.any(ranks != np.round(ranks))  # some ranks were averaged over ties
