"""The typed segment tree and its strict parser.

A segment file is loaded with ``yaml.safe_load`` (``cli.yamlfile``) and then
turned, before anything runs, into a tree of frozen dataclasses: ``AllOf``,
``AnyOf``, ``NotOf`` (the boolean structure, like dbt's union/intersection/
difference selectors), and the leaves ``FieldCondition``, ``EventCondition``,
``GroupCondition``, ``SegmentReference``, ``TagCondition`` and
``StageChange``. Every node keeps its key path so that errors and ``explain``
can name the file and line it came from.

The parser checks everything it can without a database: field names against
``cli.fields.known_fields`` (with a rapidfuzz suggestion), operators against
the field's type, operand types, select options, event types, lifecycle
stages. It collects every problem of a file and reports them together.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from cli.fields import known_fields
from cli.normalise import normalise_email, normalise_phone
from cli.scoring.rfm import RFM_SEGMENTS
from cli.segmenting.dates import RelativeDate, Span, parse_date_value, parse_span
from cli.settings import Settings
from cli.yamlfile import KeyPath, YamlDocument, suggest

PURPOSES = ("email", "postal", "phone", "analysis")
FORMATS = ("csv", "xlsx", "json", "parquet")
PRESETS = ("mailchimp", "brevo", "mailjet")
LIFECYCLE_STAGES = ("visitor", "prospect", "new_customer", "active_customer", "inactive_customer", "lost")
SEGMENT_KEYS = ("name", "description", "purpose", "include_inactive", "where", "export")
EXPORT_KEYS = ("columns", "format", "preset")
EVENT_KEYS = ("type", "within", "since", "until", "campaign", "channel", "payment_method", "count", "sum")
STAGE_KEYS = ("to", "from", "within")
# Words a user may put in `event` for its amount, which `sum` compares (`amount` is closest to `count`).
EVENT_AMOUNT_WORDS = ("amount", "montant", "total", "value", "bedrag", "betrag")
# Letters of any alphabet (a file named dons-été.yaml), digits, `_`, `.` and `-`; no spaces or slashes,
# since the name becomes a file name under --out-dir. `\w` is Unicode-aware and `[^\W_]` is a letter or digit.
SEGMENT_NAME = re.compile(r"^[^\W_][\w.-]*$")

# Built-in fields whose values come from a closed list (checked like select options).
ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "status": ("active", "suppressed", "merged", "erased"),
    "gender": ("F", "M", "X"),
    "kind": ("person", "organisation"),
    "consent_basis": ("consent", "membership", "contract", "legitimate_interest"),
    "lead_stage": ("none", "evaluation", "decision"),
    "lifecycle_stage": LIFECYCLE_STAGES,
    "rfm_segment": RFM_SEGMENTS,
}

_COMMON = ("eq", "ne", "in", "not_in", "is_null")
_ORDER = ("gt", "gte", "lt", "lte", "between")
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": _COMMON + _ORDER + ("contains", "contains_any", "contains_all", "starts_with", "ends_with", "matches"),
    "number": _COMMON + _ORDER,
    "date": _COMMON + _ORDER + ("before", "after", "within", "older_than", "birthday_within"),
    "timestamp": _COMMON + _ORDER + ("before", "after", "within", "older_than"),
    "boolean": ("eq", "ne", "is_null"),
    "list": ("contains", "contains_any", "contains_all", "is_null"),
}
ALL_OPERATORS = sorted({op for ops in OPERATORS_BY_KIND.values() for op in ops})
COUNT_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in")
CONDITION_KEYWORDS = ("all", "any", "not", "event", "in_group", "in_segment", "tag", "stage_change")


@dataclass(frozen=True)
class Operation:
    """``op: operand`` with the operand already typed (dates parsed, spans parsed)."""

    op: str
    operand: Any
    path: KeyPath


@dataclass(frozen=True)
class Node:
    path: KeyPath


@dataclass(frozen=True)
class AllOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class NotOf(Node):
    item: Node


@dataclass(frozen=True)
class FieldCondition(Node):
    field: str
    kind: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class EventCondition(Node):
    types: tuple[str, ...] = ()
    within: Span | None = None
    since: date | RelativeDate | None = None
    until: date | RelativeDate | None = None
    campaign: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    payment_method: tuple[str, ...] = ()
    count: tuple[Operation, ...] = ()
    sum: tuple[Operation, ...] = ()


@dataclass(frozen=True)
class GroupCondition(Node):
    group: str


@dataclass(frozen=True)
class SegmentReference(Node):
    segment: str


@dataclass(frozen=True)
class TagCondition(Node):
    tag: str


@dataclass(frozen=True)
class StageChange(Node):
    to: str | None = None
    from_: str | None = None
    within: Span | None = None


@dataclass(frozen=True)
class ExportSpec:
    columns: tuple[str, ...] | None = None
    format: str | None = None
    preset: str | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """One validated segment definition."""

    name: str
    where: Node
    description: str | None = None
    purpose: str = "email"
    include_inactive: bool = False
    export: ExportSpec = field(default_factory=ExportSpec)
    source: Path | None = None
    definition: Any = None  # the raw YAML data, for hashing and `show`
    lines: dict = field(default_factory=dict, repr=False, compare=False)  # key path -> line

    def locate(self, path: KeyPath) -> str:
        """``file, line N`` of a key path of this segment, for messages."""
        label = str(self.source) if self.source else f"segment `{self.name}`"
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return f"{label}, line {self.lines[probe]}"
            probe = probe[:-1]
        return label


class Problems:
    """Collects the messages of one file, each prefixed with ``file, line N``."""

    def __init__(self, document: YamlDocument | None, label: str) -> None:
        self.document = document
        self.label = label
        self.messages: list[str] = []

    def where(self, path: KeyPath) -> str:
        if self.document is not None:
            return self.document.where(path)
        return self.label

    def add(self, path: KeyPath, message: str) -> None:
        self.messages.append(f"{self.where(path)}: {message}")


@lru_cache(maxsize=1)
def _regex_engine() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:")


def regex_problem(pattern: str) -> str | None:
    """Why DuckDB's regular-expression engine (RE2) refuses ``pattern``; None when it takes it.

    The pattern is checked by the engine that will run it: Python's ``re``
    accepts look-arounds and back-references that RE2 refuses at run time.

    >>> regex_problem("^(?=M)")
    'invalid perl operator: (?='
    """
    try:
        _regex_engine().execute("SELECT regexp_matches('', $pattern)", {"pattern": pattern}).fetchall()
    except duckdb.Error as e:
        return str(e).splitlines()[0].removeprefix("Invalid Input Error: ")
    return None


def hint(word: str, choices) -> str:
    """``: did you mean `x`?`` or an empty string."""
    best = suggest(str(word), list(choices))
    return f": did you mean `{best}`?" if best and best != word else ""


def _reversed(low: Any, high: Any) -> bool:
    """Whether a ``between``'s bounds are in the wrong order, when that does not depend on the as-of date."""
    if isinstance(low, RelativeDate) and isinstance(high, RelativeDate):
        today = date.today()
        return low.resolve(today) > high.resolve(today)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    dates = all(isinstance(v, date) for v in (low, high))
    return (numbers or dates) and low > high


def _show(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _name_of(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


class ConditionParser:
    """Turns the YAML of a condition into a typed ``Node`` tree."""

    def __init__(self, settings: Settings, problems: Problems) -> None:
        self.settings = settings
        self.problems = problems
        self.fields = known_fields(settings)
        self.options: dict[str, tuple[str, ...]] = dict(ENUM_FIELDS)
        for name, spec in settings.fields.items():
            if spec.options:
                self.options[name] = tuple(spec.options)

    def error(self, path: KeyPath, message: str) -> None:
        self.problems.add(path, message)

    # --- structure -----------------------------------------------------
    def parse(self, data: Any, path: KeyPath) -> Node:
        if not isinstance(data, dict) or len(data) != 1:
            if isinstance(data, dict) and not data:
                self.error(path, "an empty condition; write one key such as `all:`, `tag:` or a field name.")
            elif isinstance(data, dict):
                keys = ", ".join(f"`{k}`" for k in data)
                self.error(path, f"a condition has exactly one key, this one has {len(data)} ({keys}); "
                                 "wrap several conditions in `all:` or `any:`.")
            elif isinstance(data, list):
                self.error(path, "a list of conditions needs `all:` (every one holds) or `any:` (at least one "
                                 "holds) above it; `not:` takes one condition (`not: {any: [...]}` for several).")
            elif data is None:
                self.error(path, "the condition is empty; write one, e.g. `tag: newsletter` "
                                 "(`all: []` selects everyone).")
            else:
                self.error(path, f"a condition must be a mapping with one key, not {_name_of(data)}.")
            return AllOf(path, ())
        key, value = next(iter(data.items()))
        here = path + (key,)
        if key in ("all", "any"):
            if value is None:
                value = []
            if not isinstance(value, list):
                self.error(here, f"`{key}` takes a list of conditions.")
                return AllOf(here, ())
            items = tuple(self.parse(item, here + (i,)) for i, item in enumerate(value))
            return AllOf(here, items) if key == "all" else AnyOf(here, items)
        if key == "not":
            return NotOf(here, self.parse(value, here))
        if key == "event":
            return self.parse_event(value, here)
        if key in ("in_group", "in_segment", "tag"):
            value = value if isinstance(value, str) else self.written(here) or value
            if not isinstance(value, (str, int)) or isinstance(value, bool) or str(value).strip() == "":
                self.error(here, f"`{key}` takes a name.")
                value = ""
            value = str(value)
            if key == "in_group":
                return GroupCondition(here, value)
            if key == "in_segment":
                return SegmentReference(here, value)
            return TagCondition(here, value)
        if key == "stage_change":
            return self.parse_stage_change(value, here)
        if not isinstance(key, str) or key not in self.fields:
            choices = list(self.fields) + list(CONDITION_KEYWORDS)
            self.error(here, f"unknown field `{key}`{hint(str(key), choices)}")
            return AllOf(here, ())
        return self.parse_field(key, value, here)

    # --- fields ---------------------------------------------------------
    def parse_field(self, name: str, value: Any, path: KeyPath) -> Node:
        kind = self.fields[name]
        if not isinstance(value, dict):
            if isinstance(value, list):
                self.error(path, f"`{name}: [...]` is ambiguous; write `{name}: {{in: [...]}}` "
                                 "or, for a list field, `contains_any`/`contains_all`.")
                return AllOf(path, ())
            op = "contains" if kind == "list" else "eq"
            operand = self.operand(name, kind, op, value, path)
            return FieldCondition(path, name, kind, (Operation(op, operand, path),))
        if not value:
            self.error(path, f"`{name}` has no operator; write e.g. `{name}: {{is_null: false}}`.")
        operations = []
        allowed = OPERATORS_BY_KIND[kind]
        for op, operand in value.items():
            here = path + (op,)
            if op not in allowed:
                if op in ALL_OPERATORS:
                    self.error(here, f"operator `{op}` does not apply to `{name}` ({kind} field); "
                                     f"use one of {', '.join(allowed)}.")
                else:
                    self.error(here, f"unknown operator `{op}`"
                                     f"{hint(str(op), allowed) or ' (operators of a ' + kind + ' field: ' + ', '.join(allowed) + ')'}")
                continue
            operations.append(Operation(op, self.operand(name, kind, op, operand, here), here))
        return FieldCondition(path, name, kind, tuple(operations))

    def written(self, path: KeyPath) -> str | None:
        """The source text of an unquoted scalar that YAML did not read as text, else None."""
        document = self.problems.document
        return document.plain.get(tuple(path)) if document is not None else None

    def stored_form(self, name: str, text: str) -> str:
        """An email or phone as import stores it (``Marie@Free.FR`` -> ``marie@free.fr``,
        ``06 12 34 56 78`` -> ``+33612345678``), so that ``eq``/``in`` find it; other text unchanged."""
        custom = self.settings.fields.get(name)
        kind = custom.type if custom is not None else name
        if kind == "email":
            return normalise_email(text) or text
        if kind == "phone":
            return normalise_phone(text, self.settings.default_region) or text
        return text

    def check_option(self, name: str, value: Any, path: KeyPath) -> None:
        options = self.options.get(name)
        if options is not None and isinstance(value, str) and value not in options:
            self.error(path, f"`{value}` is not an option of `{name}`{hint(value, options)}"
                             f"{'' if hint(value, options) else ' (options: ' + ', '.join(options) + ')'}")

    def scalar(self, name: str, kind: str, value: Any, path: KeyPath, *, exact: bool = True) -> Any:
        """One comparison value, typed for the field's kind; None when invalid (reported).

        ``exact``: the value must equal a whole value of the field (``eq``, ``in``, a list
        element), so it is checked against the field's options; a substring, a prefix, a
        pattern or a bound (``contains``, ``starts_with``, ``matches``, ``gt``) is not.
        """
        if value is None:
            self.error(path, f"null is not a value to compare `{name}` with; use `is_null: true`.")
            return None
        if kind in ("text", "list"):
            written = self.written(path)
            if not isinstance(value, str) and written is not None:
                # What the user typed: postal code 01000 (YAML: octal 512), country NO (YAML: false).
                value = written
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.error(path, f"`{name}` is compared with text, not {_name_of(value)}.")
                return None
            # Stored text is NFC (import composes `e` + U+0301 into `é`); so is what is compared with it.
            text = unicodedata.normalize("NFC", value if isinstance(value, str) else str(value))
            if exact:
                self.check_option(name, text, path)
                text = self.stored_form(name, text)
            return text
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                if isinstance(value, str) and _number(value) is not None:
                    self.error(path, f"`{name}` is a number; write {value.strip()} without quotes "
                                     "(quoted, it is text).")
                else:
                    self.error(path, f"`{name}` is a number; {_name_of(value)} is not one.")
                return None
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                self.error(path, f"`{name}` is true or false, not {_name_of(value)}.")
                return None
            return value
        parsed = parse_date_value(value)  # date / timestamp
        if parsed is None:
            self.error(path, f"`{_name_of(value)}` is not a date; write YYYY-MM-DD or a relative date "
                             "such as `-6 months`.")
        return parsed

    def operand(self, name: str, kind: str, op: str, value: Any, path: KeyPath) -> Any:
        exact = kind == "list" or op in ("eq", "ne", "in", "not_in")
        if op == "is_null":
            if not isinstance(value, bool):
                self.error(path, "`is_null` takes true or false.")
                return True
            return value
        if op in ("in", "not_in", "contains_any", "contains_all"):
            if not isinstance(value, list):
                self.error(path, f"`{op}` takes a list, e.g. `{op}: [a, b]`.")
                return ()
            return tuple(self.scalar(name, kind, v, path + (i,), exact=exact) for i, v in enumerate(value))
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.error(path, "`between` takes two values: `between: [low, high]`.")
                return (None, None)
            low, high = (self.scalar(name, kind, v, path + (i,), exact=exact) for i, v in enumerate(value))
            if _reversed(low, high):
                self.error(path, f"`between: [{_show(low)}, {_show(high)}]` selects no one: the low bound comes "
                                 f"first, `between: [{_show(high)}, {_show(low)}]`.")
            return (low, high)
        if op in ("within", "older_than"):
            span = parse_span(value)
            if span is None:
                self.error(path, f"`{op}` takes a length such as `3 months` (days, weeks, months, years), "
                                 f"not {_name_of(value)}.")
            return span
        if op == "birthday_within":
            span = parse_span(value) if not isinstance(value, int) or isinstance(value, bool) else Span(value, "day")
            if span is None or span.unit not in ("day", "week"):
                self.error(path, f"`birthday_within` takes a number of days such as `30 days`, not {_name_of(value)}.")
                return Span(0, "day")
            return span
        if op in ("contains", "starts_with", "ends_with", "matches"):
            operand = self.scalar(name, "list" if kind == "list" else "text", value, path, exact=exact)
            if op == "matches" and isinstance(operand, str):
                problem = regex_problem(operand)
                if problem:
                    self.error(path, f"`{operand}` is not a valid regular expression ({problem}); "
                                     "look-arounds, back-references and possessive repeats are not supported.")
            return operand
        return self.scalar(name, kind, value, path, exact=exact)

    # --- events and stages ------------------------------------------------
    def names(self, value: Any, path: KeyPath, what: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        result = []
        for i, item in enumerate(items):
            item_path = path + ((i,) if isinstance(value, list) else ())
            item = item if isinstance(item, str) else self.written(item_path) or item
            if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
                self.error(item_path, f"`{what}` takes a name or a list of names.")
                continue
            result.append(str(item))
        return tuple(result)

    def comparisons(self, value: Any, path: KeyPath, what: str) -> tuple[Operation, ...]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (Operation("eq", value, path),)
        if not isinstance(value, dict) or not value:
            self.error(path, f"`{what}` takes comparisons such as `{what}: {{gte: 2}}`.")
            return ()
        result = []
        for op, operand in value.items():
            here = path + (op,)
            if op not in COUNT_OPERATORS:
                self.error(here, f"unknown operator `{op}` for `{what}`{hint(str(op), COUNT_OPERATORS)}")
                continue
            if op in ("in", "not_in", "between"):
                if not isinstance(operand, list) or (op == "between" and len(operand) != 2):
                    self.error(here, f"`{op}` takes a list of numbers.")
                    continue
                items = tuple(operand)
            else:
                items = (operand,)
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in items):
                self.error(here, f"`{what}` is compared with numbers.")
                continue
            result.append(Operation(op, items if op in ("in", "not_in", "between") else operand, here))
        return tuple(result)

    def parse_event(self, value: Any, path: KeyPath) -> Node:
        if not isinstance(value, dict):
            self.error(path, "`event` takes a mapping such as `{type: donation, within: 3 months}`.")
            return EventCondition(path)
        args: dict[str, Any] = {}
        for key, item in value.items():
            here = path + (key,)
            if key not in EVENT_KEYS:
                if str(key).lower() in EVENT_AMOUNT_WORDS:
                    self.error(here, f"unknown key `{key}` in `event`: the amount of the matching events is "
                                     f"compared with `sum` (their total), e.g. `sum: {{gte: 50}}`.")
                else:
                    self.error(here, f"unknown key `{key}` in `event`{hint(str(key), EVENT_KEYS)}")
            elif key == "type":
                types = self.names(item, here, "type")
                known = self.settings.all_event_types
                for t in types:
                    if t not in known:
                        self.error(here, f"unknown event type `{t}`{hint(t, known)}"
                                         f"{'' if hint(t, known) else ' (declare it under event_types in crmseg.yaml)'}")
                args["types"] = types
            elif key == "within":
                span = parse_span(item)
                if span is None:
                    self.error(here, f"`within` takes a length such as `3 months`, not {_name_of(item)}.")
                args["within"] = span
            elif key in ("since", "until"):
                parsed = parse_date_value(item)
                if parsed is None:
                    self.error(here, f"`{key}` takes a date (YYYY-MM-DD) or a relative date such as `-6 months`.")
                args[key] = parsed
            elif key in ("campaign", "channel", "payment_method"):
                args[key] = self.names(item, here, key)
            else:
                args[key] = self.comparisons(item, here, key)
        return EventCondition(path, **args)

    def parse_stage_change(self, value: Any, path: KeyPath) -> Node:
        if not isinstance(value, dict) or not value:
            self.error(path, "`stage_change` takes a mapping such as `{to: inactive_customer, within: 30 days}`.")
            return StageChange(path)
        args: dict[str, Any] = {}
        for key, item in value.items():
            here = path + (key,)
            if key not in STAGE_KEYS:
                self.error(here, f"unknown key `{key}` in `stage_change`{hint(str(key), STAGE_KEYS)}")
            elif key == "within":
                span = parse_span(item)
                if span is None:
                    self.error(here, f"`within` takes a length such as `30 days`, not {_name_of(item)}.")
                args["within"] = span
            else:
                if not isinstance(item, str) or item not in LIFECYCLE_STAGES:
                    self.error(here, f"unknown lifecycle stage `{_name_of(item)}`"
                                     f"{hint(str(item), LIFECYCLE_STAGES) or ' (one of ' + ', '.join(LIFECYCLE_STAGES) + ')'}")
                args["from_" if key == "from" else "to"] = item if isinstance(item, str) else None
        return StageChange(path, **args)


def walk(node: Node):
    """Every node of the tree, depth first, with its depth."""
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        yield current, depth
        if isinstance(current, (AllOf, AnyOf)):
            stack.extend((child, depth + 1) for child in reversed(current.items))
        elif isinstance(current, NotOf):
            stack.append((current.item, depth + 1))
