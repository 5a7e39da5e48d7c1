"""The canonical form and fingerprint of a genome: one spelling per strategy logic.

Two genomes that always signal alike should look alike, so the generator can drop duplicates and the
store can diff and deduplicate what it keeps. :func:`canonical` rewrites a genome without changing a
single signal:

- nested groups of the same kind are flattened (``all[a, all[b, c]]`` -> ``all[a, b, c]``), repeated
  children dropped, the rest sorted, and a group left with one child replaced by that child;
- the operands of a condition are put in a fixed order, flipping the operator to match: a constant
  always goes right, and otherwise prices come before indicators before features
  (``30 < RSI(14)`` -> ``RSI(14) > 30``; ``b crosses_below a`` -> ``a crosses_above b``, which holds
  on exactly the same bars);
- numbers are already normalised by validation (defaults filled in, ``14.0`` -> ``14``, floats to ten
  significant digits), so equal values print equally.

:func:`fingerprint` hashes the canonical JSON of everything but the ``name``: the symbol, timeframe,
rules, stops and size.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mastertrade.engine.signals.genome import (
    CONDITIONS,
    AllOf,
    AnyOf,
    Condition,
    ConstTerm,
    CrossesAbove,
    CrossesBelow,
    FeatureTerm,
    Genome,
    Greater,
    IndicatorTerm,
    Less,
    PriceTerm,
    Rule,
    Term,
)

_FLIPPED = {
    Greater.OP: Less.OP,
    Less.OP: Greater.OP,
    CrossesAbove.OP: CrossesBelow.OP,
    CrossesBelow.OP: CrossesAbove.OP,
}
_RANK = {PriceTerm: 0, IndicatorTerm: 1, FeatureTerm: 2, ConstTerm: 3}


def canonical(genome: Genome) -> Genome:
    """The canonical spelling of ``genome`` (same name, same signals)."""
    return genome.model_copy(
        update={
            "entry": canonical_rule(genome.entry),
            "exit": None if genome.exit is None else canonical_rule(genome.exit),
        }
    )


def canonical_rule(rule: Rule) -> Rule:
    if isinstance(rule, AllOf | AnyOf):
        kind = type(rule)
        flat: dict[str, Rule] = {}
        for child in rule.children:
            simple = canonical_rule(child)
            for part in simple.children if isinstance(simple, kind) else (simple,):
                flat.setdefault(_dumps(part), part)
        children = [flat[key] for key in sorted(flat)]
        if len(children) == 1:
            return children[0]
        return AllOf(all=tuple(children)) if kind is AllOf else AnyOf(any=tuple(children))
    return _oriented(rule)


def _oriented(condition: Condition) -> Condition:
    left, right = condition.operands
    if _order(left) <= _order(right):
        return condition
    flipped = CONDITIONS[_FLIPPED[condition.OP]]
    return flipped.model_validate({flipped.OP: (right, left)})


def _order(term: Term) -> tuple[Any, ...]:
    if isinstance(term, ConstTerm):
        return (_RANK[ConstTerm], term.const)
    return (_RANK[type(term)], _dumps(term))


def _dumps(value: Any) -> str:
    data = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_json(genome: Genome) -> str:
    """Compact, key-sorted JSON of the canonical genome (with its name)."""
    return _dumps(canonical(genome))


def fingerprint(genome: Genome) -> str:
    """16 hex digits identifying the genome's logic: equal for genomes that differ only in name or in
    spelling (child order, operand order, default parameters written out), different otherwise.

    Computed on the genome's JSON document (the same canonical rewriting as :func:`canonical`, done on
    plain dicts: no model is validated again), and remembered for the last few hundred genome objects
    (a bounded memory), so the pipeline and the store need not compute it again."""
    remembered = _REMEMBERED.get(id(genome))
    if remembered is not None and remembered[0] is genome:
        return remembered[1]
    data = genome.model_dump(mode="json")
    del data["name"]
    data["entry"] = _canonical_data(data["entry"])
    if data.get("exit") is not None:
        data["exit"] = _canonical_data(data["exit"])
    found = hashlib.sha256(_dumps(data).encode("utf-8")).hexdigest()[:16]
    if len(_REMEMBERED) >= _REMEMBER:
        del _REMEMBERED[next(iter(_REMEMBERED))]  # the oldest (dicts keep insertion order)
    _REMEMBERED[id(genome)] = (genome, found)  # the genome is kept, so its id is not reused meanwhile
    return found


_REMEMBER = 512
_REMEMBERED: dict[int, tuple[Genome, str]] = {}
_GROUP_KEYS = ("all", "any")
_DATA_RANK = {"price": 0, "ind": 1, "feature": 2}


def _canonical_data(rule: dict[str, Any]) -> dict[str, Any]:
    """:func:`canonical_rule` on a rule's JSON document."""
    kind = next((key for key in _GROUP_KEYS if key in rule), None)
    if kind is not None:
        flat: dict[str, dict[str, Any]] = {}
        for child in rule[kind]:
            simple = _canonical_data(child)
            for part in simple[kind] if kind in simple else (simple,):
                flat.setdefault(_dumps(part), part)
        children = [flat[key] for key in sorted(flat)]
        if len(children) == 1:
            return children[0]
        return {kind: children}
    ((op, (left, right)),) = rule.items()
    if _data_order(left) <= _data_order(right):
        return rule
    return {_FLIPPED[op]: [right, left]}


def _data_order(term: Any) -> tuple[Any, ...]:
    if isinstance(term, int | float):
        return (_RANK[ConstTerm], term)
    return (_DATA_RANK[next(iter(term))], _dumps(term))  # a term's document starts with its kind
