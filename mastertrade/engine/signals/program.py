"""Entry and exit signals of many genomes at once, in one compiled call that releases the GIL.

:mod:`.evaluate` states what a rule means; this module computes it, for one genome
(:func:`.evaluate.signals`) or a whole batch (a generation of the search), without a Python step per bar or
per condition: each rule becomes a short postfix **program** over the cache's arrays, and one numba kernel
runs every program of the batch on ``threads`` threads. Why not numpy per genome, as before: at five years
of 1h bars that evaluation was a third of the search, all of it holding the GIL between operations (a few
microseconds each), so it neither used the second core nor let breeding run beside it.

A program is rows of five integers, ``(op, x, x_lag, y, y_lag)``:

- ``op`` 0..3 is a condition (``>``, ``<``, crosses above, crosses below) of operands x and y; an operand
  ``i >= 0`` is the cache's array ``i`` of the batch read ``lag`` bars back (lagged terms are not copied),
  ``i < 0`` the constant ``constants[-1 - i]``;
- ``op`` 4 / 5 folds the last ``x`` results into one with *and* / *or* (an all / any group).

A comparison with NaN (warm-up, or before a lag's first bar) is false, and bar 0 never crosses
(``tests/signals/test_program.py`` checks random genomes against a bar-by-bar evaluation of the
definition, for several thread counts and batches). A genome whose terms cannot be read (an unknown
feature, a failing indicator) gets an error message instead, and all-false rows.

The arrays are handed to the kernel as addresses (:func:`_as_pointer`): numba takes a list of arrays only
as a typed list, whose methods compile in every new process (seconds), and stacking them into one 2-D array
copied tens of megabytes per generation at five years. The caller keeps the arrays alive during the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import carray, prange

from mastertrade.engine.backtest._numba import kernel
from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    ConstTerm,
    CrossesAbove,
    CrossesBelow,
    FeatureTerm,
    Greater,
    IndicatorTerm,
    Less,
    PriceTerm,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from mastertrade.engine.signals.genome import Genome, Rule, Term
    from mastertrade.engine.signals.indicators import IndicatorCache

GREATER, LESS, CROSSES_ABOVE, CROSSES_BELOW, ALL, ANY = range(6)
_OPS: dict[type, int] = {
    Greater: GREATER,
    Less: LESS,
    CrossesAbove: CROSSES_ABOVE,
    CrossesBelow: CROSSES_BELOW,
}


def term_array(term: PriceTerm | IndicatorTerm | FeatureTerm, cache: IndicatorCache) -> NDArray[np.float64]:
    """The cache's array a (non-constant) term reads, before its lag."""
    if isinstance(term, PriceTerm):
        return cache.price(term.price)
    if isinstance(term, IndicatorTerm):
        return cache.indicator_output(term.ind, term.params, term.output)
    return cache.feature_output(term.feature, term.params, term.output)


class Batch:
    """The programs of a batch of genomes, compiled one genome at a time (:meth:`add`), then run in one
    call (:meth:`run`). It holds the arrays the programs read (by identity) while it lives."""

    def __init__(self, cache: IndicatorCache) -> None:
        self.cache = cache
        self.arrays: list[NDArray[np.float64]] = []
        self.slots: dict[int, int] = {}
        self.constants: list[float] = []
        self.rows: list[tuple[int, int, int, int, int]] = []
        self.bounds: list[tuple[int, int, int]] = []  # per genome: its entry, then exit, program's rows
        self.depth = 1

    def add(self, genome: Genome) -> None:
        """Compile ``genome``'s rules; if a term cannot be read, raise and leave the batch as it was."""
        begin, constants, arrays = len(self.rows), len(self.constants), len(self.arrays)
        try:
            depth = self._rule(genome.entry)
            middle = len(self.rows)
            if genome.exit is not None:
                depth = max(depth, self._rule(genome.exit))
        except BaseException:
            del self.rows[begin:], self.constants[constants:]
            for array in self.arrays[arrays:]:
                del self.slots[id(array)]
            del self.arrays[arrays:]
            raise
        self.depth = max(self.depth, depth)
        self.bounds.append((begin, middle, len(self.rows)))

    def add_failed(self) -> None:
        """A genome that could not be compiled: no rows, so all-false signals."""
        self.bounds.append((len(self.rows), len(self.rows), len(self.rows)))

    def run(self, threads: int = 1) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """``(entries, exits)`` of the genomes added, one row each, in order."""
        count = len(self.bounds)
        marks = np.array(self.bounds, dtype=np.int64).reshape(-1, 3)
        bounds = np.concatenate([marks[:, 0:2], marks[:, 1:3]])  # entry programs, then exit programs
        out = np.empty((2 * count, len(self.cache)), dtype=np.bool_)
        if count:
            args = (
                np.array([array.ctypes.data for array in self.arrays], dtype=np.int64),
                np.array(self.constants, dtype=np.float64),
                np.array(self.rows, dtype=np.int64).reshape(-1, 5),
                np.ascontiguousarray(bounds),
                self.depth,
                out,
            )
            if threads > 1 and count > 1:
                run_programs(*args, threads)
            else:  # numba's thread pool costs more than one genome's programs
                run_some(*args, 0, 1)
        return out[:count], out[count:]

    def _operand(self, term: Term) -> tuple[int, int]:
        if isinstance(term, ConstTerm):
            self.constants.append(term.const)
            return -len(self.constants), 0
        base = term_array(term, self.cache)
        slot = self.slots.get(id(base))
        if slot is None:
            slot = self.slots[id(base)] = len(self.arrays)
            self.arrays.append(base)
        return slot, term.lag

    def _rule(self, rule: Rule) -> int:
        """Append ``rule``'s program; the stack depth it needs."""
        if isinstance(rule, AllOf | AnyOf):
            deepest = 0
            for place, child in enumerate(rule.children):
                deepest = max(deepest, place + self._rule(child))
            self.rows.append((ALL if isinstance(rule, AllOf) else ANY, len(rule.children), 0, 0, 0))
            return deepest
        x, x_lag = self._operand(rule.operands[0])
        y, y_lag = self._operand(rule.operands[1])
        self.rows.append((_OPS[type(rule)], x, x_lag, y, y_lag))
        return 1


def signals_many(
    genomes: Sequence[Genome], cache: IndicatorCache, *, threads: int = 1
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], dict[int, str]]:
    """``(entries, exits, errors)``: rows ``i`` of the two (genomes, bars) arrays are genome ``i``'s
    signals, as :func:`.evaluate.signals` gives them alone; ``errors[i]`` says why genome ``i`` could not be
    evaluated (its rows are then all false)."""
    batch = Batch(cache)
    errors: dict[int, str] = {}
    for index, genome in enumerate(genomes):
        try:
            batch.add(genome)
        except Exception as exc:  # a genome that cannot be evaluated is reported, not fatal
            errors[index] = f"{type(exc).__name__}: {exc}"
            batch.add_failed()
    entries, exits = batch.run(threads)
    return entries, exits, errors


# --- the kernel -----------------------------------------------------------------------------------


def _pointer_intrinsic() -> Any:
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic  # type: ignore[untyped-decorator]
    def as_pointer(typingctx: Any, address: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(types.int64), codegen

    return as_pointer


_as_pointer = _pointer_intrinsic()


@kernel()
def _greater(out: Any, xs: Any, x_lag: int, x_const: float, ys: Any, y_lag: int, y_const: float) -> None:
    """``out[t] = x[t] > y[t]``, false before both lags' first bar; ``xs`` / ``ys`` empty for a
    constant operand. Each operand shape has its own loop over aligned slices, indices counting up from
    zero: no branch or negative index in the loop, so the compiler vectorises it as numpy's would be."""
    n = out.shape[0]
    if xs.shape[0] == 0:
        first = min(y_lag, n)
        to, y = out[first:], ys[: n - first]
        for i in range(to.shape[0]):
            to[i] = x_const > y[i]
    elif ys.shape[0] == 0:
        first = min(x_lag, n)
        to, x = out[first:], xs[: n - first]
        for i in range(to.shape[0]):
            to[i] = x[i] > y_const
    else:
        first = min(max(x_lag, y_lag), n)
        to, x, y = out[first:], xs[first - x_lag : n - x_lag], ys[first - y_lag : n - y_lag]
        for i in range(to.shape[0]):
            to[i] = x[i] > y[i]
    out[:first] = False


@kernel()
def _crosses_above(
    out: Any, xs: Any, x_lag: int, x_const: float, ys: Any, y_lag: int, y_const: float
) -> None:
    """``out[t] = x[t] > y[t] and x[t-1] <= y[t-1]``, false at bar 0 and where a lag reaches back before
    bar 0 (loops as in :func:`_greater`)."""
    n = out.shape[0]
    if xs.shape[0] == 0:
        first = min(y_lag + 1, n)
        to, y, before = out[first:], ys[1 : n - first + 1], ys[: n - first]
        for i in range(to.shape[0]):
            to[i] = (x_const > y[i]) & (x_const <= before[i])
    elif ys.shape[0] == 0:
        first = min(x_lag + 1, n)
        to, x, before = out[first:], xs[1 : n - first + 1], xs[: n - first]
        for i in range(to.shape[0]):
            to[i] = (x[i] > y_const) & (before[i] <= y_const)
    else:
        first = min(max(x_lag, y_lag) + 1, n)
        to = out[first:]
        x, x_before = xs[first - x_lag : n - x_lag], xs[first - 1 - x_lag : n - 1 - x_lag]
        y, y_before = ys[first - y_lag : n - y_lag], ys[first - 1 - y_lag : n - 1 - y_lag]
        for i in range(to.shape[0]):
            to[i] = (x[i] > y[i]) & (x_before[i] <= y_before[i])
    out[:first] = False


@kernel()
def run_some(
    pointers: Any, constants: Any, code: Any, bounds: Any, depth: int, out: Any, first: int, step: int
) -> None:
    """Run programs ``first``, ``first + step``, ... (program p is rows ``bounds[p]`` of ``code``) into
    their rows of ``out``, with one scratch stack of ``depth`` rows."""
    programs = out.shape[0]
    n = out.shape[1]
    empty = np.empty(0, dtype=np.float64)
    stack = np.empty((depth, n), dtype=np.bool_)
    for p in range(first, programs, step):
        begin, end = bounds[p, 0], bounds[p, 1]
        if begin == end:
            out[p, :] = False
            continue
        top = 0
        for row in range(begin, end):
            op = code[row, 0]
            if op <= CROSSES_BELOW:
                x, y = code[row, 1], code[row, 3]
                xs = empty if x < 0 else carray(_as_pointer(pointers[x]), n, np.float64)
                ys = empty if y < 0 else carray(_as_pointer(pointers[y]), n, np.float64)
                x_const = constants[-1 - x] if x < 0 else 0.0
                y_const = constants[-1 - y] if y < 0 else 0.0
                x_lag, y_lag = code[row, 2], code[row, 4]
                # x < y is y > x; x crosses below y is y crosses above x (NaN compares false both ways)
                if op == GREATER:
                    _greater(stack[top], xs, x_lag, x_const, ys, y_lag, y_const)
                elif op == LESS:
                    _greater(stack[top], ys, y_lag, y_const, xs, x_lag, x_const)
                elif op == CROSSES_ABOVE:
                    _crosses_above(stack[top], xs, x_lag, x_const, ys, y_lag, y_const)
                else:
                    _crosses_above(stack[top], ys, y_lag, y_const, xs, x_lag, x_const)
                top += 1
            else:
                children = code[row, 1]
                into = stack[top - children]
                for child in range(top - children + 1, top):
                    other = stack[child]
                    if op == ALL:
                        for t in range(n):
                            into[t] &= other[t]
                    else:
                        for t in range(n):
                            into[t] |= other[t]
                top -= children - 1
        out[p, :] = stack[0]


@kernel(parallel=True)
def run_programs(
    pointers: Any, constants: Any, code: Any, bounds: Any, depth: int, out: Any, threads: int
) -> None:
    """Every program into its row of ``out``, programs dealt to ``threads`` threads."""
    for w in prange(threads):
        run_some(pointers, constants, code, bounds, depth, out, w, threads)


def load() -> None:
    """Load the kernels above from numba's disk cache (compiling them on a first run) by running one
    program of each condition and group on a few bars, with the argument types :func:`signals_many`
    passes (see :meth:`~mastertrade.engine.generator.evaluation.Scorer.load_kernels`)."""
    values = np.linspace(1.0, 2.0, 8, dtype=np.float64)
    pointers = np.array([values.ctypes.data], dtype=np.int64)
    code = np.array(
        [(op, 0, 1, -1, 0) for op in (GREATER, LESS, CROSSES_ABOVE, CROSSES_BELOW)]
        + [(ALL, 2, 0, 0, 0)]
        + [(GREATER, -1, 0, 0, 0), (ANY, 3, 0, 0, 0)],
        dtype=np.int64,
    )
    bounds = np.array([[0, code.shape[0]]], dtype=np.int64)
    out = np.empty((1, 8), dtype=np.bool_)
    run_programs(pointers, np.array([1.5]), code, bounds, 4, out, 1)
    run_some(pointers, np.array([1.5]), code, bounds, 4, out, 0, 1)
