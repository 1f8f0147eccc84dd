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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cli.fields import known_fields
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
SEGMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

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


def hint(word: str, choices) -> str:
    """``: did you mean `x`?`` or an empty string."""
    best = suggest(str(word), list(choices))
    return f": did you mean `{best}`?" if best and best != word else ""


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
                    self.error(here, f"unknown operator `{op}`{hint(str(op), allowed)}")
                continue
            operations.append(Operation(op, self.operand(name, kind, op, operand, here), here))
        return FieldCondition(path, name, kind, tuple(operations))

    def check_option(self, name: str, value: Any, path: KeyPath) -> None:
        options = self.options.get(name)
        if options is not None and isinstance(value, str) and value not in options:
            self.error(path, f"`{value}` is not an option of `{name}`{hint(value, options)}"
                             f"{'' if hint(value, options) else ' (options: ' + ', '.join(options) + ')'}")

    def scalar(self, name: str, kind: str, value: Any, path: KeyPath, *, dates: bool = True) -> Any:
        """One comparison value, typed for the field's kind; None when invalid (reported)."""
        if value is None:
            self.error(path, f"null is not a value to compare `{name}` with; use `is_null: true`.")
            return None
        if kind in ("text", "list"):
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.error(path, f"`{name}` is compared with text, not {_name_of(value)}.")
                return None
            text = value if isinstance(value, str) else str(value)
            self.check_option(name, text, path)
            return text
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
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
        if op == "is_null":
            if not isinstance(value, bool):
                self.error(path, "`is_null` takes true or false.")
                return True
            return value
        if op in ("in", "not_in", "contains_any", "contains_all"):
            if not isinstance(value, list):
                self.error(path, f"`{op}` takes a list, e.g. `{op}: [a, b]`.")
                return ()
            return tuple(self.scalar(name, kind, v, path + (i,)) for i, v in enumerate(value))
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.error(path, "`between` takes two values: `between: [low, high]`.")
                return (None, None)
            return tuple(self.scalar(name, kind, v, path + (i,)) for i, v in enumerate(value))
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
            operand = self.scalar(name, "list" if kind == "list" else "text", value, path)
            if op == "matches" and isinstance(operand, str):
                try:
                    re.compile(operand)
                except re.error as e:
                    self.error(path, f"`{operand}` is not a valid regular expression ({e}).")
            return operand
        return self.scalar(name, kind, value, path)

    # --- events and stages ------------------------------------------------
    def names(self, value: Any, path: KeyPath, what: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        result = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
                self.error(path + ((i,) if isinstance(value, list) else ()), f"`{what}` takes a name or a list of names.")
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
                    self.error(here, f"unknown lifecycle stage `{_name_of(item)}`{hint(str(item), LIFECYCLE_STAGES)}")
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
