"""New genomes from old ones: random seeds, mutation and crossover, always through the genome model.

Every operator edits a genome's JSON document (a plain dict), moves numbers to the search grids
(:mod:`.grid`) and validates the result as ``parse_genome`` would; an edit the model refuses (a condition
comparing a term with itself, nesting too deep) is dropped and another one tried, so everything this
module returns is a valid genome and nothing invalid ever leaves it.

Breeding is cheap because a child mostly repeats its parents: documents are never edited in place (an
operator copies the path it changes and shares the rest), each distinct term is snapped and validated
once and remembered (a term, condition or rule this module built is known by its identity), a condition
is validated once per pair of validated terms, a group and a genome are assembled from their validated
parts with only the checks that concern the new whole (``genome.condition_of``, ``group_of``,
``with_rules``: the same models validation gives, field for field), a genome's own fields are snapped and
validated once per distinct set as they come (with the text of the fingerprint around the rules), and
its fingerprint is put together from remembered texts before the genome is made
(:func:`~mastertrade.engine.signals.canonical.fingerprint_filled`), so it is made once, named. A child
of crossover is handed over as a :class:`Draft` (checked, named, with its document): the search mutates
nine in ten of them at once, and makes a genome of one only if it keeps it as it is. (Breeding and
selection, measured 2026-12-05 as the generation benchmark's ceiling does, a seed-1 ``--count 500``
search replayed with its recorded scores, thread CPU time, interleaved with the code before the own-field
memo, the drafts, one-pass selection and cheaper seeding: at one year of 1h bars 65-89 us a child
against 94-122, 1.41 times cheaper in the median of 18 pairs (1.20-1.52; load 2 to 7); at five years
79-98 against 113-138, 1.44 times (1.30-1.59, 9 pairs). The same archive to the bit: names, order,
scores.)

Mutations (one per call, chosen at random):

- ``param``: an indicator parameter moves to a neighbouring (or any) grid value;
- ``threshold``: a constant moves along its threshold grid;
- ``operator``: ``>``, ``<``, ``crosses_above``, ``crosses_below`` swap;
- ``swap``: a term is replaced by another indicator or price of the same scale (an SMA by an EMA or a
  Bollinger band, an RSI by a stochastic), with fresh parameters (a forecast by another model's);
- ``lag``: a term looks a few bars further back, or less;
- ``add`` / ``remove``: a condition joins a rule (in an ``all`` or ``any`` group) or leaves it;
- ``stops``: stop-loss, take-profit, trailing stop or size change, appear or go.

Crossover swaps a random rule subtree of one parent's entry (or exit) rule with one of the other's, and
with some chance their stops and sizes.

The feature pool (``Limits.features``) adds feature terms with stored data for the series searched,
such as the forecasts trained models made (:mod:`.terms`): the first generation and ``add`` draw them
beside prices and indicators, ``swap`` exchanges one for another of its scale. An empty pool draws
exactly what a candles-only search draws.

Randomness comes from the ``rng`` passed in (a ``random.Random`` seeded per individual by the search),
so a child depends only on its parents and its own seed, never on evaluation order or worker count.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any, cast

from mastertrade.engine.generator.grid import (
    LAGS,
    SIZE_GRID,
    STOP_GRIDS,
    grid_params,
    nearest,
    param_grid,
    snap_params,
    snap_threshold,
)
from mastertrade.engine.signals.canonical import (
    fingerprint,
    fingerprint_filled,
    fingerprint_template,
    note_term,
    own_texts,
    remember_fingerprint,
)
from mastertrade.engine.signals.features import FEATURES
from mastertrade.engine.signals.genome import (
    CONDITIONS,
    Genome,
    Rule,
    Term,
    condition_of,
    group_of,
    parse_genome,
    parse_rule,
    term_and_document,
    valid_name,
    with_checked_rules,
)
from mastertrade.engine.signals.indicators import INDICATORS
from mastertrade.engine.signals.random_genome import Chooser, FixedTerm, random_document
from mastertrade.engine.signals.specs import PRICE, SINGLE, VOLUME, SeriesSpec
from mastertrade.errors import InvalidGenome

Json = dict[str, Any]
Pool = tuple[FixedTerm, ...]
"""Feature terms the search may draw besides prices and indicators (``Limits.features``)."""
Path = tuple[int, ...]
"""Where a node sits in a rule tree: the child indices from the root."""

_GROUPS = ("all", "any")
_NUMBER = (int, float)
"""What ``isinstance`` checks for a constant (a tuple: ``int | float`` written in the call makes a union
each time)."""
_OPS = tuple(CONDITIONS)
_PRICE_SCALES = {"open": PRICE, "high": PRICE, "low": PRICE, "close": PRICE, "volume": VOLUME}
ATTEMPTS = 12


@dataclass(frozen=True)
class Limits:
    """Bounds the search keeps genomes within (the model's own limits are wider), and the feature terms
    it may draw besides prices and indicators."""

    max_conditions: int = 6
    max_depth: int = 2
    features: Pool = ()
    """Feature terms with stored data for the series searched, drawn as they are (the forecasts of the
    trained models, :mod:`.terms`); none: genomes read the candles only, drawn exactly as before."""


# --- the genome's JSON tree -----------------------------------------------------------------------


def is_group(rule: Json) -> bool:
    return "all" in rule or "any" in rule


def group_key(rule: Json) -> str:
    return "all" if "all" in rule else "any"


def op_of(condition: Json) -> str:
    first = next(iter(condition))  # a condition's one key, in every document the operators handle
    if first in CONDITIONS:
        return first
    return next(key for key in condition if key in CONDITIONS)


def nodes(rule: Json, path: Path = ()) -> list[Path]:
    """Every node of a rule tree (groups and conditions), root first."""
    own = _OWN.get(id(rule)) if not path else None
    if own is not None and own.doc is rule:
        return list(own.walk()[0])  # a document build made: walked once
    return _nodes(rule, path)


def _nodes(rule: Json, path: Path = ()) -> list[Path]:
    found = [path]
    if is_group(rule):
        for index, child in enumerate(rule[group_key(rule)]):
            found.extend(_nodes(child, (*path, index)))
    return found


def conditions(rule: Json) -> list[Path]:
    own = _OWN.get(id(rule))
    if own is not None and own.doc is rule:
        return list(own.walk()[1])
    return [path for path in nodes(rule) if not is_group(node_at(rule, path))]


def groups(rule: Json) -> list[Path]:
    own = _OWN.get(id(rule))
    if own is not None and own.doc is rule:
        return list(own.walk()[2])
    return [path for path in nodes(rule) if is_group(node_at(rule, path))]


def node_at(rule: Json, path: Path) -> Json:
    node = rule
    for index in path:
        node = node[group_key(node)][index]
    return node


def replaced(rule: Json, path: Path, new: Json | None) -> Json | None:
    """``rule`` with the node at ``path`` replaced by ``new`` (removed when ``None``; a group left with one
    child becomes that child, an empty one disappears). The groups on the path are new; everything else
    is shared with ``rule`` and ``new``, which is why no operator edits a document in place."""
    if not path:
        return new
    key = group_key(rule)
    children = list(rule[key])
    head, rest = path[0], path[1:]
    child = replaced(children[head], rest, new)
    if child is None:
        del children[head]
    else:
        children[head] = child
    if not children:
        return None
    if len(children) == 1:
        return children[0]  # type: ignore[no-any-return]
    return {key: children}


def depth(rule: Json) -> int:
    if is_group(rule):
        return 1 + max(depth(child) for child in rule[group_key(rule)])
    return 0


def term_scale(term: Any) -> tuple[str, tuple[float, float] | None]:
    """The scale of a term and the threshold range its values are compared with (``None``: none)."""
    if isinstance(term, _NUMBER):
        return "const", None
    if "price" in term:
        return _PRICE_SCALES[term["price"]], None
    spec, output = _spec_of(term)
    out = spec.output(output)
    return out.scale, out.thresholds


def _spec_of(term: Json) -> tuple[SeriesSpec, str | None]:
    if "ind" in term:
        return INDICATORS[term["ind"]], term.get("output")
    return FEATURES[term["feature"]], term.get("output")


# --- drawing --------------------------------------------------------------------------------------


Source = tuple[str, str, str | None]
"""(kind, name, output): kind "price", "ind" or "feature" (a feature's name: its ``FixedTerm.label``)."""


def _sources(scale: str, pool: Pool = ()) -> list[Source]:
    """Every price column, indicator output and pool feature output on ``scale``."""
    registries = (tuple(INDICATORS.items()), tuple(FEATURES.items()) if pool else ())
    known = _SOURCES.get((scale, pool))
    if known is not None and known[0] == registries:  # the same entries (compared by identity first)
        return list(known[1])
    found = _sources_of(scale, pool)
    _SOURCES[(scale, pool)] = (registries, found)
    return list(found)


_SOURCES: dict[tuple[str, Pool], tuple[Any, list[Source]]] = {}
"""The sources on each scale with each pool, with the registries they were read from."""


def _sources_of(scale: str, pool: Pool) -> list[Source]:
    found: list[Source] = [
        ("price", column, None) for column, column_scale in _PRICE_SCALES.items() if column_scale == scale
    ]
    for name, spec in INDICATORS.items():
        for out in spec.outputs:
            if out.scale == scale:
                found.append(("ind", name, out.name if spec.multi_output else None))
    for fixed in pool:
        spec = FEATURES[fixed.name]
        for out in spec.outputs:
            if out.scale == scale:
                found.append(("feature", fixed.label, out.name if spec.multi_output else None))
    return found


SourcePick = Callable[[Chooser, list[Source]], Source]
"""Picks the new term's source among the candidates (the operator bandit's hook into ``swap``)."""


def draw_term(
    rng: Chooser,
    scale: str,
    *,
    lag: int = 0,
    pick: SourcePick | None = None,
    pool: Pool = (),
) -> Json | None:
    """A fresh term on ``scale`` with grid parameters (a pool feature's as they are); ``pick`` chooses
    its source (default: uniform). None when nothing is on that scale (a feature the pool lacks)."""
    sources = _sources(scale, pool)
    if not sources:
        return None
    kind, name, output = rng.choice(sources) if pick is None else pick(rng, sources)
    if kind == "price":
        term: Json = {"price": name}
    elif kind == "feature":
        term = next(fixed for fixed in pool if fixed.label == name).as_json()
    else:
        term = {"ind": name, **grid_params(rng, INDICATORS[name])}
    if kind != "price" and output is not None and output != SINGLE:
        term["output"] = output
    if lag:
        term["lag"] = lag
    return term


def draw_condition(rng: Chooser, pool: Pool = ()) -> Json:
    """A random single condition (the signals package's random genome with no groups, drawing from the
    pool's features too), on the grids."""
    data = random_document(rng, name="gen", max_depth=0, stops=False, terms=pool)
    return snap_rule(data["entry"])


# --- snapping to the grids ------------------------------------------------------------------------


def snap_term(term: Any) -> Any:
    """``term`` on its grids (a new document; never edit it in place: it is remembered). Terms recur
    far more than whole conditions (an edit changes one operand), so each is snapped once."""
    if not isinstance(term, dict):
        return term
    spec = _registered(term)
    try:
        key: Hashable | None = (_frozen(term), id(spec))
        known = _SNAPPED.get(key)
    except TypeError:
        key, known = None, None
    if known is not None:
        return known[1]
    snapped = _snap_term(term)
    if key is not None:
        if len(_SNAPPED) >= _CONDITIONS_KEPT:
            _SNAPPED.clear()
        _SNAPPED[key] = (spec, snapped)
    return snapped


_SNAPPED: dict[Hashable, tuple[SeriesSpec | None, Any]] = {}
"""Snapped terms by their document and registry entry (kept, so its id is not reused)."""


def _snap_term(term: Any) -> Any:
    if isinstance(term, dict) and "ind" in term:
        spec = INDICATORS[term["ind"]]
        params = {key: value for key, value in term.items() if key not in ("ind", "output", "lag")}
        snapped = {"ind": term["ind"], **snap_params(spec, params)}
        for key in ("output", "lag"):
            if key in term:
                snapped[key] = term[key]
        if "lag" in snapped:
            snapped["lag"] = nearest(snapped["lag"], LAGS)
            if snapped["lag"] == 0:
                del snapped["lag"]
        return snapped
    if isinstance(term, dict) and "lag" in term:
        snapped = {**term, "lag": nearest(term["lag"], LAGS)}
        if snapped["lag"] == 0:
            del snapped["lag"]
        return snapped
    return term


def snap_rule(rule: Json) -> Json:
    if is_group(rule):
        key = group_key(rule)
        return {key: [snap_rule(child) for child in rule[key]]}
    op = op_of(rule)
    left, right = (snap_term(term) for term in rule[op])
    if isinstance(right, _NUMBER) and not isinstance(left, _NUMBER):
        right = _on_threshold_grid(right, term_scale(left)[1])
    elif isinstance(left, _NUMBER) and not isinstance(right, _NUMBER):
        left = _on_threshold_grid(left, term_scale(right)[1])
    return {op: [left, right]}


_THRESHOLDS: dict[Hashable, float] = {}
"""Constants moved to their threshold grids, by value and bounds; cleared when it holds
``_CONDITIONS_KEPT``."""


def _on_threshold_grid(value: float, bounds: tuple[float, float] | None) -> float:
    """``snap_threshold(value, bounds)``, remembered (it builds the grid each time)."""
    return cast(float, _remembered(_THRESHOLDS, (type(value), value, bounds), snap_threshold, value, bounds))


def _remembered(
    memo: dict[Hashable, Any], key: tuple[Any, ...], compute: Callable[..., Any], *args: Any
) -> Any:
    """``compute(*args)``, kept in ``memo`` under ``key`` (emptied when it holds ``_CONDITIONS_KEPT``); an
    unhashable key is computed every time."""
    try:
        known = memo.get(key, _MISSING)
    except TypeError:
        return compute(*args)
    if known is _MISSING:
        known = compute(*args)
        if len(memo) >= _CONDITIONS_KEPT:
            memo.clear()
        memo[key] = known
    return known


def snap_genome(data: Json) -> Json:
    """The genome document with every parameter, constant, lag, stop and size on its grid."""
    data = dict(data)
    data["entry"] = snap_rule(data["entry"])
    if data.get("exit") is not None:
        data["exit"] = snap_rule(data["exit"])
    for key, grid in STOP_GRIDS.items():
        if data.get(key) is not None:
            data[key] = nearest(data[key], grid)
    data["size"] = nearest(data.get("size", 1.0), SIZE_GRID)
    return data


# --- building genomes -----------------------------------------------------------------------------


KEY_DIGITS = 10
_PREFIX = "gen-"


def named(genome: Genome) -> Genome:
    """The genome named after its fingerprint (``gen-`` and ten hex digits), so names are stable."""
    return genome.model_copy(update={"name": f"{_PREFIX}{fingerprint(genome)[:KEY_DIGITS]}"})


def genome_key(genome: Genome | Draft) -> str:
    """The first ``KEY_DIGITS`` hex digits of the fingerprint: read from the name of a genome this module
    built (computing a fingerprint costs a canonical form), computed for any other. Two genomes with the
    same key are taken as duplicates; a false match among the thousands of one run is one in 10^5."""
    name = genome.name
    if name.startswith(_PREFIX) and len(name) == len(_PREFIX) + KEY_DIGITS:
        return name[len(_PREFIX) :]
    return fingerprint(finished(genome))[:KEY_DIGITS]


def build(data: Json, limits: Limits) -> Genome | None:
    """The genome of ``data`` on the grids, or ``None`` when the model or the limits refuse it.

    Exactly ``named(parse_genome(snap_genome(data)))`` after the limits check, but cheap: the search
    builds thousands of genomes from a few thousand distinct terms and conditions, so each term and each
    condition is snapped and validated once (:func:`_condition`), a group is put together from its
    validated children, the genome's own fields (symbol, timeframe, stops, size) are snapped and
    validated once per distinct set (:func:`_own`, which also keeps the text of the fingerprint around
    the rules), and the genome is assembled from those with only the checks that concern the whole
    (``genome.with_checked_rules``), its fingerprint computed before it exists so it is built once, named.
    Its JSON document is remembered (:func:`document`), so varying it again starts without a dump."""
    draft = _draft(data, limits)
    return None if draft is None else draft.genome()


class Draft:
    """A genome checked valid, named and with its JSON document, but not yet assembled
    (:meth:`genome`): what crossover hands the search, which mutates most of its children at once, so
    that only the genomes it keeps are made. :func:`mutate`, :func:`document` and :func:`genome_key`
    take one as they take the genome it stands for."""

    __slots__ = ("_genome", "doc", "entry", "exit", "fingerprint", "name", "own")

    def __init__(self, own: _Own, entry: _Built, exit: _Built | None, fingerprint: str) -> None:
        self.own = own
        self.entry = entry
        self.exit = exit
        self.fingerprint = fingerprint
        self.name = f"{_PREFIX}{fingerprint[:KEY_DIGITS]}"
        # its own fields are their own JSON (strings, floats, null), its rules' documents were built
        doc = own.shell.__dict__.copy()
        doc["name"] = self.name
        doc["entry"] = entry.doc
        doc["exit"] = None if exit is None else exit.doc
        self.doc = doc
        self._genome: Genome | None = None

    def genome(self) -> Genome:
        """The genome (made once), its fingerprint and document remembered."""
        if self._genome is None:
            exit = self.exit
            genome = with_checked_rules(  # (a prefix and hex digits: a valid name; checked whole in _draft)
                self.own.shell,
                name=self.name,
                entry=self.entry.rule,
                exit=None if exit is None else exit.rule,
            )
            remember_fingerprint(genome, self.fingerprint)
            _remember(genome, self.doc, self.entry.nodes + (0 if exit is None else exit.nodes))
            self._genome = genome
        return self._genome


def finished(genome: Genome | Draft) -> Genome:
    """The genome a draft stands for; a genome as it is."""
    return genome.genome() if isinstance(genome, Draft) else genome


def _draft(data: Json, limits: Limits) -> Draft | None:
    """:func:`build` up to making the genome: ``None`` when it would refuse ``data``."""
    entry_built = exit_built = None
    rule = data.get("entry")
    if rule is not None:
        entry_built = _within(rule, limits)
        if entry_built is None:
            return None
    rule = data.get("exit")
    if rule is not None:
        exit_built = _within(rule, limits)
        if exit_built is None:
            return None
    own = _own(data)
    if own is None or entry_built is None:
        return None
    entry = entry_built.rule
    exit = None if exit_built is None else exit_built.rule
    shapes = (
        (entry_built.depth, entry_built.conditions),
        None if exit_built is None else (exit_built.depth, exit_built.conditions),
    )
    if own.shell._whole_problem(entry, exit, shapes) is not None:  # what genome.with_rules refuses
        return None
    return Draft(own, entry_built, exit_built, fingerprint_filled(own.template, entry, exit))


def _within(rule: Json, limits: Limits) -> _Built | None:
    """``rule`` built (:func:`_rule`), or ``None`` when the model refuses it or it is past the limits."""
    found = _rule(rule)
    if found is None or found.conditions > limits.max_conditions or found.depth > limits.max_depth:
        return None
    return found


class _Own:
    """A genome's own fields (all but its name and rules) on the grids and validated: the shell they
    make (:func:`_shell`) and the text of the fingerprint around the rules
    (:func:`~mastertrade.engine.signals.canonical.fingerprint_template`). (Slots: one per distinct set.)"""

    __slots__ = ("shell", "template")

    def __init__(self, shell: Genome, own: tuple[str, ...]) -> None:
        self.shell = shell
        self.template = fingerprint_template(own)


_VALID_NAMES: set[Any] = set()
"""Names :func:`~.genome.valid_name` accepted (a child's document carries its parent's name); cleared
when it holds ``_CONDITIONS_KEPT``."""
_OWNS: dict[Hashable, _Own | None] = {}
"""What :func:`_own` found (``None``: refused), by the document's own fields as they came (before the
grids) and whether its rules are null; cleared when it holds ``_CONDITIONS_KEPT``."""


def _own(data: Json) -> _Own | None:
    """The shell of ``data`` (its own fields on their grids, validated with stand-in rules), or ``None``
    when the model refuses them or the name. Remembered by the fields as they come (a search moves a
    few hundred sets of stops and sizes around) when they are what :func:`_shell_key` tells apart by
    value: every field in order, strings, nonzero floats or null; snapped and validated otherwise."""
    name = data.get("name")
    if type(name) is not str or name not in _VALID_NAMES:
        if not valid_name(name):
            return None
        if len(_VALID_NAMES) >= _CONDITIONS_KEPT:
            _VALID_NAMES.clear()
        _VALID_NAMES.add(name)
    key: Hashable | None = None
    if tuple(data) == _FIELDS:
        values = _OWN_VALUES_OF(data)
        # (strings, floats and null never compare equal across types, so the values tell the types
        # apart; and the grids take a zero of either sign to the same point)
        if _PLAIN.issuperset(map(type, values)):
            key = (data["entry"] is None, data["exit"] is None, values)
            known = _OWNS.get(key, _MISSING)
            if known is not _MISSING:
                return known  # type: ignore[no-any-return]
    document = dict(data)
    for field, grid in STOP_GRIDS.items():
        if document.get(field) is not None:
            document[field] = _on_grid(document[field], grid)
    document["size"] = _on_grid(document.get("size", 1.0), SIZE_GRID)
    validated = _shell(document)
    found = None if validated is None else _Own(*validated)
    if key is not None:
        if len(_OWNS) >= _CONDITIONS_KEPT:
            _OWNS.clear()
        _OWNS[key] = found
    return found


class _Built:
    """A rule on the grids, validated, with its JSON document (the model's dump) and its shape; and, once
    an operator asked, the paths of its nodes (:func:`nodes`). (A plain class with slots: the search makes
    thousands, and a frozen dataclass costs several times as much to make.)"""

    __slots__ = ("conditions", "depth", "doc", "nodes", "rule", "terms", "walked")

    def __init__(self, rule: Rule, doc: Json, conditions: int, depth: int, nodes: int = 1) -> None:
        self.rule = rule
        self.doc = doc
        self.conditions = conditions
        self.depth = depth
        self.nodes = nodes
        """Conditions and groups: what the search's complexity penalty counts."""
        self.walked: tuple[list[Path], list[Path], list[Path]] | None = None
        self.terms: dict[str, list[tuple[str, Path, int, Any]]] | None = None

    def term_slots(self, side: str) -> list[tuple[str, Path, int, Any]]:
        """(``side``, condition path, operand index, term) of every non-constant term of the document,
        when it is the rule on ``side`` (kept per side: the same rule can be an entry and an exit)."""
        if self.terms is None:
            self.terms = {}
        found = self.terms.get(side)
        if found is None:
            found = self.terms[side] = [(side, *slot) for slot in _rule_term_slots(self.doc)]
        return found

    def walk(self) -> tuple[list[Path], list[Path], list[Path]]:
        """The paths of the document's nodes, of its conditions and of its groups."""
        if self.walked is None:
            every = _nodes(self.doc)
            split = [(path, is_group(node_at(self.doc, path))) for path in every]
            self.walked = (
                every,
                [path for path, group in split if not group],
                [path for path, group in split if group],
            )
        return self.walked


def _rule(rule: Json) -> _Built | None:
    """``rule`` on the grids and validated, or ``None`` when the model refuses it. A part of a document
    ``build`` made (what an operator left as it was) is known by its identity."""
    own = _OWN.get(id(rule))
    if own is not None and own.doc is rule:
        return own
    if not is_group(rule):
        return _condition(rule)
    key = group_key(rule)
    models, docs = [], []
    conditions = deepest = 0
    nodes = 1
    for child in rule[key]:
        found = _rule(child)
        if found is None:
            return None
        models.append(found.rule)
        docs.append(found.doc)
        conditions += found.conditions
        nodes += found.nodes
        if found.depth > deepest:
            deepest = found.depth
    try:
        model = group_of("all" if key == "all" else "any", tuple(models))
    except InvalidGenome:
        return None
    return _owned(_Built(model, {key: docs}, conditions, 1 + deepest, nodes))


_OWN: dict[int, _Built] = {}
"""Built rules by the identity of their document (which each keeps, so the id is not reused); cleared
when it holds ``_CONDITIONS_KEPT``. Sound because no document ``build`` made is ever edited in place."""


def _owned(built: _Built) -> _Built:
    if len(_OWN) >= _CONDITIONS_KEPT:
        _OWN.clear()
    _OWN[id(built.doc)] = built
    return built


_CONDITIONS: dict[Hashable, tuple[tuple[SeriesSpec | None, ...], _Built | None]] = {}
"""Conditions on the grids and validated (``None``: refused), by their document and the registry entries
they name (kept, so their ids are not reused); cleared when it holds ``_CONDITIONS_KEPT``."""
_CONDITIONS_KEPT = 10_000
"""A search of 1,664 candidates remembers about 1,500 conditions (some 15 MiB with its documents)."""


def _condition(condition: Json) -> _Built | None:
    """A condition on the grids and validated (``None``: the model refuses it), as ``parse_rule(snap_rule(
    condition))`` gives it. Its terms are snapped and validated once each (:func:`_operand`), and the
    condition once per pair of them; a term ``build`` made is known by its identity."""
    if type(condition) is not dict or len(condition) != 1:
        return _unusual_condition(condition)
    ((op, operands),) = condition.items()
    if op not in CONDITIONS or type(operands) not in (list, tuple) or len(operands) != 2:
        return _unusual_condition(condition)
    first, second = operands
    left = first if isinstance(first, _NUMBER) else _operand(first)
    right = second if isinstance(second, _NUMBER) else _operand(second)
    # what snap_rule does: a constant moves to the threshold grid of the term it is compared with
    if isinstance(right, _NUMBER) and isinstance(left, _Operand):
        right = _on_threshold_grid(right, left.bounds())
    elif isinstance(left, _NUMBER) and isinstance(right, _Operand):
        left = _on_threshold_grid(left, right.bounds())
    left_term = left.validated if isinstance(left, _Operand) else _term(left)
    right_term = right.validated if isinstance(right, _Operand) else _term(right)
    if left_term is None or right_term is None:
        return None
    key = (op, id(left_term[0]), id(right_term[0]))
    known = _PAIRS.get(key)
    if known is not None and known[0] is left_term[0] and known[1] is right_term[0]:
        return known[2]
    try:
        model = condition_of(op, left_term[0], right_term[0])
        found: _Built | None = _owned(_Built(model, {op: [left_term[1], right_term[1]]}, 1, 0))
    except InvalidGenome:
        found = None
    if len(_PAIRS) >= _CONDITIONS_KEPT:
        _PAIRS.clear()
    _PAIRS[key] = (left_term[0], right_term[0], found)
    return found


_PAIRS: dict[tuple[str, int, int], tuple[Term, Term, _Built | None]] = {}
"""Conditions by operator and the identities of their validated terms (kept, so their ids are not
reused); cleared when it holds ``_CONDITIONS_KEPT``."""


class _Operand:
    """A term (not a constant) of a condition: on the grids, validated (``None``: refused)."""

    __slots__ = ("_bounds", "snapped", "validated")

    def __init__(self, snapped: Any, validated: tuple[Term, Any] | None) -> None:
        self.snapped = snapped
        self.validated = validated
        self._bounds: Any = _MISSING

    def bounds(self) -> tuple[float, float] | None:
        """The threshold range a constant compared with this term moves to (``term_scale``)."""
        if self._bounds is _MISSING:
            self._bounds = term_scale(self.snapped)[1]
        return self._bounds  # type: ignore[no-any-return]


_OPERANDS: dict[Hashable, tuple[SeriesSpec | None, _Operand]] = {}
"""Terms of conditions by their document and the registry entry they name (kept, so its id is not
reused); cleared when it holds ``_CONDITIONS_KEPT``."""
_KNOWN: dict[int, tuple[Any, _Operand]] = {}
"""Terms of conditions ``build`` made, by the identity of their document (kept, so the id is not reused:
a term's document is on the grids already, and no document ``build`` made is ever edited in place)."""


def _operand(term: Any) -> _Operand:
    known = _KNOWN.get(id(term))
    if known is not None and known[0] is term:
        return known[1]
    spec = _registered(term)
    try:
        key: Hashable | None = (_frozen(term), id(spec))
        remembered = _OPERANDS.get(key)
    except TypeError:  # something unhashable: snapped and validated below, and refused there
        key, remembered = None, None
    if remembered is not None:
        return remembered[1]
    snapped = _snap_term(term)  # (remembered here, by the same key: snap_term's memo would not spare work)
    found = _Operand(snapped, _term(snapped))
    if key is not None:
        if len(_OPERANDS) >= _CONDITIONS_KEPT:
            _OPERANDS.clear()
        _OPERANDS[key] = (spec, found)
    if found.validated is not None:
        doc = found.validated[1]
        if id(doc) not in _KNOWN:
            if len(_KNOWN) >= _CONDITIONS_KEPT:
                _KNOWN.clear()
            _KNOWN[id(doc)] = (doc, _Operand(doc, found.validated))  # a term's document is on the grids
    return found


def _unusual_condition(condition: Json) -> _Built | None:
    """:func:`_condition` of a document that is not one operator with two operands: snapped, then
    validated (which refuses it)."""
    specs = tuple(_registered(term) for term in _operands(condition))
    try:
        key: Hashable | None = (_frozen(condition), tuple(id(spec) for spec in specs))
        known = _CONDITIONS.get(key)
    except TypeError:  # something unhashable: snapped and validated below, and refused there
        key, known = None, None
    if known is not None:
        return known[1]
    snapped = snap_rule(condition)
    ((op, (left, right)),) = snapped.items()
    left_term, right_term = _term(left), _term(right)
    found: _Built | None = None
    if left_term is not None and right_term is not None:
        try:
            model = condition_of(op, left_term[0], right_term[0])
            found = _owned(_Built(model, {op: [left_term[1], right_term[1]]}, 1, 0))
        except InvalidGenome:
            pass
    if key is not None:
        if len(_CONDITIONS) >= _CONDITIONS_KEPT:
            _CONDITIONS.clear()
        _CONDITIONS[key] = (specs, found)
    return found


_TERM_MODELS: dict[Hashable, tuple[SeriesSpec | None, tuple[Term, Any] | None]] = {}
"""Terms on the grids, validated, with their JSON documents (``None``: refused), by their document and
the registry entry they name (kept, so its id is not reused); cleared when it holds ``_CONDITIONS_KEPT``."""


def _term(term: Any) -> tuple[Term, Any] | None:
    """A snapped term's model and JSON document, validated once (``None``: the model refuses it). A new
    condition mostly pairs terms seen before (an edit changes one operand)."""
    spec = _registered(term)
    try:
        key: Hashable | None = (_frozen(term), id(spec))
        known = _TERM_MODELS.get(key)
    except TypeError:  # something unhashable: validated below, and refused there
        key, known = None, None
    if known is not None:
        return known[1]
    found: tuple[Term, Any] | None
    try:
        model, doc = term_and_document(term)
    except InvalidGenome:
        found = None
    else:
        note_term(model, doc)  # its canonical text, from the document at hand
        found = (model, doc)
    if key is not None:
        if len(_TERM_MODELS) >= _CONDITIONS_KEPT:
            _TERM_MODELS.clear()
        _TERM_MODELS[key] = (spec, found)
    return found


_SHELLS: dict[Hashable, tuple[Genome, tuple[str, ...]] | None] = {}
"""Validated genomes by their document with a stand-in name and rules (``None``: refused); cleared
when it holds ``_CONDITIONS_KEPT``. A search varies a few hundred combinations of stops and size."""
_SHELL_NAME = "gen"


@cache
def _stand_in_rule() -> Rule:
    return parse_rule({">": [{"price": "close"}, {"price": "open"}]})


def _shell(document: Json) -> tuple[Genome, tuple[str, ...]] | None:
    """``document`` validated with a valid stand-in for its name and its rules (when they are not
    null): what validation says of the genome's own fields, which :func:`~.genome.with_rules` then
    completes with the validated rules. ``None`` when the model refuses them (or the name)."""
    if not valid_name(document.get("name")):
        return None
    try:
        key: Hashable | None = _shell_key(document)
        known = _SHELLS.get(key, _MISSING)
    except TypeError:  # something unhashable: validated below, and refused there
        key, known = None, _MISSING
    if known is not _MISSING:
        return known  # type: ignore[no-any-return]
    try:
        if type(key) is tuple and key[0] == "plain":
            valid = _plain_shell(document)
        else:
            valid = parse_genome({key: _slot(key, value) for key, value in document.items()})
        found: tuple[Genome, tuple[str, ...]] | None = (valid, own_texts(valid.__dict__))
    except InvalidGenome:
        found = None
    if key is not None:
        if len(_SHELLS) >= _CONDITIONS_KEPT:
            _SHELLS.clear()
        _SHELLS[key] = found
    return found


def _plain_shell(document: Json) -> Genome:
    """What validating the shell of a document with every field gives, from its own fields validated one
    by one (the model validates each on its own; a search meets a few dozen values of each, but hundreds
    of their combinations), and the model's check of the whole; ``InvalidGenome`` when it refuses it."""
    if document["entry"] is None:
        raise InvalidGenome("entry: required")
    own = {field: _own_field(field, document[field]) for field in _OWN_FIELDS}
    exit = None if document["exit"] is None else _stand_in_rule()
    shell = _full_shell().model_copy(update={**own, "exit": exit})
    problem = shell._whole_problem(shell.entry, exit)
    if problem is not None:
        raise InvalidGenome(f"{problem[1]}: {problem[0]}")
    return shell


@cache
def _full_shell() -> Genome:
    """A valid genome with every field set, stand-in name and rules."""
    return parse_genome(
        {
            "name": _SHELL_NAME,
            **dict.fromkeys(_FIELDS[1:]),
            "entry": _stand_in_rule(),
            "exit": _stand_in_rule(),
        }
        | {"size": 1.0}
    )


_OWN_VALUES: dict[Hashable, tuple[Any] | None] = {}
"""Validated values of a genome's own fields by field, value and type (``None``: refused)."""


def _own_field(field: str, value: Any) -> Any:
    key = (field, type(value), value)
    known = _OWN_VALUES.get(key, _MISSING)
    if known is _MISSING:
        try:
            alone = {"name": _SHELL_NAME, "entry": _stand_in_rule(), "exit": _stand_in_rule(), field: value}
            known = (getattr(parse_genome(alone), field),)
        except InvalidGenome:
            known = None
        if len(_OWN_VALUES) >= _CONDITIONS_KEPT:
            _OWN_VALUES.clear()
        _OWN_VALUES[key] = known
    if known is None:
        raise InvalidGenome(f"{field}: refused")
    return known[0]


_MISSING: Any = object()


_FIELDS = tuple(Genome.model_fields)
_OWN_FIELDS = ("symbol", "timeframe", "stop_loss", "take_profit", "trailing_stop", "size")
_OWN_VALUES_OF = itemgetter(*_OWN_FIELDS)
_PLAIN = frozenset({str, float, type(None)})


def _shell_key(document: Json) -> Hashable:
    """What tells the shells of documents apart (raises ``TypeError`` on something that is not JSON). The
    common case, a document with every field in order and its own fields strings, nonzero floats or null
    (what the operators leave, on the grids), by those values and their types; any other by
    :func:`_frozen` (the name left out, the rules by whether they are null)."""
    if tuple(document) == _FIELDS:
        values = tuple(map(document.__getitem__, _OWN_FIELDS))
        types = tuple(map(type, values))
        if _PLAIN.issuperset(types) and 0.0 not in values:  # no sign of zero to tell apart
            return ("plain", document["entry"] is None, document["exit"] is None, types, values)
    return tuple(
        (field, (value is None,) if field in ("entry", "exit") else _frozen(value))
        for field, value in document.items()
        if field != "name"
    )


def _slot(key: str, value: Any) -> Any:
    if key == "name":
        return _SHELL_NAME
    if key in ("entry", "exit") and value is not None:
        return _stand_in_rule()
    return value


_ON_GRID: dict[Hashable, Any] = {}
"""Stops and sizes moved to their grids, by their value and grid."""


def _on_grid(value: Any, grid: tuple[float, ...]) -> Any:
    """``nearest(value, grid)``, remembered: a search has a few hundred distinct stops and sizes. Keyed by
    the grid itself, not its id: another run's grid may reuse a freed one's id."""
    return _remembered(_ON_GRID, (type(value), value, grid), nearest, value, grid)


def _operands(condition: Json) -> Sequence[Any]:
    operands: Any = next((value for key, value in condition.items() if key in CONDITIONS), ())
    return operands if isinstance(operands, list | tuple) else ()


def _registered(term: Any) -> SeriesSpec | None:
    if isinstance(term, dict):
        if "ind" in term:
            return INDICATORS.get(term["ind"])
        if "feature" in term:
            return FEATURES.get(term["feature"])
    return None


def _frozen(value: Any) -> Hashable:
    """A hashable key of a JSON value that tells apart what validation or printing tells apart: types
    (1, 1.0 and True) and the sign of zero; raises ``TypeError`` on something that is not JSON."""
    kind = type(value)
    if kind is dict:
        values = tuple(value.values())
        types = tuple(map(type, values))
        if _FLAT.issuperset(types) and 0 not in values:  # a term: flat, and no sign of zero to tell apart
            return (dict, tuple(value), values, types)  # (types tell apart the values that compare equal)
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    if kind is list or kind is tuple:
        return (kind, tuple(_frozen(item) for item in value))
    if kind is float and value == 0.0:
        return (float, value, math.copysign(1.0, value))  # three items: no other float matches it
    hash(value)
    return (kind, value)


_FLAT = frozenset({str, int, float, bool})


_DOCUMENTS: OrderedDict[int, tuple[Genome, Json, int | None]] = OrderedDict()
"""The JSON documents of the genomes ``build`` made lately, with the conditions and groups of their
rules (``None``: a genome :func:`document` dumped), by genome (kept, so its id is not reused), oldest
first."""
_DOCUMENTS_KEPT = 1_024


def _remember(genome: Genome, doc: Json, nodes: int | None) -> None:
    if len(_DOCUMENTS) >= _DOCUMENTS_KEPT:
        try:
            _DOCUMENTS.popitem(last=False)  # the oldest
        except KeyError:  # another thread took it
            pass
    _DOCUMENTS[id(genome)] = (genome, doc, nodes)


def rule_nodes(genome: Genome) -> int | None:
    """The conditions and all/any groups of both rules of a genome ``build`` made lately (what the
    search's complexity penalty counts); ``None`` for any other genome."""
    known = _DOCUMENTS.get(id(genome))
    if known is not None and known[0] is genome:
        return known[2]
    return None


def document(genome: Genome | Draft) -> Json:
    """``genome.to_dict()``, without a dump for a genome ``build`` made lately or dumped here lately (a
    parent that outlives the last thousand builds is varied again and again), or a draft. The document
    may share parts with other genomes' documents: the operators never edit one in place, they copy
    what changes."""
    if type(genome) is Draft:
        return genome.doc
    assert isinstance(genome, Genome)
    known = _DOCUMENTS.get(id(genome))
    if known is not None and known[0] is genome:
        return known[1]
    doc = genome.to_dict()
    _remember(genome, doc, None)
    return doc


def seed_genome(rng: Chooser, *, symbol: str, timeframe: str, limits: Limits) -> Genome:
    """A random genome on the grids (the first generation)."""
    for _ in range(ATTEMPTS):
        raw = random_document(
            rng,
            name="gen",
            symbol=symbol,
            timeframe=timeframe,
            max_depth=min(limits.max_depth, 2),
            terms=limits.features,
        )
        genome = build(raw, limits)  # named here: the drawn name is not kept
        if genome is not None:
            return genome
    # the grids or limits refused every draw (tiny limits): a single condition always fits
    data: Json = {"name": "gen", "symbol": symbol, "timeframe": timeframe}
    data.update(entry=draw_condition(rng, limits.features), exit=draw_condition(rng, limits.features))
    genome = build(
        data, Limits(max_conditions=max(limits.max_conditions, 1), max_depth=max(limits.max_depth, 0))
    )
    assert genome is not None, "a single-condition genome on the grids is always valid"
    return genome


# --- mutation -------------------------------------------------------------------------------------


def _sides(data: Json) -> list[str]:
    return [side for side in ("entry", "exit") if data.get(side) is not None]


def _term_slots(data: Json) -> list[tuple[str, Path, int]]:
    """(side, condition path, operand index) of every non-constant term."""
    return [(side, path, index) for side, path, index, _ in _terms_in(data)]


def _terms_in(data: Json) -> list[tuple[str, Path, int, Any]]:
    """(side, condition path, operand index, term) of every non-constant term: walked once for a rule
    ``build`` made (:meth:`_Built.term_slots`)."""
    slots: list[tuple[str, Path, int, Any]] = []
    for side in _sides(data):
        rule = data[side]
        own = _OWN.get(id(rule))
        if own is not None and own.doc is rule:
            slots.extend(own.term_slots(side))
        else:
            slots.extend((side, path, index, term) for path, index, term in _rule_term_slots(rule))
    return slots


def _rule_term_slots(rule: Json) -> list[tuple[Path, int, Any]]:
    slots = []
    for path in conditions(rule):
        condition = node_at(rule, path)
        for index, term in enumerate(condition[op_of(condition)]):
            if not isinstance(term, _NUMBER):
                slots.append((path, index, term))
    return slots


def _with_term(data: Json, side: str, path: Path, index: int, term: Any) -> Json:
    old = node_at(data[side], path)
    op = op_of(old)
    operands = list(old[op])
    operands[index] = term
    return {**data, side: replaced(data[side], path, {op: operands})}


def _term_at(data: Json, side: str, path: Path, index: int) -> Any:
    condition = node_at(data[side], path)
    return condition[op_of(condition)][index]


def mutate_param(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    slots = [slot for slot in _terms_in(data) if "ind" in slot[3]]
    if not slots:
        return None
    side, path, index, term = rng.choice(slots)
    term = dict(term)
    params = [param for param in INDICATORS[term["ind"]].params if param.sample is not None]
    if not params:
        return None
    param = rng.choice(params)
    grid = param_grid(param)
    current = term.get(param.name, param.default)
    assert isinstance(current, _NUMBER)
    position = grid.index(nearest(current, grid))
    if rng.random() < 0.7:  # a neighbour, mostly: small steps keep what works
        position = max(0, min(len(grid) - 1, position + rng.choice((-1, 1))))
    else:
        position = rng.randint(0, len(grid) - 1)
    term[param.name] = grid[position]
    return _with_term(data, side, path, index, term)


def mutate_threshold(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    slots = []
    for side in _sides(data):
        for path in conditions(data[side]):
            condition = node_at(data[side], path)
            operands = condition[op_of(condition)]
            for index, term in enumerate(operands):
                if isinstance(term, _NUMBER):
                    slots.append((side, path, index, operands[1 - index]))
    if not slots:
        return None
    side, path, index, other = rng.choice(slots)
    bounds = term_scale(other)[1]
    current = _term_at(data, side, path, index)
    if bounds is not None and bounds[1] > bounds[0]:
        low, high = bounds
        step = (high - low) / 20
        value = (
            current + rng.choice((-1, 1)) * step * rng.randint(1, 3)
            if rng.random() < 0.7
            else rng.uniform(low, high)
        )
        value = min(max(value, low), high)
    else:
        value = current * rng.uniform(0.9, 1.1)
    return _with_term(data, side, path, index, _on_threshold_grid(value, bounds))


def mutate_operator(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    side = rng.choice(_sides(data))
    path = rng.choice(conditions(data[side]))
    condition = node_at(data[side], path)
    op = op_of(condition)
    new_op = rng.choice([other for other in _OPS if other != op])
    return {**data, side: replaced(data[side], path, {new_op: condition[op]})}


def mutate_swap(rng: Chooser, data: Json, pool: Pool = (), pick: SourcePick | None = None) -> Json | None:
    slots = _terms_in(data)
    if not slots:
        return None
    side, path, index, term = rng.choice(slots)
    scale, _ = term_scale(term)
    new = draw_term(rng, scale, lag=term.get("lag", 0), pick=pick, pool=pool)
    if new is None or new == term:
        return None
    return _with_term(data, side, path, index, new)


def mutate_lag(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    slots = _terms_in(data)
    if not slots:
        return None
    side, path, index, term = rng.choice(slots)
    term = dict(term)
    term["lag"] = rng.choice([lag for lag in LAGS if lag != term.get("lag", 0)])
    if term["lag"] == 0:
        del term["lag"]
    return _with_term(data, side, path, index, term)


def mutate_add(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    side = rng.choice(["entry", "exit"])
    rule = data.get(side)
    new = draw_condition(rng, pool)
    if rule is None:
        return {**data, side: new}
    targets = groups(rule)
    if targets and rng.random() < 0.6:
        path = rng.choice(targets)
        group = node_at(rule, path)
        key = group_key(group)
        return {**data, side: replaced(rule, path, {key: [*group[key], new]})}
    path = rng.choice(conditions(rule))
    wrapped = {rng.choice(_GROUPS): [node_at(rule, path), new]}
    return {**data, side: replaced(rule, path, wrapped)}


def mutate_remove(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    choices = [(side, path) for side in _sides(data) for path in conditions(data[side]) if path]
    has_stop = any(data.get(key) is not None for key in STOP_GRIDS)
    if has_stop and data.get("exit") is not None:
        choices.append(("exit", ()))  # drop the exit rule: leave on stops only
    if not choices:
        return None
    side, path = rng.choice(choices)
    return {**data, side: replaced(data[side], path, None)}


def mutate_stops(rng: Chooser, data: Json, pool: Pool = ()) -> Json | None:
    data = dict(data)
    key = rng.choice([*STOP_GRIDS, "size"])
    if key == "size":
        data["size"] = rng.choice(SIZE_GRID)
        return data
    grid = STOP_GRIDS[key]
    current = data.get(key)
    if current is None:
        data[key] = rng.choice(grid)
    elif rng.random() < 0.3:
        data[key] = None
    else:
        position = grid.index(nearest(current, grid))
        data[key] = grid[max(0, min(len(grid) - 1, position + rng.choice((-2, -1, 1, 2))))]
    return data


Operator = Callable[[Chooser, Json, Pool], Json | None]
"""A mutation: ``(rng, genome document, feature pool)`` to an edited document, or None (nothing to edit)."""

MUTATIONS: tuple[tuple[str, Operator, float], ...] = (
    ("param", mutate_param, 3.0),
    ("threshold", mutate_threshold, 2.0),
    ("operator", mutate_operator, 1.0),
    ("swap", mutate_swap, 2.0),
    ("lag", mutate_lag, 0.5),
    ("add", mutate_add, 1.0),
    ("remove", mutate_remove, 1.0),
    ("stops", mutate_stops, 1.5),
)
_TOTAL: list[Any] = [MUTATIONS, sum(weight for _, _, weight in MUTATIONS)]
"""The mutations' weights summed, with the table they were summed from."""


def _weighted(rng: Chooser) -> Operator:
    mutations, total = _TOTAL
    if mutations is not MUTATIONS:  # (replaced: summed again, in the same order)
        _TOTAL[:] = [MUTATIONS, sum(weight for _, _, weight in MUTATIONS)]
        mutations, total = _TOTAL
    point = rng.random() * total
    for _, operator, weight in MUTATIONS:
        point -= weight
        if point < 0:
            return operator
    return MUTATIONS[-1][1]


def mutate[G: (Genome, Genome | Draft)](
    rng: Chooser,
    genome: G,
    limits: Limits,
    choose: Callable[[Chooser], Operator] | None = None,
) -> Genome | G:
    """One mutation of ``genome`` (a changed, valid genome), or ``genome`` itself when a dozen tries
    produced nothing valid and different. ``choose`` picks the operator (default: the fixed weights of
    ``MUTATIONS``; the search's operator bandit passes its own)."""
    data = document(genome)
    pick = choose or _weighted
    for _ in range(ATTEMPTS):
        edited = pick(rng)(rng, data, limits.features)
        if edited is None:
            continue
        child = build(edited, limits)
        # (a name is a field: told apart by their names, two genomes differ; the names of built ones
        # are their fingerprints, so mostly that is all it takes to tell)
        if child is not None and (child.name != genome.name or child != finished(genome)):
            return child
    return genome


# --- crossover ------------------------------------------------------------------------------------


def crossover(rng: Chooser, first: Genome, second: Genome, limits: Limits) -> tuple[Genome, Genome]:
    """Two children swapping a rule subtree of the same side (entry or exit), and with probability 1/2
    their stops and sizes; a child the model refuses is replaced by its parent."""
    child_a, child_b = crossover_drafts(rng, first, second, limits)
    return finished(child_a), finished(child_b)


def crossover_drafts(
    rng: Chooser, first: Genome, second: Genome, limits: Limits
) -> tuple[Genome | Draft, Genome | Draft]:
    """:func:`crossover`, a new child as a :class:`Draft` (the search mutates most of them at once)."""
    a, b = document(first), document(second)
    for _ in range(ATTEMPTS // 2):
        side = rng.choice(
            [side for side in ("entry", "exit") if a.get(side) is not None and b.get(side) is not None]
        )
        path_a = rng.choice(nodes(a[side]))
        path_b = rng.choice(nodes(b[side]))
        part_a = node_at(a[side], path_a)
        part_b = node_at(b[side], path_b)
        child_a = {**a, side: replaced(a[side], path_a, part_b)}
        child_b = {**b, side: replaced(b[side], path_b, part_a)}
        if rng.random() < 0.5:
            for key in (*STOP_GRIDS, "size"):
                child_a[key], child_b[key] = b.get(key), a.get(key)
        built_a, built_b = _draft(child_a, limits), _draft(child_b, limits)
        if built_a is not None or built_b is not None:
            return built_a or first, built_b or second
    return first, second


MEMOS: tuple[dict[Any, Any] | set[Any], ...] = (
    _SNAPPED,
    _THRESHOLDS,
    _OWN,
    _CONDITIONS,
    _PAIRS,
    _OPERANDS,
    _KNOWN,
    _TERM_MODELS,
    _SHELLS,
    _OWNS,
    _VALID_NAMES,
    _OWN_VALUES,
    _ON_GRID,
    _DOCUMENTS,
)
"""This module's memo caches (each bounded on its own)."""


def forget() -> None:
    """Empty the memo caches: between two series of a long run, whose genomes hardly ever meet again
    (``release``). Always sound: they only spare work, and refill as genomes are built."""
    for memo in MEMOS:
        memo.clear()
