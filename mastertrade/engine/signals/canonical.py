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
import math
from dataclasses import dataclass
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

    The hash of the canonical JSON (:func:`canonical_json` without the name), put together from the
    canonical text of each condition: a condition's text is computed once per condition object and
    remembered (the generator builds its genomes from a few thousand shared, validated conditions), and
    a group's text is its sorted children's texts joined, which is what ``json.dumps`` writes for it. The
    fingerprint itself is remembered for the last few hundred genome objects (a bounded memory), so the
    pipeline and the store need not compute it again."""
    remembered = _REMEMBERED.get(id(genome))
    if remembered is not None and remembered[0] is genome:
        return remembered[1]
    texts = {
        key: _scalar(getattr(genome, key)) for key in type(genome).model_fields if key not in _RULE_FIELDS
    }
    texts["entry"] = _canon(genome.entry).text
    texts["exit"] = "null" if genome.exit is None else _canon(genome.exit).text
    document = "{" + ",".join(f'"{key}":{texts[key]}' for key in sorted(texts)) + "}"
    found = hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]
    if len(_REMEMBERED) >= _REMEMBER:
        _REMEMBERED.pop(next(iter(_REMEMBERED), 0), None)  # the oldest (another thread may have taken it)
    _REMEMBERED[id(genome)] = (genome, found)  # the genome is kept, so its id is not reused meanwhile
    return found


_REMEMBER = 512
_REMEMBERED: dict[int, tuple[Genome, str]] = {}
_DATA_RANK = {"price": 0, "ind": 1, "feature": 2}


@dataclass(frozen=True)
class _Canon:
    """The canonical form of a rule as text (its compact, key-sorted JSON); a group's also as its parts,
    so an enclosing group of the same kind can take them in (flattening)."""

    text: str
    kind: str | None = None
    parts: tuple[_Canon, ...] = ()


_RULE_FIELDS = ("name", "entry", "exit")


def _scalar(value: Any) -> str:
    """``_dumps`` of a value that is its own JSON document (a genome's own fields, a constant: numbers,
    strings, null), the common cases without the encoder (``json`` writes a float as its ``repr``)."""
    if value is None:
        return "null"
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if isinstance(value, str | int | float):
        return _dumps(value)
    raise TypeError(f"not a JSON scalar: {value!r}")  # a field added to Genome needs its own case here


_RULES: dict[int, tuple[Rule, _Canon]] = {}
"""Canonical texts by rule object (kept, so its id is not reused): the generator's genomes share their
validated conditions and groups. Cleared when it holds ``_RULES_KEPT``."""
_RULES_KEPT = 10_000


def _canon(rule: Rule) -> _Canon:
    """:func:`canonical_rule` of ``rule``, as text."""
    known = _RULES.get(id(rule))
    if known is not None and known[0] is rule:
        return known[1]
    found = _canon_of(rule)
    if len(_RULES) >= _RULES_KEPT:
        _RULES.clear()
    _RULES[id(rule)] = (rule, found)
    return found


def _canon_of(rule: Rule) -> _Canon:
    if isinstance(rule, AllOf | AnyOf):
        kind = "all" if isinstance(rule, AllOf) else "any"
        flat: dict[str, _Canon] = {}
        for child in rule.children:
            simple = _canon(child)
            for part in simple.parts if simple.kind == kind else (simple,):
                flat.setdefault(part.text, part)
        if len(flat) == 1:
            return next(iter(flat.values()))
        keys = sorted(flat)
        return _Canon(f'{{"{kind}":[{",".join(keys)}]}}', kind, tuple(flat[key] for key in keys))
    ((op, (left, right)),) = rule.model_dump(mode="json").items()
    left_order, right_order = _data_order(left), _data_order(right)
    texts = [_term_text(left, left_order), _term_text(right, right_order)]
    if left_order > right_order:  # the operands swap and the operator flips (:func:`_oriented`)
        op, texts = _FLIPPED[op], texts[::-1]
    return _Canon(f'{{"{op}":[{texts[0]},{texts[1]}]}}')  # what _dumps writes for {op: [left, right]}


def _data_order(term: Any) -> tuple[Any, ...]:
    """:func:`_order` on a term's JSON document."""
    if isinstance(term, int | float):
        return (_RANK[ConstTerm], term)
    return (_DATA_RANK[next(iter(term))], _dumps(term))  # a term's document starts with its kind


def _term_text(term: Any, order: tuple[Any, ...]) -> str:
    """``_dumps(term)``, which ``order`` holds already for anything but a constant."""
    return _scalar(term) if isinstance(term, int | float) else str(order[1])
