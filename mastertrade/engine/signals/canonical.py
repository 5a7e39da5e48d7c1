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
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

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
    return _ENCODER.encode(data)


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)
"""What ``json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)`` uses, made once (the
call makes one each time, which costs more than encoding a term)."""


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
    found = fingerprint_of(genome.__dict__)
    remember_fingerprint(genome, found)
    return found


def fingerprint_of(values: Mapping[str, Any], own: tuple[str, ...] | None = None) -> str:
    """:func:`fingerprint` of the genome whose fields hold ``values`` (validated; the name is ignored),
    for the generator, which computes it before the genome exists to name it after it. ``own``: the
    :func:`own_texts` of ``values``, when the caller kept them (then ``values`` need only the rules)."""
    texts = list(own_texts(values) if own is None else own)  # key-sorted, then the rules go among them
    entry, exit = values["entry"], values["exit"]
    texts.insert(_ENTRY_AT, f'"entry":{_canon(entry).text}')
    texts.insert(_EXIT_AT, f'"exit":{"null" if exit is None else _canon(exit).text}')
    document = "{" + ",".join(texts) + "}"
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]


def fingerprint_template(own: tuple[str, ...]) -> tuple[str, str, str]:
    """The text :func:`fingerprint_of` hashes for a genome with these :func:`own_texts`, around its rules:
    ``head + entry + middle + exit + tail``, where the rules are their canonical texts (``null`` for no
    exit). The generator keeps one per set of stops and sizes, and fingerprints with
    :func:`fingerprint_filled`."""
    texts = list(own)
    texts.insert(_ENTRY_AT, '"entry":\0')  # (a NUL never occurs in JSON text: json escapes it)
    texts.insert(_EXIT_AT, '"exit":\0')
    head, middle, tail = ("{" + ",".join(texts) + "}").split("\0")
    return head, middle, tail


def fingerprint_filled(template: tuple[str, str, str], entry: Rule, exit: Rule | None) -> str:
    """``fingerprint_of({"entry": entry, "exit": exit}, own)`` for the :func:`fingerprint_template` of
    ``own``."""
    head, middle, tail = template
    entry_text = _canon(entry).text
    exit_text = "null" if exit is None else _canon(exit).text
    document = f"{head}{entry_text}{middle}{exit_text}{tail}"
    return hashlib.sha256(document.encode("utf-8")).hexdigest()[:16]


def own_texts(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The parts of the fingerprinted text that a genome's own fields (all but its name and rules) make,
    in key order; the generator keeps them for the few hundred sets of stops and sizes it builds from."""
    return tuple(f'"{key}":{_scalar(values[key])}' for key in _SCALAR_FIELDS)


def remember_fingerprint(genome: Genome, found: str) -> None:
    """Remember ``found`` as the fingerprint of ``genome`` (the object), which it must be."""
    if len(_REMEMBERED) >= _REMEMBER:
        try:
            _REMEMBERED.popitem(last=False)  # the oldest
        except KeyError:  # another thread took it
            pass
    _REMEMBERED[id(genome)] = (genome, found)  # the genome is kept, so its id is not reused meanwhile


_REMEMBER = 512
_REMEMBERED: OrderedDict[int, tuple[Genome, str]] = OrderedDict()
"""Fingerprints of the last ``_REMEMBER`` genome objects, oldest first (an ordered dict drops its oldest
entry at once; a dict's first entry is found by stepping over the slots of those removed before it)."""
_DATA_RANK = {"price": 0, "ind": 1, "feature": 2}


class _Canon(NamedTuple):
    """The canonical form of a rule as text (its compact, key-sorted JSON); a group's also as its parts,
    so an enclosing group of the same kind can take them in (flattening). (A named tuple: the generator
    makes thousands, and a frozen dataclass costs several times as much to make.)"""

    text: str
    kind: str | None = None
    parts: tuple[_Canon, ...] = ()


_RULE_FIELDS = ("name", "entry", "exit")
_HASHED = sorted(key for key in Genome.model_fields if key != "name")
"""The fields the fingerprint hashes, in the order of its key-sorted JSON."""
_SCALAR_FIELDS = tuple(key for key in _HASHED if key not in _RULE_FIELDS)
_ENTRY_AT = _HASHED.index("entry")
_EXIT_AT = _HASHED.index("exit")


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
    op = rule.OP
    (left_order, left_text), (right_order, right_text) = (_term_canon(term) for term in rule.operands)
    if left_order > right_order:  # the operands swap and the operator flips (:func:`_oriented`)
        op, left_text, right_text = _FLIPPED[op], right_text, left_text
    return _Canon(f'{{"{op}":[{left_text},{right_text}]}}')  # what _dumps writes for {op: [left, right]}


_TERMS: dict[int, tuple[Term, tuple[tuple[Any, ...], str]]] = {}
"""Each term's :func:`_data_order` and text by term object (kept, so its id is not reused): the
generator's conditions share their validated terms. Cleared when it holds ``_RULES_KEPT``."""


def _term_canon(term: Term) -> tuple[tuple[Any, ...], str]:
    """:func:`_data_order` and ``_dumps`` of a term's JSON document."""
    known = _TERMS.get(id(term))
    if known is not None and known[0] is term:
        return known[1]
    data = term.model_dump(mode="json")
    order = _data_order(data)
    found = (order, _term_text(data, order))
    if len(_TERMS) >= _RULES_KEPT:
        _TERMS.clear()
    _TERMS[id(term)] = (term, found)
    return found


def note_term(term: Term, data: Any) -> None:
    """Remember ``data``, the JSON document of ``term`` (``term.model_dump(mode="json")``, which the
    generator has when it makes a term), for the term's canonical text: fingerprinting the genomes
    that use the term then need not dump it again."""
    known = _TERMS.get(id(term))
    if known is not None and known[0] is term:
        return
    order = _data_order(data)
    if len(_TERMS) >= _RULES_KEPT:
        _TERMS.clear()
    _TERMS[id(term)] = (term, (order, _term_text(data, order)))


def _data_order(term: Any) -> tuple[Any, ...]:
    """:func:`_order` on a term's JSON document."""
    if isinstance(term, int | float):
        return (_RANK[ConstTerm], term)
    return (_DATA_RANK[next(iter(term))], _dumps(term))  # a term's document starts with its kind


def _term_text(term: Any, order: tuple[Any, ...]) -> str:
    """``_dumps(term)``, which ``order`` holds already for anything but a constant."""
    return _scalar(term) if isinstance(term, int | float) else str(order[1])


def forget() -> None:
    """Empty the memos of canonical texts (by rule, term and genome): between two series of a long run
    (the generator's ``release``). Always sound: they only spare work, and refill as fingerprints are
    taken."""
    for memo in (_RULES, _TERMS, _REMEMBERED):
        memo.clear()
