"""The strategy genome: a strategy as data, validated by pydantic. This model *is* the JSON contract.

A genome enters a long position when its ``entry`` rule holds at a bar's close and leaves when its
``exit`` rule holds or a stop is hit; orders fill at the next bar's open (DESIGN.md, "Backtest
semantics"). Long-only spot: there is no short side in the grammar.

The grammar (every key below is the exact JSON key)::

    genome    := {"name": NAME, "symbol": S | null, "timeframe": TF | null,
                  "entry": rule, "exit": rule | null,
                  "stop_loss": F | null, "take_profit": F | null, "trailing_stop": F | null,
                  "size": F}
    rule      := {"all": [rule, ...]} | {"any": [rule, ...]} | condition
    condition := {">": [term, term]} | {"<": [term, term]}
               | {"crosses_above": [term, term]} | {"crosses_below": [term, term]}
    term      := NUMBER                                          a constant ({"const": N} also works)
               | {"price": "open"|"high"|"low"|"close"|"volume", "lag": N?}
               | {"ind": NAME, PARAM: VALUE, ..., "output": OUT?, "lag": N?}    see indicators.py
               | {"feature": NAME, PARAM: VALUE, ..., "output": OUT?, "lag": N?} see features.py

- ``a > b`` holds at bar t when a[t] > b[t]; ``a crosses_above b`` when a[t] > b[t] and
  a[t-1] <= b[t-1] (all four defined). Anything NaN (warm-up) is false.
- ``lag`` (0..500, default 0) delays a term: ``{"price": "high", "lag": 1}`` is the previous bar's high.
- ``stop_loss`` (0 < F < 1): exit when the price falls this fraction below the entry price.
  ``take_profit`` (0 < F <= 10): exit when it rises this fraction above it. ``trailing_stop``
  (0 < F < 1): exit when it falls this fraction below the highest price since entry. ``size``
  (0 < F <= 1, default 1): the fraction of equity a position uses.
- ``exit`` may be null only when some stop or take-profit can close the position.
- ``symbol``/``timeframe`` are null in built-ins and filled in when a strategy is used (``bind``).

An invalid genome raises :class:`~mastertrade.errors.InvalidGenome` whose one-line message starts with
the JSON path of the bad field: ``entry.all[1].crosses_above[0].length: must be >= 2 (got 1)``.
"""

from __future__ import annotations

import json
import math
import re
from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from mastertrade.engine.signals.features import feature_spec
from mastertrade.engine.signals.indicators import indicator_spec
from mastertrade.engine.signals.specs import (
    ParamError,
    Params,
    SeriesSpec,
    number,
    show,
    validate_output,
    validate_params,
)
from mastertrade.errors import InvalidGenome, UserInputError

MAX_LAG = 500
MAX_DEPTH = 4
"""Nesting levels of all/any groups in one rule."""
MAX_CONDITIONS = 24
"""Conditions in one rule: enough for any sensible strategy, and it bounds evaluation cost."""
MAX_CONSTANT = 1e12
PRICE_FIELDS = ("open", "high", "low", "close", "volume")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9/:._\-]{0,39}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG = "§"  # marks pydantic's union tags in error locations, which are not part of the JSON path
_MODEL = ConfigDict(
    frozen=True,
    extra="forbid",
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
)


def _fail(message: str, field: str = "") -> PydanticCustomError:
    """An error for the JSON path of the current value, plus ``field`` below it when given."""
    return PydanticCustomError("genome", "{message}", {"message": message, "field": field})


def _float(value: Any) -> float:
    try:
        return float(number(value, integer=False))
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _int(value: Any) -> int:
    try:
        return int(number(value, integer=True))
    except ValueError as exc:
        raise _fail(str(exc)) from None


Lag = Annotated[int, BeforeValidator(_int), Field(ge=0, le=MAX_LAG)]


# --- terms ------------------------------------------------------------------------------------------


class ConstTerm(BaseModel):
    """A constant; written as a bare JSON number (``30``), or ``{"const": 30}``."""

    model_config = _MODEL
    const: Annotated[float, BeforeValidator(_float), Field(ge=-MAX_CONSTANT, le=MAX_CONSTANT)]

    @model_validator(mode="before")
    @classmethod
    def _bare_number(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"const": data}
        return data

    @model_serializer
    def _as_number(self) -> float:
        return self.const

    @property
    def key(self) -> tuple[Any, ...]:
        return ("const", self.const)


class PriceTerm(BaseModel):
    """A candle field, optionally ``lag`` bars ago: ``{"price": "close"}``."""

    model_config = _MODEL
    price: Literal["open", "high", "low", "close", "volume"]
    lag: Lag = 0

    @model_serializer
    def _as_json(self) -> dict[str, Any]:
        return {"price": self.price, "lag": self.lag} if self.lag else {"price": self.price}

    @property
    def key(self) -> tuple[Any, ...]:
        """Identifies the term's values (the evaluator caches them under it)."""
        return ("price", self.price, self.lag)


_TERMS: dict[Hashable, dict[str, Any]] = {}
"""Validated term documents by their input (see ``_SpecTerm._from_flat``); cleared when it holds
``_TERMS_KEPT``."""
_TERMS_KEPT = 50_000


class _SpecTerm(BaseModel):
    """A term named in a registry (indicators, features), written flat:
    ``{"ind": "macd", "fast": 12, "slow": 26, "signal": 9, "output": "hist", "lag": 1}``."""

    model_config = _MODEL
    KIND: ClassVar[str]
    params: Params
    output: str | None = None
    lag: Lag = 0

    @classmethod
    @abstractmethod
    def lookup(cls, name: str) -> SeriesSpec:
        """The registry entry of the series called ``name``."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The series' name (the value of the term's kind key)."""

    @property
    def spec(self) -> SeriesSpec:
        return self.lookup(self.name)

    @property
    def key(self) -> tuple[Any, ...]:
        """Identifies the term's values (the evaluator caches them under it)."""
        return (self.KIND, self.name, self.params, self.output, self.lag)

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        return cls._flat(data)

    @classmethod
    def _flat(cls, data: Any) -> dict[str, Any]:
        """The values validation starts from (``mode="before"``): the kind's name, the parameters
        (``validate_params``), the output and the lag as written."""
        if not isinstance(data, Mapping):
            raise _fail(f"must be an object (got {show(data)})")
        # The generator validates the same few hundred terms thousands of times: a term's validated form
        # depends only on its items (types included: 1, 1.0 and True differ) and the registry's entry.
        spec_now = cls._registered(data.get(cls.KIND))
        try:
            key = (cls, id(spec_now), tuple((k, type(v), v) for k, v in data.items()))
            known = _TERMS.get(key)
        except TypeError:  # an unhashable value: validated below, and refused there
            key, known = None, None
        if known is not None:
            return dict(known)
        found = cls._validated_flat(data)
        if key is not None:
            if len(_TERMS) >= _TERMS_KEPT:
                _TERMS.clear()
            _TERMS[key] = found
        return dict(found)

    @classmethod
    def _registered(cls, name: Any) -> SeriesSpec | None:
        try:
            return cls.lookup(name) if isinstance(name, str) else None
        except ParamError:
            return None

    @classmethod
    def _validated_flat(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        raw = dict(data)
        name = raw.pop(cls.KIND)
        if not isinstance(name, str):
            raise _fail(f"must be a string (got {show(name)})", cls.KIND)
        output = raw.pop("output", None)
        lag = raw.pop("lag", 0)
        try:
            spec = cls.lookup(name)
        except ParamError as exc:
            raise _fail(exc.message, cls.KIND) from None
        try:
            params = validate_params(spec, raw)
            output = validate_output(spec, output)
        except ParamError as exc:
            raise _fail(exc.message, exc.field or "") from None
        return {cls.KIND: name, "params": params, "output": output, "lag": lag}

    @model_serializer
    def _as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {self.KIND: self.name, **dict(self.params)}
        if self.output is not None:
            result["output"] = self.output
        if self.lag:
            result["lag"] = self.lag
        return result


class IndicatorTerm(_SpecTerm):
    """An indicator output from the catalogue in :mod:`~mastertrade.engine.signals.indicators`."""

    KIND: ClassVar[str] = "ind"
    ind: str

    @classmethod
    def lookup(cls, name: str) -> SeriesSpec:
        return indicator_spec(name)

    @property
    def name(self) -> str:
        return self.ind


class FeatureTerm(_SpecTerm):
    """An alternative-data series registered in :mod:`~mastertrade.engine.signals.features`."""

    KIND: ClassVar[str] = "feature"
    feature: str

    @classmethod
    def lookup(cls, name: str) -> SeriesSpec:
        return feature_spec(name)

    @property
    def name(self) -> str:
        return self.feature


_TERM_KEYS = {"ind": IndicatorTerm, "feature": FeatureTerm, "price": PriceTerm, "const": ConstTerm}
_TERM_TAGS = {cls: _TAG + key for key, cls in _TERM_KEYS.items()}


def _term_tag(value: Any) -> str | None:
    if type(value) is dict:  # the common case first (JSON documents)
        return next((_TAG + key for key in _TERM_KEYS if key in value), None)
    if isinstance(value, BaseModel):
        return _TERM_TAGS.get(type(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _TAG + "const"
    if isinstance(value, Mapping):
        return next((_TAG + key for key in _TERM_KEYS if key in value), None)
    return None


Term = Annotated[
    Annotated[IndicatorTerm, Tag(_TAG + "ind")]
    | Annotated[FeatureTerm, Tag(_TAG + "feature")]
    | Annotated[PriceTerm, Tag(_TAG + "price")]
    | Annotated[ConstTerm, Tag(_TAG + "const")],
    Discriminator(
        _term_tag,
        custom_error_type="genome_term",
        custom_error_message='expected a term: a number, {"price": ...}, {"ind": ...} or {"feature": ...}',
    ),
]


# --- conditions and rules ---------------------------------------------------------------------------


class _Condition(BaseModel):
    """A condition between two terms; subclasses name the operator (the JSON key)."""

    model_config = _MODEL
    OP: ClassVar[str]
    WORDS: ClassVar[str]
    operands: tuple[Term, Term]

    @property
    def left(self) -> Term:
        return self.operands[0]

    @property
    def right(self) -> Term:
        return self.operands[1]

    @model_validator(mode="after")
    def _meaningful(self) -> _Condition:
        problem = _pointless(*self.operands)
        if problem is not None:
            raise _fail(problem)
        return self


def _pointless(left: Term, right: Term) -> str | None:
    """Why a condition between these two terms means nothing (``None``: it means something)."""
    if isinstance(left, ConstTerm) and isinstance(right, ConstTerm):
        return "compares two constants; one side must be a price, indicator or feature"
    if left.key == right.key:
        return "compares a term with itself"
    return None


class Greater(_Condition):
    OP: ClassVar[str] = ">"
    WORDS: ClassVar[str] = ">"
    operands: tuple[Term, Term] = Field(alias=">")


class Less(_Condition):
    OP: ClassVar[str] = "<"
    WORDS: ClassVar[str] = "<"
    operands: tuple[Term, Term] = Field(alias="<")


class CrossesAbove(_Condition):
    OP: ClassVar[str] = "crosses_above"
    WORDS: ClassVar[str] = "crosses above"
    operands: tuple[Term, Term] = Field(alias="crosses_above")


class CrossesBelow(_Condition):
    OP: ClassVar[str] = "crosses_below"
    WORDS: ClassVar[str] = "crosses below"
    operands: tuple[Term, Term] = Field(alias="crosses_below")


Condition = Greater | Less | CrossesAbove | CrossesBelow
CONDITIONS: dict[str, type[Greater | Less | CrossesAbove | CrossesBelow]] = {
    cls.OP: cls for cls in (Greater, Less, CrossesAbove, CrossesBelow)
}


class AllOf(BaseModel):
    """Holds when every child holds: ``{"all": [rule, ...]}``."""

    model_config = _MODEL
    WORD: ClassVar[str] = "and"
    all: tuple[Rule, ...] = Field(min_length=1, max_length=MAX_CONDITIONS)

    @property
    def children(self) -> tuple[Rule, ...]:
        return self.all


class AnyOf(BaseModel):
    """Holds when at least one child holds: ``{"any": [rule, ...]}``."""

    model_config = _MODEL
    WORD: ClassVar[str] = "or"
    any: tuple[Rule, ...] = Field(min_length=1, max_length=MAX_CONDITIONS)

    @property
    def children(self) -> tuple[Rule, ...]:
        return self.any


Group = AllOf | AnyOf
_RULE_KEYS: dict[str, type[BaseModel]] = {"all": AllOf, "any": AnyOf, **CONDITIONS}
_RULE_TAGS = {cls: _TAG + key for key, cls in _RULE_KEYS.items()}


def _rule_tag(value: Any) -> str | None:
    if type(value) is dict:  # the common case first (JSON documents)
        return next((_TAG + key for key in _RULE_KEYS if key in value), None)
    if isinstance(value, BaseModel):
        return _RULE_TAGS.get(type(value))
    if isinstance(value, Mapping):
        return next((_TAG + key for key in _RULE_KEYS if key in value), None)
    return None


Rule = Annotated[
    Annotated[AllOf, Tag(_TAG + "all")]
    | Annotated[AnyOf, Tag(_TAG + "any")]
    | Annotated[Greater, Tag(_TAG + ">")]
    | Annotated[Less, Tag(_TAG + "<")]
    | Annotated[CrossesAbove, Tag(_TAG + "crosses_above")]
    | Annotated[CrossesBelow, Tag(_TAG + "crosses_below")],
    Discriminator(
        _rule_tag,
        custom_error_type="genome_rule",
        custom_error_message=(
            'expected a rule: {"all": [...]}, {"any": [...]}, or a condition with one of the keys '
            ">, <, crosses_above, crosses_below"
        ),
    ),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


# --- the genome -------------------------------------------------------------------------------------


class Genome(BaseModel):
    """A whole strategy. Build one from JSON with :func:`parse_genome` (which raises ``InvalidGenome``
    with a JSON path), not with the constructor."""

    model_config = _MODEL
    name: str
    symbol: str | None = None
    timeframe: str | None = None
    entry: Rule
    exit: Rule | None = None
    stop_loss: Annotated[float, BeforeValidator(_float), Field(gt=0, lt=1)] | None = None
    take_profit: Annotated[float, BeforeValidator(_float), Field(gt=0, le=10)] | None = None
    trailing_stop: Annotated[float, BeforeValidator(_float), Field(gt=0, lt=1)] | None = None
    size: Annotated[float, BeforeValidator(_float), Field(gt=0, le=1)] = 1.0

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: Any) -> Any:
        if not valid_name(value):
            raise _fail(
                "must be 1-80 letters, digits, '_', '-' or '.', starting with a letter or digit "
                f"(got {show(value)})"
            )
        return value

    @field_validator("symbol", mode="before")
    @classmethod
    def _check_symbol(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or not _SYMBOL.fullmatch(value)):
            raise _fail(f"must be a market symbol like BTC/USDT (got {show(value)})")
        return value

    @field_validator("timeframe", mode="before")
    @classmethod
    def _check_timeframe(cls, value: Any) -> Any:
        if value is None:
            return value
        from mastertrade.engine.market.timeframes import timeframe_ms

        try:
            if not isinstance(value, str):
                raise UserInputError("")
            timeframe_ms(value)
        except UserInputError:
            raise _fail(f"must be a timeframe like 1m, 15m, 1h, 1d (got {show(value)})") from None
        return value

    @model_validator(mode="after")
    def _check_whole(self) -> Genome:
        problem = self._whole_problem(self.entry, self.exit)
        if problem is not None:
            raise _fail(*problem)
        return self

    def _whole_problem(
        self, entry: Rule, exit: Rule | None, shapes: Shapes | None = None
    ) -> tuple[str, str] | None:
        """(message, field) of what makes this genome, with these rules, invalid as a whole (``None``:
        nothing); ``shapes`` are the rules' depths and condition counts when the caller knows them."""
        for index, (field, rule) in enumerate((("entry", entry), ("exit", exit))):
            if rule is None:
                continue
            known = None if shapes is None else shapes[index]
            rule_depth, count = known or (depth(rule), sum(1 for _ in conditions(rule)))
            if rule_depth > MAX_DEPTH:
                return f"all/any groups nest deeper than {MAX_DEPTH} levels", field
            if count > MAX_CONDITIONS:
                return f"has {count} conditions; at most {MAX_CONDITIONS} are allowed", field
        if exit is None and self.stop_loss is None and self.take_profit is None and not self.trailing_stop:
            return "required when there is no stop_loss, take_profit or trailing_stop", "exit"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (a plain dict) that :func:`parse_genome` reads back into an equal genome."""
        return self.model_dump(mode="json")

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def bind(self, symbol: str | None = None, timeframe: str | None = None) -> Genome:
        """This genome with its symbol and/or timeframe set (validated); ``None`` keeps the current one."""
        data = self.to_dict()
        if symbol is not None:
            data["symbol"] = symbol
        if timeframe is not None:
            data["timeframe"] = timeframe
        return parse_genome(data)


# --- reading and walking genomes --------------------------------------------------------------------


def parse_genome(data: Any, *, source: str | None = None) -> Genome:
    """Validate a decoded JSON value into a :class:`Genome`.

    Raises ``InvalidGenome`` with one line: ``[source: ]json.path: reason``.
    """
    if isinstance(data, Genome):
        return data
    try:
        return Genome.model_validate(data)
    except ValidationError as exc:
        message = _first_error(exc)
        raise InvalidGenome(f"{source}: {message}" if source else message) from None


def parse_rule(data: Any) -> Rule:
    """Validate one rule (a condition, or a group whose children may already be validated rules, taken
    as they are) exactly as :func:`parse_genome` validates it inside a genome; ``InvalidGenome`` when the
    model refuses it (the message's path starts at the rule). The generator validates each distinct
    condition once this way and builds its genomes from them."""
    try:
        return _rule_adapter().validate_python(data)
    except ValidationError as exc:
        raise InvalidGenome(_first_error(exc)) from None


@cache
def _rule_adapter() -> TypeAdapter[Rule]:
    return TypeAdapter(Rule)


def parse_term(data: Any) -> Term:
    """Validate one term exactly as a condition validates its operands; ``InvalidGenome`` when the model
    refuses it (the message's path starts at the term)."""
    try:
        return _term_adapter().validate_python(data)
    except ValidationError as exc:
        raise InvalidGenome(_first_error(exc)) from None


@cache
def _term_adapter() -> TypeAdapter[Term]:
    return TypeAdapter(Term)


def term_and_document(data: Any) -> tuple[Term, Any]:
    """``parse_term(data)`` and its ``model_dump(mode="json")``; ``InvalidGenome`` as ``parse_term``
    raises it. An indicator or feature term written as a dict is built from the values its ``mode="before"``
    validator gives (remembered, see ``_SpecTerm._from_flat``) when validating them again provably gives
    them back, as they are: the kind's name a string, the parameters (``validate_params``: spec order)
    names with ints, finite floats or strings, the output a string or null, the lag an int within
    bounds; its JSON is then the serializer's own dict, whose values are their own JSON. The generator
    validates several hundred new terms a search, and pydantic's union, field and dump passes cost four
    times what this does. Anything else goes through ``parse_term``."""
    cls: type[IndicatorTerm] | type[FeatureTerm] | None = None
    if type(data) is dict:
        # the union's discriminator (_term_tag): the first of its keys the document holds
        tag = next((key for key in _TERM_KEYS if key in data), None)
        cls = IndicatorTerm if tag == "ind" else FeatureTerm if tag == "feature" else None
    if cls is not None:
        try:
            flat: dict[str, Any] | None = cls._flat(data)
        except PydanticCustomError:
            flat = None  # refused: parse_term says why
        if flat is not None and _plain_flat(flat, cls.KIND):
            values = {field: flat[field] for field in cls.model_fields}
            built: IndicatorTerm | FeatureTerm = _assembled(cls, values, set(values))
            return built, built._as_json()
    model = parse_term(data)
    return model, model.model_dump(mode="json")


def _plain_flat(flat: dict[str, Any], kind: str) -> bool:
    """Whether validating a term's flat values (``_SpecTerm._validated_flat``) again gives them back."""
    name, params, output, lag = flat[kind], flat["params"], flat["output"], flat["lag"]
    if type(name) is not str or (output is not None and type(output) is not str):
        return False
    if type(lag) is not int or not 0 <= lag <= MAX_LAG or type(params) is not tuple:
        return False
    for item in params:
        if type(item) is not tuple or len(item) != 2 or type(item[0]) is not str:
            return False
        value = item[1]
        kind_of = type(value)
        if not (kind_of is int or kind_of is str or (kind_of is float and math.isfinite(value))):
            return False
    return True


# --- assembling validated parts ---------------------------------------------------------------------
# The generator builds thousands of genomes a second from a few thousand distinct, already validated
# terms and rules. Validating a whole genome again walks every part (pydantic takes a validated model as
# it is, but still discriminates each one); these build the same models from validated parts with only
# the checks that concern the new whole, and give models equal, field for field and in their JSON (and
# in which fields count as set), to what validation gives (tests/signals/test_genome_assembly.py).


def valid_name(value: Any) -> bool:
    """Whether ``value`` is a genome name the model accepts."""
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def condition_of(op: str, left: Term, right: Term) -> Condition:
    """``parse_rule({op: [left, right]})`` for validated terms; ``InvalidGenome`` as it would raise."""
    kind = CONDITIONS.get(op)
    if kind is None:
        raise InvalidGenome(f"unknown condition operator {op!r}")
    problem = _pointless(left, right)
    if problem is not None:
        raise InvalidGenome(f"{json_path((op,))}: {problem}")
    return _assembled(kind, {"operands": (left, right)}, {"operands"})


def group_of(key: Literal["all", "any"], children: tuple[Rule, ...]) -> Group:
    """``parse_rule({key: children})`` for validated rules; ``InvalidGenome`` as it would raise."""
    if not 1 <= len(children) <= MAX_CONDITIONS:
        raise InvalidGenome(f"{key}: must have 1 to {MAX_CONDITIONS} items (got {len(children)})")
    if key == "all":
        return _assembled(AllOf, {"all": children}, {"all"})
    return _assembled(AnyOf, {"any": children}, {"any"})


Shapes = tuple[tuple[int, int] | None, tuple[int, int] | None]
"""The (depth, condition count) of a genome's entry and exit rules (``None``: not known, or no rule)."""


def with_rules(
    shell: Genome, *, name: str, entry: Rule, exit: Rule | None, shapes: Shapes | None = None
) -> Genome:
    """``shell`` (a validated genome) with another name and validated rules: what validating its
    document with those would give (the name and rules in the fields set), or ``InvalidGenome``.
    ``shapes``: the rules' depths and condition counts, when the caller counted them already."""
    if not valid_name(name):
        raise InvalidGenome(f"name: not a valid name (got {show(name)})")
    problem = shell._whole_problem(entry, exit, shapes)
    if problem is not None:
        raise InvalidGenome(f"{_join('', problem[1])}: {problem[0]}")
    return with_checked_rules(shell, name=name, entry=entry, exit=exit)


def with_checked_rules(shell: Genome, *, name: str, entry: Rule, exit: Rule | None) -> Genome:
    """:func:`with_rules` for a ``name`` the caller knows :func:`valid_name` accepts and rules it found
    ``shell._whole_problem`` has nothing against: the generator names its genomes with a prefix and hex
    digits, and checks a child before it decides whether to make it."""
    values = {**shell.__dict__, "name": name, "entry": entry, "exit": exit}
    fields_set = shell.__pydantic_fields_set__ | _NAMED
    if exit is not None:
        fields_set.add("exit")
    return _assembled(Genome, values, fields_set)


_NAMED = frozenset({"name", "entry"})


def _assembled[M: BaseModel](cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """``cls.model_construct(fields_set, **values)`` for ``values`` of every field, in the fields' order,
    without its per-field loop (which costs as much as the rest of assembling a condition): what it sets,
    set directly (these models have no extra fields, private attributes or post-init hook)."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    _SET_FIELDS_SET(model, fields_set)
    _SET_EXTRA(model, None)
    _SET_PRIVATE(model, None)
    return model


def _slot_setter(name: str) -> Callable[[BaseModel, Any], None]:
    """What ``object.__setattr__(model, name, value)`` does for one of pydantic's slots: its descriptor's
    ``__set__``, found once (a third of the cost of looking it up for every model)."""
    descriptor = BaseModel.__dict__.get(name)
    setter = getattr(descriptor, "__set__", None)
    if setter is None:  # (not a slot in this pydantic: set it as an attribute)
        return lambda model, value: object.__setattr__(model, name, value)
    return setter  # type: ignore[no-any-return]


_SET_FIELDS_SET = _slot_setter("__pydantic_fields_set__")
_SET_EXTRA = _slot_setter("__pydantic_extra__")
_SET_PRIVATE = _slot_setter("__pydantic_private__")


MAX_GENOME_BYTES = 1_000_000
"""A genome is a few kilobytes; a file this big is something else (and would take long to parse)."""
MAX_JSON_NESTING = 64
"""JSON nesting a genome can need (rules nest at most MAX_DEPTH groups deep); deeper is refused before
decoding, which would otherwise exhaust the interpreter's recursion limit."""


def _nesting(text: str) -> int:
    """The deepest bracket nesting of a JSON text, outside strings."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class _RepeatedKey(ValueError):
    """A JSON object of a genome gives one key twice (``args``: the key and both values)."""


def _unrepeated(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook``: an object's pairs as a dict, refusing a key given twice.
    Plain ``json.loads`` keeps the last value and drops the first without a word: a file edited by hand
    with a second ``"exit"`` or ``"stop_loss"`` would run on one of them, not on both."""
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise _RepeatedKey(key, seen[key], value)
            seen[key] = value
    return data


def _decode(text: str, where: str) -> Any:
    """The JSON value of ``text``; invalid JSON or a key given twice raises ``InvalidGenome``. A leading
    byte order mark (Windows editors write one) is not part of the JSON text (RFC 8259 lets a parser
    ignore it); ``json.loads`` refused the file for it ("decode using utf-8-sig")."""
    try:
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_unrepeated)
    except json.JSONDecodeError as exc:
        raise InvalidGenome(
            f"{where}invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except _RepeatedKey as exc:
        key, first, second = exc.args
        raise InvalidGenome(
            f"{where}{key!r} is given twice in one object: keep one of {show(first)} and {show(second)}"
        ) from None


def parse_genome_json(text: str | bytes, *, source: str | None = None) -> Genome:
    where = f"{source}: " if source else ""
    return _one_spelling(parse_genome(genome_document(text, source=source), source=source), where)


def genome_document(text: str | bytes, *, source: str | None = None) -> Any:
    """The decoded JSON value of a genome document from a user, before it is validated: refused
    (``InvalidGenome``, ``source`` named) when too large, not UTF-8, nested too deep or not JSON."""
    where = f"{source}: " if source else ""
    if len(text) > MAX_GENOME_BYTES:
        raise InvalidGenome(
            f"{where}{len(text):,} bytes: too large for a genome (at most {MAX_GENOME_BYTES:,})"
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidGenome(f"{where}not UTF-8 text (byte {exc.start})") from None
    if _nesting(text) > MAX_JSON_NESTING:
        raise InvalidGenome(f"{where}JSON nested deeper than {MAX_JSON_NESTING} levels: not a genome")
    return _decode(text, where)


SELECTION_KEY = "selection"
"""The key of a genome file's record of what chose it (``mt optimize --out`` writes one: the tuning's
series, search window and trial count, read by ``engine/generator/tuned_file.py``). It describes the
file's genome and is not part of it: :func:`load_genome_file` leaves it out of the genome."""


def _one_spelling(genome: Genome, where: str) -> Genome:
    """A genome document from a user (a file, a ``--batch`` line) with its timeframe spelled its one way:
    ``"60m"`` is refused, naming ``1h``, since strategies and their trials are stored under the text and
    ``60m`` would read no ``1h`` candles. A stored strategy's genome is read as stored, whatever spelling
    it has from before."""
    if genome.timeframe is not None:
        from mastertrade.engine.market.timeframes import canonical_timeframe

        canonical = canonical_timeframe(genome.timeframe)
        if canonical != genome.timeframe:
            raise InvalidGenome(f"{where}timeframe: write it as {canonical} (got {show(genome.timeframe)})")
    return genome


def load_genome_file(path: str | Path) -> Genome:
    """Read a genome JSON file; a missing, unreadable or invalid file raises a ``UserInputError``. A file
    that gives no ``name`` is named after itself (``rsi-dip.json``: ``rsi-dip``) when that makes a valid
    name; a name it gives is checked as always. A top-level ``"selection"`` (:data:`SELECTION_KEY`: what
    chose the genome, written by ``mt optimize --out``) is not part of the genome and is left out."""
    file = Path(path)
    data = genome_document(read_genome_text(file), source=str(file))
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key != SELECTION_KEY}
        if "name" not in data and valid_name(file.stem):
            data = {"name": file.stem, **data}
    return _one_spelling(parse_genome(data, source=str(file)), f"{file}: ")


def read_genome_text(file: Path) -> str:
    """The text of a genome file; ``UserInputError`` naming it when it is missing, unreadable or empty
    (an empty file, or one of blanks only, was "invalid JSON at line 1 column 1", which sent the trader
    looking for a typo in a file with nothing in it)."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"genome file {str(file)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read genome file {str(file)!r}: {exc}") from None
    if not text.removeprefix("\ufeff").strip():
        raise UserInputError(
            f"genome file {str(file)!r} is empty: a genome is a JSON object"
            " (`mt strategy show sma_cross --json > FILE` writes one to start from)"
        )
    return text


def rules(genome: Genome) -> Iterator[Rule]:
    """The entry rule, then the exit rule when there is one."""
    yield genome.entry
    if genome.exit is not None:
        yield genome.exit


def conditions(rule: Rule) -> Iterator[Condition]:
    """Every condition of a rule, depth first, in order."""
    if isinstance(rule, AllOf | AnyOf):
        for child in rule.children:
            yield from conditions(child)
    else:
        yield rule


def terms(genome: Genome) -> Iterator[Term]:
    """Every term of a genome's rules, in order (repeats included)."""
    for rule in rules(genome):
        for condition in conditions(rule):
            yield from condition.operands


def depth(rule: Rule) -> int:
    """Levels of all/any groups above the deepest condition (a bare condition has depth 0)."""
    if isinstance(rule, AllOf | AnyOf):
        return 1 + max(depth(child) for child in rule.children)
    return 0


def warmup_bars(genome: Genome) -> int:
    """The number of leading bars on which the genome cannot signal yet: its longest indicator
    warm-up plus lag, plus one bar for a crossing (which also needs the previous bar)."""
    longest = 0
    for rule in rules(genome):
        for condition in conditions(rule):
            extra = 1 if isinstance(condition, CrossesAbove | CrossesBelow) else 0
            for term in condition.operands:
                longest = max(longest, _term_warmup(term) + extra)
    return longest


def _term_warmup(term: Term) -> int:
    if isinstance(term, ConstTerm):
        return 0
    if isinstance(term, PriceTerm):
        return term.lag
    return term.spec.warmup(dict(term.params)) + term.lag


# --- error messages ---------------------------------------------------------------------------------


def json_path(loc: tuple[int | str, ...]) -> str:
    """``("entry", "all", 1, ">", 0)`` -> ``entry.all[1][">"][0]`` (union tags left out)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(_TAG):
            continue
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part)}]"
    return path


def _join(path: str, field: str) -> str:
    if not field:
        return path
    if not path or field.startswith("["):
        return path + field
    return f"{path}.{field}"


def _bound(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    ctx = error.get("ctx") or {}
    path = json_path(tuple(error["loc"]))
    got = show(error.get("input"))
    if kind == "genome":
        path = _join(path, ctx.get("field", ""))
        message = ctx["message"]
    elif kind in ("genome_term", "genome_rule"):
        message = f"{error['msg']} (got {got})"
    elif kind == "missing":
        message = "required"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind in _COMPARISONS:
        symbol, key = _COMPARISONS[kind]
        message = f"must be {symbol} {_bound(ctx[key])} (got {got})"
    elif kind == "too_short":
        message = f"must have at least {ctx['min_length']} item(s)"
    elif kind == "too_long":
        message = f"must have at most {ctx['max_length']} items (got {ctx['actual_length']})"
    elif kind == "literal_error":
        message = f"must be one of {ctx['expected']} (got {got})"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        message = f"must be an object (got {got})"
    elif kind in ("tuple_type", "list_type"):
        message = f"must be a list (got {got})"
    elif kind == "string_type":
        message = f"must be a string (got {got})"
    else:
        message = f"{error['msg'][:1].lower()}{error['msg'][1:]} (got {got})"
    return f"{path or 'genome'}: {message}"


_COMPARISONS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def required_features(genome: Genome) -> list[tuple[str, Params]]:
    """The distinct (feature name, parameters) a genome's rules use, in first-use order."""
    seen: dict[tuple[str, Params], None] = {}
    for term in terms(genome):
        if isinstance(term, FeatureTerm):
            seen.setdefault((term.feature, term.params), None)
    return list(seen)


def forget() -> None:
    """Empty the memo of validated terms (``_TERMS``): between two series of a long run (the generator's
    ``release``). Always sound: it only spares validation, and refills as terms are validated."""
    _TERMS.clear()
